#pragma once
// The interface of k models of one network trained in lockstep (nn/core/multi_fold.hpp drives
// it) or evaluated together (ensemble inference, nn/core/ensemble.cpp), and the plan of one
// lockstep epoch. Kept free of fmt and the dataset headers: the cuda
// backend's nvcc translation unit includes it.
#include <cstddef>
#include <span>
#include <string>
#include <vector>

#include "nn/core/backend.hpp"
#include "nn/core/network.hpp"

namespace lsmss::nn {

// Inputs and targets of a set of rows, standardized and encoded once (one fold's training or
// validation rows).
struct EncodedRows {
  std::size_t rows = 0;
  std::vector<float> inputs;                // rows x features
  std::vector<std::vector<float>> targets;  // per head: rows x outputs
  // Per-row loss weights (training.outlier_weight); empty: every row weighs 1.
  std::vector<float> weights;
};

// What one fold does in one lockstep step: rows order[first, first + count) of its training
// set, then Adam step `adam_step`. count == 0: the fold sits this step out (it has fewer
// batches this epoch, or it stopped early).
struct FoldBatch {
  long first = 0;
  int count = 0;
  long adam_step = 0;
};

// The steps of one epoch for every fold: fold f has ceil(rows[f] / batch[f]) batches, the
// epoch has as many steps as the longest fold, shorter folds idle at the end. Advances the
// per-fold Adam step counters of the active folds. Result: steps x folds, row-major.
struct EpochPlan {
  int steps = 0, folds = 0;
  std::vector<FoldBatch> batches;
  const FoldBatch* step(int s) const { return &batches[static_cast<std::size_t>(s) * folds]; }
};
EpochPlan plan_epoch(std::span<const long> rows, std::span<const int> batch,
                     std::span<const bool> active, std::span<long> adam_steps);

// What a fold group is set up for. `training`: everything of a lockstep run. `inference`:
// forward passes only (ensemble inference), so a device group holds only the parameters, the
// forward activations and outputs and the input staging buffers: no gradients, optimizer
// moments, backward buffers or row sets, which would scale with members x rows x width for
// nothing. Every training call on such a group throws lsmss::Error (FoldGroup checks it, so
// every group keeps the same contract).
enum class FoldGroupUse { training, inference };

// k models of one network trained in lockstep, or evaluated together (setup for inference,
// parameters, then forward passes only). The training calls are non-virtual: they check the
// group's use, then call the group's implementation (the do_ functions).
class FoldGroup {
 public:
  virtual ~FoldGroup() = default;
  virtual std::string name() const = 0;
  // Sizes everything `use` needs for `folds` models of `net` and batches of up to `max_batch`
  // rows; every parameter starts at zero.
  void setup(const Network& net, int folds, int max_batch, Precision precision, FoldGroupUse use) {
    use_ = use;
    epoch_started_ = false;
    do_setup(net, folds, max_batch, precision, use);
  }
  FoldGroupUse use() const { return use_; }
  // Host copy of fold f's parameters (layout of Network). Write, then upload_params(); read
  // after download_params().
  virtual std::span<float> params(int fold) = 0;
  virtual void upload_params() {}
  virtual void download_params() {}

  // ---- training (FoldGroupUse::training only) ----
  // Fold f's training rows, kept (by pointer on the host, uploaded once by a device group) for
  // the whole run. New rows need a start_epoch (their row orders) before the next step.
  void set_training_rows(int fold, const EncodedRows& rows) {
    require_training("set_training_rows");
    epoch_started_ = false;
    do_set_training_rows(fold, rows);
  }
  // Fold f's validation rows, kept likewise (set_loss reads them).
  void set_validation_rows(int fold, const EncodedRows& rows) {
    require_training("set_validation_rows");
    do_set_validation_rows(fold, rows);
  }
  // Starts an epoch: each fold's row order (indices into its training rows) and the learning
  // rate of the epoch.
  void start_epoch(std::span<const std::vector<std::size_t>> orders, double lr) {
    require_training("start_epoch");
    do_start_epoch(orders, lr);
    epoch_started_ = true;
  }
  // One lockstep step: batches[f] for every fold; alpha: per-head loss weights.
  void step(const FoldBatch* batches, const float* alpha) {
    require_training("step");
    if (!epoch_started_)
      throw_error(name() +
                  " fold group: step without start_epoch after setup or set_training_rows (the "
                  "step's rows are taken from the epoch's row orders)");
    do_step(batches, alpha);
  }
  // The epoch's training loss per fold and head: the sum over its batches of the batch loss
  // times the batch rows (folds x heads, row-major); resets the sums.
  void take_epoch_loss(std::vector<double>& out) {
    require_training("take_epoch_loss");
    do_take_epoch_loss(out);
  }
  // Loss per head of fold f's current model over `set` (validation), forward passes of `chunk`
  // rows (the fold's batch size: the one-fold trainer's sums, in its order).
  void set_loss(int fold, const EncodedRows& set, int chunk, std::vector<double>& out) {
    require_training("set_loss");
    do_set_loss(fold, set, chunk, out);
  }

  // ---- forward passes (either use) ----
  // Forward pass of `rows` rows (1 <= rows <= max_batch) of every fold: x is folds x rows x
  // inputs, row-major, fold f's block standardized with fold f's own statistics. Results in
  // output().
  virtual void forward(const float* x, int rows) = 0;
  // The same from the first layer's pre-activations z1 (folds x rows x layers()[0].out; as
  // Backend::forward_from_first).
  virtual void forward_from_first(const float* z1, int rows) = 0;
  // Head h's outputs of fold f after the last forward pass: rows x outputs, row-major.
  virtual const float* output(int fold, int head) const = 0;

 private:
  void require_training(const char* call) const {
    if (use_ == FoldGroupUse::inference)
      throw_error(name() + " fold group: " + call +
                  " is a training call, but the group was set up for inference only");
  }

  virtual void do_setup(const Network& net, int folds, int max_batch, Precision precision,
                        FoldGroupUse use) = 0;
  virtual void do_set_training_rows(int fold, const EncodedRows& rows) = 0;
  virtual void do_set_validation_rows(int fold, const EncodedRows& rows) = 0;
  virtual void do_start_epoch(std::span<const std::vector<std::size_t>> orders, double lr) = 0;
  virtual void do_step(const FoldBatch* batches, const float* alpha) = 0;
  virtual void do_take_epoch_loss(std::vector<double>& out) = 0;
  virtual void do_set_loss(int fold, const EncodedRows& set, int chunk,
                           std::vector<double>& out) = 0;

  FoldGroupUse use_ = FoldGroupUse::training;
  bool epoch_started_ = false;  // since setup and the last set_training_rows
};

}  // namespace lsmss::nn
