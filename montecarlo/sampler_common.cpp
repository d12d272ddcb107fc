#include "montecarlo/sampler_common.hpp"

#include "core/error.hpp"

namespace lsmss::mc {

McResult start_result(const char* method, const System& system, const Settings& settings,
                      Evaluator& evaluator, const WarrenCowley& wc) {
  McResult res;
  res.method = method;
  res.energy_source = evaluator.energy().describe();
  res.num_sites = system.num_sites();
  res.counts = settings.counts;
  res.sro_names = wc.names();
  for (int k = 0; k < wc.shells(); ++k) res.shell_distances.push_back(wc.distance(k));
  res.fallback_enabled = evaluator.fallback() != nullptr;
  return res;
}

Chains::Chains(int num_species, const WalkerState& state, bool resumed)
    : walkers(num_species, state.configs, state.rngs),
      cur(state.configs.size()),
      prop(state.configs.size()),
      energy(state.configs.size()) {
  if (resumed) walkers.set_site_order(state.site_order);
}

void Chains::refresh(Evaluator& ev) {
  ev.reset(walkers, cur);
  for (std::size_t w = 0; w < cur.size(); ++w) {
    if (!cur[w].ok)
      fail("the energy of walker {}'s configuration {} could not be evaluated", w,
           walkers.config(static_cast<int>(w)).to_string());
    energy[w] = cur[w].energy;
  }
}

void Chains::start(Evaluator& ev, bool resumed, const std::vector<double>& saved) {
  if (resumed && !ev.energy().drifts()) {
    energy = saved;
    ev.reset(walkers, cur);
  } else {
    refresh(ev);
  }
}

void finish_result(McResult& res, const WalkerState& st, Evaluator& ev) {
  res.lowest_energy = st.lowest_energy;
  res.lowest = st.lowest;
  res.steps = st.steps;
  res.seconds = st.seconds;
  res.evaluations = ev.energy().evaluations();
  // All new DFT calculations, also those of walker starts, refreshes and window scans.
  res.acquired = ev.acquired();
  if (ev.fallback()) {
    res.dataset = ev.fallback()->dataset().string();
    res.fallback_failed = ev.fallback()->failed();
    res.fallback_calculations = ev.fallback()->calculations();
    res.fallback_seconds = ev.fallback()->dft_seconds();
  }
}

SessionClock::SessionClock(const Settings& settings, const RunOptions& options,
                           double seconds_before)
    : checkpoints_(options.checkpoints && !settings.checkpoint.empty()),
      interval_(settings.checkpoint_interval),
      stop_after_(options.stop_after),
      seconds_before_(seconds_before) {}

double SessionClock::run_seconds() const {
  return seconds_before_ +
         std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

bool SessionClock::checkpoint_due() {
  if (!checkpoints_ || interval_ <= 0 || ++since_checkpoint_ < interval_) return false;
  since_checkpoint_ = 0;
  return true;
}

bool SessionClock::stop_due() {
  return stop_after_ > 0 && ++session_sweeps_ >= stop_after_;
}

}  // namespace lsmss::mc
