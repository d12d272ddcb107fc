#pragma once
// The compute backend interface: the forward and backward kernels of one network over one flat
// parameter buffer, nothing else. The loss (nn/core/loss.hpp), the optimizer and the
// learning-rate schedule (nn/core/optimizer.hpp) are policies shared by every backend; they run
// on the host over the buffers below through apply_loss() and apply_optimizer(). A device
// backend (CUDA) keeps its buffers on the device and overrides those two hooks to run the same
// element functions there, plus upload_params()/download_params() to keep the host copy of the
// parameters in step. Backends allocate every buffer in setup() and never allocate in the
// kernels (except once per new batch size, for the primitive plan).
// `reference` is the plain oracle; `onednn` the fast CPU backend; `cuda` only when compiled.
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "nn/core/loss.hpp"
#include "nn/core/network.hpp"
#include "nn/core/optimizer.hpp"

namespace lsmss::nn {

// Arithmetic of the matrix products. fp32 everywhere by default; tf32 and bf16 are tensor-core
// modes of the cuda backend (inputs rounded to TF32 / BF16 inside the products, fp32
// accumulation and fp32 everything else). The CPU backends support fp32 only.
enum class Precision { fp32, tf32, bf16 };
Precision precision_from_name(std::string_view name);  // throws lsmss::Error
std::string precision_name(Precision p);

class Backend {
 public:
  virtual ~Backend() = default;
  virtual std::string name() const = 0;

  // Allocates parameters and gradients (all zero) and activations for batches of up to
  // `max_batch` rows.
  virtual void setup(const Network& net, int max_batch);
  const Network& network() const { return net_; }
  // Precision of the products (before setup()). Host backends accept fp32 only and throw a
  // clear error for the others.
  virtual void set_precision(Precision precision);
  int max_batch() const { return max_batch_; }

  // The host copies of the flat buffers, layout fixed by Network (W out x in row-major, then b,
  // layer by layer).
  std::span<float> params() { return params_; }
  std::span<const float> params() const { return params_; }
  std::span<const float> grads() const { return grads_; }
  // After writing params() on the host (initialization, restored weights): a device backend
  // copies them to the device. Host backends compute on params() directly.
  virtual void upload_params() {}
  // Before reading params() on the host after optimizer steps: a device backend copies them back.
  virtual void download_params() {}

  // ---- kernels ----
  // Forward pass of `batch` standardized inputs (batch x inputs, row-major); results in output().
  virtual void forward(const float* x, int batch) = 0;
  // Forward pass from the first layer's pre-activations z1 (batch x layers()[0].out): applies
  // the first activation and the remaining layers (the one-hot fast path computes z1 itself).
  virtual void forward_from_first(const float* z1, int batch) = 0;
  // Output of head h after a forward pass: batch x outputs, row-major.
  virtual const float* output(int head) const = 0;
  // d(loss)/d(output of head h) for the last forward pass (batch x outputs): written by the loss
  // policy (apply_loss) and read by backward().
  virtual float* output_gradient(int head) = 0;
  // Backward pass of the last forward(x, batch): grads() = d(loss)/d(params) from the output
  // gradients.
  virtual void backward(const float* x, int batch) = 0;

  // ---- policies (host implementations shared by all host backends) ----
  // Output gradients of sum_h alpha[h] * loss_h for the last forward pass; writes loss_h to
  // loss_out[h]. targets[h] is batch x outputs of head h; row_weights: the batch's per-row loss
  // weights (nullptr: every row 1).
  virtual void apply_loss(const Loss& loss, const float* const* targets, int batch,
                          const float* alpha, double* loss_out, const float* row_weights);
  // One optimizer step t (t >= 1) of params() with grads().
  virtual void apply_optimizer(Optimizer& optimizer, long t);

  // forward + apply_loss + backward: the gradient of the multi-task loss for one batch.
  void gradient(const Loss& loss, const float* x, const float* const* targets, int batch,
                const float* alpha, double* loss_out, const float* row_weights = nullptr);

 protected:
  Network net_;
  int max_batch_ = 0;
  std::vector<float> params_, grads_;
};

// ---------------------------------------------------------------- registry

// A backend compiled into this build. `auto` picks the available one of highest priority.
struct BackendInfo {
  std::string name;
  int priority = 0;
  std::function<std::unique_ptr<Backend>(int threads)> create;
  // Whether it can run here (a device backend needs a device); a compiled CPU backend always can.
  std::function<bool()> available;
};

// The compiled backends, highest priority first.
std::vector<BackendInfo> compiled_backends();
// Names of the compiled backends that can run here, highest priority first (the oracle test
// runs over these).
std::vector<std::string> available_backend_names();
// The backend `auto` stands for in this build on this machine.
std::string auto_backend_name();

// "reference", "onednn", "cuda", or "auto" (the available compiled backend of highest
// priority). `threads` > 0 sets the OpenMP thread count of the backend; 0 keeps
// OMP_NUM_THREADS / the default. Throws NotCompiledError for a backend not compiled into this
// build, Error for unknown names.
std::unique_ptr<Backend> make_backend(const std::string& name, int threads = 0);
std::vector<std::string> backend_names();  // every known name, compiled or not, "auto" first
bool backend_compiled(const std::string& name);
// For --version: "compiled for <architectures>; <devices visible, or why none>" or
// "not compiled (...)".
std::string cuda_backend_status();

// Throws lsmss::Error(message): for translation units that cannot include core/error.hpp (fmt
// does not compile under nvcc).
[[noreturn]] void throw_error(const std::string& message);

std::unique_ptr<Backend> make_reference_backend();
std::unique_ptr<Backend> make_onednn_backend(int threads);

}  // namespace lsmss::nn
