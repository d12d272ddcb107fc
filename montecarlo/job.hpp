#pragma once
// A Monte Carlo job assembled from a deck: the deck's driver, the energy source built on it
// (the surrogate fast path when the driver is a surrogate and montecarlo.fast_path is on,
// else batched driver calls), and the optional DFT fallback.
#include <memory>
#include <string>
#include <vector>

#include "core/driver.hpp"
#include "montecarlo/energy.hpp"
#include "montecarlo/fallback.hpp"
#include "montecarlo/sampler.hpp"
#include "montecarlo/settings.hpp"

namespace lsmss::mc {

struct Job {
  Settings settings;
  std::unique_ptr<Driver> driver;
  std::vector<std::unique_ptr<FirstLayerModel>> fast_members;
  std::unique_ptr<FirstLayerGroup> fast_group;  // the members together, where the driver offers it
  std::unique_ptr<WalkerEnergy> energy;
  std::unique_ptr<Fallback> fallback;
  std::unique_ptr<Evaluator> evaluator;
  std::vector<std::string> notes;  // what was chosen and why (printed by the CLI)
};

// The DFT driver `montecarlo.fallback.driver` names, configured by its own deck table; an
// unknown name is an error naming that key. Used by prepare_job and by `check`.
std::unique_ptr<Driver> create_fallback_driver(const DeckTable& root, const System& system,
                                               const DriverRegistry& registry,
                                               const std::string& name);

// Reads `montecarlo` (and the driver tables it needs) from the deck and builds the job; the DFT
// fallback's warnings go to `warn`.
Job prepare_job(const DeckTable& root, const System& system, const DriverRegistry& registry,
                const std::string& deck_file, WarningSink warn = {});

}  // namespace lsmss::mc
