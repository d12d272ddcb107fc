#pragma once
// The training loss as a policy shared by every backend: the mean over a head's outputs of an
// element loss, each element weighted by its row's loss weight (training.outlier_weight; 1 when
// no weights are given). From a head's outputs and targets it gives the head's loss and writes
// d(weight * loss)/d(output) into the backend's output gradient, which the backend's backward
// kernel then propagates. The element arithmetic is shared with the device
// (nn/core/elementwise.hpp). The multi-task loss is sum_h alpha[h] * loss_h
// (Backend::apply_loss).
#include <cstddef>
#include <string>

#include "nn/core/elementwise.hpp"

namespace lsmss::nn {

// Per-row loss weights of a batch or row set: element k of a head with `outputs` outputs per row
// belongs to row k / outputs. No weights (nullptr): every row weighs 1, and the arithmetic is
// that of an unweighted loss bit for bit (x * 1.0 is exact).
struct RowWeights {
  const float* weight = nullptr;
  std::size_t outputs = 1;
  double at(std::size_t element) const {
    return weight != nullptr ? static_cast<double>(weight[element / outputs]) : 1.0;
  }
};

class Loss {
 public:
  virtual ~Loss() = default;
  virtual std::string name() const = 0;
  // `count` outputs y against targets t, rows weighted by `rows`: returns the loss and writes
  // d(weight * loss)/dy into dy.
  virtual double value_and_gradient(const float* y, const float* t, std::size_t count,
                                    double weight, float* dy, RowWeights rows) const = 0;
  double value_and_gradient(const float* y, const float* t, std::size_t count, double weight,
                            float* dy) const {
    return value_and_gradient(y, t, count, weight, dy, RowWeights{});
  }
  // Sum of the (row-weighted) element losses of `count` outputs (the loss of a set of batches
  // is the sum of their totals over the number of outputs; validation).
  virtual double total(const float* y, const float* t, std::size_t count,
                       RowWeights rows) const = 0;
  double total(const float* y, const float* t, std::size_t count) const {
    return total(y, t, count, RowWeights{});
  }
};

// Mean squared error over all outputs of a head (the paper's loss), accumulated in double:
// sum_k w_row(k) (y_k - t_k)^2 / count.
class MseLoss final : public Loss {
 public:
  using Loss::total;
  using Loss::value_and_gradient;
  std::string name() const override { return "mse"; }
  double value_and_gradient(const float* y, const float* t, std::size_t count, double weight,
                            float* dy, RowWeights rows) const override {
    double sum = 0;
    for (std::size_t k = 0; k < count; ++k)
      sum += weighted_mse_element(y[k], t[k], weight, rows.at(k), double(count), &dy[k]);
    return sum / double(count);
  }
  double total(const float* y, const float* t, std::size_t count, RowWeights rows) const override {
    double s = 0;
    for (std::size_t k = 0; k < count; ++k) s += weighted_squared_error(y[k], t[k], rows.at(k));
    return s;
  }
};

}  // namespace lsmss::nn
