#pragma once
// The compute backend interface: forward, gradient of the multi-task loss and the Adam update
// of one flat parameter buffer. Backends allocate every buffer in setup() and never allocate
// in forward()/gradient()/adam() (except once per new batch size, for the primitive plan).
// `reference` is the plain oracle; `onednn` the fast CPU backend; `cuda` only when compiled.
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "nn/core/network.hpp"

namespace lsmss::nn {

struct AdamSettings {
  float lr = 1e-4f;
  float beta1 = 0.9f;
  float beta2 = 0.999f;
  float eps = 1e-8f;
};

class Backend {
 public:
  virtual ~Backend() = default;
  virtual std::string name() const = 0;

  // Allocates parameters, gradients, Adam moments (all zero) and activations for batches of
  // up to `max_batch` rows.
  virtual void setup(const Network& net, int max_batch);
  const Network& network() const { return net_; }
  int max_batch() const { return max_batch_; }

  // The flat buffers, layout fixed by Network (W out x in row-major, then b, layer by layer).
  std::span<float> params() { return params_; }
  std::span<const float> params() const { return params_; }
  std::span<const float> grads() const { return grads_; }
  std::span<float> adam_m() { return m_; }
  std::span<float> adam_v() { return v_; }

  // Forward pass of `batch` standardized inputs (batch x inputs, row-major); results in output().
  virtual void forward(const float* x, int batch) = 0;
  // Forward pass from the first layer's pre-activations z1 (batch x layers()[0].out): applies
  // the first activation and the remaining layers (the one-hot fast path computes z1 itself).
  virtual void forward_from_first(const float* z1, int batch) = 0;
  // Output of head h after a forward pass: batch x outputs, row-major.
  virtual const float* output(int head) const = 0;

  // Forward + backward: grads() = d/dparams of sum_h alpha[h] * MSE_h, where MSE_h is the mean
  // over batch x outputs of (output - target)^2; writes MSE_h to mse[h]. targets[h] is
  // batch x outputs of head h.
  virtual void gradient(const float* x, const float* const* targets, int batch, const float* alpha,
                        double* mse) = 0;

  // One Adam step (t >= 1, PyTorch's formulation) of params() with grads().
  virtual void adam(const AdamSettings& s, long t) = 0;

 protected:
  Network net_;
  int max_batch_ = 0;
  std::vector<float> params_, grads_, m_, v_;
};

// "reference", "onednn", "cuda", or "auto" (the fastest compiled backend). `threads` > 0 sets
// the OpenMP thread count of the backend; 0 keeps OMP_NUM_THREADS / the default.
// Throws NotCompiledError for a backend not compiled into this build, Error for unknown names.
std::unique_ptr<Backend> make_backend(const std::string& name, int threads = 0);
std::vector<std::string> backend_names();  // every known name, compiled or not
bool backend_compiled(const std::string& name);

std::unique_ptr<Backend> make_reference_backend();
std::unique_ptr<Backend> make_onednn_backend(int threads);

}  // namespace lsmss::nn
