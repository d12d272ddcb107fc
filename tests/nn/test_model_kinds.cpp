// Model kinds beyond the paper's MLP: the linear cluster expansion / site model (exact on a
// synthetic pair model, invariant under translations), ce+mlp (a network on the linear
// residual), translation augmentation, model files of every kind, and the deck keys.
#include <gtest/gtest.h>
#include <omp.h>

#include <cmath>
#include <map>

#include "core/error.hpp"
#include "core/hdf5.hpp"
#include "nn/core/linear_model.hpp"
#include "nn/core/trainer.hpp"
#include "synthetic.hpp"
#include "test_support.hpp"

using namespace lsmss;
using namespace lsmss::nn;

namespace {

TrainingOptions kind_options(ModelKind kind, long epochs) {
  TrainingOptions o;
  o.kind = kind;
  o.tasks = {Task::energy, Task::charge, Task::moment};
  o.shared = {32, 32};
  o.task_width = 48;
  o.learning_rate = 3e-3;
  o.epochs = epochs;
  o.progress = false;
  o.backend = "onednn";
  o.threads = test::kOneThread;
  return o;
}

double error_of(const Evaluation& e, Task t) {
  for (const auto& te : e.tasks)
    if (te.task == t) return te.rmse;
  ADD_FAILURE() << "no " << task_name(t) << " error";
  return NAN;
}

}  // namespace

// The synthetic data is a nearest-neighbour pair energy on top of per-species terms, and
// charges and moments linear in the unlike nearest neighbours: the linear kinds must fit them to
// rounding, on rows they never saw.
TEST(NnModelKinds, ClusterExpansionIsExactOnAPairModel) {
  const auto d = test::synthetic_dataset(400, 4, 5, {2, 2, 1});
  const Model m = train_model(d, kind_options(ModelKind::cluster_expansion, 1), 0);
  EXPECT_EQ(m.kind(), "cluster_expansion");
  EXPECT_EQ(m.tasks(), kEnergy | kCharge | kMoment);
  EXPECT_FALSE(m.has_fast_path());
  const Evaluation e = evaluate_model(m, d, d.test_rows());
  EXPECT_LT(error_of(e, Task::energy), 1e-7);  // Ry, on totals of ~-6e5 Ry
  EXPECT_LT(error_of(e, Task::charge), 1e-9);
  EXPECT_LT(error_of(e, Task::moment), 1e-9);
  // With one shell and no ridge, too (the least-squares limit).
  TrainingOptions o = kind_options(ModelKind::cluster_expansion, 1);
  o.linear.shells = 1;
  o.linear.ridge = 0;
  EXPECT_LT(error_of(evaluate_model(train_model(d, o, 1), d, d.test_rows()), Task::energy), 1e-7);
}

// training.outlier_z applies to the linear fits too: one training row's energy shifted by 100 Ry
// spoils the fit unless it is left out (it was ignored by the cluster expansion before).
TEST(NnModelKinds, ClusterExpansionLeavesEnergyOutliersOut) {
  auto d = test::synthetic_dataset(400, 4, 5, {2, 2, 1});
  d.energy[test::row_of_a_spread_composition(d, split_for_fold(d, 0).train)] += 100.0;
  TrainingOptions o = kind_options(ModelKind::cluster_expansion, 1);
  o.tasks = {Task::energy};
  const double kept =
      error_of(evaluate_model(train_model(d, o, 0), d, d.test_rows()), Task::energy);
  o.outlier_z = 6;
  const double left_out =
      error_of(evaluate_model(train_model(d, o, 0), d, d.test_rows()), Task::energy);
  EXPECT_GT(kept, 1e-3);
  EXPECT_LT(left_out, 1e-7);
}

TEST(NnModelKinds, LinearModelIsTranslationInvariant) {
  const auto d = test::synthetic_dataset(200, 4, 6, {2, 2, 1});
  TrainingOptions o = kind_options(ModelKind::cluster_expansion, 1);
  o.linear.order = 2;           // three-body terms and site products too
  o.linear.triplet_shells = 2;  // and triangles by shape
  o.linear.per_composition = true;
  const Model m = train_model(d, o, 0);
  const auto perms = d.system.lattice.translations();
  ASSERT_GT(perms.size(), 1u);
  const int N = d.num_sites;
  for (std::size_t r = 0; r < 5; ++r) {
    const Configuration c = d.configuration(r);
    const Predictions base = m.predict(std::vector<Configuration>{c});
    for (std::size_t t = 1; t < perms.size(); ++t) {
      const Predictions moved = m.predict(std::vector<Configuration>{c.permuted(perms[t])});
      EXPECT_NEAR(moved.energy[0], base.energy[0], 1e-9 * std::abs(base.energy[0]));
      for (int i = 0; i < N; ++i) {
        EXPECT_NEAR(moved.charge[perms[t][i]], base.charge[i], 1e-10);
        EXPECT_NEAR(moved.moment[perms[t][i]], base.moment[i], 1e-10);
      }
    }
  }
}

