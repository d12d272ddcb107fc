#pragma once
// The deck's `montecarlo = { ... }` section (docs/deck.md documents every key, default, range
// and unit). Energies are total energies of the supercell in Ry, temperatures in K.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/configuration.hpp"
#include "core/deck.hpp"
#include "core/defaults.hpp"
#include "core/system.hpp"

namespace lsmss::mc {

// Boltzmann constant in Ry/K: k_B = 8.617333262e-5 eV/K, 1 Ry = 13.605693123 eV.
inline constexpr double kBoltzmannRyPerK = 8.617333262e-5 / 13.605693123;

enum class Method { metropolis, wang_landau };

struct WangLandauSettings {
  // Energy window in Ry (total energy of the supercell). Absent: found by a scan run.
  std::optional<double> energy_min, energy_max;
  double bin_width = 0.0;  // Ry; 0: derived from `bins`
  int bins = 100;
  double flatness = 0.8;      // min(H) >= flatness * mean(H) over visited bins
  double ln_f_initial = 1.0;  // modification factor schedule: ln f halves when flat
  double ln_f_final = 1e-6;
  // false: ln f halves at every flat histogram until ln_f_final; true: once ln f falls below
  // 1/t (t = attempted moves per visited bin) it follows 1/t, without saturation error.
  bool one_over_t = false;
  int check_interval = 10;       // sweeps between flatness checks
  long max_sweeps = 10'000'000;  // safety stop (error) if ln_f_final is not reached
  int scan_sweeps = 200;         // sweeps of the window scan (when the window is absent)
  double margin = 0.02;          // scan window widened by this fraction of its width per side
};

struct FallbackSettings {
  bool enabled = false;
  double threshold = 0.0;  // Ry: ensemble std of the energy above which DFT is called
  std::string driver =
      defaults::kDriver;   // name of the underlying DFT driver (its deck table configures it)
  std::string dataset;     // HDF5 dataset appended to (Origin::acquired); set by prepare_job
                           // (fallback_dataset_file, montecarlo/retrain.hpp)
  long max_fallbacks = 0;  // 0: unlimited; beyond it the surrogate value is used
  // Identity of this Monte Carlo job ("mc:" + output prefix), stored in /configs/source of
  // the rows it acquires, so a rerun after a kill counts them against max_fallbacks.
  std::string run;
  int flush_interval = 16;  // acquired rows buffered before they are appended
};

struct Settings {
  Method method = Method::metropolis;
  std::vector<int> counts;  // atoms per species (fixed composition of the canonical ensemble)
  std::optional<Configuration> initial;  // start configuration for every walker (else random)
  std::vector<double> temperatures;      // K
  // false: every temperature has its own chains, all run at once; true (schedule = "anneal"):
  // the chains visit the temperatures in the given order, carrying their state over.
  bool anneal = false;
  long sweeps = 1000;        // measured sweeps per temperature (1 sweep = N attempts)
  long equilibration = 200;  // discarded sweeps before measuring, per temperature
  int walkers = 1;  // Metropolis: chains per temperature; Wang-Landau: walkers sharing ln g
  std::uint64_t seed = 1;
  int shells = 3;                  // Warren-Cowley shells
  int blocks = 10;                 // blocks per chain for jackknife error bars
  bool fast_path = true;           // incremental first-layer update when the driver is a surrogate
  bool cache = true;               // memoize driver results by configuration (generic path)
  std::string output;              // prefix of output files
  std::string checkpoint;          // checkpoint file ("" = none)
  long checkpoint_interval = 100;  // sweeps between checkpoints
  bool plot = true;
  WangLandauSettings wl;
  FallbackSettings fallback;
  // What computes the energies (driver, model files with size and time): part of the
  // fingerprint, so a checkpoint is not continued with another model (set by prepare_job).
  std::string energy_identity;

  int num_sites() const;
  // A text fingerprint of everything that determines the trajectory (checked on resume).
  std::string fingerprint() const;
};

// Reads and validates `montecarlo` (calls finish() on it and its sub-tables). `deck_file` gives
// the default output prefix (its stem + "_mc").
Settings read_settings(const DeckTable& montecarlo, const System& system,
                       const std::string& deck_file);

}  // namespace lsmss::mc
