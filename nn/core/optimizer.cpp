#include "nn/core/optimizer.hpp"

#include <numbers>

#include "core/error.hpp"

namespace lsmss::nn {

LearningRateSchedule schedule_from_name(std::string_view name) {
  if (name == "constant") return LearningRateSchedule::constant;
  if (name == "step") return LearningRateSchedule::step;
  if (name == "cosine") return LearningRateSchedule::cosine;
  fail("unknown learning-rate schedule '{}' (expected constant, step or cosine)", name);
}

std::string schedule_name(LearningRateSchedule schedule) {
  switch (schedule) {
    case LearningRateSchedule::constant:
      return "constant";
    case LearningRateSchedule::step:
      return "step";
    case LearningRateSchedule::cosine:
      return "cosine";
  }
  return "?";
}

double LearningRate::at(long epoch) const {
  switch (schedule) {
    case LearningRateSchedule::constant:
      break;
    case LearningRateSchedule::step: {
      // The exponent is the number of whole `every`-epoch periods completed, so the integer
      // (truncating) division is intended.
      const long periods = (epoch - 1) / every;
      return initial * std::pow(factor, static_cast<double>(periods));
    }
    case LearningRateSchedule::cosine:
      return min + 0.5 * (initial - min) *
                       (1 + std::cos(std::numbers::pi * double(epoch - 1) / double(epochs)));
  }
  return initial;
}

void Adam::reset(std::size_t count) {
  m_.assign(count, 0.0f);
  v_.assign(count, 0.0f);
}

void Adam::step(std::span<float> params, std::span<const float> grads, long t) {
  if (params.size() != m_.size() || grads.size() != m_.size())
    fail("adam: {} parameters and {} gradients for a state of {}", params.size(), grads.size(),
         m_.size());
  const AdamStep k = AdamStep::at(settings_, t);
  float* p = params.data();
  float* m = m_.data();
  float* v = v_.data();
  const float* g = grads.data();
  const long n = static_cast<long>(params.size());
  // Element-wise: the result does not depend on the thread count; small networks stay serial
  // (a parallel region costs more than their update).
#pragma omp parallel for schedule(static) if (n >= 65536)
  for (long i = 0; i < n; ++i) adam_update(p[i], m[i], v[i], g[i], k);
}

}  // namespace lsmss::nn
