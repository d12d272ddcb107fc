// The cuda backend against the reference oracle (same seeds, same data), the multi-fold
// trainer on the GPU against the CPU one (down-weighted rows included), and grouped ensemble
// inference on the GPU against per-member predictions. Skipped, with the reason, where the
// backend is not compiled or no device is visible; the "no device" behaviour itself is checked
// everywhere.
#include <gtest/gtest.h>
#include <omp.h>

#include <cmath>

#include "core/error.hpp"
#include "core/rng.hpp"
#include "nn/core/backend.hpp"
#include "nn/core/multi_fold.hpp"
#include "nn/core/standardization.hpp"
#include "nn/core/trainer.hpp"
#include "nn/first_layer.hpp"
#include "synthetic.hpp"
#include "test_support.hpp"

using namespace lsmss;
using namespace lsmss::nn;

namespace {

bool cuda_usable() {
  const auto names = available_backend_names();
  return std::find(names.begin(), names.end(), "cuda") != names.end();
}

#define SKIP_WITHOUT_GPU()                                                             \
  do {                                                                                 \
    if (!backend_compiled("cuda"))                                                     \
      GTEST_SKIP() << "cuda backend not compiled into this build (no CUDA Toolkit at " \
                      "configure time)";                                               \
    if (!cuda_usable())                                                                \
      GTEST_SKIP() << "no CUDA device visible (" << cuda_backend_status() << ")";      \
  } while (0)

void randomize(std::span<float> p, Rng& rng, float scale) {
  for (auto& x : p) x = static_cast<float>(rng.uniform(-scale, scale));
}

double max_relative_difference(std::span<const float> a, std::span<const float> b) {
  double scale = 1e-6, diff = 0;
  for (float x : a) scale = std::max(scale, double(std::abs(x)));
  for (std::size_t k = 0; k < a.size(); ++k) diff = std::max(diff, double(std::abs(a[k] - b[k])));
  return diff / scale;
}

// The cuda folds against the CPU group's (same seeds, same batches): weights and learning
// curves to float tolerance, every fold trained on the device.
void expect_folds_match(const std::vector<Model>& cpu, const std::vector<Model>& gpu,
                        const std::vector<int>& folds) {
  ASSERT_EQ(gpu.size(), cpu.size());
  for (std::size_t i = 0; i < folds.size(); ++i) {
    SCOPED_TRACE("fold " + std::to_string(folds[i]));
    EXPECT_EQ(gpu[i].trained_backend(), "cuda");
    EXPECT_LT(max_relative_difference(cpu[i].parameters(), gpu[i].parameters()), 1e-3);
    const auto& a = cpu[i].learning_curve();
    const auto& b = gpu[i].learning_curve();
    ASSERT_EQ(a.train.size(), b.train.size());
    for (std::size_t k = 0; k < a.train.size(); ++k) {
      EXPECT_NEAR(a.train[k], b.train[k], 1e-3 * std::max(1.0, a.train[k]));
      EXPECT_NEAR(a.validation[k], b.validation[k], 1e-3 * std::max(1.0, a.validation[k]));
    }
  }
}

// Predictions of float networks on different engines: each task within 1e-4 of its heads'
// standardization scale (a member's or row's mix-up is of order 1 in that scale).
void expect_near_predictions(const Predictions& got, const Predictions& expected,
                             const Standardization& s) {
  auto check = [&](const std::vector<double>& a, const std::vector<double>& b, Task t) {
    double scale = 0;
    for (const auto& h : s.heads)
      if (h.task == t)
        for (double v : h.std) scale = std::max(scale, v);
    ASSERT_EQ(a.size(), b.size()) << task_name(t);
    for (std::size_t k = 0; k < a.size(); ++k)
      ASSERT_NEAR(a[k], b[k], 1e-4 * scale) << task_name(t) << " entry " << k;
  };
  check(got.energy, expected.energy, Task::energy);
  check(got.charge, expected.charge, Task::charge);
  check(got.moment, expected.moment, Task::moment);
}

TrainingOptions gpu_options(std::vector<Task> tasks, long epochs) {
  TrainingOptions o;
  o.tasks = std::move(tasks);
  o.shared = {24, 16};
  o.task_width = o.tasks.size() > 1 ? 8 * static_cast<int>(o.tasks.size()) : 0;
  o.learning_rate = 3e-3;
  o.epochs = epochs;
  o.batch_fraction = 0.1;
  o.curve_interval = 5;
  o.progress = false;
  o.threads = 1;
  return o;
}

}  // namespace

