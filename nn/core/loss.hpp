#pragma once
// The training loss as a policy shared by every backend: the mean over a head's outputs of an
// element loss. From a head's outputs and targets it gives the head's loss and writes d(weight *
// loss)/d(output) into the backend's output gradient, which the backend's backward kernel then
// propagates. The element arithmetic is shared with the device (nn/core/elementwise.hpp).
// The multi-task loss is sum_h alpha[h] * loss_h (Backend::apply_loss).
#include <cstddef>
#include <string>

#include "nn/core/elementwise.hpp"

namespace lsmss::nn {

class Loss {
 public:
  virtual ~Loss() = default;
  virtual std::string name() const = 0;
  // `count` outputs y against targets t: returns the loss and writes
  // d(weight * loss)/dy into dy.
  virtual double value_and_gradient(const float* y, const float* t, std::size_t count,
                                    double weight, float* dy) const = 0;
  // Sum of the element losses of `count` outputs (the loss of a set of batches is the sum of
  // their totals over the number of outputs; validation).
  virtual double total(const float* y, const float* t, std::size_t count) const = 0;
};

// Mean squared error over all outputs of a head (the paper's loss), accumulated in double.
class MseLoss final : public Loss {
 public:
  std::string name() const override { return "mse"; }
  double value_and_gradient(const float* y, const float* t, std::size_t count, double weight,
                            float* dy) const override {
    double sum = 0;
    for (std::size_t k = 0; k < count; ++k)
      sum += mse_element(y[k], t[k], weight, double(count), &dy[k]);
    return sum / double(count);
  }
  double total(const float* y, const float* t, std::size_t count) const override {
    double s = 0;
    for (std::size_t k = 0; k < count; ++k) s += squared_error(y[k], t[k]);
    return s;
  }
};

}  // namespace lsmss::nn
