#pragma once
// Canonical Monte Carlo samplers over configurations at fixed composition, site-swap moves,
// many walkers advanced together (one batched energy evaluation per step):
//  - run_metropolis: Metropolis at a list of temperatures (independent chains per temperature,
//    or one annealing schedule), energy, heat capacity, acceptance, Warren-Cowley SRO with
//    jackknife error bars over blocks.
//  - run_wang_landau: Wang-Landau density of states g(E) over an energy window, walkers sharing
//    ln g and the histogram, ln f halved whenever the histogram is flat; thermodynamics at any
//    temperature from g(E).
// Both write a checkpoint (HDF5) every `checkpoint_interval` sweeps and resume from it.
#include <functional>
#include <string>

#include <mpi.h>

#include "core/system.hpp"
#include "montecarlo/results.hpp"
#include "montecarlo/settings.hpp"
#include "montecarlo/walkers.hpp"

namespace lsmss::mc {

struct RunOptions {
  bool progress = true;     // progress bar on stderr
  bool restart = false;     // ignore an existing checkpoint
  bool checkpoints = true;  // write checkpoints (settings.checkpoint_interval)
  // Stop after this many sweeps of this session, writing a checkpoint, as if interrupted
  // (0: run to the end). For tests of resume and for time-sliced batch jobs.
  long stop_after = 0;
  // Called with one line of text for the log (stdout), e.g. results as each temperature ends.
  std::function<void(const std::string&)> log;
  // Metropolis: the chains are spread over this communicator's ranks (rank 0 reports; the
  // others return rows-less results). Wang-Landau and the DFT fallback need a single rank.
  MPI_Comm comm = MPI_COMM_SELF;
};

McResult run_metropolis(const System& system, const Settings& settings, Evaluator& evaluator,
                        const RunOptions& options = {});
McResult run_wang_landau(const System& system, const Settings& settings, Evaluator& evaluator,
                         const RunOptions& options = {});

// Dispatches on settings.method.
McResult run(const System& system, const Settings& settings, Evaluator& evaluator,
             const RunOptions& options = {});

// Initial walkers: settings.initial for all, or independent random configurations at the
// composition; walker w uses random stream (seed, w).
Walkers make_walkers(const System& system, const Settings& settings, int count);

// Thermodynamics at temperature T (K) from a normalized density of states (bins with
// ln_g finite): <E>, C/(N k_B), F, S/(N k_B), <alpha>. `e2` optionally gives each bin's mean
// of E^2 (in-bin spread); otherwise the bin's mean energy squared is used.
TemperatureResult thermodynamics_from_dos(const std::vector<DosBin>& dos, double temperature,
                                          int num_sites, const std::vector<double>* e2 = nullptr);

// Metropolis estimates at one temperature from block accumulators: chain_blocks[c] lists chain
// c's blocks, each [samples, sum dE, sum dE^2, sum alpha_1..] with dE = E - e_ref (Ry). Fills
// r.samples, energy, heat_capacity (mean of the per-chain variances), sro and their jackknife
// errors (leave one block out).
void block_estimates(const std::vector<std::vector<const double*>>& chain_blocks, int ncol,
                     double e_ref, double temperature, int num_sites, TemperatureResult& r);

// Threads of the walker loops and of the network backends (OpenMP); n <= 0 keeps the default.
void set_threads(int n);

// ln of the number of configurations with the given atoms per species (multinomial).
double ln_multinomial(const std::vector<int>& counts);

}  // namespace lsmss::mc
