// Standardization, reference energies, model files, the one-hot fast path, folds, decks and
// training on a synthetic alloy.
#include <gtest/gtest.h>
#include <omp.h>

#include <cmath>
#include <numeric>

#include "core/error.hpp"
#include "core/hash.hpp"
#include "core/hdf5.hpp"
#include "fixtures.hpp"
#include "nn/core/backend.hpp"
#include "nn/core/fold_training.hpp"
#include "nn/core/trainer.hpp"
#include "synthetic.hpp"
#include "test_support.hpp"

using namespace lsmss;
using namespace lsmss::nn;

namespace {

TrainingOptions quick_options(std::vector<Task> tasks, long epochs) {
  TrainingOptions o;
  o.tasks = std::move(tasks);
  o.shared = {32, 32};
  o.task_width = o.tasks.size() > 1 ? 16 * static_cast<int>(o.tasks.size()) : 0;
  o.learning_rate = 3e-3;
  o.epochs = epochs;
  o.batch_fraction = 0.1;
  o.progress = false;
  o.backend = "onednn";
  o.threads = test::kOneThread;
  return o;
}

double rms_about_mean(const std::vector<double>& v) {
  double m = 0, s = 0;
  for (double x : v) m += x / v.size();
  for (double x : v) s += (x - m) * (x - m) / v.size();
  return std::sqrt(s);
}

Deck deck(const std::string& training) {
  return Deck::from_string("training = " + training, "test.lua");
}

}  // namespace

TEST(NnStandardization, RoundTripAndExactReferenceEnergies) {
  const auto d = test::synthetic_dataset(300, 4, 11);
  const int N = d.num_sites;
  std::vector<std::size_t> rows(d.rows());
  std::iota(rows.begin(), rows.end(), 0);
  std::vector<HeadSpec> heads = {{Task::energy, 1, 0}, {Task::charge, N, 0}, {Task::moment, N, 0}};
  const auto s =
      Standardization::fit(d.occupation, N, d.system, heads, {&d.energy, &d.charge, &d.moment},
                           rows, EnergyTarget::mixing, ChargeTarget::transfer);
  // Close to the composition-linear part (the pair term's average absorbs a little).
  EXPECT_NEAR(s.reference_energy[0], -3309.5, 0.05);
  EXPECT_NEAR(s.reference_energy[1], -39000.25, 0.05);
  {  // Purely linear energies are recovered up to the fit's ridge (1e-12 of the trace): measured
     // 0.8-1.0e-7 Ry on -39000.25 over 20 data seeds, so 1e-10 relative.
    std::vector<double> linear(d.rows());
    for (std::size_t r = 0; r < d.rows(); ++r)
      linear[r] = -3309.5 * d.composition[r] - 39000.25 * (N - d.composition[r]);
    const auto l = Standardization::fit(d.occupation, N, d.system, {heads[0]}, {&linear}, rows,
                                        EnergyTarget::mixing, ChargeTarget::transfer);
    EXPECT_NEAR(l.reference_energy[0], -3309.5, 1e-10 * 3309.5);
    EXPECT_NEAR(l.reference_energy[1], -39000.25, 1e-10 * 39000.25);
  }
  for (std::size_t r = 0; r < 20; ++r) {
    const std::uint8_t* occ = &d.occupation[r * N];
    float t[64];
    double back[64];
    for (int h = 0; h < 3; ++h) {
      const std::vector<double>& v = h == 0 ? d.energy : h == 1 ? d.charge : d.moment;
      const int O = heads[h].outputs;
      s.encode_target(h, occ, &v[r * O], t);
      s.decode_output(h, occ, t, back);
      for (int o = 0; o < O; ++o) {
        // Round trip limited only by float32 in the standardized domain, not by the -1e5 Ry total.
        EXPECT_NEAR(back[o], v[r * O + o],
                    1e-6 * s.heads[h].std[o] + 1e-9 * std::abs(v[r * O + o]) * (h == 0 ? 1e-3 : 1));
      }
    }
    float x[64];
    s.encode_input(occ, x);
    double mean_x = 0;
    for (int f = 0; f < N * 2; ++f) mean_x += x[f];
    EXPECT_TRUE(std::isfinite(mean_x));
  }
  // Standardized training targets: zero mean, unit std.
  double m = 0, m2 = 0;
  for (std::size_t r : rows) {
    float t;
    s.encode_target(0, &d.occupation[r * N], &d.energy[r], &t);
    m += t / rows.size();
    m2 += double(t) * t / rows.size();
  }
  EXPECT_NEAR(m, 0.0, 1e-5);
  EXPECT_NEAR(m2, 1.0, 1e-4);
  // The paper's plain standardization keeps no reference energies.
  const auto p = Standardization::fit(d.occupation, N, d.system, {heads[0]}, {&d.energy}, rows,
                                      EnergyTarget::standardized, ChargeTarget::total);
  EXPECT_EQ(p.reference_energy, std::vector<double>(2, 0.0));
}

