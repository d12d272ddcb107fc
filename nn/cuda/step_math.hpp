#pragma once
// The per-element index arithmetic of the cuda backend's step kernels, __host__ __device__ so
// that the CPU tests run it (tests/nn/test_gemm_plan.cpp): which training row lands in which
// slot of the fold-stacked batch, the padding of the rows past a fold's count, and which row
// weight an output of the loss takes.
#ifndef LSMSS_NN_INTERNAL  // defined for lsmss_nn's own sources and its tests only
#error "a header private to nn/: use nn/model.hpp, nn/first_layer.hpp or the nn/core/ API headers"
#endif
#include <cstddef>

#include "nn/core/elementwise.hpp"

namespace lsmss::nn::step_math {

// One fold's part of a step: rows order[first, first + count) of its row set (count 0: idle),
// then Adam with these constants when active.
struct DeviceStep {
  long long first = 0;
  int count = 0;
  int active = 0;
  AdamStep adam;
};

// Element i of the fold-stacked batch (folds x rows x width): row order[first_f + r] of fold f's
// set in `src` (fold f's rows start at row offsets[f], its order entries at offsets[f] too);
// zero past the fold's count. order == nullptr: consecutive rows (validation).
LSMSS_HD inline float gathered_value(std::size_t i, int rows, int width, const float* src,
                                     const long long* offsets, const int* order,
                                     const DeviceStep* steps) {
  const int c = static_cast<int>(i % width);
  const int r = static_cast<int>((i / width) % rows);
  const int f = static_cast<int>(i / (std::size_t(width) * rows));
  if (r >= steps[f].count) return 0.0f;
  const long long k = steps[f].first + r;
  const long long row = order ? order[offsets[f] + k] : k;
  return src[(offsets[f] + row) * width + c];
}

// Element k (k < count x outputs) of one fold's block of a head in the device loss: y and t are
// the fold's outputs and targets (count rows x outputs, row-major), row_weights its gathered
// per-row loss weights (training.outlier_weight; nullptr: every row 1). Training (dy not
// nullptr): returns the row-weighted squared error and writes d(alpha * loss)/dy[k], the loss
// being MseLoss's over the fold's count x outputs outputs. Validation (dy nullptr): the
// row-weighted squared error that Loss::total sums.
LSMSS_HD inline double loss_element(int k, int outputs, int count, const float* y, const float* t,
                                    const float* row_weights, float alpha, float* dy) {
  const double w = row_weights ? double(row_weights[k / outputs]) : 1.0;
  if (dy == nullptr) return weighted_squared_error(y[k], t[k], w);
  return weighted_mse_element(y[k], t[k], alpha, w, double(count) * outputs, &dy[k]);
}

}  // namespace lsmss::nn::step_math
