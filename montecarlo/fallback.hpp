#pragma once
// Uncertainty-aware fallback (active learning): where the surrogate ensemble disagrees (energy
// standard deviation above a threshold) the configuration is evaluated with the underlying DFT
// driver instead; the result replaces the surrogate's value in the Markov chain and is appended
// to the dataset marked Origin::acquired, ready for `lsms-surrogate retrain`.
//
// The energy function seen by the sampler stays a fixed function of the configuration (DFT
// where the ensemble is unsure, surrogate elsewhere), so detailed balance holds: every DFT
// result is memoized, and the dataset's existing rows answer fallbacks without new calculations.
#include <filesystem>
#include <functional>
#include <memory>
#include <span>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "core/driver.hpp"
#include "montecarlo/energy.hpp"
#include "montecarlo/settings.hpp"

namespace lsmss::mc {

// Receives a warning (one line, no prefix): the program decides where it goes.
using WarningSink = std::function<void(const std::string&)>;

class Fallback {
 public:
  // Reads the dataset (which must exist and have been computed by the same driver for the same
  // system) to preload known DFT energies. `warn` receives what the run goes on without (a
  // failed DFT calculation, rows that could not be appended on destruction); none: dropped.
  Fallback(const FallbackSettings& settings, std::unique_ptr<Driver> dft, const System& system,
           WarningSink warn = {});
  ~Fallback();
  Fallback(const Fallback&) = delete;
  Fallback& operator=(const Fallback&) = delete;

  double threshold() const { return s_.threshold; }
  // Whether a surrogate result must be replaced by DFT.
  bool wants(const EnergyResult& r) const { return r.ok && r.std > s_.threshold; }
  // Replaces *results[k] by the DFT energy of configs[k] (dft = true, std kept as the ensemble's
  // spread) — memoized values first, the misses in one batched driver call. A failed DFT
  // calculation leaves the surrogate value (counted in failed()).
  void evaluate(std::span<const Configuration> configs, std::span<EnergyResult* const> results);
  // Appends the buffered acquisitions to the dataset file.
  void flush();

  long fallbacks() const { return fallbacks_; }        // surrogate values replaced by DFT values
  long calculations() const { return calculations_; }  // new DFT calculations (this process)
  // Rows this job (settings.run) acquired in earlier runs, found in the dataset at start; they
  // count against max_fallbacks.
  long earlier() const { return earlier_; }
  long failed() const { return failed_; }
  long preloaded() const { return static_cast<long>(preloaded_); }
  long appended() const { return appended_; }
  double dft_seconds() const { return dft_seconds_; }  // wall time in the DFT driver (this process)
  bool limit_reached() const;
  const std::string& driver_name() const { return s_.driver; }
  const std::filesystem::path& dataset() const { return path_; }

 private:
  void warn(const std::string& line) const;

  FallbackSettings s_;
  std::unique_ptr<Driver> dft_;
  WarningSink warn_;
  std::filesystem::path path_;
  std::unordered_map<Configuration, double, ConfigurationHash> known_;  // Ry
  std::unordered_set<Configuration, ConfigurationHash> failed_set_;     // never retried
  std::size_t preloaded_ = 0;
  std::vector<Configuration> pending_configs_;
  std::vector<Properties> pending_results_;
  long fallbacks_ = 0, calculations_ = 0, failed_ = 0, appended_ = 0, earlier_ = 0;
  double dft_seconds_ = 0;
};

}  // namespace lsmss::mc