TEST(NnFolds, SplitsFollowTheDatasetsStoredFolds) {
  const auto d = test::synthetic_dataset(200, 5, 3);
  for (int f = 0; f < 5; ++f) {
    const auto s = split_for_fold(d, f);
    EXPECT_EQ(s.train.size() + s.validation.size() + s.test.size(), d.rows());
    for (auto r : s.train) EXPECT_TRUE(d.fold[r] >= 0 && d.fold[r] != f);
    for (auto r : s.validation) EXPECT_EQ(d.fold[r], f);
    for (auto r : s.test) EXPECT_EQ(d.fold[r], dataset::kTestFold);
    EXPECT_FALSE(s.validation.empty());
    EXPECT_FALSE(s.test.empty());
  }
  EXPECT_THROW(split_for_fold(d, 5), Error);
  TrainingOptions o;
  EXPECT_EQ(folds_to_train(d, o), (std::vector<int>{0, 1, 2, 3, 4}));
  o.folds = {1, 3};
  EXPECT_EQ(folds_to_train(d, o), (std::vector<int>{1, 3}));
  o.folds = {7};
  EXPECT_THROW(folds_to_train(d, o), Error);
}

TEST(NnDeck, StlAndMtlFromDecks) {
  {
    Deck dk = deck("{ tasks = {'energy'}, epochs = 10 }");
    const auto o = TrainingOptions::from_deck(dk.root().table("training"), dk.file());
    const Network net(o.network_spec(32, 2));
    EXPECT_EQ(net.describe(), "64-200-200-1");
    EXPECT_EQ(o.label(), "STL E");
    EXPECT_EQ(o.epochs, 10);
    EXPECT_DOUBLE_EQ(o.learning_rate, 1e-4);
    // The library's default model file is the CLI's: <deck stem>.model.h5.
    EXPECT_EQ(o.model, "test.model.h5");
  }
  {
    Deck dk = deck(
        "{ tasks = {'energy','charge','moment'}, architecture = { shared = {300,300}, "
        "task_specific = 300 },"
        "  alpha = {1, 0.5, 2}, folds = {0, 2}, backend = 'reference', energy_target = "
        "'standardized',"
        "  early_stopping = { patience = 50 }, lr_schedule = { kind = 'cosine', min = 1e-6 } }");
    const auto o = TrainingOptions::from_deck(dk.root().table("training"), dk.file());
    const Network net(o.network_spec(32, 2));
    EXPECT_EQ(net.describe(), "64-300-300-[100|100|100]-[1|32|32]");
    EXPECT_EQ(o.label(), "MTL E+C+M");
    EXPECT_EQ(o.folds, (std::vector<int>{0, 2}));
    EXPECT_EQ(o.alpha, (std::vector<double>{1, 0.5, 2}));
    EXPECT_EQ(o.patience, 50);
    EXPECT_EQ(o.energy_target, EnergyTarget::standardized);
  }
  {
    Deck dk = deck("{ tasks = {'energy','charge'}, folds = 'all' }");
    const auto o = TrainingOptions::from_deck(dk.root().table("training"), dk.file());
    EXPECT_TRUE(o.folds.empty());
    EXPECT_EQ(Network(o.network_spec(32, 2)).describe(), "64-200-200-[100|100]-[1|32]");
  }
  auto bad = [](const std::string& t) {
    Deck dk = deck(t);
    return TrainingOptions::from_deck(dk.root().table("training"), dk.file());
  };
  EXPECT_THROW(bad("{ epoch = 3 }"), DeckError);  // unknown key (suggests "epochs")
  EXPECT_THROW(bad("{ tasks = {'energy'}, alpha = {1, 2} }"), DeckError);
  EXPECT_THROW(bad("{ tasks = {'enthalpy'} }"), DeckError);
  EXPECT_THROW(bad("{ backend = 'tpu' }"), DeckError);
  EXPECT_THROW(bad("{ folds = 'some' }"), DeckError);
  EXPECT_THROW(bad("{ architecture = { shared = {200}, activation = 'gelu' } }"), DeckError);
}

