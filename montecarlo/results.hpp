#pragma once
// What a Monte Carlo run produces, for printing, files and plots (montecarlo/output.hpp).
#include <cmath>
#include <string>
#include <vector>

#include "core/configuration.hpp"
#include "core/system.hpp"

namespace lsmss::mc {

// Thermodynamics at one temperature. Energies are total energies of the cell (Ry); the heat
// capacity is per site in units of k_B: C/(N k_B) = var(E) / (N (k_B T)^2).
struct TemperatureResult {
  double temperature = 0;  // K
  int chains = 0;
  long samples = 0;  // measured configurations (one per chain and sweep)
  double energy = NAN, energy_err = NAN;
  double heat_capacity = NAN, heat_capacity_err = NAN;
  double acceptance = NAN;           // accepted / attempted swaps while measuring
  std::vector<double> sro, sro_err;  // Warren-Cowley alpha per shell (and species pair)
  long fallbacks = 0;                // proposals whose energy came from the DFT fallback
  long acquired = 0;                 // of those, new DFT calculations appended to the dataset
  long failed = 0;                   // failed evaluations (moves rejected)
  // Wang-Landau only: free energy F = -k_B T ln Z (Ry) and entropy S/(N k_B).
  double free_energy = NAN, entropy = NAN;
};

// One energy bin of a Wang-Landau density of states.
struct DosBin {
  double lo = 0, hi = 0;  // Ry
  double mean = NAN;      // mean energy of the samples in the bin (Ry)
  double ln_g = NAN;      // normalized: sum over bins of g = number of configurations
  bool visited = false;
  long samples = 0;
  std::vector<double> sro;  // microcanonical Warren-Cowley averages
};

struct McResult {
  std::string method;  // "metropolis" | "wang_landau"
  std::string energy_source;
  int num_sites = 0;
  std::vector<int> counts;
  std::vector<std::string> sro_names;
  std::vector<double> shell_distances;  // Bohr
  std::vector<TemperatureResult> rows;
  std::vector<DosBin> dos;  // Wang-Landau
  double ln_f = NAN;        // Wang-Landau: final modification factor
  long wl_iterations = 0;   // Wang-Landau: ln f reductions
  double lowest_energy = NAN;
  Configuration lowest;  // lowest-energy configuration visited
  long steps = 0;        // attempted swaps, all walkers
  long evaluations = 0;  // energy evaluations (all MPI ranks)
  double seconds = 0;    // sampling wall time, all sessions of a resumed run
  bool resumed = false;
  bool interrupted = false;  // stopped early (RunOptions::stop_after); rows incomplete
  bool fallback_enabled = false;
  long failed = 0;           // failed energy evaluations (moves rejected)
  long fallbacks = 0;        // proposals answered by the DFT fallback (memoized ones included)
  long acquired = 0;         // new DFT calculations appended to the dataset (all of the run's
                             // evaluations: walker starts, refreshes and window scans too)
  long fallback_failed = 0;  // DFT calculations that failed (this process; surrogate value kept)
  long fallback_calculations = 0;  // new DFT calculations of this process
  double fallback_seconds = 0;     // wall time of those in the DFT driver (this process)
  std::string dataset;             // where acquisitions were appended
};

}  // namespace lsmss::mc
