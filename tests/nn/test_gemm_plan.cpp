// The cuda backend's host-testable parts: its GEMM plan (nn/cuda/gemm_plan.hpp: buffers,
// transpositions, leading dimensions, fold strides, overwrite/accumulate) executed on the CPU by a
// plain column-major strided-batched GEMM with cuBLAS's semantics, for several folds at once,
// against the reference backend fold by fold. The kernels between the products are emulated with
// the shared element-wise functions, as the device runs them; the device loss's per-element
// arithmetic (row weights included) against the host loss policy.
#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>

#include "core/rng.hpp"
#include "nn/core/backend.hpp"
#include "nn/core/elementwise.hpp"
#include "nn/core/fold_group.hpp"
#include "nn/cuda/engine_buffers.hpp"
#include "nn/cuda/gemm_plan.hpp"
#include "nn/cuda/step_math.hpp"

using namespace lsmss::nn;
namespace gp = lsmss::nn::gemm_plan;
namespace eb = lsmss::nn::engine_buffers;

namespace {

// Fold-stacked buffers like the device's, of the sizes the engine allocates for `use`
// (nn/cuda/engine_buffers.hpp), filled with garbage: every product must overwrite or accumulate
// exactly.
struct Buffers {
  Buffers(const Network& net, int folds, int max_batch, FoldGroupUse use) {
    const eb::Sizes n = eb::sizes(net, folds, max_batch, use);
    params.assign(n.params, 0.0f);
    grads.assign(n.grads, 0.0f);
    input.assign(n.input, 0.0f);
    for (std::size_t size : n.activation) act.emplace_back(size, 7.0f);
    for (std::size_t size : n.gradient) diff.emplace_back(size, -3.0f);
  }
  std::vector<float> params, grads, input;
  std::vector<std::vector<float>> act, diff;
  std::vector<float>& of(const gp::Operand& o) {
    return o.buffer == gp::Buffer::params       ? params
           : o.buffer == gp::Buffer::grads      ? grads
           : o.buffer == gp::Buffer::input      ? input
           : o.buffer == gp::Buffer::activation ? act[o.layer]
                                                : diff[o.layer];
  }
  float* resolve(const gp::Operand& o) { return of(o).data() + o.offset; }
};

// Whether the column-major `rows` x `cols` matrix of operand o, for every fold, lies inside
// the buffer it points into.
::testing::AssertionResult inside(Buffers& b, const gp::Operand& o, int rows, int cols, int folds,
                                  const char* which) {
  const long long last = o.offset + (folds - 1) * o.stride + (cols - 1LL) * o.ld + rows - 1;
  const auto size = static_cast<long long>(b.of(o).size());
  if (o.ld >= rows && o.offset >= 0 && last < size) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << which << " (buffer " << static_cast<int>(o.buffer) << ", layer " << o.layer << ", "
         << rows << " x " << cols << ", ld " << o.ld << ") reaches element " << last
         << " of a buffer of " << size;
}

// cublasSgemmStridedBatched: C_f = op(A_f) op(B_f) + beta C_f, column-major; every operand must
// lie inside its buffer (the engine's sizes).
void gemm(const gp::GemmCall& g, Buffers& b, int folds) {
  const bool at = g.a_op == gp::Op::transpose, bt = g.b_op == gp::Op::transpose;
  ASSERT_TRUE(inside(b, g.a, at ? g.k : g.m, at ? g.m : g.k, folds, "A"));
  ASSERT_TRUE(inside(b, g.b, bt ? g.n : g.k, bt ? g.k : g.n, folds, "B"));
  ASSERT_TRUE(inside(b, g.c, g.m, g.n, folds, "C"));
  for (int f = 0; f < folds; ++f) {
    const float* A = b.resolve(g.a) + f * g.a.stride;
    const float* B = b.resolve(g.b) + f * g.b.stride;
    float* C = b.resolve(g.c) + f * g.c.stride;
    for (int i = 0; i < g.m; ++i)
      for (int j = 0; j < g.n; ++j) {
        double s = 0;
        for (int p = 0; p < g.k; ++p) {
          const float a = g.a_op == gp::Op::none ? A[i + p * g.a.ld] : A[p + i * g.a.ld];
          const float v = g.b_op == gp::Op::none ? B[p + j * g.b.ld] : B[j + p * g.b.ld];
          s += double(a) * v;
        }
        float& c = C[i + j * g.c.ld];
        c = static_cast<float>(s + (g.beta != 0.0f ? g.beta * c : 0.0f));
      }
  }
}

// The engine's forward pass: per layer the product, then bias + activation (the
// bias_activation kernel).
void forward(const Network& net, Buffers& b, int folds, int rows, int max_batch) {
  const auto& L = net.layers();
  const long long P = static_cast<long long>(net.num_params());
  for (std::size_t l = 0; l < L.size(); ++l) {
    gemm(gp::forward(net, static_cast<int>(l), rows, max_batch, P), b, folds);
    for (int f = 0; f < folds; ++f)
      for (int r = 0; r < rows; ++r)
        for (int o = 0; o < L[l].out; ++o) {
          float& z = b.act[l][(std::size_t(f) * max_batch + r) * L[l].out + o];
          z = activate(L[l].act, z + b.params[f * P + L[l].b + o]);
        }
  }
}

void check_plan(const NetworkSpec& spec, int folds, int rows, int max_batch) {
  const Network net(spec);
  SCOPED_TRACE(net.describe() + " rows " + std::to_string(rows));
  const auto& L = net.layers();
  const long long P = static_cast<long long>(net.num_params());
  const int F = net.inputs();
  lsmss::Rng rng(5);
  auto u = [](lsmss::Rng& r) { return static_cast<float>(r.uniform(-0.7, 0.7)); };
  Buffers b(net, folds, max_batch, FoldGroupUse::training);
  for (auto& p : b.params) p = u(rng);
  for (auto& x : b.input) x = u(rng);
  forward(net, b, folds, rows, max_batch);
  // Output gradients: a fixed pattern per fold, head and element.
  auto dy = [](int f, int h, std::size_t k) { return 0.01f * float((f + 1) * (h + 2)) * (k % 7); };
  for (int h = 0; h < net.num_heads(); ++h) {
    const int l = net.output_layer(h);
    for (int f = 0; f < folds; ++f)
      for (std::size_t k = 0; k < std::size_t(rows) * L[l].out; ++k)
        b.diff[l][std::size_t(f) * max_batch * L[l].out + k] = dy(f, h, k);
  }
  // Backward: activation derivative, weight product, bias sums, input products in plan order.
  const auto input_gradients = gp::input_gradients(net, rows, max_batch, P);
  std::size_t next = 0;
  for (int l = static_cast<int>(L.size()) - 1; l >= 0; --l) {
    const Layer& ly = L[l];
    for (int f = 0; f < folds; ++f)
      for (int r = 0; r < rows; ++r)
        for (int o = 0; o < ly.out; ++o) {
          const std::size_t k = (std::size_t(f) * max_batch + r) * ly.out + o;
          b.diff[l][k] *= activation_derivative_from_output(ly.act, b.act[l][k]);
        }
    gemm(gp::weight_gradient(net, l, rows, max_batch, P), b, folds);
    for (int f = 0; f < folds; ++f)
      for (int o = 0; o < ly.out; ++o) {
        double s = 0;
        for (int r = 0; r < rows; ++r)
          s += b.diff[l][(std::size_t(f) * max_batch + r) * ly.out + o];
        b.grads[f * P + ly.b + o] = static_cast<float>(s);
      }
    if (next < input_gradients.size() && input_gradients[next].first == l)
      gemm(input_gradients[next++].second, b, folds);
  }
  EXPECT_EQ(next, input_gradients.size());
  // Each fold against the oracle.
  for (int f = 0; f < folds; ++f) {
    SCOPED_TRACE("fold " + std::to_string(f));
    auto ref = make_reference_backend();
    ref->setup(net, max_batch);
    std::copy_n(b.params.begin() + f * P, P, ref->params().begin());
    const float* x = b.input.data() + std::size_t(f) * max_batch * F;
    ref->forward(x, rows);
    for (int h = 0; h < net.num_heads(); ++h) {
      const int l = net.output_layer(h);
      for (std::size_t k = 0; k < std::size_t(rows) * L[l].out; ++k) {
        ASSERT_NEAR(ref->output(h)[k], b.act[l][std::size_t(f) * max_batch * L[l].out + k], 1e-5)
            << "output of head " << h << " at " << k;
        ref->output_gradient(h)[k] = dy(f, h, k);
      }
    }
    ref->backward(x, rows);
    for (long long k = 0; k < P; ++k)
      ASSERT_NEAR(ref->grads()[k], b.grads[f * P + k], 1e-4 * (1 + std::abs(ref->grads()[k])))
          << "gradient " << k;
  }
}

// Networks whose products differ in kind.
std::vector<NetworkSpec> plan_networks() {
  using A = Activation;
  NetworkSpec mtl;  // task-layer blocks read and written through the leading dimension
  mtl.inputs = 12;
  mtl.shared = {9, 8};
  mtl.shared_act = {A::relu, A::tanh};
  mtl.task_act = A::sigmoid;
  mtl.heads = {{Task::energy, 1, 3}, {Task::charge, 5, 4}, {Task::moment, 5, 2}};
  NetworkSpec trunk;  // several heads reading the whole of one layer: accumulation
  trunk.inputs = 6;
  trunk.shared = {7};
  trunk.shared_act = {A::tanh};
  trunk.heads = {{Task::energy, 1, 0}, {Task::charge, 3, 0}, {Task::moment, 2, 0}};
  NetworkSpec linear;  // no hidden layer, no input gradient at all
  linear.inputs = 4;
  linear.heads = {{Task::energy, 1, 0}};
  return {mtl, trunk, linear};
}

}  // namespace