// Training on the synthetic alloy: test RMSE far below the spread of the data, MTL and STL.
TEST(NnTraining, MtlLearnsSyntheticAlloyAndModelFileRoundTrips) {
  const auto d = test::synthetic_dataset(1200, 5, 5);
  auto o = quick_options({Task::energy, Task::charge, Task::moment}, 150);
  const Model m = train_model(d, o, 2, "training = {}");
  const auto split = split_for_fold(d, 2);
  const auto ev = evaluate_model(m, d, split.test, true);
  ASSERT_EQ(ev.tasks.size(), 3u);
  // Spread of the learnable part: mixing energy (total minus composition-linear part).
  const auto& stdz = m.standardization();
  std::vector<double> mix, dq, mom;
  for (auto r : split.test) {
    mix.push_back(d.energy[r] - stdz.reference_energy_of(&d.occupation[r * d.num_sites]));
    for (int i = 0; i < d.num_sites; ++i) {
      dq.push_back(d.charge[r * d.num_sites + i] -
                   d.system.species[d.occupation[r * d.num_sites + i]].Z);
      mom.push_back(d.moment[r * d.num_sites + i]);
    }
  }
  EXPECT_LT(ev.tasks[0].rmse, 0.25 * rms_about_mean(mix)) << "energy";
  EXPECT_LT(ev.tasks[1].rmse, 0.25 * rms_about_mean(dq)) << "charge";
  EXPECT_LT(ev.tasks[2].rmse, 0.25 * rms_about_mean(mom)) << "moment";
  EXPECT_EQ(ev.parity[1].size(), split.test.size() * d.num_sites);
  EXPECT_GT(ev.tasks[0].rmse_mev_per_atom, 0.0);

  // Model file round trip: identical predictions, provenance kept.
  test::TempDir dir;
  m.save(dir / "m.h5");
  const Model back = Model::load(dir / "m.h5", "reference");
  std::vector<Configuration> cfg;
  for (std::size_t k = 0; k < 50; ++k)
    cfg.push_back(Configuration(
        {d.occupation.begin() + k * d.num_sites, d.occupation.begin() + (k + 1) * d.num_sites}));
  const auto p1 = m.predict(cfg), p2 = back.predict(cfg);
  for (std::size_t k = 0; k < cfg.size(); ++k) EXPECT_NEAR(p1.energy[k], p2.energy[k], 1e-6) << k;
  for (std::size_t k = 0; k < p1.charge.size(); ++k) EXPECT_NEAR(p1.charge[k], p2.charge[k], 1e-5);
  EXPECT_EQ(back.tasks(), kEnergy | kCharge | kMoment);
  EXPECT_EQ(back.fold(), 2);
  EXPECT_EQ(back.training_deck(), "training = {}");
  EXPECT_EQ(back.dataset_hash(), d.fingerprint());
  EXPECT_EQ(back.learning_curve().epoch.size() * 3, back.learning_curve().train.size());
  EXPECT_EQ(back.epochs_run(), 150);
  EXPECT_LT(back.learning_curve().train.back(), back.learning_curve().train.front());

  // The one-hot fast path against the dense form: z1 from first-layer rows vs the standardized
  // one-hot input through the whole network, and the MC entry point against predict().
  const Network& net = back.network();
  auto dense = make_reference_backend();
  dense->setup(net, 1);
  std::copy(back.parameters().begin(), back.parameters().end(), dense->params().begin());
  const int W = back.first_layer_width(), S = 2;
  EXPECT_EQ(W, net.layers()[0].out + S);
  std::vector<float> x(d.num_sites * S), z1(W);
  std::vector<double> e(1);
  ModelWorkspace workspace(back);
  for (std::size_t k = 0; k < 10; ++k) {
    back.standardization().encode_input(cfg[k].occupation().data(), x.data());
    dense->forward(x.data(), 1);
    double physical;
    back.standardization().decode_output(0, cfg[k].occupation().data(), dense->output(0),
                                         &physical);
    EXPECT_NEAR(physical, p2.energy[k], 2e-5 * std::max(1.0, stdz.heads[0].std[0]));
    std::copy(back.first_layer_bias().begin(), back.first_layer_bias().end(), z1.begin());
    for (int i = 0; i < d.num_sites; ++i) {
      auto row = back.first_layer_row(i * S + cfg[k][i]);
      for (int o = 0; o < W; ++o) z1[o] += row[o];
    }
    EXPECT_EQ(z1[W - 2], float(cfg[k].count(0)));
    workspace.energy_from_first_preactivation(z1, 1, e);
    EXPECT_NEAR(e[0], p2.energy[k], 1e-6 * std::max(1.0, stdz.heads[0].std[0]));
  }

  // Mismatch errors name what differs.
  try {
    back.check_matches(test::synthetic_system({1, 1, 2}));
    FAIL() << "supercell mismatch not detected";
  } catch (const Error& err) {
    EXPECT_NE(std::string(err.what()).find("supercell"), std::string::npos) << err.what();
  }
  System swapped = test::synthetic_system();
  std::swap(swapped.species[0], swapped.species[1]);
  EXPECT_THROW(back.check_matches(swapped), Error);
  EXPECT_NO_THROW(back.check_matches(test::synthetic_system()));
  test::TempDir other;
  EXPECT_THROW(Model::load(other / "missing.h5"), Error);
  {
    auto f = h5::File::create(other / "foreign.h5");
    h5::write_attr(f, "format", "something-else");
  }
  EXPECT_THROW(Model::load(other / "foreign.h5"), FileError);

  // Ensemble file: two folds in one file, mean and spread.
  auto o2 = quick_options({Task::energy, Task::charge, Task::moment}, 5);
  const Model m0 = train_model(d, o2, 0);
  save_models(dir / "ens.h5", {&m0, &m});
  EXPECT_THROW(Model::load(dir / "ens.h5"), FileError);
  const Ensemble ens = Ensemble::load({dir / "ens.h5"}, "onednn");
  ASSERT_EQ(ens.size(), 2u);
  const auto props = ens.predict(std::span(cfg).first(3));
  const auto pm0 = m0.predict(std::span(cfg).first(3));
  for (int k = 0; k < 3; ++k) {
    EXPECT_NEAR(*props[k].energy, 0.5 * (pm0.energy[k] + p1.energy[k]), 1e-5);
    EXPECT_NEAR(*props[k].energy_std, std::abs(pm0.energy[k] - p1.energy[k]) / std::sqrt(2.0),
                1e-5);
    EXPECT_EQ(props[k].charge_std.size(), static_cast<std::size_t>(d.num_sites));
  }
}

