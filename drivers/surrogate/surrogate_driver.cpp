#include "drivers/surrogate/surrogate_driver.hpp"

#include <chrono>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "nn/core/backend.hpp"

namespace lsmss::drivers {

namespace {
std::string join_paths(const std::vector<std::filesystem::path>& paths) {
  std::vector<std::string> v;
  v.reserve(paths.size());
  for (const auto& p : paths) v.push_back(p.string());
  return fmt::format("{}", fmt::join(v, ", "));
}
}  // namespace

SurrogateSettings read_surrogate_settings(const DeckTable& t) {
  SurrogateSettings s;
  if (!t.has("model"))
    t.error("model",
            "is required: a model file written by `lsms-surrogate train` (one model or "
            "a fold ensemble), or a list of model files");
  // `model` is one file name or a list of them.
  const std::vector<std::string> names =
      t.is_string("model") ? std::vector<std::string>{t.string("model")} : t.strings("model");
  if (names.empty()) t.error("model", "the list of model files is empty");
  for (const auto& n : names) {
    if (n.empty()) t.error("model", "a model file name is empty");
    s.models.emplace_back(n);
  }
  s.backend = t.choice("backend", "auto", nn::backend_names());
  t.allow({"folds"});
  if (t.has("folds")) {
    for (long f : t.integers("folds", {})) {
      if (f < 0 || f > 100000) t.error("folds", fmt::format("fold {} is negative or absurd", f));
      s.folds.push_back(static_cast<int>(f));
    }
    if (s.folds.empty()) t.error("folds", "is empty: leave it out to use every fold model");
  }
  t.finish();
  return s;
}

nn::Ensemble load_surrogate_ensemble(const SurrogateSettings& settings) {
  for (const auto& p : settings.models)
    if (!std::filesystem::exists(p))
      throw FileError(fmt::format("surrogate model file '{}' does not exist", p.string()));
  nn::Ensemble all = nn::Ensemble::load(settings.models, settings.backend);
  if (settings.folds.empty()) return all;
  std::vector<nn::Model> chosen;
  for (int f : settings.folds) {
    bool found = false;
    for (std::size_t i = 0; i < all.size(); ++i)
      if (all.member(i).fold() == f) {
        chosen.push_back(all.member(i));
        found = true;
      }
    if (!found) {
      std::vector<int> have;
      for (std::size_t i = 0; i < all.size(); ++i) have.push_back(all.member(i).fold());
      fail("surrogate.folds: no model of fold {} in {} (folds there: {})", f,
           join_paths(settings.models), fmt::join(have, ", "));
    }
  }
  return nn::Ensemble(std::move(chosen));
}

SurrogateDriver::SurrogateDriver(const System& system, const SurrogateSettings& settings)
    : system_(system),
      settings_(settings),
      ensemble_(load_surrogate_ensemble(settings)),
      workspace_(ensemble_.make_workspace()) {
  if (ensemble_.size() == 0) fail("surrogate: no model in {}", join_paths(settings.models));
  for (std::size_t i = 0; i < ensemble_.size(); ++i) {
    try {
      ensemble_.member(i).check_matches(system);
    } catch (const Error& e) {
      throw Error(
          fmt::format("surrogate model {} of {} (from {}) does not match the deck's system: {}",
                      i + 1, ensemble_.size(), join_paths(settings.models), e.what()));
    }
  }
  if (ensemble_.tasks() == 0) fail("surrogate: the models predict no property");
}

std::vector<std::unique_ptr<nn::FirstLayerModel>> SurrogateDriver::first_layer_models() const {
  std::vector<std::unique_ptr<nn::FirstLayerModel>> members;
  for (std::size_t i = 0; i < ensemble_.size(); ++i)
    members.push_back(std::make_unique<nn::ModelFirstLayer>(ensemble_.member(i)));
  return members;
}

std::unique_ptr<nn::FirstLayerGroup> SurrogateDriver::first_layer_group() const {
  return nn::make_first_layer_group(ensemble_);
}

std::unique_ptr<Driver> SurrogateDriver::create(const DriverContext& ctx) {
  return std::make_unique<SurrogateDriver>(ctx.system, read_surrogate_settings(ctx.settings));
}

std::string SurrogateDriver::describe() const {
  return fmt::format("surrogate: {} model{} ({}) predicting {}, backend {}", ensemble_.size(),
                     ensemble_.size() > 1 ? "s, ensemble mean and std" : "",
                     join_paths(settings_.models), property_mask_name(ensemble_.tasks()),
                     settings_.backend);
}

std::vector<Properties> SurrogateDriver::evaluate(std::span<const Configuration> configs) {
  const auto t0 = std::chrono::steady_clock::now();
  for (const auto& c : configs) {
    if (c.num_sites() != system_.num_sites())
      fail("surrogate: configuration has {} sites, the system has {}", c.num_sites(),
           system_.num_sites());
    for (int i = 0; i < c.num_sites(); ++i)
      if (c[i] >= system_.num_species())
        fail("surrogate: species {} at site {} does not exist in {}", c[i], i, system_.name());
  }
  std::vector<Properties> out = ensemble_.predict(configs, workspace_);
  if (out.size() != configs.size())
    fail("surrogate: {} predictions for {} configurations", out.size(), configs.size());
  const double per =
      configs.empty()
          ? 0.0
          : std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() /
                static_cast<double>(configs.size());
  for (auto& p : out) {
    p.wall_time = per;
    if (ensemble_.size() < 2) {  // a single model has no spread: absent, not zero
      p.energy_std.reset();
      p.charge_std.clear();
      p.moment_std.clear();
    }
  }
  return out;
}

void register_surrogate_driver(DriverRegistry& registry) {
  registry.add("surrogate",
               "trained neural-network surrogate: a model file or fold ensemble (mean and std)",
               &SurrogateDriver::create);
}

}  // namespace lsmss::drivers
