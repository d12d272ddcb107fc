#pragma once
// Training policies shared by every backend: the learning-rate schedule and the optimizer
// (Adam), both over the one flat parameter buffer (nn/core/network.hpp). The per-element update
// is a plain inline function so that a device backend can run the very same arithmetic in its
// own kernel over its own buffer (Backend::apply_optimizer); the host loop is shared.
#include <cmath>
#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/defaults.hpp"

namespace lsmss::nn {

// ---------------------------------------------------------------- learning-rate schedules

enum class LearningRateSchedule { constant, step, cosine };
LearningRateSchedule schedule_from_name(std::string_view name);  // throws lsmss::Error
std::string schedule_name(LearningRateSchedule schedule);

struct LearningRate {
  double initial = defaults::kLearningRate;
  LearningRateSchedule schedule = LearningRateSchedule::constant;
  double factor = 0.5;  // step: multiply every `every` epochs
  long every = 1000;
  double min = 0.0;  // cosine: final learning rate
  long epochs = 1;   // cosine: length of the schedule

  // Learning rate of epoch `epoch` (1-based).
  double at(long epoch) const;
};

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

  static AdamStep at(const AdamSettings& s, long t) {
    AdamStep k;
    k.beta1 = s.beta1;
    k.beta2 = s.beta2;
    k.eps = s.eps;
    k.lr_over_bias1 = s.lr / (1 - std::pow(double(s.beta1), double(t)));
    k.sqrt_bias2 = std::sqrt(1 - std::pow(double(s.beta2), double(t)));
    return k;
  }
};

// One parameter's Adam update: moments in float, the step itself in double (the reference
// formulation every backend follows, so that their trajectories agree).
inline void adam_update(float& param, float& m, float& v, float grad, const AdamStep& k) {
  m = k.beta1 * m + (1 - k.beta1) * grad;
  v = k.beta2 * v + (1 - k.beta2) * grad * grad;
  const double denom = std::sqrt(double(v)) / k.sqrt_bias2 + k.eps;
  param -= static_cast<float>(k.lr_over_bias1 * m / denom);
}

// ---------------------------------------------------------------- optimizers

class Optimizer {
 public:
  virtual ~Optimizer() = default;
  virtual std::string name() const = 0;
  // Sizes (and zeroes) the optimizer's state for `count` parameters.
  virtual void reset(std::size_t count) = 0;
  virtual void set_learning_rate(double lr) = 0;
  // Step t (t >= 1) of `params` with `grads` (both of the size given to reset()), on the host.
  virtual void step(std::span<float> params, std::span<const float> grads, long t) = 0;
};

class Adam final : public Optimizer {
 public:
  explicit Adam(AdamSettings settings = {}) : settings_(settings) {}
  std::string name() const override { return "adam"; }
  void reset(std::size_t count) override;
  void set_learning_rate(double lr) override { settings_.lr = static_cast<float>(lr); }
  void step(std::span<float> params, std::span<const float> grads, long t) override;

  const AdamSettings& settings() const { return settings_; }
  // The moments (a device backend keeps its own; these are the host ones).
  std::span<const float> first_moment() const { return m_; }
  std::span<const float> second_moment() const { return v_; }

 private:
  AdamSettings settings_;
  std::vector<float> m_, v_;
};

}  // namespace lsmss::nn
