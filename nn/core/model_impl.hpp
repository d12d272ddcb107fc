#pragma once
// Internals of nn::Model shared by the model file code, the trainer and the evaluation (nn's
// own sources only; users see nn/model.hpp). The trained artifact and its provenance; nothing
// here changes after prepare(): the mutable side of evaluation lives in ModelWorkspace.
#ifndef LSMSS_NN_INTERNAL  // defined for lsmss_nn's own sources and its tests only
#error "a header private to nn/: use nn/model.hpp, nn/first_layer.hpp or the nn/core/ API headers"
#endif
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/hdf5.hpp"
#include "nn/core/linear_model.hpp"
#include "nn/core/network.hpp"
#include "nn/core/standardization.hpp"
#include "nn/model.hpp"

namespace lsmss::nn {

namespace detail {

// The trained artifact behind a Model.
struct ModelData {
  explicit ModelData(System s) : system(std::move(s)) {}
  System system;
  ModelKind kind = ModelKind::mlp;
  Network net;                // no heads for kind cluster_expansion
  std::vector<float> params;  // flat, layout of Network
  Standardization stdz;
  // The linear model (cluster_expansion) or the linear base the network corrects (ce+mlp).
  std::optional<LinearModel> linear;
  bool has_network() const { return net.num_heads() > 0; }

  // Provenance.
  int fold = -1;
  std::string dataset_hash;  // hex
  std::string training_deck;
  std::string trained_backend;
  std::string software_version;
  std::string created;
  std::int64_t epochs_run = 0;
  std::int64_t seed = 0;
  LearningCurve curve;

  // Derived once by prepare(), then read-only.
  std::string backend_name = "auto";  // what workspaces run on
  bool fast_path = false;          // first layer by one-hot row sums (see Model::first_layer_row)
  int width1 = 0;                  // width of the network's first layer
  std::vector<float> folded_rows;  // features x (width1 + species), row-major
  std::vector<float> folded_bias;  // width1 + species
  static constexpr int kMaxBatch = 4096;

  // Checks the backend name and derives the fast-path data.
  void prepare(const std::string& backend);

  // ---- the steps of a prediction, shared by ModelWorkspace and the grouped ensemble path
  // (nn/core/ensemble.cpp), so that both compute the same numbers ----
  // Configurations per forward pass: a few hundred rows keep every layer's activations in cache.
  static constexpr int kPredictChunk = 256;
  PropertyMask tasks() const;  // kEnergy | kCharge | kMoment subset
  // Predictions of `count` configurations, zero for each task the model predicts.
  Predictions zero_predictions(std::size_t count) const;
  // The occupations of `configs` (configs.size() x sites), checked against the system.
  void read_occupations(std::span<const Configuration> configs, std::uint8_t* occ) const;
  // The linear part (cluster_expansion, ce+mlp) of n configurations into rows first.. of p
  // (before add_head_outputs; nothing without a linear model).
  void add_linear_part(const std::uint8_t* occ, int n, std::size_t first, Predictions& p) const;
  // Width of the network input that network_input writes: the first layer's pre-activations
  // (fast path) or the standardized one-hot inputs.
  int network_input_width() const;
  // The network input of n configurations (n x network_input_width()); forward it with
  // Backend::forward_from_first on the fast path, Backend::forward otherwise.
  void network_input(const std::uint8_t* occ, int n, float* out) const;
  // Head h's network outputs y (n x outputs) decoded and added to rows first.. of p.
  void add_head_outputs(int h, const std::uint8_t* occ, int n, const float* y, std::size_t first,
                        Predictions& p) const;
  // ---- the Monte Carlo fast path's steps (ModelWorkspace::energy_from_first_preactivation and
  // the grouped one): z1 rows have Model::first_layer_width() entries ----
  // The energy head, after checking that the model has the fast path and the energy and that
  // z1 (z1_size floats) and out (out_size doubles) hold `batch` rows; throws otherwise.
  int fast_path_energy_head(std::size_t z1_size, std::size_t out_size, int batch) const;
  // The network's part of n z1 rows (their first width1 entries) into out (n x width1).
  void first_preactivations(const float* z1, int n, float* out) const;
  // Energies (Ry) of n rows from the energy head's outputs y and the rows' species counts (the
  // last num_species entries of each z1 row).
  void energies_from_outputs(int head, const float* y, const float* z1, int n, double* out) const;
};

// How nn's own code builds a Model and reads its internals.
struct ModelAccess {
  static Model make(std::unique_ptr<ModelData> data) {
    return Model(std::shared_ptr<const ModelData>(std::move(data)));
  }
  static const ModelData& data(const Model& m) { return m.impl(); }
};

}  // namespace detail

using detail::ModelAccess;
using detail::ModelData;

// Writes/reads one model into/from an HDF5 group (docs/model-format.md).
void write_model_group(hid_t group, const ModelData& m);
std::unique_ptr<ModelData> read_model_group(hid_t group, const std::string& where);

}  // namespace lsmss::nn