TEST(NnGemmPlan, StridedBatchedProductsMatchReferencePerFold) {
  for (const auto& spec : plan_networks()) {
    check_plan(spec, 3, 6, 6);  // full batches
    check_plan(spec, 2, 4, 7);  // fewer rows than the buffers hold (padded strides)
  }
}

// An inference group (ensemble inference) holds the parameters, the input and the activations
// only: the forward products run inside exactly those (the training buffers have size 0 here,
// so a product touching one fails), give the reference backend's outputs, and the device
// memory is that of those buffers alone, less than a training group's.
TEST(NnEngineBuffers, InferenceHoldsOnlyTheForwardPass) {
  const int folds = 3, max_batch = 7;
  const std::size_t slots = std::size_t(folds) * max_batch;  // fold-stacked rows
  for (const auto& spec : plan_networks()) {
    const Network net(spec);
    SCOPED_TRACE(net.describe());
    const eb::Sizes n = eb::sizes(net, folds, max_batch, FoldGroupUse::inference);
    const eb::Sizes t = eb::sizes(net, folds, max_batch, FoldGroupUse::training);
    EXPECT_EQ(n.params, t.params);
    EXPECT_EQ(n.input, t.input);
    EXPECT_EQ(n.activation, t.activation);
    EXPECT_EQ(
        n.grads + n.first_moment + n.second_moment + n.row_weights + n.steps + n.alpha + n.sums,
        0u);
    for (std::size_t size : n.gradient) EXPECT_EQ(size, 0u);
    for (std::size_t size : n.target) EXPECT_EQ(size, 0u);
    std::size_t forward_floats = folds * net.num_params() + slots * net.inputs();
    for (const auto& ly : net.layers()) forward_floats += slots * ly.out;
    EXPECT_EQ(n.bytes(), forward_floats * sizeof(float));
    EXPECT_LT(n.bytes(), t.bytes());

    for (int rows : {1, max_batch - 2, max_batch}) {
      SCOPED_TRACE("rows " + std::to_string(rows));
      Buffers b(net, folds, max_batch, FoldGroupUse::inference);
      lsmss::Rng rng(9);
      for (auto& p : b.params) p = static_cast<float>(rng.uniform(-0.7, 0.7));
      for (auto& x : b.input) x = static_cast<float>(rng.uniform(-1.0, 1.0));
      forward(net, b, folds, rows, max_batch);
      const std::size_t P = net.num_params();
      for (int f = 0; f < folds; ++f) {
        auto ref = make_reference_backend();
        ref->setup(net, max_batch);
        std::copy_n(b.params.begin() + f * P, P, ref->params().begin());
        ref->forward(b.input.data() + std::size_t(f) * max_batch * net.inputs(), rows);
        for (int h = 0; h < net.num_heads(); ++h) {
          const int l = net.output_layer(h), O = net.layers()[l].out;
          for (int k = 0; k < rows * O; ++k)
            ASSERT_NEAR(ref->output(h)[k], b.act[l][std::size_t(f) * max_batch * O + k], 1e-5)
                << "fold " << f << " head " << h << " element " << k;
        }
      }
    }
  }
}