// Where the backend is compiled but no device is visible (these build machines), asking for it
// is a clear error and `auto` passes it over.
TEST(NnCuda, WithoutDeviceCudaIsAClearErrorAndAutoSkipsIt) {
  if (!backend_compiled("cuda")) GTEST_SKIP() << "cuda backend not compiled into this build";
  if (cuda_usable()) GTEST_SKIP() << "a CUDA device is visible: " << cuda_backend_status();
  EXPECT_NE(auto_backend_name(), "cuda");
  try {
    make_backend("cuda");
    FAIL() << "the cuda backend must not start without a device";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("no CUDA device is visible"), std::string::npos)
        << e.what();
  }
  EXPECT_NE(cuda_backend_status().find("no device visible"), std::string::npos)
      << cuda_backend_status();
}

// Forward, output gradients, parameter gradients and Adam of one model on the device against
// the oracle, on MTL shapes (task layer blocks), shared-input heads and partial batches, with
// and without per-row loss weights.
TEST(NnCuda, SingleModelMatchesReference) {
  SKIP_WITHOUT_GPU();
  using A = Activation;
  std::vector<NetworkSpec> specs(3);
  specs[0].inputs = 64;
  specs[0].shared = {40, 30};
  specs[0].shared_act = {A::relu, A::tanh};
  specs[0].task_act = A::sigmoid;
  specs[0].heads = {{Task::energy, 1, 7}, {Task::charge, 32, 5}, {Task::moment, 32, 6}};
  specs[1].inputs = 9;
  specs[1].shared = {7};
  specs[1].shared_act = {A::tanh};
  specs[1].heads = {{Task::energy, 1, 0}, {Task::charge, 4, 0}};
  specs[2].inputs = 5;
  specs[2].heads = {{Task::energy, 1, 0}};
  const MseLoss loss;
  for (const auto& spec : specs) {
    const Network net(spec);
    SCOPED_TRACE(net.describe());
    const int max_batch = 33;
    auto ref = make_reference_backend();
    auto gpu = make_backend("cuda");
    ref->setup(net, max_batch);
    gpu->setup(net, max_batch);
    Rng rng(11);
    randomize(ref->params(), rng, 0.4f);
    std::copy(ref->params().begin(), ref->params().end(), gpu->params().begin());
    gpu->upload_params();
    const int H = net.num_heads();
    std::vector<float> x(std::size_t(max_batch) * net.inputs()), alpha, weights(max_batch);
    std::vector<std::vector<float>> t(H);
    std::vector<const float*> tp(H);
    for (int h = 0; h < H; ++h) {
      t[h].resize(std::size_t(max_batch) * spec.heads[h].outputs);
      tp[h] = t[h].data();
      alpha.push_back(0.5f + h);
    }
    AdamSettings s;
    s.lr = 1e-2f;
    Adam adam_ref(s), adam_gpu(s);
    adam_ref.reset(net.num_params());
    adam_gpu.reset(net.num_params());
    long step = 0;
    for (int batch : {33, 17, 1, 33}) {
      randomize(x, rng, 1.5f);
      for (auto& th : t) randomize(th, rng, 1.0f);
      for (auto& w : weights) w = static_cast<float>(rng.uniform(0.1, 1.0));
      const float* rows = step % 2 == 1 ? weights.data() : nullptr;  // batches 17 and 33
      std::vector<double> lr(H), lg(H);
      ref->gradient(loss, x.data(), tp.data(), batch, alpha.data(), lr.data(), rows);
      gpu->gradient(loss, x.data(), tp.data(), batch, alpha.data(), lg.data(), rows);
      for (int h = 0; h < H; ++h) {
        EXPECT_NEAR(lr[h], lg[h], 1e-5 * std::max(1.0, lr[h]));
        const std::size_t n = std::size_t(batch) * spec.heads[h].outputs;
        EXPECT_LT(max_relative_difference({ref->output(h), n}, {gpu->output(h), n}), 1e-5);
      }
      EXPECT_LT(max_relative_difference(ref->grads(), gpu->grads()), 1e-4) << "batch " << batch;
      ++step;
      ref->apply_optimizer(adam_ref, step);
      gpu->apply_optimizer(adam_gpu, step);
      gpu->download_params();
      EXPECT_LT(max_relative_difference(ref->params(), gpu->params()), 1e-5);
      EXPECT_LT(max_relative_difference(adam_ref.second_moment(), adam_gpu.second_moment()), 1e-4);
    }
  }
}