TEST(NnTraining, StlReferenceAndOnednnAgreeAndEarlyStoppingWorks) {
  const auto d = test::synthetic_dataset(400, 4, 9);
  auto o = quick_options({Task::energy}, 20);
  o.backend = "reference";
  const Model a = train_model(d, o, 1);
  o.backend = "onednn";
  const Model b = train_model(d, o, 1);
  // Same seed, same data order: the two backends follow the same trajectory.
  const auto pa = a.parameters(), pb = b.parameters();
  double maxdiff = 0;
  for (std::size_t k = 0; k < pa.size(); ++k)
    maxdiff = std::max(maxdiff, double(std::abs(pa[k] - pb[k])));
  EXPECT_LT(maxdiff, 1e-3);
  o.patience = 5;
  o.curve_interval = 1;
  o.epochs = 2000;
  o.learning_rate = 0.05;  // noisy enough that validation stalls quickly
  const Model c = train_model(d, o, 1);
  EXPECT_LT(c.epochs_run(), 2000);
}

// Issue 15: by default a model keeps the weights of its best validation sample, not the last
// epoch's; `keep_best = false` keeps the last epoch's. The validation rows' energies are
// mirrored about their composition's mean: the network first learns the trend with
// composition, which helps on them too, then the configurations' pair energies, which are the
// wrong way round there. So the validation loss falls, then rises by 16-73% (12 seeds of the
// data): the best sample lies between the first and the last epoch, far from both (5% is
// hundreds of times the tolerance of the comparisons below). (Checked:
// with keep_best ignored, or only the first sample kept, this test fails.)
TEST(NnTraining, KeepsTheBestValidationWeightsByDefault) {
  auto d = test::synthetic_dataset(400, 4, 9);
  const auto validation = split_for_fold(d, 1).validation;
  std::vector<double> sum(d.num_sites + 1, 0.0), count(d.num_sites + 1, 0.0);
  for (std::size_t r = 0; r < d.rows(); ++r) {
    sum[d.composition[r]] += d.energy[r];
    count[d.composition[r]] += 1;
  }
  for (std::size_t r : validation)
    d.energy[r] = 2 * sum[d.composition[r]] / count[d.composition[r]] - d.energy[r];
  auto o = quick_options({Task::energy}, 30);
  o.curve_interval = 1;
  ASSERT_TRUE(o.keep_best);
  const Model best = train_model(d, o, 1);
  o.keep_best = false;
  const Model last = train_model(d, o, 1);
  // The curve's validation loss is the standardized MSE: RMSE in Ry = sqrt(loss) * std.
  const double sd = best.standardization().heads[0].std[0];
  const auto& curve = best.learning_curve().validation;
  const auto min_at = std::min_element(curve.begin(), curve.end());
  const double min_loss = *min_at;
  ASSERT_TRUE(min_at != curve.begin() && min_loss < 0.95 * curve.front() &&
              min_loss < 0.95 * curve.back())
      << "the test needs a best sample well inside the curve: " << ::testing::PrintToString(curve);
  const double rmse_best = evaluate_model(best, d, validation).tasks[0].rmse;
  const double rmse_last = evaluate_model(last, d, validation).tasks[0].rmse;
  EXPECT_NEAR(rmse_best, std::sqrt(min_loss) * sd, 1e-4 * rmse_best);
  EXPECT_NEAR(rmse_last, std::sqrt(curve.back()) * sd, 1e-4 * rmse_last);
  EXPECT_EQ(best.epochs_run(), 30);  // keeping the best does not stop training
}

// training.outlier_z leaves training and validation rows far from their composition's median
// energy out; the test rows stay. (Checked: with outlier_z ignored this test fails.)
TEST(NnTraining, OutlierZLeavesEnergyOutliersOutOfTrainingOnly) {
  auto d = test::synthetic_dataset(300, 4, 3);
  const FoldSplit all = split_for_fold(d, 0);
  const std::size_t bad_train = test::add_energy_outlier(d, all.train);
  const std::size_t bad_test = all.test[0];
  d.energy[bad_test] += 50.0;  // Ry: far beyond the spread of its composition
  TrainingOptions o = quick_options({Task::energy}, 1);
  EXPECT_EQ(training_split(d, o, 0).train.size(), all.train.size());  // default: keep all
  o.outlier_z = 6;
  const FoldSplit kept = training_split(d, o, 0);
  EXPECT_EQ(std::count(kept.train.begin(), kept.train.end(), bad_train), 0);
  EXPECT_EQ(kept.test, all.test);
  // Only the outlier goes: add_energy_outlier leaves no other row beyond 6 robust scales.
  EXPECT_EQ(kept.train.size(), all.train.size() - 1);
  EXPECT_EQ(kept.validation, all.validation);
  Deck dk = deck("{ outlier_z = 6 }");
  EXPECT_DOUBLE_EQ(TrainingOptions::from_deck(dk.root().table("training"), dk.file()).outlier_z,
                   6.0);
}

