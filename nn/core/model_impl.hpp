#pragma once
// Internals of nn::Model shared by the model file code, the trainer and the evaluation.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/hdf5.hpp"
#include "nn/core/backend.hpp"
#include "nn/core/network.hpp"
#include "nn/core/standardization.hpp"
#include "nn/model.hpp"

namespace lsmss::nn {

// Train/validation loss per task (standardized MSE, what the optimizer sees), sampled.
struct LearningCurve {
  std::vector<std::int64_t> epoch;
  std::vector<double> train;       // samples x tasks
  std::vector<double> validation;  // samples x tasks (NaN without a validation set)
  std::vector<double> learning_rate;
};

struct Model::Impl {
  explicit Impl(System s) : system(std::move(s)) {}
  System system;
  Network net;
  std::vector<float> params;  // flat, layout of Network
  Standardization stdz;

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

  // Runtime (built by prepare()).
  std::string backend_name = "auto";
  mutable std::unique_ptr<Backend> backend;
  bool fast_path = false;          // first layer by one-hot row sums (see Model::first_layer_row)
  int width1 = 0;                  // width of the network's first layer
  std::vector<float> folded_rows;  // features x (width1 + species), row-major
  std::vector<float> folded_bias;  // width1 + species
  static constexpr int kMaxBatch = 4096;
  mutable std::vector<float> z1;  // kMaxBatch x width1

  void prepare(const std::string& backend);
  // Standardized predictions of rows [first, first+n) into backend outputs (n <= kMaxBatch).
  void forward_configs(const std::uint8_t* occupation, int n) const;
};

// Writes/reads one model into/from an HDF5 group (docs/model-format.md).
void write_model_group(hid_t group, const Model::Impl& m);
std::unique_ptr<Model::Impl> read_model_group(hid_t group, const std::string& where);

}  // namespace lsmss::nn