// All folds at once on the device (strided-batched GEMMs, CUDA graph, device shuffle data,
// device Adam) against the CPU multi-fold trainer with the reference backend: same seeds, same
// batches; after a few epochs the weights and the learning curves agree to float tolerance.
TEST(NnCuda, FoldsTogetherMatchReference) {
  SKIP_WITHOUT_GPU();
  omp_set_num_threads(1);
  const auto d = test::synthetic_dataset(300, 6, 17);
  auto o = gpu_options({Task::energy, Task::charge, Task::moment}, 10);
  const std::vector<int> folds = {0, 1, 2, 3, 4, 5};
  o.backend = "reference";
  const auto cpu = train_folds_together(d, o, folds);
  o.backend = "cuda";
  const auto gpu = train_folds_together(d, o, folds);
  expect_folds_match(cpu, gpu, folds);
}

// Down-weighted outliers (training.outlier_weight between 0 and 1) on the device: the weights
// go up with the rows and weigh the device loss as the host loss (training and validation), so
// the cuda folds match the CPU group with the same weights; and the weights matter (the CPU
// models with weight 1 differ). Fold 0 has an outlier by construction (test::add_energy_outlier).
TEST(NnCuda, DownWeightedOutliersMatchTheCpuGroup) {
  SKIP_WITHOUT_GPU();
  omp_set_num_threads(1);
  auto d = test::synthetic_dataset(240, 4, 3);
  test::add_energy_outlier(d, split_for_fold(d, 0).train);
  auto o = gpu_options({Task::energy, Task::charge}, 8);
  o.outlier_z = 6;
  o.outlier_weight = 0.3;
  const std::vector<int> folds = {0, 1, 2};
  o.backend = "reference";
  const auto cpu = train_folds_together(d, o, folds);
  o.backend = "cuda";
  const auto gpu = train_folds_together(d, o, folds);
  o.backend = "reference";
  o.outlier_weight = 1;
  const auto kept = train_folds_together(d, o, folds);
  expect_folds_match(cpu, gpu, folds);
  EXPECT_GT(max_relative_difference(cpu[0].parameters(), kept[0].parameters()), 1e-4);
}

// Grouped ensemble inference on the device (all members in the same strided-batched products,
// each with its own statistics) against the members predicting one by one on the reference
// backend, for the one-hot fast path (mlp) and dense inputs plus a linear part (ce+mlp), over
// two chunks and then a smaller call; `automatic` groups on the cuda backend.
TEST(NnCuda, GroupedEnsembleInferenceMatchesPerMember) {
  SKIP_WITHOUT_GPU();
  omp_set_num_threads(1);
  const auto d = test::synthetic_dataset(300, 4, 13);
  test::TempDir dir;
  for (ModelKind kind : {ModelKind::mlp, ModelKind::ce_mlp}) {
    SCOPED_TRACE(model_kind_name(kind));
    auto o = gpu_options({Task::energy, Task::charge, Task::moment}, 3);
    o.kind = kind;
    o.backend = "reference";
    std::vector<Model> trained;
    trained.reserve(4);
    for (int f = 0; f < 4; ++f) trained.push_back(train_model(d, o, f));
    std::vector<const Model*> pointers;
    pointers.reserve(trained.size());
    for (const auto& m : trained) pointers.push_back(&m);
    const auto path = dir / (model_kind_name(kind) + ".h5");
    save_models(path, pointers);
    const Ensemble reference = Ensemble::load({path}, "reference");
    const Ensemble gpu = Ensemble::load({path}, "cuda");
    EnsembleWorkspace expected_ws = reference.make_workspace(EnsembleInference::per_member);
    EnsembleWorkspace grouped = gpu.make_workspace();
    ASSERT_TRUE(grouped.grouped());
    for (std::size_t count : {300u, 7u}) {
      std::vector<Configuration> configs;
      for (std::size_t k = 0; k < count; ++k)
        configs.push_back(Configuration({d.occupation.begin() + k * d.num_sites,
                                         d.occupation.begin() + (k + 1) * d.num_sites}));
      const auto expected = expected_ws.predict_members(configs);
      const auto got = grouped.predict_members(configs);
      ASSERT_EQ(got.size(), expected.size());
      for (std::size_t m = 0; m < got.size(); ++m)
        expect_near_predictions(got[m], expected[m], trained[m].standardization());
    }
  }
}

