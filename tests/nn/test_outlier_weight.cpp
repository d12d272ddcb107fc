// Outlier down-weighting (training.outlier_weight): the row-weighted loss against its formula,
// weight 1 = keep and weight 0 = drop (identical models), weighted least squares in the linear
// fits, and the deck key.
#include <gtest/gtest.h>

#include <cmath>
#include <numeric>

#include "core/deck.hpp"
#include "core/error.hpp"
#include "nn/core/linear_model.hpp"
#include "nn/core/loss.hpp"
#include "nn/core/trainer.hpp"
#include "synthetic.hpp"
#include "test_support.hpp"

using namespace lsmss;
using namespace lsmss::nn;

namespace {

TrainingOptions mlp_options(long epochs) {
  TrainingOptions o;
  o.tasks = {Task::energy};
  o.shared = {16, 16};
  o.learning_rate = 3e-3;
  o.epochs = epochs;
  o.progress = false;
  o.backend = "onednn";
  o.threads = test::kOneThread;
  return o;
}

std::vector<double> test_energies(const Model& m, const dataset::Dataset& d) {
  std::vector<Configuration> configs;
  for (std::size_t r : d.test_rows()) configs.push_back(d.configuration(r));
  return m.predict(configs).energy;
}

double energy_rmse(const Model& m, const dataset::Dataset& d) {
  return evaluate_model(m, d, d.test_rows()).tasks[0].rmse;
}

// The dataset without row `drop`.
dataset::Dataset without_row(const dataset::Dataset& d, std::size_t drop) {
  dataset::Dataset out = d;
  const std::size_t N = d.num_sites;
  auto erase = [drop](auto& v, std::size_t per) {
    if (v.empty()) return;
    v.erase(v.begin() + static_cast<long>(drop * per),
            v.begin() + static_cast<long>(drop * per + per));
  };
  erase(out.occupation, N);
  erase(out.composition, 1);
  erase(out.fold, 1);
  erase(out.origin, 1);
  erase(out.energy, 1);
  erase(out.charge, N);
  erase(out.moment, N);
  return out;
}

// The synthetic alloy with one energy outlier among fold 0's training rows
// (test::add_energy_outlier: the only row beyond 6 robust scales).
struct OutlierData {
  dataset::Dataset d;
  std::size_t bad = 0;
};
OutlierData with_outlier(int rows, std::uint64_t seed) {
  OutlierData o{test::synthetic_dataset(rows, 4, seed), 0};
  o.bad = test::add_energy_outlier(o.d, split_for_fold(o.d, 0).train);
  return o;
}

Deck deck(const std::string& training) {
  return Deck::from_string("training = " + training, "test.lua");
}

void expect_deck_error(const std::string& training, const std::string& text) {
  Deck dk = deck(training);
  try {
    (void)TrainingOptions::from_deck(dk.root().table("training"), dk.file());
    ADD_FAILURE() << "no error for " << training;
  } catch (const DeckError& e) {
    EXPECT_NE(std::string(e.what()).find(text), std::string::npos) << e.what();
  }
}

}  // namespace

// sum_k w_row(k) (y_k - t_k)^2 / count and its gradient 2 alpha w_row (y - t) / count, written
// out for two rows of two outputs.
TEST(NnOutlierWeight, WeightedLossFollowsItsFormula) {
  const std::vector<float> y = {0.5f, -1.25f, 2.0f, 1.0f}, t = {0.0f, -1.0f, 3.5f, 0.0f};
  const std::vector<float> rows = {1.0f, 0.25f};
  std::vector<float> dy(4);
  const MseLoss loss;
  const double value =
      loss.value_and_gradient(y.data(), t.data(), 4, 0.5, dy.data(), RowWeights{rows.data(), 2});
  EXPECT_DOUBLE_EQ(value, (0.25 + 0.0625 + 0.25 * (2.25 + 1.0)) / 4);
  EXPECT_DOUBLE_EQ(loss.total(y.data(), t.data(), 4, RowWeights{rows.data(), 2}),
                   0.25 + 0.0625 + 0.25 * (2.25 + 1.0));
  for (int k = 0; k < 4; ++k)
    EXPECT_FLOAT_EQ(dy[k], float(2 * 0.5 * rows[k / 2] * (y[k] - t[k]) / 4)) << k;
  // Weights of 1 are the unweighted loss bit for bit.
  const std::vector<float> ones = {1.0f, 1.0f};
  std::vector<float> dy_plain(4), dy_ones(4);
  EXPECT_EQ(loss.value_and_gradient(y.data(), t.data(), 4, 0.5, dy_plain.data()),
            loss.value_and_gradient(y.data(), t.data(), 4, 0.5, dy_ones.data(),
                                    RowWeights{ones.data(), 2}));
  EXPECT_EQ(dy_plain, dy_ones);
}

// The split: outlier rows get the weight, every other row 1; weight 0 leaves them out.
// (Checked: this test and the next fail with outlier_z ignored, and with outlier_weight ignored,
// i.e. outliers always dropped.)
TEST(NnOutlierWeight, SplitWeighsOnlyTheOutliers) {
  const OutlierData o = with_outlier(300, 3);
  TrainingOptions opt = mlp_options(1);
  opt.outlier_z = 6;
  opt.outlier_weight = 0.3;
  const FoldSplit all = split_for_fold(o.d, 0);
  const FoldSplit s = training_split(o.d, opt, 0);
  EXPECT_EQ(s.train, all.train);
  EXPECT_EQ(s.validation, all.validation);
  ASSERT_EQ(s.train_weight.size(), s.train.size());
  ASSERT_EQ(s.validation_weight.size(), s.validation.size());
  for (std::size_t k = 0; k < s.train.size(); ++k)
    EXPECT_EQ(s.train_weight[k], s.train[k] == o.bad ? 0.3f : 1.0f);
  for (float w : s.validation_weight) EXPECT_EQ(w, 1.0f);
  opt.outlier_weight = 0;
  EXPECT_EQ(training_split(o.d, opt, 0).train.size(), all.train.size() - 1);
  EXPECT_TRUE(training_split(o.d, opt, 0).train_weight.empty());
}