// ce+mlp: the network trains on the linear residual, so even a few epochs keep the linear
// model's accuracy (a network alone after 20 epochs is far off: checked as a contrast). Real
// data is never exactly linear: noise of 1e-7 on every value gives the residual a spread. (On
// the exact synthetic data the residual is rounding, whose spread may fall below the
// standardization's zero-spread floor, which sets that output's scale to 1: the network's own
// 20-epoch error, ~0.01, then lands on the charges and moments.) Checked: with the network
// trained on the data instead of the residual, every error assertion here fails.
TEST(NnModelKinds, NetworkOnTheLinearResidual) {
  auto d = test::synthetic_dataset(300, 4, 7, {2, 1, 1});
  test::add_noise(d, 1e-7, 17);
  const Model both = train_model(d, kind_options(ModelKind::ce_mlp, 20), 0);
  EXPECT_EQ(both.kind(), "ce+mlp");
  EXPECT_FALSE(both.has_fast_path());
  EXPECT_EQ(both.dataset_hash(), d.fingerprint());
  const Evaluation e = evaluate_model(both, d, d.test_rows());
  const Model alone = train_model(d, kind_options(ModelKind::mlp, 20), 0);
  const Evaluation ea = evaluate_model(alone, d, d.test_rows());
  EXPECT_LT(error_of(e, Task::energy), 1e-5);
  EXPECT_GT(error_of(ea, Task::energy), 100 * error_of(e, Task::energy));
  EXPECT_LT(error_of(e, Task::charge), 1e-5);
  EXPECT_LT(error_of(e, Task::moment), 1e-5);
  EXPECT_GT(error_of(ea, Task::charge), 100 * error_of(e, Task::charge));
}

TEST(NnModelKinds, ModelFilesOfEveryKindRoundTrip) {
  test::TempDir dir;
  const auto d = test::synthetic_dataset(200, 4, 8, {2, 1, 1});
  std::vector<Configuration> configs;
  for (std::size_t r = 0; r < 10; ++r) configs.push_back(d.configuration(r));
  for (ModelKind kind : {ModelKind::mlp, ModelKind::cluster_expansion, ModelKind::ce_mlp}) {
    SCOPED_TRACE(model_kind_name(kind));
    const Model m = train_model(d, kind_options(kind, 5), 0);
    const auto path = dir.path() / (model_kind_name(kind) + ".h5");
    m.save(path);
    {
      auto f = h5::File::open(path);
      // Plain MLP files stay version 1 (older programs read them); other kinds need version 2.
      EXPECT_EQ(h5::read_attr_int(f, "format_version"), kind == ModelKind::mlp ? 1 : 2);
    }
    const Model back = Model::load(path, "reference");
    EXPECT_EQ(back.kind(), model_kind_name(kind));
    EXPECT_EQ(back.describe(), m.describe());
    const Predictions a = m.predict(configs), b = back.predict(configs);
    ASSERT_EQ(a.energy.size(), b.energy.size());
    for (std::size_t k = 0; k < a.energy.size(); ++k)
      EXPECT_NEAR(a.energy[k], b.energy[k], 1e-6 * std::abs(a.energy[k])) << k;
    for (std::size_t k = 0; k < a.charge.size(); ++k) EXPECT_NEAR(a.charge[k], b.charge[k], 1e-5);
    // The ensemble (what the surrogate driver predicts through) gives evaluate's numbers.
    const Ensemble ens = Ensemble::load({path}, "reference");
    const auto rows = d.test_rows();
    std::vector<Configuration> tc;
    tc.reserve(rows.size());
    for (auto r : rows) tc.push_back(d.configuration(r));
    const auto props = ens.predict(tc);
    double s2 = 0;
    for (std::size_t k = 0; k < rows.size(); ++k)
      s2 += std::pow(*props[k].energy - d.energy[rows[k]], 2);
    EXPECT_NEAR(std::sqrt(s2 / rows.size()), error_of(evaluate_model(back, d, rows), Task::energy),
                1e-9);
  }
}

TEST(NnModelKinds, TranslationAugmentationCopiesExactImages) {
  const auto d = test::synthetic_dataset(60, 3, 9, {2, 1, 1});
  const auto a = augment_translations(d, 3, 1);
  const int N = d.num_sites;
  std::size_t train_rows = 0;
  for (std::size_t r = 0; r < d.rows(); ++r) train_rows += d.is_test(r) ? 0 : 1;
  ASSERT_EQ(a.rows(), d.rows() + 3 * train_rows);
  const auto perms = d.system.lattice.translations();
  std::size_t k = d.rows();
  for (std::size_t r = 0; r < d.rows(); ++r) {
    if (d.is_test(r)) continue;
    std::map<std::size_t, int> used;
    for (int c = 0; c < 3; ++c, ++k) {
      EXPECT_EQ(a.energy[k], d.energy[r]);
      EXPECT_EQ(a.fold[k], d.fold[r]);
      // Some non-identity translation maps row r onto copy k, values included.
      int found = -1;
      for (std::size_t t = 1; t < perms.size() && found < 0; ++t) {
        bool same = true;
        for (int i = 0; i < N && same; ++i)
          same = a.occupation[k * N + perms[t][i]] == d.occupation[r * N + i] &&
                 a.charge[k * N + perms[t][i]] == d.charge[r * N + i] &&
                 a.moment[k * N + perms[t][i]] == d.moment[r * N + i];
        if (same) found = static_cast<int>(t);
      }
      EXPECT_GE(found, 1) << "row " << r << " copy " << c;
    }
  }
}