// The Monte Carlo fast path's group on the device (nn::make_first_layer_group: automatic groups
// on cuda) against each member's own fast path on the reference backend, from the same first
// pre-activations, over two chunks of walkers and then a few.
TEST(NnCuda, GroupedFirstLayerEnergiesMatchPerMember) {
  SKIP_WITHOUT_GPU();
  omp_set_num_threads(1);
  const auto d = test::synthetic_dataset(200, 3, 19);
  test::TempDir dir;
  auto o = gpu_options({Task::energy, Task::charge}, 3);
  o.backend = "reference";
  std::vector<Model> trained;
  trained.reserve(3);
  for (int f = 0; f < 3; ++f) trained.push_back(train_model(d, o, f));
  const std::vector<const Model*> pointers = {&trained[0], &trained[1], &trained[2]};
  save_models(dir / "m.h5", pointers);
  const Ensemble gpu = Ensemble::load({dir / "m.h5"}, "cuda");
  const auto group = make_first_layer_group(gpu);
  ASSERT_NE(group, nullptr);
  Rng rng(7);
  for (int walkers : {4500, 5}) {
    std::vector<std::vector<float>> z1;
    std::vector<std::vector<double>> expected, got(3, std::vector<double>(walkers));
    for (const auto& m : trained) {
      ModelFirstLayer member(m);  // the reference backend, one member
      std::vector<float> z(static_cast<std::size_t>(walkers) * member.width());
      for (int w = 0; w < walkers; ++w) {  // a random configuration's z1 per walker
        const auto bias = member.bias();
        std::copy(bias.begin(), bias.end(), z.begin() + static_cast<long>(w) * member.width());
        for (int i = 0; i < d.num_sites; ++i) {
          const auto row = member.row(i * 2 + static_cast<int>(rng.uniform() * 2));
          for (int k = 0; k < member.width(); ++k) z[std::size_t(w) * member.width() + k] += row[k];
        }
      }
      expected.emplace_back(walkers);
      member.energy_from_z1(z, walkers, expected.back());
      z1.push_back(std::move(z));
    }
    group->energies_from_z1(z1, walkers, got);
    for (std::size_t m = 0; m < 3; ++m) {
      const double tolerance = 1e-4 * trained[m].standardization().heads[0].std[0];
      for (int w = 0; w < walkers; ++w)
        ASSERT_NEAR(got[m][w], expected[m][w], tolerance) << "member " << m << " walker " << w;
    }
  }
}

// Early stopping per fold on the device: folds stop when their own validation stalls.
TEST(NnCuda, EarlyStoppingPerFoldOnDevice) {
  SKIP_WITHOUT_GPU();
  const auto d = test::synthetic_dataset(200, 4, 5);
  auto o = gpu_options({Task::energy}, 400);
  o.shared = {6};
  o.learning_rate = 0.05;
  o.patience = 4;
  o.curve_interval = 1;
  o.backend = "cuda";
  const auto models = train_folds_together(d, o, {0, 1, 2, 3});
  for (const auto& m : models) {
    EXPECT_LT(m.epochs_run(), 400);
    for (float p : m.parameters()) ASSERT_TRUE(std::isfinite(p));
  }
}

