#pragma once
// Network specification: a multilayer perceptron with hard parameter sharing. Shared hidden
// layers, then (MTL) one task-specific hidden layer per task and a linear output per task.
// All task-specific hidden layers read the same input, so they are stored and evaluated as ONE
// dense layer whose outputs are the tasks' blocks side by side; each task's output layer then
// reads its block. Every weight and bias lives in one flat float buffer (one copy, one
// checkpoint, one allreduce); the layout is fixed by this class.
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "core/properties.hpp"

namespace lsmss::nn {

enum class Activation { linear, relu, tanh, sigmoid };
Activation activation_from_name(std::string_view name);  // throws lsmss::Error
std::string activation_name(Activation a);

enum class Task { energy = 0, charge = 1, moment = 2 };
inline constexpr Task kTasks[] = {Task::energy, Task::charge, Task::moment};  // in output order
std::string task_name(Task t);  // "energy", "charge", "moment"
// The physical unit of a task's values and errors: "Ry" (per cell), "e", "muB".
std::string task_unit(Task t);
Task task_from_name(std::string_view name);
PropertyBits task_bit(Task t);

// One dense layer y = act(W x + b), W stored out x in row-major ("oi").
struct Layer {
  int in = 0, out = 0;
  Activation act = Activation::linear;
  int input = -1;  // index of the layer whose output (or output block) feeds this one; -1 = input
  int input_offset = 0;      // first column of that block inside the feeding layer's output
  std::size_t w = 0, b = 0;  // offsets of W and b in the flat buffer
};

struct HeadSpec {
  Task task = Task::energy;
  int outputs = 1;  // 1 for energy, sites for charge and moment
  int hidden = 0;   // task-specific hidden width (0: the output reads the shared layers directly)
  bool operator==(const HeadSpec&) const = default;
};

struct NetworkSpec {
  int inputs = 0;
  std::vector<int> shared;                 // shared hidden widths
  std::vector<Activation> shared_act;      // one per shared layer
  Activation task_act = Activation::relu;  // of the task-specific hidden layers
  std::vector<HeadSpec> heads;
  // Same spec, same network (layers and parameter layout follow from it).
  bool operator==(const NetworkSpec&) const = default;
};

class Network {
 public:
  Network() = default;
  explicit Network(NetworkSpec spec);  // validates (throws lsmss::Error)

  const NetworkSpec& spec() const { return spec_; }
  const std::vector<Layer>& layers() const { return layers_; }
  int num_heads() const { return static_cast<int>(spec_.heads.size()); }
  int inputs() const { return spec_.inputs; }
  // Index of the output layer of head h; -1 if none.
  int output_layer(int head) const { return out_layer_[head]; }
  // Index of the combined task-specific hidden layer, -1 when there is none.
  int task_layer() const { return task_layer_; }
  std::size_t num_params() const { return num_params_; }
  std::string describe() const;  // e.g. "64-200-200-[100|100]-[1|32]"

 private:
  NetworkSpec spec_;
  std::vector<Layer> layers_;
  std::vector<int> out_layer_;
  int task_layer_ = -1;
  std::size_t num_params_ = 0;
};

// Splits `total` task-specific units equally among `tasks` (the remainder to the first ones).
std::vector<int> split_width(int total, int tasks);

}  // namespace lsmss::nn