TEST(NnModelKinds, DeckKeys) {
  auto opts = [](const std::string& training) {
    const Deck deck = Deck::from_string("training = " + training, "test.lua");
    return TrainingOptions::from_deck(deck.root().table("training"), "test.lua");
  };
  EXPECT_EQ(opts("{}").kind, ModelKind::mlp);
  const auto o = opts(
      "{ kind = 'ce+mlp', cluster_expansion = { shells = 6, order = 2, ridge = 1e-6 }, "
      "augment = { translations = 4 } }");
  EXPECT_EQ(o.kind, ModelKind::ce_mlp);
  EXPECT_EQ(o.linear.shells, 6);
  EXPECT_EQ(o.linear.order, 2);
  EXPECT_DOUBLE_EQ(o.linear.ridge, 1e-6);
  EXPECT_EQ(o.augment_translations, 4);
  EXPECT_FALSE(o.linear.per_composition);
  EXPECT_EQ(o.linear.triplet_shells, 0);
  EXPECT_LT(opts("{ cluster_expansion = { ridge = 'auto' } }").linear.ridge, 0);
  test::expect_error_containing([&] { opts("{ kind = 'svm' }"); }, "kind");
  test::expect_error_containing([&] { opts("{ cluster_expansion = { order = 3 } }"); }, "order");
  test::expect_error_containing(
      [&] { opts("{ kind = 'cluster_expansion', augment = { translations = 2 } }"); },
      "translation-invariant");
}

// evaluate's standardized RMSE divides by the spread within compositions (issue 15: the spread
// of total energies, ~1e5 Ry on real data, made it meaningless). Two compositions by hand:
// energies {1, 3} and {10, 14} deviate by +-1 and +-2 from their means (RMS sqrt(2.5)). Charges
// group by composition and the site's species: in composition 1 species 0 (site 0) has 0 and 0,
// species 1 has four 0s and two 2s (mean 2/3, squared deviations 16/3), composition 2 is
// constant: sqrt(16/3 / 16 values).
TEST(NnModelKinds, StandardizedRmseUsesTheSpreadWithinCompositions) {
  dataset::Dataset d = test::synthetic_dataset(4, 1, 1, {1, 1, 1});
  ASSERT_EQ(d.num_sites, 4);
  d.occupation = {0, 1, 1, 1, 0, 0, 1, 1, 0, 1, 1, 1, 0, 0, 1, 1};
  d.composition = {1, 2, 1, 2};
  d.energy = {1e6 + 1, 1e6 + 10, 1e6 + 3, 1e6 + 14};  // totals far from zero: no cancellation
  d.charge = {0, 0, 0, 2, 1, 1, 1, 1, 0, 0, 0, 2, 1, 1, 1, 1};
  const std::vector<std::size_t> all = {0, 1, 2, 3};
  EXPECT_NEAR(composition_spread(d, all, Task::energy), std::sqrt(2.5), 1e-9);
  EXPECT_NEAR(composition_spread(d, all, Task::charge), std::sqrt(1.0 / 3.0), 1e-12);
  EXPECT_NEAR(composition_spread(d, {0, 2}, Task::energy), 1.0, 1e-9);
  EXPECT_EQ(composition_spread(d, {1, 3}, Task::charge), 0.0);
  EXPECT_EQ(composition_spread(d, {}, Task::energy), 0.0);
}

// Every model kind gets a finite standardized RMSE on the same scale (the cluster expansion's
// was NaN: it has no network training spread), and so does the ensemble. The noise makes the
// spread positive: the ~20 test rows of the exact pair model can share one energy per
// composition (spread 0 on some draws).
TEST(NnModelKinds, StandardizedRmseIsTheSameScaleForEveryKind) {
  auto d = test::synthetic_dataset(200, 4, 8, {2, 1, 1});
  test::add_noise(d, 1e-7, 8);
  const auto rows = d.test_rows();
  for (ModelKind kind : {ModelKind::mlp, ModelKind::cluster_expansion}) {
    SCOPED_TRACE(model_kind_name(kind));
    const std::vector<Model> models = {train_model(d, kind_options(kind, 3), 0),
                                       train_model(d, kind_options(kind, 3), 1)};
    for (const Evaluation& ev :
         {evaluate_model(models[0], d, rows), evaluate_ensemble(models, d, rows)})
      for (const TaskError& e : ev.tasks) {
        SCOPED_TRACE(task_name(e.task));
        const double spread = composition_spread(d, rows, e.task);
        ASSERT_GT(spread, 0);
        EXPECT_TRUE(std::isfinite(e.rmse_standardized));
        EXPECT_DOUBLE_EQ(e.rmse_standardized, e.rmse / spread);
      }
  }
}