// The device gather (nn/cuda/step_math.hpp) over an epoch planned by plan_epoch: every fold gets
// the rows order[first, first + count) of its own set, as the CPU trainer's batches, zeros past
// its count, and each of its rows exactly once per epoch.
TEST(NnStepMath, GatherGivesEachFoldItsBatchesAndZeroPadding) {
  namespace sm = lsmss::nn::step_math;
  const std::vector<long> rows = {10, 7, 9};
  const std::vector<int> batch = {3, 7, 4};
  const int folds = 3, width = 2, B = 7;
  std::vector<long long> offsets = {0, 10, 17};
  std::vector<float> src;
  std::vector<int> order;
  lsmss::Rng rng(3);
  for (int f = 0; f < folds; ++f) {
    for (long r = 0; r < rows[f]; ++r)
      for (int c = 0; c < width; ++c) src.push_back(float(1000L * (f + 1) + 10 * r + c));
    std::vector<int> o(rows[f]);
    std::iota(o.begin(), o.end(), 0);
    lsmss::shuffle(o, rng);
    order.insert(order.end(), o.begin(), o.end());
  }
  bool active[] = {true, true, true};
  std::vector<long> adam_steps(folds, 0);
  const EpochPlan plan = plan_epoch(rows, batch, active, adam_steps);
  std::vector<std::vector<int>> seen(folds);
  for (int s = 0; s < plan.steps; ++s) {
    std::vector<sm::DeviceStep> steps(folds);
    for (int f = 0; f < folds; ++f) {
      steps[f].first = plan.step(s)[f].first;
      steps[f].count = plan.step(s)[f].count;
    }
    for (std::size_t i = 0; i < std::size_t(folds) * B * width; ++i) {
      const int c = static_cast<int>(i % width), r = static_cast<int>((i / width) % B),
                f = static_cast<int>(i / (std::size_t(width) * B));
      const float v =
          sm::gathered_value(i, B, width, src.data(), offsets.data(), order.data(), steps.data());
      if (r >= steps[f].count) {
        EXPECT_EQ(v, 0.0f) << "padding of fold " << f;
        continue;
      }
      const int row = order[offsets[f] + steps[f].first + r];
      EXPECT_EQ(v, float(1000 * (f + 1) + 10 * row + c)) << "fold " << f << " step " << s;
      if (c == 0) seen[f].push_back(row);
    }
    // Validation: consecutive rows without an order.
    const float first_row =
        sm::gathered_value(0, B, width, src.data(), offsets.data(), nullptr, steps.data());
    if (steps[0].count > 0) {
      EXPECT_EQ(first_row, float(1000 + 10 * steps[0].first));
    }
  }
  for (int f = 0; f < folds; ++f) {
    std::sort(seen[f].begin(), seen[f].end());
    std::vector<int> all(rows[f]);
    std::iota(all.begin(), all.end(), 0);
    EXPECT_EQ(seen[f], all) << "fold " << f;
  }
}

