// Every backend against the reference oracle; the oracle against finite differences.
#include <gtest/gtest.h>
#include <omp.h>

#include <cmath>
#include <memory>

#include "core/error.hpp"
#include "core/rng.hpp"
#include "nn/core/backend.hpp"

using namespace lsmss;
using namespace lsmss::nn;

namespace {

struct Case {
  const char* name;
  NetworkSpec spec;
};

NetworkSpec spec(int in, std::vector<int> shared, std::vector<Activation> act, Activation task_act,
                 std::vector<HeadSpec> heads) {
  NetworkSpec s;
  s.inputs = in;
  s.shared = std::move(shared);
  s.shared_act = std::move(act);
  s.task_act = task_act;
  s.heads = std::move(heads);
  return s;
}

std::vector<Case> cases() {
  using A = Activation;
  return {
      {"stl_relu", spec(16, {12, 9}, {A::relu, A::relu}, A::relu, {{Task::energy, 1, 0}})},
      {"mtl_three_heads", spec(16, {10, 8}, {A::relu, A::tanh}, A::relu,
                               {{Task::energy, 1, 3}, {Task::charge, 8, 3}, {Task::moment, 8, 2}})},
      {"width_one",
       spec(3, {1}, {A::sigmoid}, A::tanh, {{Task::energy, 1, 1}, {Task::charge, 1, 1}})},
      {"no_shared_mtl", spec(6, {}, {}, A::sigmoid, {{Task::energy, 1, 4}, {Task::moment, 3, 5}})},
      {"heads_on_trunk",
       spec(8, {7}, {A::tanh}, A::relu, {{Task::energy, 1, 0}, {Task::charge, 4, 0}})},
      {"linear_regression", spec(5, {}, {}, A::relu, {{Task::energy, 1, 0}})},
  };
}

void randomize(std::span<float> p, lsmss::Rng& rng, float scale = 0.5f) {
  for (auto& x : p) x = static_cast<float>(rng.uniform(-scale, scale));
}

void expect_close(std::span<const float> a, std::span<const float> b, double rel,
                  const std::string& what) {
  ASSERT_EQ(a.size(), b.size()) << what;
  double scale = 1e-6;
  for (float x : a) scale = std::max(scale, double(std::abs(x)));
  for (std::size_t k = 0; k < a.size(); ++k)
    ASSERT_NEAR(a[k], b[k], rel * scale) << what << " at " << k;
}

// One backend run side by side with the reference oracle on the same parameters, inputs and
// targets: step() checks the forward outputs, the loss, the gradient, and the parameters and both
// Adam moments after an optimizer step.
class OracleComparison {
 public:
  // alpha(h): the loss weight of head h. Parameters are drawn from `rng`.
  OracleComparison(const Network& net, const std::string& name, int max_batch, lsmss::Rng& rng,
                   float (*alpha)(int))
      : net_(net), ref_(make_reference_backend()), fast_(make_backend(name, 1)) {
    ref_->setup(net, max_batch);
    fast_->setup(net, max_batch);
    randomize(ref_->params(), rng);
    std::copy(ref_->params().begin(), ref_->params().end(), fast_->params().begin());
    fast_->upload_params();  // a device backend copies host-written parameters over
    const int H = net.num_heads();
    x_.resize(std::size_t(max_batch) * net.inputs());
    t_.resize(H);
    tp_.resize(H);
    for (int h = 0; h < H; ++h) {
      t_[h].resize(std::size_t(max_batch) * net.spec().heads[h].outputs);
      tp_[h] = t_[h].data();
      alpha_.push_back(alpha(h));
    }
    adam_ref_.reset(net.num_params());
    adam_fast_.reset(net.num_params());
  }

  // New random inputs and targets, then one training step on both backends, compared.
  void step(int batch, lsmss::Rng& rng) {
    randomize(x_, rng, 1.5f);
    for (auto& th : t_) randomize(th, rng, 1.0f);
    const int H = net_.num_heads();
    ref_->forward(x_.data(), batch);
    fast_->forward(x_.data(), batch);
    for (int h = 0; h < H; ++h) {
      const std::size_t n = std::size_t(batch) * net_.spec().heads[h].outputs;
      expect_close({ref_->output(h), n}, {fast_->output(h), n}, 1e-5, "forward");
    }
    std::vector<double> mr(H), mf(H);
    ref_->gradient(loss_, x_.data(), tp_.data(), batch, alpha_.data(), mr.data());
    fast_->gradient(loss_, x_.data(), tp_.data(), batch, alpha_.data(), mf.data());
    for (int h = 0; h < H; ++h) EXPECT_NEAR(mr[h], mf[h], 1e-5 * std::max(1.0, mr[h]));
    expect_close(ref_->grads(), fast_->grads(), 1e-4, "gradient batch " + std::to_string(batch));
    ++step_;
    ref_->apply_optimizer(adam_ref_, step_);
    fast_->apply_optimizer(adam_fast_, step_);
    fast_->download_params();
    expect_close(ref_->params(), fast_->params(), 1e-5, "params after Adam");
    expect_close(adam_ref_.first_moment(), adam_fast_.first_moment(), 1e-4, "Adam first moment");
    expect_close(adam_ref_.second_moment(), adam_fast_.second_moment(), 1e-4, "Adam second moment");
  }

