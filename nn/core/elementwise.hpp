#pragma once
// The element-wise arithmetic of training and inference, written once for the host and the
// device: activations and their derivatives, the MSE element, Adam's element update and the
// standardization transform. Under nvcc (the CUDA backend, nn/cuda/) they are
// __host__ __device__; for the host compiler LSMSS_HD is empty. The host policies
// (nn/core/loss.hpp, optimizer.hpp, standardization.cpp) and the reference backend call these
// very functions, so the CPU tests exercise the arithmetic the device kernels run.
#include <math.h>  // ::sqrt, ::pow, ::tanh, ::exp: the overloads both compilers provide

#include "core/defaults.hpp"
#include "nn/core/network.hpp"

#if defined(__CUDACC__)
#define LSMSS_HD __host__ __device__
#else
#define LSMSS_HD
#endif

namespace lsmss::nn {

// ---------------------------------------------------------------- activations

template <class T>
LSMSS_HD inline T activate(Activation a, T z) {
  switch (a) {
    case Activation::linear:
      return z;
    case Activation::relu:
      return z > T(0) ? z : T(0);
    case Activation::tanh:
      return ::tanh(z);
    case Activation::sigmoid:
      return T(1) / (T(1) + ::exp(-z));
  }
  return z;
}

// Derivative expressed through the activation's output y (what the backward pass keeps).
template <class T>
LSMSS_HD inline T activation_derivative_from_output(Activation a, T y) {
  switch (a) {
    case Activation::linear:
      return T(1);
    case Activation::relu:
      return y > T(0) ? T(1) : T(0);
    case Activation::tanh:
      return T(1) - y * y;
    case Activation::sigmoid:
      return y * (T(1) - y);
  }
  return T(1);
}

// ---------------------------------------------------------------- MSE

// One output of a head's mean squared error over `count` outputs with loss weight `weight`:
// returns the squared error (to be summed in double) and writes d(weight * mse)/dy.
LSMSS_HD inline double mse_element(float y, float t, double weight, double count, float* dy) {
  const double e = double(y) - t;
  *dy = static_cast<float>(2.0 * weight * e / count);
  return e * e;
}

// The squared error summed by Loss::total (validation sets): the same difference in double as
// mse_element.
LSMSS_HD inline double squared_error(float y, float t) {
  const double e = double(y) - t;
  return e * e;
}

// The same for an output of a row with loss weight `row_weight` (training.outlier_weight): the
// weight scales the squared error and the gradient, d(weight * row_weight * mse)/dy. Weight 1
// gives mse_element's values bit for bit (x * 1.0 is exact). MseLoss and the cuda loss kernel
// both call these.
LSMSS_HD inline double weighted_mse_element(float y, float t, double weight, double row_weight,
                                            double count, float* dy) {
  return row_weight * mse_element(y, t, weight * row_weight, count, dy);
}
LSMSS_HD inline double weighted_squared_error(float y, float t, double row_weight) {
  return row_weight * squared_error(y, t);
}

// ---------------------------------------------------------------- Adam

struct AdamSettings {
  float lr = static_cast<float>(defaults::kLearningRate);
  float beta1 = 0.9f;
  float beta2 = 0.999f;
  float eps = 1e-8f;
};

// The constants of Adam step t (t >= 1, PyTorch's formulation), computed once per step.
struct AdamStep {
  float beta1 = 0.9f, beta2 = 0.999f, eps = 1e-8f;
  double lr_over_bias1 = 0;  // lr / (1 - beta1^t)
  double sqrt_bias2 = 1;     // sqrt(1 - beta2^t)

  LSMSS_HD static AdamStep at(const AdamSettings& s, long t) {
    AdamStep k;
    k.beta1 = s.beta1;
    k.beta2 = s.beta2;
    k.eps = s.eps;
    k.lr_over_bias1 = s.lr / (1 - ::pow(double(s.beta1), double(t)));
    k.sqrt_bias2 = ::sqrt(1 - ::pow(double(s.beta2), double(t)));
    return k;
  }
};

// One parameter's Adam update: moments in float, the step itself in double (the reference
// formulation every backend follows, so that their trajectories agree).
LSMSS_HD inline void adam_update(float& param, float& m, float& v, float grad, const AdamStep& k) {
  m = k.beta1 * m + (1 - k.beta1) * grad;
  v = k.beta2 * v + (1 - k.beta2) * grad * grad;
  const double denom = ::sqrt(double(v)) / k.sqrt_bias2 + k.eps;
  param -= static_cast<float>(k.lr_over_bias1 * m / denom);
}

// ---------------------------------------------------------------- standardization

// Physical (already target-transformed) value -> the network's float, and back, in double.
LSMSS_HD inline float standardize(double value, double mean, double sd) {
  return static_cast<float>((value - mean) / sd);
}
LSMSS_HD inline double destandardize(float network, double mean, double sd) {
  return double(network) * sd + mean;
}

}  // namespace lsmss::nn
