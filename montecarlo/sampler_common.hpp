#pragma once
// Pieces both samplers (metropolis.cpp, wang_landau.cpp) share: the result's header and the
// run-wide totals at the end.
#include "core/system.hpp"
#include "montecarlo/checkpoint.hpp"
#include "montecarlo/energy.hpp"
#include "montecarlo/results.hpp"
#include "montecarlo/settings.hpp"
#include "montecarlo/sro.hpp"

namespace lsmss::mc {

// A result naming the method, energy source, composition, SRO shells and fallback use.
McResult start_result(const char* method, const System& system, const Settings& settings,
                      Evaluator& evaluator, const WarrenCowley& wc);

// Copies the run's totals (lowest configuration, steps, time, evaluations, DFT fallback counts)
// into the result.
void finish_result(McResult& result, const WalkerState& state, Evaluator& evaluator);

}  // namespace lsmss::mc