 private:
  static AdamSettings adam_settings() {
    AdamSettings a;
    a.lr = 1e-2f;
    return a;
  }
  const Network& net_;
  const MseLoss loss_;
  std::unique_ptr<Backend> ref_, fast_;
  std::vector<float> x_;
  std::vector<std::vector<float>> t_;
  std::vector<const float*> tp_;
  std::vector<float> alpha_;
  Adam adam_ref_{adam_settings()}, adam_fast_{adam_settings()};
  long step_ = 0;
};
}  // namespace

// Every compiled backend that can run here, except the oracle itself: a new backend is tested
// as soon as it is registered (nn/core/backend.cpp).
std::vector<std::string> backends_under_test() {
  std::vector<std::string> names;
  for (const auto& n : available_backend_names())
    if (n != "reference") names.push_back(n);
  return names;
}

TEST(NnBackends, EveryBackendMatchesReference) {
  ASSERT_FALSE(backends_under_test().empty()) << "no backend besides the oracle is compiled";
  for (const std::string& name : backends_under_test()) {
    for (const auto& c : cases()) {
      SCOPED_TRACE(std::string(c.name) + " on " + name);
      const Network net(c.spec);
      lsmss::Rng rng(42);
      OracleComparison run(net, name, 7, rng, [](int h) { return 0.5f + h; });
      // Full, partial and single-row batches, with Adam steps in between.
      for (int batch : {7, 5, 1, 7, 3}) run.step(batch, rng);
    }
  }
}

TEST(NnBackends, ForwardFromFirstMatchesDense) {
  for (const std::string& name : available_backend_names()) {
    const Network net(cases()[1].spec);
    auto b = make_backend(name, 1);
    b->setup(net, 4);
    lsmss::Rng rng(7);
    randomize(b->params(), rng);
    b->upload_params();
    std::vector<float> x(4 * net.inputs());
    randomize(x, rng, 1.0f);
    const Layer& l0 = net.layers()[0];
    std::vector<float> z1(4 * l0.out);
    for (int r = 0; r < 4; ++r)
      for (int o = 0; o < l0.out; ++o) {
        double z = b->params()[l0.b + o];
        for (int i = 0; i < l0.in; ++i)
          z += double(b->params()[l0.w + o * l0.in + i]) * x[r * l0.in + i];
        z1[r * l0.out + o] = float(z);
      }
    b->forward(x.data(), 4);
    std::vector<std::vector<float>> dense;
    for (int h = 0; h < net.num_heads(); ++h)
      dense.emplace_back(b->output(h), b->output(h) + 4 * net.spec().heads[h].outputs);
    b->forward_from_first(z1.data(), 4);
    for (int h = 0; h < net.num_heads(); ++h)
      expect_close(dense[h], {b->output(h), dense[h].size()}, 1e-5, name + " forward_from_first");
  }
}

