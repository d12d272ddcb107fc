#include "montecarlo/sampler_common.hpp"

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

}  // namespace lsmss::mc