// Weight 1 trains the very model of outlier_z = 0 (the weighted code path with weights of 1);
// weight 0 the very model of the data without the outlier row; 0.3 neither.
TEST(NnOutlierWeight, WeightOneKeepsWeightZeroDropsTheRow) {
  const OutlierData o = with_outlier(240, 3);
  TrainingOptions keep = mlp_options(6);
  const std::vector<double> kept = test_energies(train_model(o.d, keep, 0), o.d);
  TrainingOptions one = keep;
  one.outlier_z = 6;
  one.outlier_weight = 1;
  EXPECT_EQ(test_energies(train_model(o.d, one, 0), o.d), kept);

  const dataset::Dataset clean = without_row(o.d, o.bad);
  const std::vector<double> dropped_by_hand = test_energies(train_model(clean, keep, 0), clean);
  TrainingOptions zero = one;
  zero.outlier_weight = 0;
  const std::vector<double> dropped = test_energies(train_model(o.d, zero, 0), o.d);
  EXPECT_EQ(dropped, dropped_by_hand);
  EXPECT_NE(dropped, kept);

  TrainingOptions down = one;
  down.outlier_weight = 0.3;
  const std::vector<double> weighted = test_energies(train_model(o.d, down, 0), o.d);
  EXPECT_NE(weighted, kept);
  EXPECT_NE(weighted, dropped);
}

// Weighted least squares: a row of weight 2 is that row given twice (fixed ridge).
TEST(NnOutlierWeight, LinearFitWeighsRows) {
  const auto d = test::synthetic_dataset(200, 4, 7, {2, 2, 1});
  const FoldSplit s = split_for_fold(d, 0);
  LinearModelOptions lo;
  lo.shells = 2;
  lo.ridge = 1e-8;
  const std::vector<Task> tasks = {Task::energy, Task::charge};
  std::vector<float> weights(s.train.size(), 1.0f);
  std::vector<std::size_t> twice = s.train;
  for (std::size_t k = 0; k < s.train.size(); k += 3) {
    weights[k] = 2.0f;
    twice.push_back(s.train[k]);
  }
  const LinearModel weighted = LinearModel::fit(d, tasks, s.train, {}, lo, weights, {});
  const LinearModel repeated = LinearModel::fit(d, tasks, twice, {}, lo);
  const LinearModel plain = LinearModel::fit(d, tasks, s.train, {}, lo);
  const std::size_t n = d.rows(), N = d.num_sites;
  auto predict = [&](const LinearModel& m) {
    Predictions p;
    p.energy.assign(n, 0.0);
    p.charge.assign(n * N, 0.0);
    m.add_predictions(d.occupation.data(), n, p);
    return p;
  };
  const Predictions a = predict(weighted), b = predict(repeated), c = predict(plain);
  double differs = 0;
  for (std::size_t r = 0; r < n; ++r) {
    EXPECT_NEAR(a.energy[r], b.energy[r], 1e-9 * std::abs(b.energy[r]));
    differs = std::max(differs, std::abs(a.energy[r] - c.energy[r]));
  }
  for (std::size_t k = 0; k < n * N; ++k) EXPECT_NEAR(a.charge[k], b.charge[k], 1e-9);
  // The synthetic data is nearly a pair model: still, the weights move the fit.
  EXPECT_GT(differs, 0.0);
}

// The cluster expansion with a 100 Ry outlier: weight 1 is the fit that keeps it, weight 0 the
// fit without it, 0.1 in between.
TEST(NnOutlierWeight, ClusterExpansionDownWeightsTheOutlier) {
  auto d = test::synthetic_dataset(400, 4, 5, {2, 2, 1});
  d.energy[test::row_of_a_spread_composition(d, split_for_fold(d, 0).train)] += 100.0;
  TrainingOptions o = mlp_options(1);
  o.kind = ModelKind::cluster_expansion;
  const double kept = energy_rmse(train_model(d, o, 0), d);
  o.outlier_z = 6;
  const double dropped = energy_rmse(train_model(d, o, 0), d);
  o.outlier_weight = 1;
  EXPECT_EQ(energy_rmse(train_model(d, o, 0), d), kept);
  o.outlier_weight = 0.1;
  const double down = energy_rmse(train_model(d, o, 0), d);
  EXPECT_LT(down, 0.5 * kept);
  EXPECT_GT(down, dropped);
}

TEST(NnOutlierWeight, DeckKeyIsChecked) {
  Deck dk = deck("{ outlier_z = 6, outlier_weight = 0.25 }");
  const auto o = TrainingOptions::from_deck(dk.root().table("training"), dk.file());
  EXPECT_DOUBLE_EQ(o.outlier_weight, 0.25);
  Deck plain = deck("{ outlier_z = 6 }");
  EXPECT_EQ(TrainingOptions::from_deck(plain.root().table("training"), plain.file()).outlier_weight,
            0.0);  // default: drop
  expect_deck_error("{ outlier_z = 6, outlier_weight = 1.5 }", "outlier_weight");
  expect_deck_error("{ outlier_z = 6, outlier_weight = -0.1 }", "outlier_weight");
  expect_deck_error("{ outlier_weight = 0.5 }", "outlier_weight");  // needs outlier_z
}