// The ensemble error is the error of the mean prediction of the fold models.
TEST(NnEvaluation, EnsembleErrorIsTheErrorOfTheMeanPrediction) {
  const auto d = test::synthetic_dataset(200, 3, 5);
  auto o = quick_options({Task::energy, Task::charge}, 4);
  const std::vector<Model> models = {train_model(d, o, 0), train_model(d, o, 1)};
  std::vector<std::size_t> rows;
  for (std::size_t r = 0; r < d.rows(); ++r)
    if (d.is_test(r)) rows.push_back(r);
  ASSERT_FALSE(rows.empty());
  const Evaluation ens = evaluate_ensemble(models, d, rows);
  EXPECT_EQ(ens.fold, -1);
  std::vector<Configuration> configs;
  const int N = d.num_sites;
  for (std::size_t r : rows)
    configs.emplace_back(std::vector<std::uint8_t>(d.occupation.begin() + r * N,
                                                   d.occupation.begin() + (r + 1) * N));
  const Predictions a = models[0].predict(configs), b = models[1].predict(configs);
  double se = 0, sq = 0;
  for (std::size_t k = 0; k < rows.size(); ++k) {
    se += std::pow(0.5 * (a.energy[k] + b.energy[k]) - d.energy[rows[k]], 2);
    for (int i = 0; i < N; ++i)
      sq += std::pow(0.5 * (a.charge[k * N + i] + b.charge[k * N + i]) - d.charge[rows[k] * N + i],
                     2);
  }
  ASSERT_EQ(ens.tasks.size(), 2u);
  EXPECT_NEAR(ens.tasks[0].rmse, std::sqrt(se / rows.size()), 1e-9);
  EXPECT_NEAR(ens.tasks[1].rmse, std::sqrt(sq / (rows.size() * N)), 1e-9);
  // Not just one member's error.
  EXPECT_NE(ens.tasks[0].rmse, evaluate_model(models[0], d, rows).tasks[0].rmse);
}

TEST(NnDeck, DefaultsAreThePapersProtocol) {
  Deck dk = deck("{}");
  const auto o = TrainingOptions::from_deck(dk.root().table("training"), dk.file());
  EXPECT_EQ(o.tasks, std::vector<Task>{Task::energy});
  EXPECT_DOUBLE_EQ(o.learning_rate, 1e-4);
  EXPECT_EQ(o.epochs, 30000);
  EXPECT_DOUBLE_EQ(o.batch_fraction, 0.1);
  EXPECT_EQ(o.batch_size, 0);
  EXPECT_EQ(o.patience, 0);  // no early stopping
  EXPECT_TRUE(o.keep_best);  // issue 15: the best validation weights, not the last epoch's
  EXPECT_EQ(o.lr_schedule, LearningRateSchedule::constant);
  EXPECT_TRUE(o.folds.empty());  // all folds
  EXPECT_EQ(o.backend, "auto");
  EXPECT_EQ(o.threads, 0);  // OMP_NUM_THREADS
  EXPECT_EQ(o.energy_target, EnergyTarget::mixing);
  EXPECT_EQ(o.charge_target, ChargeTarget::transfer);
  Deck dk2 = deck("{ threads = 3, seed = 9, batch_size = 64, keep_best = false }");
  const auto o2 = TrainingOptions::from_deck(dk2.root().table("training"), dk2.file());
  EXPECT_EQ(o2.threads, 3);
  EXPECT_EQ(o2.seed, 9u);
  EXPECT_EQ(o2.batch_size, 64);
  EXPECT_FALSE(o2.keep_best);
}

