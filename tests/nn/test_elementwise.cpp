// The element-wise functions shared by the host policies and the cuda kernels
// (nn/core/elementwise.hpp), against their formulas written out and finite differences.
#include <gtest/gtest.h>

#include <cmath>

#include "nn/core/elementwise.hpp"

using namespace lsmss::nn;

TEST(NnElementwise, ActivationsAndDerivatives) {
  const Activation all[] = {Activation::linear, Activation::relu, Activation::tanh,
                            Activation::sigmoid};
  for (double z : {-2.5, -0.3, 0.0, 0.7, 3.0}) {
    EXPECT_DOUBLE_EQ(activate(Activation::linear, z), z);
    EXPECT_DOUBLE_EQ(activate(Activation::relu, z), z > 0 ? z : 0);
    EXPECT_DOUBLE_EQ(activate(Activation::tanh, z), std::tanh(z));
    EXPECT_DOUBLE_EQ(activate(Activation::sigmoid, z), 1 / (1 + std::exp(-z)));
    EXPECT_FLOAT_EQ(activate(Activation::sigmoid, float(z)), float(1 / (1 + std::exp(-z))));
    if (z == 0.0) continue;  // ReLU's kink
    for (Activation a : all) {
      const double h = 1e-6;
      const double fd = (activate(a, z + h) - activate(a, z - h)) / (2 * h);
      EXPECT_NEAR(activation_derivative_from_output(a, activate(a, z)), fd, 1e-8)
          << activation_name(a) << " at " << z;
    }
  }
  EXPECT_EQ(activation_derivative_from_output(Activation::relu, 0.0f), 0.0f);
}

TEST(NnElementwise, MseElementAndSquaredError) {
  float dy = 0;
  const double e2 = mse_element(1.5f, -0.5f, 0.25, 8.0, &dy);
  EXPECT_DOUBLE_EQ(e2, 4.0);
  EXPECT_FLOAT_EQ(dy, float(2 * 0.25 * 2.0 / 8.0));
  EXPECT_DOUBLE_EQ(squared_error(1.5f, -0.5f), 4.0);
  // A row weight w scales the squared error and the gradient; w = 1 is the unweighted element.
  EXPECT_DOUBLE_EQ(weighted_mse_element(1.5f, -0.5f, 0.25, 0.3, 8.0, &dy), 0.3 * 4.0);
  EXPECT_FLOAT_EQ(dy, float(2 * 0.25 * 0.3 * 2.0 / 8.0));
  float dy1 = 0;
  EXPECT_EQ(weighted_mse_element(1.5f, -0.5f, 0.25, 1.0, 8.0, &dy1),
            mse_element(1.5f, -0.5f, 0.25, 8.0, &dy));
  EXPECT_EQ(dy1, dy);
  EXPECT_DOUBLE_EQ(weighted_squared_error(1.5f, -0.5f, 0.3), 0.3 * 4.0);
}

TEST(NnElementwise, AdamStepAndUpdate) {
  AdamSettings s;
  s.lr = 0.01f;
  const AdamStep k = AdamStep::at(s, 3);
  // The settings are floats; the constants are computed from them in double.
  EXPECT_NEAR(k.lr_over_bias1, double(0.01f) / (1 - std::pow(double(0.9f), 3)), 1e-15);
  EXPECT_NEAR(k.sqrt_bias2, std::sqrt(1 - std::pow(double(0.999f), 3)), 1e-15);
  float p = 1.0f, m = 0.1f, v = 0.01f;
  const float g = -0.4f;
  const double m_new = 0.9 * 0.1 + 0.1 * -0.4, v_new = 0.999 * 0.01 + 0.001 * 0.16;
  adam_update(p, m, v, g, k);
  EXPECT_NEAR(m, m_new, 1e-7);
  EXPECT_NEAR(v, v_new, 1e-7);
  EXPECT_NEAR(p, 1.0 - k.lr_over_bias1 * m_new / (std::sqrt(v_new) / k.sqrt_bias2 + 1e-8), 1e-6);
}

TEST(NnElementwise, StandardizeRoundTrip) {
  EXPECT_FLOAT_EQ(standardize(5.0, 2.0, 4.0), 0.75f);
  EXPECT_DOUBLE_EQ(destandardize(0.75f, 2.0, 4.0), 5.0);
  for (double x : {-3.25, 0.0, 17.5})
    EXPECT_NEAR(destandardize(standardize(x, 1.5, 0.3), 1.5, 0.3), x, 1e-6 * (1 + std::abs(x)));
}
