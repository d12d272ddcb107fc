#pragma once
// Checkpoint files of the samplers (HDF5). Written to "<file>.tmp" and renamed into place, so
// an interrupted write never destroys the previous checkpoint. The file carries the settings'
// fingerprint; a run resumes only from a checkpoint of identical settings.
#include <cstdint>
#include <filesystem>
#include <limits>
#include <string>
#include <vector>

#include "core/configuration.hpp"
#include "core/hdf5.hpp"
#include "montecarlo/results.hpp"
#include "montecarlo/rng.hpp"
#include "montecarlo/walkers.hpp"

namespace lsmss::mc {

// The checkpoint file of one MPI rank when P > 1 ranks share a run: "<stem>.rank<r>of<P><ext>";
// with one rank, `path` itself.
std::filesystem::path rank_checkpoint(const std::filesystem::path& path, int rank, int nranks);

class CheckpointWriter {
 public:
  CheckpointWriter(std::filesystem::path path, const std::string& kind,
                   const std::string& fingerprint);
  hid_t file() const { return file_.id(); }
  void commit();  // closes and renames into place

 private:
  std::filesystem::path path_, tmp_;
  h5::File file_;
};

class CheckpointReader {
 public:
  // Throws FileError when the file is not a checkpoint of this kind or the settings differ.
  CheckpointReader(const std::filesystem::path& path, const std::string& kind,
                   const std::string& fingerprint);
  hid_t file() const { return file_.id(); }

 private:
  h5::File file_;
};

// What both samplers checkpoint about their walkers and the run as a whole.
struct WalkerState {
  std::vector<Configuration> configs;
  std::vector<Rng> rngs;
  std::vector<std::int32_t> site_order;
  std::vector<double> energy;  // Ry, per walker
  double lowest_energy = std::numeric_limits<double>::infinity();
  Configuration lowest;
  long steps = 0;
  double seconds = 0;         // sampling wall time, all sessions
  std::int64_t acquired = 0;  // new DFT fallback calculations, all sessions

  // Takes the walkers' current state; `seconds` and `acquired` are the run's totals so far.
  void sync(const Walkers& walkers, const std::vector<double>& walker_energy, double run_seconds,
            std::int64_t run_acquired);
  void write(hid_t f) const;
  // Throws FileError when the file does not hold `walkers` walkers of `num_sites` sites.
  void read(hid_t f, int num_sites, int walkers);
};

// TemperatureResult rows as one table of doubles.
void write_rows(hid_t f, const std::string& name, const std::vector<TemperatureResult>& rows,
                int sro_values);
std::vector<TemperatureResult> read_rows(hid_t f, const std::string& name, int sro_values);

}  // namespace lsmss::mc
