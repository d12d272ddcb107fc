#pragma once
// Pieces both samplers (metropolis.cpp, wang_landau.cpp) share: the result's header and the
// run-wide totals at the end.
#include <chrono>

#include "core/system.hpp"
#include "montecarlo/checkpoint.hpp"
#include "montecarlo/energy.hpp"
#include "montecarlo/results.hpp"
#include "montecarlo/sampler.hpp"
#include "montecarlo/settings.hpp"
#include "montecarlo/sro.hpp"

namespace lsmss::mc {

// A result naming the method, energy source, composition, SRO shells and fallback use.
McResult start_result(const char* method, const System& system, const Settings& settings,
                      Evaluator& evaluator, const WarrenCowley& wc);

// The walkers of a run, their current energies and the evaluations of their current and
// proposed configurations.
struct Chains {
  // The walkers of `state` (with its site order when `resumed`).
  Chains(int num_species, const WalkerState& state, bool resumed);
  // Re-evaluates every walker (at the start, and for drifting energy sources); throws naming a
  // walker whose configuration cannot be evaluated.
  void refresh(Evaluator& evaluator);
  // The energies at a session's start: a resumed run of an exact (non-drifting) source takes
  // the checkpoint's (no need to recompute, maybe costly DFT); others are evaluated.
  void start(Evaluator& evaluator, bool resumed, const std::vector<double>& saved);

  Walkers walkers;
  std::vector<EnergyResult> cur, prop;
  std::vector<double> energy;  // Ry, per walker
};

// One session of a run (from its start or a resume to its end or interruption): the run's wall
// time so far, and when to write a checkpoint or stop (RunOptions::stop_after).
class SessionClock {
 public:
  // `seconds_before`: the run's wall time in earlier sessions (from the checkpoint).
  SessionClock(const Settings& settings, const RunOptions& options, double seconds_before);
  // Wall time of the run, earlier sessions included (s).
  double run_seconds() const;
  // Called once per sweep: true every settings.checkpoint_interval sweeps when checkpoints are
  // written.
  bool checkpoint_due();
  // Called once per sweep: true once the session has run options.stop_after sweeps.
  bool stop_due();

 private:
  bool checkpoints_;
  long interval_, stop_after_;
  double seconds_before_;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
  long since_checkpoint_ = 0, session_sweeps_ = 0;
};

// Copies the run's totals (lowest configuration, steps, time, evaluations, DFT fallback counts)
// into the result.
void finish_result(McResult& result, const WalkerState& state, Evaluator& evaluator);

}  // namespace lsmss::mc
