// The oracle: plain loops with double accumulation, written to be obviously correct, not fast.
// Kernels only: the loss and the optimizer are the shared policies of nn/core/backend.hpp.
#include <algorithm>
#include <cmath>

#include "nn/core/backend.hpp"
#include "nn/core/elementwise.hpp"

namespace lsmss::nn {
namespace {

class ReferenceBackend final : public Backend {
 public:
  std::string name() const override { return "reference"; }

  void setup(const Network& net, int max_batch) override {
    Backend::setup(net, max_batch);
    act_.assign(net.layers().size(), {});
    diff_.assign(net.layers().size(), {});
    is_output_.assign(net.layers().size(), false);
    for (int h = 0; h < net.num_heads(); ++h) is_output_[net.output_layer(h)] = true;
    for (std::size_t l = 0; l < net.layers().size(); ++l) {
      act_[l].assign(static_cast<std::size_t>(max_batch) * net.layers()[l].out, 0.0f);
      diff_[l].assign(act_[l].size(), 0.0f);
    }
  }

  void forward(const float* x, int batch) override { run(x, batch, false); }

  void forward_from_first(const float* z1, int batch) override { run(z1, batch, true); }

  const float* output(int head) const override { return act_[net_.output_layer(head)].data(); }

  float* output_gradient(int head) override { return diff_[net_.output_layer(head)].data(); }

  void backward(const float* x, int batch) override {
    const auto& L = net_.layers();
    // Output layers hold the loss's gradient; every other layer accumulates from its consumers.
    for (std::size_t l = 0; l < L.size(); ++l)
      if (!is_output_[l]) std::fill(diff_[l].begin(), diff_[l].end(), 0.0f);
    std::fill(grads_.begin(), grads_.end(), 0.0f);
    for (int l = static_cast<int>(L.size()) - 1; l >= 0; --l) {
      const Layer& ly = L[l];
      const float* W = params_.data() + ly.w;
      float* dW = grads_.data() + ly.w;
      float* db = grads_.data() + ly.b;
      for (int r = 0; r < batch; ++r)
        for (int o = 0; o < ly.out; ++o)
          diff_[l][r * ly.out + o] *= static_cast<float>(
              activation_derivative_from_output(ly.act, double(act_[l][r * ly.out + o])));
      for (int o = 0; o < ly.out; ++o) {
        double sb = 0;
        for (int r = 0; r < batch; ++r) sb += diff_[l][r * ly.out + o];
        db[o] = static_cast<float>(sb);
        for (int i = 0; i < ly.in; ++i) {
          double s = 0;
          for (int r = 0; r < batch; ++r)
            s += double(diff_[l][r * ly.out + o]) * input_at(x, ly, r, i);
          dW[o * ly.in + i] = static_cast<float>(s);
        }
      }
      if (ly.input < 0) continue;
      const int stride = L[ly.input].out;
      for (int r = 0; r < batch; ++r)
        for (int i = 0; i < ly.in; ++i) {
          double s = 0;
          for (int o = 0; o < ly.out; ++o) s += double(diff_[l][r * ly.out + o]) * W[o * ly.in + i];
          diff_[ly.input][r * stride + ly.input_offset + i] += static_cast<float>(s);
        }
    }
  }

 private:
  float input_at(const float* x, const Layer& ly, int r, int i) const {
    if (ly.input < 0) return x[static_cast<std::size_t>(r) * ly.in + i];
    return act_[ly.input]
               [static_cast<std::size_t>(r) * net_.layers()[ly.input].out + ly.input_offset + i];
  }

  void run(const float* x, int batch, bool from_first) {
    const auto& L = net_.layers();
    for (std::size_t l = 0; l < L.size(); ++l) {
      const Layer& ly = L[l];
      const float* W = params_.data() + ly.w;
      const float* b = params_.data() + ly.b;
      for (int r = 0; r < batch; ++r)
        for (int o = 0; o < ly.out; ++o) {
          double z;
          if (l == 0 && from_first) {
            z = x[static_cast<std::size_t>(r) * ly.out + o];
          } else {
            z = b[o];
            for (int i = 0; i < ly.in; ++i) z += double(W[o * ly.in + i]) * input_at(x, ly, r, i);
          }
          act_[l][r * ly.out + o] = static_cast<float>(activate(ly.act, z));
        }
    }
  }

  std::vector<std::vector<float>> act_, diff_;
  std::vector<bool> is_output_;
};

}  // namespace

std::unique_ptr<Backend> make_reference_backend() {
  return std::make_unique<ReferenceBackend>();
}

}  // namespace lsmss::nn