// TF32 and BF16 products train (finite weights, a loss that falls); how far they move from FP32
// is printed, not asserted: it has not been measured yet (docs/nn.md).
TEST(NnCuda, TensorCorePrecisionsTrain) {
  SKIP_WITHOUT_GPU();
  const auto d = test::synthetic_dataset(300, 4, 3);
  auto o = gpu_options({Task::energy, Task::charge}, 30);
  o.backend = "cuda";
  const auto fp32 = train_folds_together(d, o, {0, 1});
  for (Precision p : {Precision::tf32, Precision::bf16}) {
    o.precision = p;
    const auto low = train_folds_together(d, o, {0, 1});
    for (std::size_t i = 0; i < low.size(); ++i) {
      const auto& c = low[i].learning_curve();
      ASSERT_GE(c.train.size(), 4u);
      EXPECT_LT(c.train[c.train.size() - 2], c.train[0]) << precision_name(p);
      for (float w : low[i].parameters()) ASSERT_TRUE(std::isfinite(w));
      std::printf("[ precision ] %s fold %zu: max relative weight difference to fp32 %.3e\n",
                  precision_name(p).c_str(), i,
                  max_relative_difference(fp32[i].parameters(), low[i].parameters()));
    }
  }
}

namespace {

// Rows of `net` for a fold group, drawn from `rng`; weighted: per-row loss weights in (0, 1].
EncodedRows random_rows(const Network& net, std::size_t rows, bool weighted, Rng& rng) {
  EncodedRows set;
  set.rows = rows;
  set.inputs.resize(rows * net.inputs());
  randomize(set.inputs, rng, 1.0f);
  for (const auto& h : net.spec().heads) {
    set.targets.emplace_back(rows * h.outputs);
    randomize(set.targets.back(), rng, 1.0f);
  }
  if (weighted)
    for (std::size_t r = 0; r < rows; ++r)
      set.weights.push_back(static_cast<float>(rng.uniform(0.2, 1.0)));
  return set;
}

// What train_with_new_rows leaves: every fold's parameters, and its validation loss per head
// after new parameters were uploaded.
struct DrivenGroup {
  std::vector<std::vector<float>> params;
  std::vector<std::vector<double>> validation;
};

// A group trained directly: two epochs on one set of training rows per fold, then two on new
// sets of other sizes (with row weights), set after the step's graph was captured, with other
// loss weights per head; then a validation pass, and another after new parameters were
// uploaded (no step between them).
DrivenGroup train_with_new_rows(FoldGroup& group, const Network& net) {
  const int folds = 2, batch = 8;
  Rng rng(23);
  std::vector<EncodedRows> first, second;
  for (int f = 0; f < folds; ++f) first.push_back(random_rows(net, 20 + 5 * f, false, rng));
  for (int f = 0; f < folds; ++f) second.push_back(random_rows(net, 31 - 6 * f, true, rng));
  group.setup(net, folds, batch, Precision::fp32, FoldGroupUse::training);
  for (int f = 0; f < folds; ++f) randomize(group.params(f), rng, 0.3f);
  group.upload_params();
  std::vector<long> adam_steps(folds, 0);
  std::vector<double> loss;
  auto epochs = [&](const std::vector<EncodedRows>& sets, const std::vector<float>& alpha) {
    for (int f = 0; f < folds; ++f) group.set_training_rows(f, sets[f]);
    std::vector<long> rows;
    std::vector<std::vector<std::size_t>> orders;
    for (const auto& s : sets) {
      rows.push_back(static_cast<long>(s.rows));
      orders.emplace_back(s.rows);
      for (std::size_t r = 0; r < s.rows; ++r) orders.back()[r] = (7 * r + 3) % s.rows;
    }
    const std::vector<int> batches(folds, batch);
    const bool active[] = {true, true};
    for (int epoch = 0; epoch < 2; ++epoch) {
      const EpochPlan plan = plan_epoch(rows, batches, active, adam_steps);
      group.start_epoch(orders, 1e-2);
      for (int s = 0; s < plan.steps; ++s) group.step(plan.step(s), alpha.data());
      group.take_epoch_loss(loss);
    }
  };
  epochs(first, {1.0f, 0.5f});
  epochs(second, {0.25f, 2.0f});
  group.download_params();
  DrivenGroup result;
  for (int f = 0; f < folds; ++f)
    result.params.emplace_back(group.params(f).begin(), group.params(f).end());
  for (int f = 0; f < folds; ++f) group.set_validation_rows(f, first[f]);
  for (int pass = 0; pass < 2; ++pass) {
    if (pass == 1) {  // new parameters: the validation loss must follow them
      for (int f = 0; f < folds; ++f) randomize(group.params(f), rng, 0.3f);
      group.upload_params();
    }
    for (int f = 0; f < folds; ++f) {
      group.set_loss(f, first[f], batch, loss);
      result.validation.push_back(loss);
    }
  }
  return result;
}

}  // namespace