// Every task subset (E, C, M, EC, EM, CM, ECM) from a deck, with per-layer activations, trains
// and evaluates; the network has the paper's shape for it.
TEST(NnDeck, EveryTaskSubsetAndPerLayerActivations) {
  const auto d = test::synthetic_dataset(160, 3, 17);
  const std::vector<std::pair<std::string, std::string>> subsets = {
      {"'energy'", "STL E"},
      {"'charge'", "STL C"},
      {"'moment'", "STL M"},
      {"'energy','charge'", "MTL E+C"},
      {"'energy','moment'", "MTL E+M"},
      {"'charge','moment'", "MTL C+M"},
      {"'energy','charge','moment'", "MTL E+C+M"}};
  for (const auto& [tasks, label] : subsets) {
    SCOPED_TRACE(label);
    Deck dk = deck("{ tasks = {" + tasks +
                   "}, architecture = { shared = {12, 10}, shared_activations = {'tanh', "
                   "'sigmoid'}, task_activation = 'relu' }, epochs = 2, learning_rate = 1e-3 }");
    auto o = TrainingOptions::from_deck(dk.root().table("training"), dk.file());
    EXPECT_EQ(o.label(), label);
    o.progress = false;
    const Network net(o.network_spec(d.num_sites, 2));
    ASSERT_EQ(net.num_heads(), static_cast<int>(o.tasks.size()));
    EXPECT_EQ(net.layers()[0].act, Activation::tanh);
    EXPECT_EQ(net.layers()[1].act, Activation::sigmoid);
    if (o.tasks.size() > 1) {
      // 100 per task by default, read by every head from the shared trunk.
      ASSERT_GE(net.task_layer(), 0);
      EXPECT_EQ(net.layers()[net.task_layer()].out, 100 * static_cast<int>(o.tasks.size()));
      EXPECT_EQ(net.layers()[net.task_layer()].act, Activation::relu);
    } else {
      EXPECT_EQ(net.task_layer(), -1);
    }
    for (int h = 0; h < net.num_heads(); ++h)
      EXPECT_EQ(net.layers()[net.output_layer(h)].act, Activation::linear);
    const Model m = train_model(d, o, 1);
    EXPECT_EQ(m.network().describe(), net.describe());
    const auto ev = evaluate_model(m, d, split_for_fold(d, 1).test);
    ASSERT_EQ(ev.tasks.size(), o.tasks.size());
    for (const auto& e : ev.tasks) EXPECT_TRUE(std::isfinite(e.rmse)) << task_name(e.task);
  }
  auto bad = [](const std::string& t) {
    Deck dk = deck(t);
    return TrainingOptions::from_deck(dk.root().table("training"), dk.file());
  };
  EXPECT_THROW(bad("{ architecture = { shared = {8, 8}, shared_activations = {'tanh'} } }"),
               DeckError);
  EXPECT_THROW(bad("{ tasks = {'energy', 'energy'} }"), DeckError);
  EXPECT_THROW(bad("{ tasks = {'energy', 'charge', 'moment'}, architecture = { task_specific = 2 "
                   "} }"),
               DeckError);
}

// Learning-rate schedules follow their formulas; without options the rate is constant and
// every epoch runs (no early stopping).
TEST(NnTraining, LearningRateSchedulesAndDefaultsOff) {
  const auto d = test::synthetic_dataset(120, 3, 2);
  auto o = quick_options({Task::energy}, 6);
  o.shared = {8};
  o.curve_interval = 1;
  o.learning_rate = 1e-3;
  const Model plain = train_model(d, o, 0);
  EXPECT_EQ(plain.epochs_run(), 6);
  EXPECT_EQ(plain.learning_curve().learning_rate, std::vector<double>(6, 1e-3));
  {  // Seeds make runs reproducible; another seed gives another model.
    const Model again = train_model(d, o, 0);
    EXPECT_TRUE(std::equal(plain.parameters().begin(), plain.parameters().end(),
                           again.parameters().begin()));
    auto o2 = o;
    o2.seed = 2;
    const Model other = train_model(d, o2, 0);
    EXPECT_FALSE(std::equal(plain.parameters().begin(), plain.parameters().end(),
                            other.parameters().begin()));
  }
  o.lr_schedule = LearningRateSchedule::step;
  o.lr_factor = 0.5;
  o.lr_every = 2;
  const Model step = train_model(d, o, 0);
  EXPECT_EQ(step.learning_curve().learning_rate,
            (std::vector<double>{1e-3, 1e-3, 5e-4, 5e-4, 2.5e-4, 2.5e-4}));
  o.lr_schedule = LearningRateSchedule::cosine;
  o.lr_min = 1e-5;
  const Model cosine = train_model(d, o, 0);
  const auto& lr = cosine.learning_curve().learning_rate;
  EXPECT_DOUBLE_EQ(lr.front(), 1e-3);
  for (std::size_t k = 1; k < lr.size(); ++k) EXPECT_LT(lr[k], lr[k - 1]);
  EXPECT_NEAR(lr.back(), 1e-5 + 0.5 * (1e-3 - 1e-5) * (1 + std::cos(M_PI * 5 / 6)), 1e-12);
}

