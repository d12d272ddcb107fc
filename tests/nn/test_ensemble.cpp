// Ensemble inference: the members one by one (a ModelWorkspace each) or all at once through a
// fold group. On the CPU the group is one backend per member, so its predictions must equal the
// per-member ones bit for bit; the cuda group is checked against them in test_cuda.cpp.
#include <gtest/gtest.h>

#include "core/error.hpp"
#include "nn/core/backend.hpp"
#include "nn/core/trainer.hpp"
#include "nn/first_layer.hpp"
#include "synthetic.hpp"
#include "test_support.hpp"

using namespace lsmss;
using namespace lsmss::nn;

namespace {

TrainingOptions small_options(ModelKind kind, std::vector<int> shared) {
  TrainingOptions o;
  o.kind = kind;
  o.tasks = {Task::energy, Task::charge, Task::moment};
  o.shared = std::move(shared);
  o.task_width = 24;
  o.learning_rate = 3e-3;
  o.epochs = 3;
  o.batch_fraction = 0.2;
  o.progress = false;
  o.backend = "onednn";
  o.threads = test::kOneThread;
  return o;
}

// The fold models 0..folds-1 of one kind, written to one file (each with its own statistics).
std::filesystem::path ensemble_file(const test::TempDir& dir, const dataset::Dataset& d,
                                    const TrainingOptions& o, int folds, const std::string& name) {
  std::vector<Model> models;
  models.reserve(folds);
  for (int f = 0; f < folds; ++f) models.push_back(train_model(d, o, f));
  std::vector<const Model*> pointers;
  pointers.reserve(models.size());
  for (const auto& m : models) pointers.push_back(&m);
  auto path = dir / name;
  save_models(path, pointers);
  return path;
}

std::vector<Configuration> rows_of(const dataset::Dataset& d, std::size_t count) {
  std::vector<Configuration> configs;
  for (std::size_t k = 0; k < count; ++k) {
    const std::size_t r = k % d.rows();
    configs.push_back(Configuration(
        {d.occupation.begin() + r * d.num_sites, d.occupation.begin() + (r + 1) * d.num_sites}));
  }
  return configs;
}

void expect_identical(const std::vector<Predictions>& a, const std::vector<Predictions>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t k = 0; k < a.size(); ++k) {
    SCOPED_TRACE("member " + std::to_string(k));
    EXPECT_EQ(a[k].energy, b[k].energy);
    EXPECT_EQ(a[k].charge, b[k].charge);
    EXPECT_EQ(a[k].moment, b[k].moment);
  }
}

}  // namespace

// Both CPU backends, the one-hot fast path (mlp: forward from the folded first layer) and the
// dense input (ce+mlp: standardized inputs plus the linear part), a first call that sizes the
// group for a few rows and a second that grows it and spans two chunks.
TEST(NnEnsemble, GroupedCpuInferenceEqualsPerMember) {
  const auto d = test::synthetic_dataset(240, 3, 31);
  test::TempDir dir;
  const std::vector<std::pair<ModelKind, std::string>> kinds = {{ModelKind::mlp, "mlp.h5"},
                                                                {ModelKind::ce_mlp, "ce.h5"}};
  for (const auto& [kind, name] : kinds) {
    const auto path = ensemble_file(dir, d, small_options(kind, {20, 12}), 3, name);
    for (const std::string backend : {"reference", "onednn"}) {
      SCOPED_TRACE(name);
      SCOPED_TRACE(backend);
      const Ensemble ensemble = Ensemble::load({path}, backend);
      EnsembleWorkspace one_by_one = ensemble.make_workspace(EnsembleInference::per_member);
      EnsembleWorkspace grouped = ensemble.make_workspace(EnsembleInference::grouped);
      EXPECT_FALSE(one_by_one.grouped());
      EXPECT_TRUE(grouped.grouped());
      for (std::size_t count : {5u, 300u}) {
        const auto configs = rows_of(d, count);
        const auto expected = one_by_one.predict_members(configs);
        expect_identical(grouped.predict_members(configs), expected);
        // The members differ (their own weights and statistics), so a mix-up would show.
        EXPECT_NE(expected[0].energy, expected[1].energy);
        const auto mean = ensemble.predict(configs, grouped);
        const auto reference = ensemble.predict(configs, one_by_one);
        ASSERT_EQ(mean.size(), count);
        for (std::size_t r = 0; r < count; ++r) {
          EXPECT_EQ(mean[r].energy, reference[r].energy);
          EXPECT_EQ(mean[r].energy_std, reference[r].energy_std);
          EXPECT_EQ(mean[r].charge_std, reference[r].charge_std);
        }
      }
      EXPECT_TRUE(grouped.predict_members({})[0].energy.empty());
    }
  }
}

