#include "nn/core/network.hpp"

#include <algorithm>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "core/error.hpp"

namespace lsmss::nn {

Activation activation_from_name(std::string_view name) {
  if (name == "linear") return Activation::linear;
  if (name == "relu") return Activation::relu;
  if (name == "tanh") return Activation::tanh;
  if (name == "sigmoid") return Activation::sigmoid;
  fail("unknown activation '{}' (expected relu, tanh, sigmoid or linear)", name);
}

std::string activation_name(Activation a) {
  switch (a) {
    case Activation::linear:
      return "linear";
    case Activation::relu:
      return "relu";
    case Activation::tanh:
      return "tanh";
    case Activation::sigmoid:
      return "sigmoid";
  }
  return "?";
}

std::string task_name(Task t) {
  switch (t) {
    case Task::energy:
      return "energy";
    case Task::charge:
      return "charge";
    case Task::moment:
      return "moment";
  }
  return "?";
}

Task task_from_name(std::string_view name) {
  if (name == "energy") return Task::energy;
  if (name == "charge") return Task::charge;
  if (name == "moment") return Task::moment;
  fail("unknown task '{}' (expected energy, charge or moment)", name);
}

std::string task_unit(Task t) {
  switch (t) {
    case Task::energy:
      return "Ry";
    case Task::charge:
      return "e";
    case Task::moment:
      return "muB";
  }
  return "?";
}

PropertyBits task_bit(Task t) {
  switch (t) {
    case Task::energy:
      return kEnergy;
    case Task::charge:
      return kCharge;
    case Task::moment:
      return kMoment;
  }
  return kEnergy;
}

std::vector<int> split_width(int total, int tasks) {
  std::vector<int> w(tasks, tasks > 0 ? total / tasks : 0);
  for (int i = 0; i < (tasks > 0 ? total % tasks : 0); ++i) ++w[i];
  return w;
}

Network::Network(NetworkSpec spec) : spec_(std::move(spec)) {
  if (spec_.inputs < 1) fail("network needs at least one input");
  if (spec_.heads.empty()) fail("network needs at least one task");
  if (spec_.shared_act.size() != spec_.shared.size())
    fail("network: {} shared layers but {} activations", spec_.shared.size(),
         spec_.shared_act.size());
  for (int w : spec_.shared)
    if (w < 1) fail("network: shared layer width {} must be >= 1", w);
  const bool any_hidden =
      std::any_of(spec_.heads.begin(), spec_.heads.end(), [](auto& h) { return h.hidden > 0; });
  for (const auto& h : spec_.heads) {
    if (h.outputs < 1) fail("network: task {} has {} outputs", task_name(h.task), h.outputs);
    if (any_hidden && h.hidden < 1)
      fail(
          "network: task-specific width of task {} is {}; with several tasks every task needs >= 1 "
          "unit",
          task_name(h.task), h.hidden);
  }
  std::size_t off = 0;
  auto add = [&](int in, int out, Activation act, int input, int input_offset) {
    Layer l{in, out, act, input, input_offset, off, off + static_cast<std::size_t>(in) * out};
    off = l.b + out;
    layers_.push_back(l);
    return static_cast<int>(layers_.size()) - 1;
  };
  int prev = -1, prev_width = spec_.inputs;
  for (std::size_t i = 0; i < spec_.shared.size(); ++i) {
    prev = add(prev_width, spec_.shared[i], spec_.shared_act[i], prev, 0);
    prev_width = spec_.shared[i];
  }
  if (any_hidden) {
    int total = 0;
    for (const auto& h : spec_.heads) total += h.hidden;
    task_layer_ = add(prev_width, total, spec_.task_act, prev, 0);
    int col = 0;
    for (const auto& h : spec_.heads) {
      out_layer_.push_back(add(h.hidden, h.outputs, Activation::linear, task_layer_, col));
      col += h.hidden;
    }
  } else {
    for (const auto& h : spec_.heads)
      out_layer_.push_back(add(prev_width, h.outputs, Activation::linear, prev, 0));
  }
  num_params_ = off;
}

std::string Network::describe() const {
  std::string s = fmt::format("{}", spec_.inputs);
  for (std::size_t i = 0; i < spec_.shared.size(); ++i) {
    s += fmt::format("-{}", spec_.shared[i]);
    if (spec_.shared_act[i] != Activation::relu)
      s += fmt::format("({})", activation_name(spec_.shared_act[i]));
  }
  auto block = [&](auto get) {
    std::vector<int> v;
    for (const auto& h : spec_.heads) v.push_back(get(h));
    return fmt::format("-[{}]", fmt::join(v, "|"));
  };
  if (task_layer_ >= 0) s += block([](const HeadSpec& h) { return h.hidden; });
  if (spec_.heads.size() == 1)
    s += fmt::format("-{}", spec_.heads[0].outputs);
  else
    s += block([](const HeadSpec& h) { return h.outputs; });
  return s;
}

}  // namespace lsmss::nn