// The oracle's analytic gradient against central differences of its own loss (in double-ish
// precision: small weights keep float rounding well below the tolerance).
TEST(NnBackends, ReferenceGradientMatchesFiniteDifferences) {
  for (auto c : cases()) {
    SCOPED_TRACE(c.name);
    // Smooth activations: a ReLU kink inside the stencil would make the difference quotient
    // meaningless. ReLU's derivative is covered by the comparison with onednn and a training test.
    for (auto& a : c.spec.shared_act)
      if (a == Activation::relu) a = Activation::tanh;
    if (c.spec.task_act == Activation::relu) c.spec.task_act = Activation::sigmoid;
    const Network net(c.spec);
    auto b = make_reference_backend();
    const int batch = 3;
    b->setup(net, batch);
    lsmss::Rng rng(3);
    randomize(b->params(), rng);
    const int H = net.num_heads();
    std::vector<float> x(batch * net.inputs());
    randomize(x, rng, 1.0f);
    std::vector<std::vector<float>> t(H);
    std::vector<const float*> tp(H);
    std::vector<float> alpha;
    for (int h = 0; h < H; ++h) {
      t[h].resize(batch * c.spec.heads[h].outputs);
      randomize(t[h], rng, 1.0f);
      tp[h] = t[h].data();
      alpha.push_back(1.0f + 0.25f * h);
    }
    std::vector<double> mse(H);
    const MseLoss mse_loss;
    auto loss = [&] {
      b->gradient(mse_loss, x.data(), tp.data(), batch, alpha.data(), mse.data());
      double L = 0;
      for (int h = 0; h < H; ++h) L += alpha[h] * mse[h];
      return L;
    };
    loss();
    const std::vector<float> g(b->grads().begin(), b->grads().end());
    auto p = b->params();
    for (std::size_t k = 0; k < p.size(); k += std::max<std::size_t>(1, p.size() / 40)) {
      const float saved = p[k];
      const float eps = 1e-2f;
      p[k] = saved + eps;
      const double lp = loss();
      p[k] = saved - eps;
      const double lm = loss();
      p[k] = saved;
      const double fd = (lp - lm) / (2.0 * eps);
      EXPECT_NEAR(g[k], fd, 2e-4 + 1e-2 * std::abs(fd)) << "parameter " << k;
    }
  }
}

TEST(NnBackends, RegistryNamesAndCudaNotCompiled) {
  EXPECT_EQ(make_backend("reference")->name(), "reference");
  EXPECT_EQ(make_backend("onednn")->name(), "onednn");
  // `auto` is the available compiled backend of highest priority, not a fixed name.
  const auto& compiled = compiled_backends();
  ASSERT_GE(compiled.size(), 2u);
  for (std::size_t k = 1; k < compiled.size(); ++k)
    EXPECT_GE(compiled[k - 1].priority, compiled[k].priority) << compiled[k].name;
  std::string best;
  for (const auto& b : compiled)
    if (best.empty() && b.available()) best = b.name;
  EXPECT_EQ(auto_backend_name(), best);
  EXPECT_EQ(make_backend("auto")->name(), best);
  EXPECT_NE(best, "reference");  // the oracle has the lowest priority
  for (const auto& b : compiled) EXPECT_TRUE(backend_compiled(b.name)) << b.name;
  EXPECT_EQ(backend_names(), (std::vector<std::string>{"auto", "reference", "onednn", "cuda"}));
  if (!backend_compiled("cuda")) {
    // The message says what is missing, that it is not a setup problem, and what to use.
    try {
      make_backend("cuda");
      FAIL() << "cuda backend should not exist in this build";
    } catch (const NotCompiledError& e) {
      const std::string m = e.what();
      EXPECT_NE(m.find("'cuda' is not compiled into this build"), std::string::npos) << m;
      EXPECT_NE(m.find("without the CUDA Toolkit"), std::string::npos) << m;
      EXPECT_NE(m.find("\"onednn\""), std::string::npos) << m;
    }
  }
  EXPECT_THROW(make_backend("tpu"), Error);
  const Network net(cases()[0].spec);
  auto b = make_backend("onednn");
  b->setup(net, 2);
  std::vector<float> x(3 * net.inputs());
  EXPECT_THROW(b->forward(x.data(), 3), Error);  // beyond max batch
}

// Random shapes (widths and batches down to 1, partial batches, every activation, 1-3 heads
// with or without task-specific layers): forward, gradient and Adam steps of every backend
// against the oracle.
TEST(NnBackends, RandomShapesMatchReference) {
  using A = Activation;
  const A acts[] = {A::relu, A::tanh, A::sigmoid, A::linear};
  lsmss::Rng pick(2024);
  auto uniform = [&pick](int lo, int hi) {
    return lo + static_cast<int>(pick.below(static_cast<std::uint64_t>(hi - lo + 1)));
  };
  for (int trial = 0; trial < 12; ++trial) {
    NetworkSpec s;
    s.inputs = uniform(1, 20);
    const int layers = uniform(0, 3);
    for (int l = 0; l < layers; ++l) {
      s.shared.push_back(uniform(1, 17));
      s.shared_act.push_back(acts[uniform(0, 3)]);
    }
    s.task_act = acts[uniform(0, 3)];
    const int heads = uniform(1, 3);
    const bool task_layers = uniform(0, 1) == 1;
    for (int h = 0; h < heads; ++h)
      s.heads.push_back(
          {static_cast<Task>(h), h == 0 ? 1 : uniform(1, 6), task_layers ? uniform(1, 6) : 0});
    const Network net(s);
    SCOPED_TRACE("trial " + std::to_string(trial) + ": " + net.describe());
    const int max_batch = uniform(1, 11);
    for (const std::string& name : backends_under_test()) {
      SCOPED_TRACE(name);
      lsmss::Rng rng(trial);
      OracleComparison run(net, name, max_batch, rng, [](int h) { return 0.25f + 0.5f * h; });
      // A full batch, a single row, a partial batch, a full batch again (plan reuse).
      for (int batch : {max_batch, 1, std::max(1, max_batch - 3), max_batch}) run.step(batch, rng);
    }
  }
}

