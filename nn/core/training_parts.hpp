#pragma once
// The host pieces of a training run shared by the one-fold trainer (trainer.cpp) and the
// multi-fold trainer (multi_fold.cpp): encoding of a fold's rows, initialization, shuffling,
// batch assembly, the loss over a row set and early stopping. Internal to nn/core.
#ifndef LSMSS_NN_INTERNAL  // defined for lsmss_nn's own sources and its tests only
#error "a header private to nn/: use nn/model.hpp, nn/first_layer.hpp or the nn/core/ API headers"
#endif
#include <algorithm>
#include <cmath>
#include <ctime>
#include <limits>
#include <span>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "core/rng.hpp"
#include "dataset_builder/dataset.hpp"
#include "nn/core/backend.hpp"
#include "nn/core/fold_group.hpp"
#include "nn/core/loss.hpp"
#include "nn/core/standardization.hpp"

namespace lsmss::nn::training {

inline const std::vector<double>& values_of(const dataset::Dataset& d, Task t) {
  const auto& v = t == Task::energy ? d.energy : t == Task::charge ? d.charge : d.moment;
  const std::size_t per = t == Task::energy ? 1 : static_cast<std::size_t>(d.num_sites);
  if (v.size() != d.rows() * per || !(d.available & task_bit(t)))
    fail("the dataset has no {} data (it carries {})", task_name(t),
         property_mask_name(d.available));
  return v;
}

inline std::string now_iso() {
  const std::time_t t = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buf;
}

// `weights`: the rows' loss weights (FoldSplit), empty for every row 1.
inline EncodedRows encode_rows(const dataset::Dataset& data, const Network& net,
                               const Standardization& stdz,
                               const std::vector<const std::vector<double>*>& values,
                               const std::vector<std::size_t>& rows,
                               const std::vector<float>& weights) {
  const int sites = data.num_sites, features = net.inputs();
  if (!weights.empty() && weights.size() != rows.size())
    fail("encode_rows: {} loss weights for {} rows", weights.size(), rows.size());
  EncodedRows e;
  e.rows = rows.size();
  e.weights = weights;
  e.inputs.assign(rows.size() * features, 0.0f);
  e.targets.assign(net.num_heads(), {});
  for (int h = 0; h < net.num_heads(); ++h)
    e.targets[h].assign(rows.size() * net.spec().heads[h].outputs, 0.0f);
  for (std::size_t k = 0; k < rows.size(); ++k) {
    const std::uint8_t* occupation = &data.occupation[rows[k] * sites];
    stdz.encode_input(occupation, &e.inputs[k * features]);
    for (int h = 0; h < net.num_heads(); ++h) {
      const int outputs = net.spec().heads[h].outputs;
      stdz.encode_target(h, occupation, &(*values[h])[rows[k] * outputs],
                         &e.targets[h][k * outputs]);
    }
  }
  return e;
}

// PyTorch's default initialization of nn.Linear: U(-1/sqrt(in), 1/sqrt(in)) for W and b.
inline void initialize_parameters(std::span<float> params, const Network& net, Rng& rng) {
  for (const auto& layer : net.layers()) {
    const double bound = 1.0 / std::sqrt(double(layer.in));
    for (std::size_t k = layer.w; k < layer.b + layer.out; ++k)
      params[k] = static_cast<float>((2 * rng.uniform() - 1) * bound);
  }
}

// Copies the rows of one mini-batch (in the epoch's shuffled order) into contiguous buffers.
class BatchAssembler {
 public:
  BatchAssembler(const Network& net, int max_batch) : net_(net) {
    inputs_.assign(static_cast<std::size_t>(max_batch) * net.inputs(), 0.0f);
    weights_.assign(static_cast<std::size_t>(max_batch), 1.0f);
    targets_.resize(net.num_heads());
    pointers_.resize(net.num_heads());
    for (int h = 0; h < net.num_heads(); ++h) {
      targets_[h].assign(static_cast<std::size_t>(max_batch) * net.spec().heads[h].outputs, 0.0f);
      pointers_[h] = targets_[h].data();
    }
  }

