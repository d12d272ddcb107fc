#pragma once
// Which device buffers the cuda engine allocates for a use of the fold group, and how large
// (elements). Plain host arithmetic, kept free of CUDA headers, so that a CPU test
// (tests/nn/test_gemm_plan.cpp) runs the GEMM plan on buffers of exactly these sizes, checks
// that every product stays inside them, and that an inference group holds no training buffer.
#ifndef LSMSS_NN_INTERNAL  // defined for lsmss_nn's own sources and its tests only
#error "a header private to nn/: use nn/model.hpp, nn/first_layer.hpp or the nn/core/ API headers"
#endif
#include <cstddef>
#include <vector>

#include "nn/core/fold_group.hpp"
#include "nn/core/network.hpp"
#include "nn/cuda/step_math.hpp"

namespace lsmss::nn::engine_buffers {

struct Sizes {
  // Fold-stacked flat buffers, folds x parameters per model: the parameters (either use); the
  // gradients and both Adam moments (training).
  std::size_t params = 0, grads = 0, first_moment = 0, second_moment = 0;
  // folds x max_batch x inputs: the network input of a step, or staged by a forward pass.
  std::size_t input = 0;
  // Per layer, folds x max_batch x out: its activations (the first layer's pre-activations are
  // staged there by forward_from_first; the output layers' are the heads' outputs) and (training)
  // the loss gradient with respect to them.
  std::vector<std::size_t> activation, gradient;
  // Training: per head the step's targets (folds x max_batch x outputs), the step's row weights
  // (folds x max_batch), one step record per fold, one loss weight per head and, per loss
  // accumulator (training, validation), one double per fold and head.
  std::vector<std::size_t> target;
  std::size_t row_weights = 0, steps = 0, alpha = 0, sums = 0;

  // Device memory of all of them together.
  std::size_t bytes() const {
    std::size_t floats =
        params + grads + first_moment + second_moment + input + row_weights + alpha;
    for (const auto* per : {&activation, &gradient, &target})
      for (std::size_t n : *per) floats += n;
    return floats * sizeof(float) + steps * sizeof(step_math::DeviceStep) +
           2 * sums * sizeof(double);
  }
};

inline Sizes sizes(const Network& net, int folds, int max_batch, FoldGroupUse use) {
  const bool training = use == FoldGroupUse::training;
  const std::size_t k = static_cast<std::size_t>(folds);
  const std::size_t slots = k * static_cast<std::size_t>(max_batch);  // fold-stacked rows
  Sizes s;
  s.params = k * net.num_params();
  s.input = slots * net.inputs();
  for (const auto& ly : net.layers()) {
    s.activation.push_back(slots * ly.out);
    s.gradient.push_back(training ? slots * ly.out : 0);
  }
  for (const auto& h : net.spec().heads) s.target.push_back(training ? slots * h.outputs : 0);
  if (!training) return s;
  s.grads = s.first_moment = s.second_moment = s.params;
  s.row_weights = slots;
  s.steps = k;
  s.alpha = static_cast<std::size_t>(net.num_heads());
  s.sums = k * net.num_heads();
  return s;
}

}  // namespace lsmss::nn::engine_buffers