// The paper's plain standardization stays available and round-trips through the model file;
// on all-electron-like energies (a large composition-linear term) the default mixing target is
// far more accurate, which is why it is the default.
TEST(NnTraining, PapersPlainStandardizationOptionAndWhyMixingIsDefault) {
  const auto d = test::synthetic_dataset(600, 4, 13);
  auto o = quick_options({Task::energy, Task::charge}, 60);
  o.shared = {24};
  o.task_width = 16;
  const auto test_rows = split_for_fold(d, 0).test;
  const Model mixing = train_model(d, o, 0);
  o.energy_target = EnergyTarget::standardized;
  o.charge_target = ChargeTarget::total;
  const Model paper = train_model(d, o, 0);
  EXPECT_EQ(paper.standardization().reference_energy, std::vector<double>(2, 0.0));
  const auto em = evaluate_model(mixing, d, test_rows), ep = evaluate_model(paper, d, test_rows);
  EXPECT_LT(em.tasks[0].rmse, 0.2 * ep.tasks[0].rmse)
      << "mixing " << em.tasks[0].rmse << " Ry, plain " << ep.tasks[0].rmse << " Ry";
  // The standardized error scale is the same for both (std of the raw total energy).
  EXPECT_DOUBLE_EQ(mixing.standardization().heads[0].paper_std[0],
                   paper.standardization().heads[0].paper_std[0]);
  test::TempDir dir;
  paper.save(dir / "paper.h5");
  // The backend it trained on: float32 outputs times an energy std of ~1e5 Ry differ between
  // backends by more than the tolerance below (reference: 1.3e-6 relative on one data seed).
  const Model back = Model::load(dir / "paper.h5", "onednn");
  EXPECT_EQ(back.standardization().energy_target, EnergyTarget::standardized);
  EXPECT_EQ(back.standardization().charge_target, ChargeTarget::total);
  const auto ev = evaluate_model(back, d, test_rows);
  EXPECT_NEAR(ev.tasks[0].rmse, ep.tasks[0].rmse, 1e-6 * ep.tasks[0].rmse + 1e-9);
  EXPECT_NEAR(ev.tasks[1].rmse, ep.tasks[1].rmse, 1e-4 * ep.tasks[1].rmse + 1e-9);
}

