#include "montecarlo/job.hpp"

#include <filesystem>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "montecarlo/retrain.hpp"
#include "nn/first_layer.hpp"

namespace lsmss::mc {

std::unique_ptr<Driver> create_fallback_driver(const DeckTable& root, const System& system,
                                               const DriverRegistry& registry,
                                               const std::string& name) {
  if (!registry.contains(name))
    root.table("montecarlo")
        .table("fallback")
        .error("driver", fmt::format("unknown driver '{}'; known: {}", name,
                                     fmt::join(registry.names(), ", ")));
  DriverContext ctx{system, root.table(name), root, MPI_COMM_SELF};
  return registry.create(name, ctx);
}

Job prepare_job(const DeckTable& root, const System& system, const DriverRegistry& registry,
                const std::string& deck_file, WarningSink warn) {
  Job job;
  job.settings = read_settings(root.table("montecarlo"), system, deck_file);
  Settings& s = job.settings;
  job.driver = registry.create_from_deck(root, system);
  // A driver that evaluates networks offers their first layers (nn/first_layer.hpp).
  const auto* networks = dynamic_cast<const nn::FirstLayerSource*>(job.driver.get());
  s.energy_identity = job.driver->name();
  if (networks)
    for (const auto& p : networks->model_files()) {
      std::error_code ec;
      const auto size = std::filesystem::file_size(p, ec);
      const auto time = std::filesystem::last_write_time(p, ec).time_since_epoch().count();
      s.energy_identity += fmt::format(",{}:{}:{}", p.string(), size, time);
    }
  if (s.fallback.enabled) s.fallback.dataset = fallback_dataset_file(root, deck_file);

  if (networks && s.fast_path && (job.driver->provides() & kEnergy)) {
    try {
      job.fast_members = networks->first_layer_models();
      std::vector<FirstLayerModel*> members;
      for (auto& m : job.fast_members) {
        members.push_back(m.get());
        // Probe: the network runs on this machine's backend.
        std::vector<double> e(1);
        m->energy_from_z1(m->bias(), 1, e);
      }
      job.fast_group = networks->first_layer_group();
      if (job.fast_group) {  // probe it too
        std::vector<std::vector<float>> z;
        for (auto& m : job.fast_members) z.emplace_back(m->bias().begin(), m->bias().end());
        std::vector<std::vector<double>> e(z.size(), std::vector<double>(1));
        job.fast_group->energies_from_z1(z, 1, e);
      }
      job.energy = std::make_unique<FirstLayerEnergy>(std::move(members), system.num_species(),
                                                      job.fast_group.get());
    } catch (const Error& e) {
      job.fast_members.clear();
      job.fast_group.reset();
      job.notes.push_back(fmt::format(
          "surrogate fast path not available ({}): batched driver calls instead", e.what()));
    }
  }
  if (!job.energy) job.energy = std::make_unique<DriverEnergy>(*job.driver, s.cache);
  job.notes.push_back("energy source: " + job.energy->describe());
  if (networks) job.notes.push_back(networks->describe());

  if (s.fallback.enabled) {
    if (!networks)
      root.table("montecarlo")
          .table("fallback")
          .error("", fmt::format("applies to driver = \"surrogate\" (the deck's driver is '{}')",
                                 job.driver->name()));
    if (networks->ensemble_size() < 2)
      root.table("montecarlo")
          .table("fallback")
          .error(
              "",
              "needs an ensemble standard deviation: give surrogate.model a fold-ensemble file or "
              "several model files");
    const std::string& name = s.fallback.driver;
    job.fallback = std::make_unique<Fallback>(
        s.fallback, create_fallback_driver(root, system, registry, name), system, std::move(warn));
    job.notes.push_back(fmt::format(
        "DFT fallback: ensemble energy std > {:.3g} Ry -> driver '{}', results appended to {} "
        "({} known configurations preloaded)",
        s.fallback.threshold, name, s.fallback.dataset, job.fallback->preloaded()));
    if (job.fallback->earlier() > 0)
      job.notes.push_back(fmt::format(
          "DFT fallback: {} calculations of earlier runs of this job ({}) are in the dataset; "
          "they count against montecarlo.fallback.max_fallbacks = {}{}",
          job.fallback->earlier(), s.fallback.run, s.fallback.max_fallbacks,
          s.fallback.max_fallbacks > 0 && job.fallback->limit_reached()
              ? " (budget used up: no new DFT calculations)"
              : ""));
  }
  job.evaluator = std::make_unique<Evaluator>(*job.energy, job.fallback.get());
  return job;
}

}  // namespace lsmss::mc