  // Rows order[first .. first + count) of `source`.
  void gather(const EncodedRows& source, const std::vector<std::size_t>& order, long first,
              int count) {
    const int features = net_.inputs();
    weighted_ = !source.weights.empty();
    for (int k = 0; k < count; ++k) {
      const std::size_t row = order[first + k];
      if (weighted_) weights_[k] = source.weights[row];
      std::copy_n(&source.inputs[row * features], features,
                  &inputs_[static_cast<std::size_t>(k) * features]);
      for (int h = 0; h < net_.num_heads(); ++h) {
        const int outputs = net_.spec().heads[h].outputs;
        std::copy_n(&source.targets[h][row * outputs], outputs,
                    &targets_[h][static_cast<std::size_t>(k) * outputs]);
      }
    }
  }

  const float* inputs() const { return inputs_.data(); }
  const float* const* targets() const { return pointers_.data(); }
  // The batch's loss weights; nullptr when the source rows carry none (every row 1).
  const float* row_weights() const { return weighted_ ? weights_.data() : nullptr; }

 private:
  const Network& net_;
  std::vector<float> inputs_, weights_;
  bool weighted_ = false;
  std::vector<std::vector<float>> targets_;
  std::vector<const float*> pointers_;
};

// Loss per head over a whole row set, rows weighted by their loss weights (NaN for every head
// when the set is empty); `out` is resized to the heads (as the cuda group's set_loss does).
inline void set_loss(Backend& backend, const Loss& loss, const EncodedRows& set, int max_batch,
                     std::vector<double>& out) {
  const Network& net = backend.network();
  if (set.rows == 0) {
    out.assign(net.num_heads(), std::numeric_limits<double>::quiet_NaN());
    return;
  }
  out.assign(net.num_heads(), 0.0);
  const long rows = static_cast<long>(set.rows);
  for (long first = 0; first < rows; first += max_batch) {
    const int n = static_cast<int>(std::min<long>(max_batch, rows - first));
    backend.forward(&set.inputs[first * net.inputs()], n);
    for (int h = 0; h < net.num_heads(); ++h) {
      const int outputs = net.spec().heads[h].outputs;
      const RowWeights weights{set.weights.empty() ? nullptr : &set.weights[first],
                               static_cast<std::size_t>(outputs)};
      out[h] += loss.total(backend.output(h), &set.targets[h][first * outputs],
                           static_cast<std::size_t>(n) * outputs, weights);
    }
  }
  for (int h = 0; h < net.num_heads(); ++h) out[h] /= double(rows) * net.spec().heads[h].outputs;
}

// Keeps the weights of the best validation loss (when `keep_best` or early stopping is on) and
// says when it stopped improving for `patience` epochs (patience 0: never stops).
class EarlyStopping {
 public:
  EarlyStopping(long patience, double min_delta, bool keep_best, std::size_t num_params)
      : patience_(patience),
        min_delta_(min_delta),
        tracking_(keep_best || patience > 0),
        best_(tracking_ ? num_params : 0) {}

  // Returns true when training should stop.
  bool update(long epoch, double validation, std::span<const float> params) {
    if (!tracking_ || !std::isfinite(validation)) return false;
    if (validation < best_loss_ - min_delta_) {
      best_loss_ = validation;
      best_epoch_ = epoch;
      std::copy(params.begin(), params.end(), best_.begin());
      return false;
    }
    return patience_ > 0 && epoch - best_epoch_ >= patience_;
  }
  bool tracking() const { return tracking_; }
  bool has_best() const { return tracking_ && best_epoch_ > 0; }
  long best_epoch() const { return best_epoch_; }
  const std::vector<float>& best() const { return best_; }

 private:
  long patience_;
  double min_delta_;
  bool tracking_;
  std::vector<float> best_;
  double best_loss_ = std::numeric_limits<double>::infinity();
  long best_epoch_ = 0;
};

}  // namespace lsmss::nn::training
