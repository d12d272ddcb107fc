#pragma once
// Driver "surrogate": a trained network (or the fold ensemble of one training run) answering in
// place of DFT through the same Driver interface. Properties the models do not predict are
// absent; with more than one model each result carries the ensemble mean and standard deviation
// (Properties::energy_std, charge_std, moment_std).
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "core/driver.hpp"
#include "nn/first_layer.hpp"
#include "nn/model.hpp"

namespace lsmss::drivers {

struct SurrogateSettings {
  std::vector<std::filesystem::path> models;  // model files (each one model or a fold ensemble)
  std::string backend = "auto";               // reference | onednn | cuda | auto
  // Fold models to use (by their fold number); empty: every model of the files, whose mean is
  // the prediction (the default). One fold is the paper's single-model mode.
  std::vector<int> folds;
};

// The models of `settings.models`, restricted to `settings.folds` when given (lsmss::Error
// naming a fold that none of the files holds).
nn::Ensemble load_surrogate_ensemble(const SurrogateSettings& settings);

// Reads the deck's `surrogate = { model = ..., backend = ... }` table (finish() included).
SurrogateSettings read_surrogate_settings(const DeckTable& table);

// Also a FirstLayerSource: Monte Carlo takes the ensemble's first layers through that
// interface for its fast path.
class SurrogateDriver : public Driver, public nn::FirstLayerSource {
 public:
  // Loads the models and checks that they were trained for `system` (lsmss::Error otherwise).
  SurrogateDriver(const System& system, const SurrogateSettings& settings);
  static std::unique_ptr<Driver> create(const DriverContext& ctx);

  std::string name() const override { return "surrogate"; }
  PropertyMask provides() const override { return ensemble_.tasks(); }
  std::vector<Properties> evaluate(std::span<const Configuration> configs) override;

  const nn::Ensemble& ensemble() const { return ensemble_; }
  const SurrogateSettings& settings() const { return settings_; }

  // nn::FirstLayerSource
  std::vector<std::unique_ptr<nn::FirstLayerModel>> first_layer_models() const override;
  // The members together where that pays (nn::make_first_layer_group: the cuda backend).
  std::unique_ptr<nn::FirstLayerGroup> first_layer_group() const override;
  std::size_t ensemble_size() const override { return ensemble_.size(); }
  std::vector<std::filesystem::path> model_files() const override { return settings_.models; }
  std::string describe() const override;

 private:
  System system_;
  SurrogateSettings settings_;
  nn::Ensemble ensemble_;
  // For evaluate(): the members one by one, or all at once on the cuda backend.
  nn::EnsembleWorkspace workspace_;
};

void register_surrogate_driver(DriverRegistry& registry);

}  // namespace lsmss::drivers