// Threads: a positive count (training.threads / --threads) is applied and re-applied by the
// oneDNN backend at every call; 0 leaves OMP_NUM_THREADS (the OpenMP default) alone.
TEST(NnBackends, ThreadsFromSettingOrEnvironment) {
  const int before = omp_get_max_threads();
  omp_set_num_threads(1);
  auto keep = make_backend("onednn", 0);
  EXPECT_EQ(omp_get_max_threads(), 1);
  auto two = make_backend("onednn", 2);
  EXPECT_EQ(omp_get_max_threads(), 2);
  const Network net(cases()[0].spec);
  two->setup(net, 2);
  std::vector<float> x(2 * net.inputs(), 0.5f);
  omp_set_num_threads(1);
  two->forward(x.data(), 2);
  EXPECT_EQ(omp_get_max_threads(), 2);
  omp_set_num_threads(before);
}

// The shared policies against their formulas written out: the MSE loss and its gradient, Adam
// (PyTorch's formulation) over several steps, the learning-rate schedules.
TEST(NnPolicies, LossAdamAndSchedulesFollowTheirFormulas) {
  const std::vector<float> y = {0.5f, -1.25f, 2.0f}, t = {0.0f, -1.0f, 3.5f};
  std::vector<float> dy(3);
  const MseLoss loss;
  const double value = loss.value_and_gradient(y.data(), t.data(), 3, 0.5, dy.data());
  EXPECT_DOUBLE_EQ(value, (0.25 + 0.0625 + 2.25) / 3);
  EXPECT_DOUBLE_EQ(loss.total(y.data(), t.data(), 3), 0.25 + 0.0625 + 2.25);
  for (int k = 0; k < 3; ++k) EXPECT_FLOAT_EQ(dy[k], float(2 * 0.5 * (y[k] - t[k]) / 3));

  AdamSettings s;
  s.lr = 0.1f;
  Adam adam(s);
  adam.reset(2);
  std::vector<float> p = {1.0f, -2.0f};
  double m[2] = {0, 0}, v[2] = {0, 0}, q[2] = {1.0, -2.0};
  for (long step = 1; step <= 5; ++step) {
    const std::vector<float> g = {0.3f * float(step), -0.7f};
    adam.step(p, g, step);
    for (int k = 0; k < 2; ++k) {
      m[k] = 0.9 * m[k] + 0.1 * g[k];
      v[k] = 0.999 * v[k] + 0.001 * double(g[k]) * g[k];
      const double mhat = m[k] / (1 - std::pow(0.9, step)),
                   vhat = v[k] / (1 - std::pow(0.999, step));
      q[k] -= 0.1 * mhat / (std::sqrt(vhat) + 1e-8);
      EXPECT_NEAR(p[k], q[k], 1e-6) << "step " << step;
    }
  }
  std::vector<float> wrong(3);
  EXPECT_THROW(adam.step(wrong, wrong, 6), Error);

  LearningRate lr{1e-3, LearningRateSchedule::step, 0.5, 2, 0.0, 6};
  EXPECT_DOUBLE_EQ(lr.at(1), 1e-3);
  EXPECT_DOUBLE_EQ(lr.at(3), 5e-4);
  EXPECT_DOUBLE_EQ(lr.at(6), 2.5e-4);
  lr.schedule = LearningRateSchedule::cosine;
  lr.min = 1e-5;
  EXPECT_DOUBLE_EQ(lr.at(1), 1e-3);
  EXPECT_NEAR(lr.at(6), 1e-5 + 0.5 * (1e-3 - 1e-5) * (1 + std::cos(M_PI * 5 / 6)), 1e-15);
  lr.schedule = LearningRateSchedule::constant;
  EXPECT_DOUBLE_EQ(lr.at(5), 1e-3);
  EXPECT_EQ(schedule_from_name("cosine"), LearningRateSchedule::cosine);
  EXPECT_EQ(schedule_name(LearningRateSchedule::step), "step");
  EXPECT_THROW(schedule_from_name("exponential"), Error);
}