// `automatic` groups only where it pays (the cuda backend); `grouped` refuses members that do
// not share one network, and members without one.
TEST(NnEnsemble, GroupingIsChosenAndCheckedPerArchitecture) {
  const auto d = test::synthetic_dataset(150, 3, 33);
  test::TempDir dir;
  const auto path = ensemble_file(dir, d, small_options(ModelKind::mlp, {12}), 2, "a.h5");
  const Ensemble cpu = Ensemble::load({path}, "onednn");
  EXPECT_FALSE(cpu.make_workspace().grouped());
  const Ensemble automatic = Ensemble::load({path}, "auto");
  EXPECT_EQ(automatic.make_workspace().grouped(), auto_backend_name() == "cuda");

  const Model wider = train_model(d, small_options(ModelKind::mlp, {16}), 2);
  const Ensemble mixed({cpu.member(0), cpu.member(1), wider});
  EXPECT_FALSE(mixed.make_workspace().grouped());
  test::expect_error_containing([&] { (void)mixed.make_workspace(EnsembleInference::grouped); },
                                "members 1 and 3 have different networks");
  EXPECT_EQ(mixed.predict(rows_of(d, 3)).size(), 3u);

  auto o = small_options(ModelKind::cluster_expansion, {});
  o.epochs = 1;
  const Model linear = train_model(d, o, 0);
  const Ensemble linear_only({linear, linear});
  test::expect_error_containing(
      [&] { (void)linear_only.make_workspace(EnsembleInference::grouped); }, "has no network");

  EnsembleWorkspace small = Ensemble({cpu.member(0)}).make_workspace();
  test::expect_error_containing([&] { (void)cpu.predict(rows_of(d, 2), small); },
                                "workspace of 1 members");
}

// The Monte Carlo fast path's group (nn::make_first_layer_group) on the CPU: every member's
// energies from its first pre-activations equal its own ModelFirstLayer's bit for bit, over more
// walkers than one forward pass holds (two chunks) and then a few; not offered on the CPU
// unless asked for, refused for members without the fast path.
TEST(NnEnsemble, GroupedFirstLayerEnergiesEqualPerMember) {
  const auto d = test::synthetic_dataset(200, 3, 35);
  test::TempDir dir;
  auto o = small_options(ModelKind::mlp, {16, 8});
  const auto path = ensemble_file(dir, d, o, 3, "mlp.h5");
  const Ensemble ensemble = Ensemble::load({path}, "onednn");
  EXPECT_EQ(make_first_layer_group(ensemble), nullptr);
  const auto group = make_first_layer_group(ensemble, EnsembleInference::grouped);
  ASSERT_NE(group, nullptr);
  for (int walkers : {4200, 3}) {
    const auto configs = rows_of(d, static_cast<std::size_t>(walkers));
    std::vector<std::vector<float>> z1;
    std::vector<std::vector<double>> expected, got(ensemble.size());
    for (std::size_t m = 0; m < ensemble.size(); ++m) {
      ModelFirstLayer member(ensemble.member(m));
      const int W = member.width();
      std::vector<float> z(static_cast<std::size_t>(walkers) * W);
      for (int w = 0; w < walkers; ++w) {
        const auto bias = member.bias();
        std::copy(bias.begin(), bias.end(), z.begin() + static_cast<long>(w) * W);
        for (int i = 0; i < configs[w].num_sites(); ++i) {
          const auto row = member.row(i * 2 + configs[w][i]);
          for (int k = 0; k < W; ++k) z[static_cast<std::size_t>(w) * W + k] += row[k];
        }
      }
      expected.emplace_back(walkers);
      member.energy_from_z1(z, walkers, expected.back());
      z1.push_back(std::move(z));
      got[m].assign(walkers, 0.0);
    }
    group->energies_from_z1(z1, walkers, got);
    EXPECT_EQ(got, expected) << walkers << " walkers";
    EXPECT_NE(expected[0], expected[1]);
  }
  const auto ce = ensemble_file(dir, d, small_options(ModelKind::ce_mlp, {16}), 2, "ce.h5");
  test::expect_error_containing(
      [&] { (void)make_first_layer_group(Ensemble::load({ce}), EnsembleInference::grouped); },
      "no first-layer fast path");
}
