#pragma once
// Checkpoint files of the samplers (HDF5). Written to "<file>.tmp" and renamed into place, so
// an interrupted write never destroys the previous checkpoint. The file carries the settings'
// fingerprint; a run resumes only from a checkpoint of identical settings.
#include <filesystem>
#include <string>
#include <vector>

#include "core/configuration.hpp"
#include "core/hdf5.hpp"
#include "montecarlo/results.hpp"
#include "montecarlo/rng.hpp"

namespace lsmss::mc {

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

void write_walkers(hid_t f, const std::vector<Configuration>& configs, const std::vector<Rng>& rngs,
                   const std::vector<double>& energy);
void read_walkers(hid_t f, int num_sites, int walkers, std::vector<Configuration>& configs,
                  std::vector<Rng>& rngs, std::vector<double>& energy);

// TemperatureResult rows as one table of doubles.
void write_rows(hid_t f, const std::string& name, const std::vector<TemperatureResult>& rows,
                int sro_values);
std::vector<TemperatureResult> read_rows(hid_t f, const std::string& name, int sro_values);

}  // namespace lsmss::mc