// Training rows set again after the cuda group captured its step graph (the buffers the graph
// read are reallocated, row weights appear) and other loss weights per head: the group captures
// the step again and uploads the weights, and its folds match the CPU group driven the same
// way; so do validation losses, also right after new parameters were uploaded.
TEST(NnCuda, TrainingRowsSetAgainAfterTheGraphMatchTheCpuGroup) {
  SKIP_WITHOUT_GPU();
  NetworkSpec spec;
  spec.inputs = 6;
  spec.shared = {10};
  spec.shared_act = {Activation::tanh};
  spec.heads = {{Task::energy, 1, 0}, {Task::charge, 3, 0}};
  const Network net(spec);
  auto cpu = make_backend_fold_group("reference", 1);
  auto gpu = make_fold_group("cuda", 1);
  const auto expected = train_with_new_rows(*cpu, net);
  const auto got = train_with_new_rows(*gpu, net);
  for (std::size_t f = 0; f < expected.params.size(); ++f)
    EXPECT_LT(max_relative_difference(expected.params[f], got.params[f]), 1e-3) << "fold " << f;
  ASSERT_EQ(got.validation.size(), expected.validation.size());
  for (std::size_t k = 0; k < expected.validation.size(); ++k)
    for (std::size_t h = 0; h < expected.validation[k].size(); ++h)
      EXPECT_NEAR(got.validation[k][h], expected.validation[k][h],
                  1e-4 * std::max(1.0, expected.validation[k][h]))
          << "pass " << k / 2 << " fold " << k % 2 << " head " << h;
}

// A cuda group set up for inference (after a training setup, whose buffers it releases) runs
// forward passes as the CPU group and refuses training calls, naming them.
TEST(NnCuda, InferenceGroupForwardsAndRefusesTraining) {
  SKIP_WITHOUT_GPU();
  NetworkSpec spec;
  spec.inputs = 6;
  spec.shared = {10, 7};
  spec.shared_act = {Activation::tanh, Activation::relu};
  spec.heads = {{Task::energy, 1, 0}, {Task::moment, 4, 0}};
  const Network net(spec);
  const int folds = 3, rows = 5;
  auto cpu = make_backend_fold_group("reference", 1);
  auto gpu = make_fold_group("cuda", 1);
  gpu->setup(net, folds, rows, Precision::fp32, FoldGroupUse::training);
  Rng rng(31);
  std::vector<float> x(std::size_t(folds) * rows * net.inputs());
  randomize(x, rng, 1.0f);
  for (FoldGroup* g : {cpu.get(), gpu.get()})
    g->setup(net, folds, rows, Precision::fp32, FoldGroupUse::inference);
  for (int f = 0; f < folds; ++f) {
    randomize(cpu->params(f), rng, 0.4f);
    std::copy(cpu->params(f).begin(), cpu->params(f).end(), gpu->params(f).begin());
  }
  cpu->upload_params();
  gpu->upload_params();
  for (int n : {rows, 2}) {
    cpu->forward(x.data(), n);
    gpu->forward(x.data(), n);
    for (int f = 0; f < folds; ++f)
      for (int h = 0; h < net.num_heads(); ++h) {
        const std::size_t count = std::size_t(n) * spec.heads[h].outputs;
        EXPECT_LT(max_relative_difference({cpu->output(f, h), count}, {gpu->output(f, h), count}),
                  1e-5)
            << "rows " << n << " fold " << f << " head " << h;
      }
  }
  std::vector<double> loss;
  try {
    gpu->take_epoch_loss(loss);
    FAIL() << "take_epoch_loss on an inference group must fail";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("take_epoch_loss"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("inference only"), std::string::npos) << e.what();
  }
}