// Loading checks the system and the file's consistency and says what differs.
TEST(NnModelFile, MismatchesAndCorruptFilesAreNamed) {
  const auto d = test::synthetic_dataset(100, 3, 4);
  auto o = quick_options({Task::energy, Task::moment}, 1);
  o.shared = {6};
  o.task_width = 4;
  const Model m = train_model(d, o, 0);
  auto message = [&m](const System& s) -> std::string {
    try {
      m.check_matches(s);
    } catch (const Error& e) {
      return e.what();
    }
    return "";
  };
  System s = test::synthetic_system();
  EXPECT_EQ(message(s), "");
  s.lattice = Lattice(LatticeKind::fcc, 7.0, 7.0, {2, 1, 1});
  EXPECT_NE(message(s).find("lattice constants differ (model a=7.2377"), std::string::npos)
      << message(s);
  s.lattice = Lattice(LatticeKind::bcc, fixtures::kCuAuA, fixtures::kCuAuA, {2, 1, 1});
  EXPECT_NE(message(s).find("lattice kind differs"), std::string::npos) << message(s);
  s = test::synthetic_system();
  s.species.push_back(species_from_symbol("Ag"));
  EXPECT_NE(message(s).find("2 species, asked about 3"), std::string::npos) << message(s);
  s = test::synthetic_system();
  s.species[1] = species_from_symbol("Pt");
  EXPECT_NE(message(s).find("species 1 is Au in the model but Pt"), std::string::npos)
      << message(s);
  // Predicting a configuration of another size or species is refused.
  EXPECT_THROW(m.predict(std::vector<Configuration>{Configuration::from_string("0101")}), Error);
  EXPECT_THROW(m.predict(std::vector<Configuration>{Configuration::from_string("01010102")}),
               Error);

  test::TempDir dir;
  m.save(dir / "m.h5");
  {  // Truncated weights: the file is refused, naming the object and the sizes.
    auto f = h5::File::open(dir / "m.h5", h5::Mode::read_write);
    H5Ldelete(f, "models/0/params", H5P_DEFAULT);
    h5::write(f, "models/0/params", std::vector<float>(10, 0.0f));
  }
  try {
    Model::load(dir / "m.h5");
    FAIL() << "a truncated params dataset was accepted";
  } catch (const FileError& e) {
    EXPECT_NE(std::string(e.what()).find("params has 10 values"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("models/0"), std::string::npos) << e.what();
  }
  {  // A newer format version is refused with a message.
    m.save(dir / "v.h5");
    auto f = h5::File::open(dir / "v.h5", h5::Mode::read_write);
    H5Adelete(f, "format_version");
    h5::write_attr(f, "format_version", std::int64_t{99});
  }
  try {
    Model::load(dir / "v.h5");
    FAIL() << "format version 99 was accepted";
  } catch (const FileError& e) {
    EXPECT_NE(std::string(e.what()).find("newer"), std::string::npos) << e.what();
  }
  EXPECT_THROW(Model::load_member(dir / "m.h5", 3), FileError);
  // The uncompiled CUDA backend is a NotCompiledError, also from a model file.
  if (!backend_compiled("cuda")) {
    m.save(dir / "ok.h5");
    EXPECT_THROW(Model::load(dir / "ok.h5", "cuda"), NotCompiledError);
    auto oc = o;
    oc.backend = "cuda";
    EXPECT_THROW(train_model(d, oc, 0), NotCompiledError);
  }
}

// A Model is shared read-only: concurrent predictions (each through its own workspace) agree
// with a serial one; the workspaces hold all mutable state.
TEST(NnModel, ConcurrentConstPredictionsAgree) {
  const auto d = test::synthetic_dataset(200, 3, 21);
  auto o = quick_options({Task::energy, Task::charge}, 3);
  const Model m = train_model(d, o, 0);
  std::vector<Configuration> cfg;
  for (std::size_t k = 0; k < 120; ++k)
    cfg.push_back(Configuration(
        {d.occupation.begin() + k * d.num_sites, d.occupation.begin() + (k + 1) * d.num_sites}));
  const Predictions serial = m.predict(cfg);
  std::vector<Predictions> parallel(4);
#pragma omp parallel for num_threads(2) schedule(static, 1)
  for (int k = 0; k < 4; ++k) parallel[k] = m.predict(std::span(cfg).subspan(k * 30, 30));
  for (int k = 0; k < 4; ++k)
    for (std::size_t r = 0; r < 30; ++r) {
      EXPECT_EQ(parallel[k].energy[r], serial.energy[k * 30 + r]) << k << " " << r;
      EXPECT_EQ(parallel[k].charge[r * d.num_sites], serial.charge[(k * 30 + r) * d.num_sites]);
    }
  // A copy shares the trained data; a workspace reproduces the model's predictions.
  const Model copy = m;
  EXPECT_EQ(copy.parameters().data(), m.parameters().data());
  ModelWorkspace w(copy);
  EXPECT_EQ(w.predict(cfg).energy, serial.energy);
}

// The fold loop of `train` and `retrain` (one rank here; the MPI spread is tested through the
// CLI): every fold in the output, in fold order; retrain's mode keeps the previous file.
TEST(NnFoldTraining, TrainsEveryFoldAndKeepsThePreviousModel) {
  const auto d = test::synthetic_dataset(150, 3, 8);
  auto o = quick_options({Task::energy}, 2);
  o.shared = {8};
  test::TempDir dir;
  FoldTrainingRun run;
  run.output = dir / "m.h5";
  run.deck_text = "training = {}";
  const System system = test::synthetic_system();
  run.system = &system;
  std::vector<int> seen;
  run.on_model = [&](const Model& m) {
    seen.push_back(m.fold());
    // Rewritten after every fold: an interrupted run keeps the finished folds.
    EXPECT_EQ(Model::count_in_file(run.output), seen.size());
  };
  const auto first = train_folds(d, o, {2, 0, 1}, run);
  EXPECT_EQ(seen, (std::vector<int>{2, 0, 1}));
  ASSERT_EQ(first.models.size(), 3u);
  EXPECT_TRUE(first.previous.empty());
  ASSERT_EQ(Model::count_in_file(run.output), 3u);
  EXPECT_EQ(Model::load_member(run.output, 1).training_deck(), "training = {}");

  // Retrain: the old file stays untouched until every fold is done, then becomes m.prev.h5.
  run.keep_previous = true;
  seen.clear();
  run.on_model = [&](const Model& m) {
    seen.push_back(m.fold());
    EXPECT_EQ(Model::count_in_file(run.output), 3u) << "old model replaced early";
  };
  o.seed = 7;
  const auto second = train_folds(d, o, {1}, run);
  EXPECT_EQ(second.previous, dir / "m.prev.h5");
  EXPECT_EQ(Model::count_in_file(dir / "m.prev.h5"), 3u);
  ASSERT_EQ(Model::count_in_file(run.output), 1u);
  EXPECT_EQ(Model::load_member(run.output, 0).fold(), 1);
  EXPECT_FALSE(std::filesystem::exists(fold_part_file(run.output, 0)));

  // A model that does not fit the deck's system is refused, and the output is left alone.
  const System other = test::synthetic_system({1, 1, 2});
  run.system = &other;
  try {
    train_folds(d, o, {0}, run);
    FAIL() << "a model for another cell was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("supercell"), std::string::npos) << e.what();
  }
  EXPECT_EQ(Model::load_member(run.output, 0).fold(), 1);
}

// The fingerprint stored in model files is the project's FNV-1a (core/hash.hpp) over the data:
// a known answer pins the hash (its offset basis included), and any change of the data changes it.
TEST(NnFolds, DatasetFingerprintIsTheProjectsFnv1a) {
  EXPECT_EQ(Fnv1a().add("lsms", 4).value(), 0x6b6404267196f362ULL);
  auto d = test::synthetic_dataset(40, 3, 5);
  const std::string before = d.fingerprint();
  EXPECT_EQ(before.size(), 16u);
  EXPECT_EQ(d.fingerprint(), before);
  d.energy[7] = std::nextafter(d.energy[7], 0.0);  // one ulp
  EXPECT_NE(d.fingerprint(), before);
}
