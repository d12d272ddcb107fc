#pragma once
// The Monte Carlo fast path's view of networks, as interfaces: Monte Carlo (montecarlo/) uses
// these and never a concrete driver or model class.
//  - FirstLayerModel: one network's folded first layer and the rest of its forward pass.
//  - FirstLayerGroup: the rest of the forward pass of every member of an ensemble in one call
//    (one grouped forward pass, where that pays: the cuda backend).
//  - FirstLayerSource: offered by a driver that evaluates networks (the surrogate driver): the
//    first-layer models of its ensemble, one per member, their group where it has one, and what
//    identifies them.
#include <cstddef>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "nn/model.hpp"

namespace lsmss::nn {

// What the fast path needs from a network (nn::Model provides it through ModelFirstLayer; tests
// use small doubles). Not shared between threads: energy_from_z1 uses the object's scratch.
class FirstLayerModel {
 public:
  virtual ~FirstLayerModel() = default;
  virtual int num_features() const = 0;  // sites x species
  virtual int width() const = 0;
  virtual std::span<const float> row(int feature) const = 0;  // width values
  virtual std::span<const float> bias() const = 0;            // width values
  // Energies (Ry) from first pre-activations z1 (batch x width, row-major).
  virtual void energy_from_z1(std::span<const float> z1, int batch, std::span<double> out) = 0;
  // Multiply-adds of energy_from_z1 per configuration (decides whether a batch is worth
  // spreading over threads).
  virtual double macs_after_first() const { return static_cast<double>(width()) * width(); }
};

// nn::Model's fast path with a workspace of its own.
class ModelFirstLayer final : public FirstLayerModel {
 public:
  // Throws lsmss::Error when the model does not predict the energy or has no fast path.
  explicit ModelFirstLayer(Model model);
  int num_features() const override { return features_; }
  int width() const override { return width_; }
  std::span<const float> row(int feature) const override;
  std::span<const float> bias() const override;
  void energy_from_z1(std::span<const float> z1, int batch, std::span<double> out) override;
  double macs_after_first() const override { return macs_; }

 private:
  ModelWorkspace workspace_;
  int features_ = 0, width_ = 0;
  double macs_ = 0;
};

// What each member's FirstLayerModel::energy_from_z1 computes, for all members of an ensemble
// at once. Not shared between threads.
class FirstLayerGroup {
 public:
  virtual ~FirstLayerGroup() = default;
  // out[m] (batch energies, Ry) of member m from z1[m] (batch x member m's width), every member.
  virtual void energies_from_z1(std::span<const std::vector<float>> z1, int batch,
                                std::span<std::vector<double>> out) = 0;
};

// nn::Ensemble's members through one grouped forward pass (nn::EnsembleWorkspace's fold group),
// each member with its own statistics; nullptr where `how` runs them one by one (automatic: on
// the CPU backends). Throws lsmss::Error when a member has no fast path or no energy, or for
// `grouped` when the members cannot be grouped.
std::unique_ptr<FirstLayerGroup> make_first_layer_group(
    const Ensemble& ensemble, EnsembleInference how = EnsembleInference::automatic);

class FirstLayerSource {
 public:
  virtual ~FirstLayerSource() = default;
  // One first-layer model per ensemble member, each with its own workspace. Throws
  // lsmss::Error when the networks have no fast path (the caller falls back to the driver).
  virtual std::vector<std::unique_ptr<FirstLayerModel>> first_layer_models() const = 0;
  // The members' forward passes as one group, where the source groups them (nullptr: one by
  // one through first_layer_models()).
  virtual std::unique_ptr<FirstLayerGroup> first_layer_group() const { return nullptr; }
  // Members of the ensemble (> 1: energies carry a standard deviation).
  virtual std::size_t ensemble_size() const = 0;
  // The model files behind it (a Monte Carlo checkpoint records their sizes and times).
  virtual std::vector<std::filesystem::path> model_files() const = 0;
  virtual std::string describe() const = 0;
};

}  // namespace lsmss::nn