// The device loss (mse_loss: step_math::loss_element over each fold's block, the row weights
// gathered like the inputs) against the host policy (MseLoss with the batch's RowWeights, as the
// CPU trainer's BatchAssembler hands them over): same gradients bit for bit, same loss sums,
// down-weighted rows and a fold without weights (uploaded as ones) alike; validation likewise.
TEST(NnStepMath, DeviceLossWeighsRowsAsTheHostLoss) {
  namespace sm = lsmss::nn::step_math;
  const int folds = 3, B = 6, O = 4;
  const std::vector<long long> rows = {9, 7, 8}, offsets = {0, 9, 16};
  const bool has_weights[] = {true, false, true};
  lsmss::Rng rng(5);
  const std::size_t slots = std::size_t(folds) * B;  // fold-stacked rows
  std::vector<float> weights, y(slots * O), t(slots * O);
  std::vector<int> order;
  for (int f = 0; f < folds; ++f) {
    for (long long r = 0; r < rows[f]; ++r)
      weights.push_back(has_weights[f] ? (r % 3 == 0 ? 0.3f : 1.0f) : 1.0f);
    std::vector<int> o(rows[f]);
    std::iota(o.begin(), o.end(), 0);
    lsmss::shuffle(o, rng);
    order.insert(order.end(), o.begin(), o.end());
  }
  for (auto& v : y) v = static_cast<float>(rng.uniform(-2, 2));
  for (auto& v : t) v = static_cast<float>(rng.uniform(-2, 2));
  std::vector<sm::DeviceStep> steps(folds);
  const long long step_first[] = {3, 6, 6};
  const int step_count[] = {6, 1, 2};
  for (int f = 0; f < folds; ++f) {
    steps[f].first = step_first[f];
    steps[f].count = step_count[f];
  }
  std::vector<float> gathered(slots);
  for (std::size_t i = 0; i < gathered.size(); ++i)
    gathered[i] =
        sm::gathered_value(i, B, 1, weights.data(), offsets.data(), order.data(), steps.data());
  const float alpha = 0.7f;
  const MseLoss host;
  for (int f = 0; f < folds; ++f) {
    SCOPED_TRACE("fold " + std::to_string(f));
    const int count = steps[f].count;
    const std::size_t base = std::size_t(f) * B * O, used = std::size_t(count) * O;
    const float* fold_weights = &gathered[std::size_t(f) * B];
    // The kernel's block for fold f.
    std::vector<float> dy(std::size_t(B) * O, -1.0f);
    double sum = 0, validation = 0;
    for (int k = 0; k < count * O; ++k) {
      sum += sm::loss_element(k, O, count, &y[base], &t[base], fold_weights, alpha, dy.data());
      validation += sm::loss_element(k, O, count, &y[base], &t[base], fold_weights, alpha, nullptr);
    }
    // The host: the batch's weights in the epoch's order, none for the fold without them.
    std::vector<float> w(count);
    for (int r = 0; r < count; ++r)
      w[r] = weights[offsets[f] + order[offsets[f] + steps[f].first + r]];
    const RowWeights row_weights{has_weights[f] ? w.data() : nullptr, std::size_t(O)};
    std::vector<float> host_dy(used);
    const double loss =
        host.value_and_gradient(&y[base], &t[base], used, alpha, host_dy.data(), row_weights);
    EXPECT_DOUBLE_EQ(sum / double(used) * count, loss * count);
    EXPECT_EQ(std::vector<float>(dy.begin(), dy.begin() + static_cast<long>(used)), host_dy);
    EXPECT_DOUBLE_EQ(validation, host.total(&y[base], &t[base], used, row_weights));
  }
  // The down-weighted rows are in the batches: the weights did change the loss.
  EXPECT_NE(std::count(gathered.begin(), gathered.end(), 0.3f), 0);
}
