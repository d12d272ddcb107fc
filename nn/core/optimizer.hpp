#pragma once
// Training policies shared by every backend: the learning-rate schedule and the optimizer
// (Adam), both over the one flat parameter buffer (nn/core/network.hpp). The per-element update
// is a __host__ __device__ inline function (nn/core/elementwise.hpp) so that a device backend
// runs the very same arithmetic in its own kernel over its own buffer (Backend::apply_optimizer).
#include <cmath>
#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/defaults.hpp"
#include "nn/core/elementwise.hpp"

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

// Adam's settings, step constants and element update (AdamSettings, AdamStep, adam_update)
// are in nn/core/elementwise.hpp, shared with the device.

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
  // The moments. A device backend stepping one model copies them to the device and back around
  // its kernel (the multi-fold cuda trainer keeps its own on the device instead).
  std::span<const float> first_moment() const { return m_; }
  std::span<const float> second_moment() const { return v_; }
  std::span<float> first_moment() { return m_; }
  std::span<float> second_moment() { return v_; }

 private:
  AdamSettings settings_;
  std::vector<float> m_, v_;
};

}  // namespace lsmss::nn
