// Several folds trained together through the multi-fold bookkeeping (the path the cuda backend
// takes with all folds in one set of kernels) against the folds trained one by one.
#include <gtest/gtest.h>
#include <omp.h>

#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "core/deck.hpp"
#include "core/error.hpp"
#include "nn/core/multi_fold.hpp"
#include "synthetic.hpp"

using namespace lsmss;
using namespace lsmss::nn;

namespace {

TrainingOptions small_options(std::vector<Task> tasks, long epochs) {
  TrainingOptions o;
  o.tasks = std::move(tasks);
  o.shared = {12, 10};
  o.task_width = o.tasks.size() > 1 ? 6 * static_cast<int>(o.tasks.size()) : 0;
  o.learning_rate = 5e-3;
  o.epochs = epochs;
  o.batch_fraction = 0.15;
  o.curve_interval = 3;
  o.progress = false;
  o.threads = 1;
  return o;
}

void expect_same_model(const Model& together, const Model& alone) {
  EXPECT_EQ(together.fold(), alone.fold());
  EXPECT_EQ(together.epochs_run(), alone.epochs_run());
  const auto a = together.parameters(), b = alone.parameters();
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t k = 0; k < a.size(); ++k) ASSERT_EQ(a[k], b[k]) << "parameter " << k;
  const auto& ca = together.learning_curve();
  const auto& cb = alone.learning_curve();
  EXPECT_EQ(ca.epoch, cb.epoch);
  EXPECT_EQ(ca.train, cb.train);
  EXPECT_EQ(ca.validation, cb.validation);
  EXPECT_EQ(ca.learning_rate, cb.learning_rate);
}

}  // namespace

// Folds of different sizes get different batch sizes and numbers of batches: the shorter ones
// idle at the end of the epoch and their Adam step counters advance only when they step.
TEST(NnMultiFold, EpochPlanGivesEachFoldItsOwnBatches) {
  const std::vector<long> rows = {10, 7, 9};
  const std::vector<int> batch = {3, 7, 2};
  bool active[] = {true, true, false};
  std::vector<long> steps = {4, 0, 11};
  const EpochPlan plan = plan_epoch(rows, batch, active, steps);
  ASSERT_EQ(plan.steps, 4);  // ceil(10 / 3); fold 1 has 1 batch, fold 2 is stopped
  ASSERT_EQ(plan.folds, 3);
  const int counts0[] = {3, 3, 3, 1};
  for (int s = 0; s < 4; ++s) {
    EXPECT_EQ(plan.step(s)[0].first, 3 * s);
    EXPECT_EQ(plan.step(s)[0].count, counts0[s]);
    EXPECT_EQ(plan.step(s)[0].adam_step, 5 + s);
    EXPECT_EQ(plan.step(s)[1].count, s == 0 ? 7 : 0);
    EXPECT_EQ(plan.step(s)[2].count, 0);
  }
  EXPECT_EQ(plan.step(0)[1].adam_step, 1);
  EXPECT_EQ(steps, (std::vector<long>{8, 1, 11}));
  // Every row of every active fold exactly once.
  for (int f = 0; f < 2; ++f) {
    long covered = 0;
    for (int s = 0; s < plan.steps; ++s) {
      EXPECT_EQ(plan.step(s)[f].first, plan.step(s)[f].count ? covered : plan.step(s)[f].first);
      covered += plan.step(s)[f].count;
    }
    EXPECT_EQ(covered, rows[f]);
  }
  std::vector<long> wrong(2);
  EXPECT_THROW(plan_epoch(rows, batch, active, wrong), Error);
}

// The CPU backends through the multi-fold trainer give exactly the models of the one-fold
// trainer: same initialization, shuffles, batches, Adam steps, curves and early stopping.
TEST(NnMultiFold, FoldsTogetherEqualFoldsOneByOne) {
  omp_set_num_threads(1);
  const auto d = test::synthetic_dataset(160, 5, 21);
  for (const std::string backend : {"reference", "onednn"}) {
    SCOPED_TRACE(backend);
    auto o = small_options({Task::energy, Task::charge}, 12);
    o.backend = backend;
    o.alpha = {1.0, 0.5};
    const std::vector<int> folds = {0, 2, 4};
    const auto together = train_folds_together(d, o, folds);
    ASSERT_EQ(together.size(), folds.size());
    for (std::size_t i = 0; i < folds.size(); ++i) {
      SCOPED_TRACE("fold " + std::to_string(folds[i]));
      expect_same_model(together[i], train_model(d, o, folds[i]));
      EXPECT_EQ(together[i].trained_backend(), backend);
    }
  }
}

// Early stopping per fold: folds stop at different epochs, the others go on, each keeps its
// best weights, exactly as alone.
TEST(NnMultiFold, EarlyStoppingIsPerFold) {
  omp_set_num_threads(1);
  const auto d = test::synthetic_dataset(160, 4, 5);
  auto o = small_options({Task::energy}, 300);
  o.backend = "reference";
  o.shared = {6};
  o.learning_rate = 0.05;  // noisy: validation stalls quickly
  o.patience = 4;
  o.curve_interval = 1;
  const std::vector<int> folds = {0, 1, 2, 3};
  const auto together = train_folds_together(d, o, folds);
  std::vector<long> stopped;
  for (std::size_t i = 0; i < folds.size(); ++i) {
    const Model alone = train_model(d, o, folds[i]);
    expect_same_model(together[i], alone);
    stopped.push_back(alone.epochs_run());
  }
  // The test means something only if the folds stop early and not all at the same epoch.
  EXPECT_LT(*std::min_element(stopped.begin(), stopped.end()), 300);
  EXPECT_NE(*std::min_element(stopped.begin(), stopped.end()),
            *std::max_element(stopped.begin(), stopped.end()));
}

TEST(NnMultiFold, CpuBackendsRefuseTensorCorePrecisions) {
  const auto d = test::synthetic_dataset(60, 3, 2);
  auto o = small_options({Task::energy}, 1);
  o.backend = "reference";
  o.precision = Precision::tf32;
  try {
    train_folds_together(d, o, {0});
    FAIL() << "tf32 on a CPU backend must fail";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("fp32 only"), std::string::npos) << e.what();
  }
  EXPECT_THROW(train_model(d, o, 0), Error);
  EXPECT_EQ(precision_from_name("bf16"), Precision::bf16);
  EXPECT_EQ(precision_name(Precision::tf32), "tf32");
  EXPECT_THROW(precision_from_name("fp16"), Error);
}

// training.precision: fp32 by default; tf32/bf16 with an explicit CPU backend are refused at the
// deck, naming the key.
TEST(NnMultiFold, PrecisionDeckKey) {
  auto options = [](const std::string& training) {
    Deck dk = Deck::from_string("training = " + training, "test.lua");
    return TrainingOptions::from_deck(dk.root().table("training"), "test.lua");
  };
  EXPECT_EQ(options("{}").precision, Precision::fp32);
  EXPECT_EQ(options("{ precision = 'bf16' }").precision, Precision::bf16);
  EXPECT_EQ(options("{ precision = 'tf32', backend = 'cuda' }").precision, Precision::tf32);
  EXPECT_THROW(options("{ precision = 'fp16' }"), DeckError);
  try {
    options("{ precision = 'tf32', backend = 'onednn' }");
    FAIL() << "tf32 with onednn must be refused";
  } catch (const DeckError& e) {
    EXPECT_NE(std::string(e.what()).find("precision"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("fp32 only"), std::string::npos) << e.what();
  }
}

// A group set up for inference (ensemble inference) runs forward passes only: every training
// call is refused, naming itself, and changes nothing; set up again for training, the same
// group accepts them. The checks live in FoldGroup, so the cuda group keeps the same contract.
TEST(NnMultiFold, InferenceGroupRefusesTrainingCalls) {
  NetworkSpec spec;
  spec.inputs = 5;
  spec.shared = {4};
  spec.shared_act = {Activation::tanh};
  spec.heads = {{Task::energy, 1, 0}, {Task::charge, 2, 0}};
  const Network net(spec);
  const int folds = 2, rows = 3;
  std::vector<float> x(std::size_t(folds) * rows * spec.inputs);
  for (std::size_t k = 0; k < x.size(); ++k) x[k] = 0.1f * float(k % 7) - 0.3f;
  EncodedRows set;
  set.rows = rows;
  set.inputs.assign(x.begin(), x.begin() + std::ptrdiff_t(rows) * spec.inputs);
  set.targets = {std::vector<float>(rows, 0.5f), std::vector<float>(2 * std::size_t(rows), -0.25f)};
  const std::vector<std::vector<std::size_t>> orders(folds, {2, 0, 1});
  const FoldBatch batches[] = {{0, rows, 1}, {0, rows, 1}};
  const float alpha[] = {1.0f, 1.0f};
  std::vector<double> epoch_loss, loss(spec.heads.size(), -1.0);
  for (const std::string backend : {"reference", "onednn"}) {
    SCOPED_TRACE(backend);
    auto group = make_backend_fold_group(backend, 1);
    group->setup(net, folds, rows, Precision::fp32, FoldGroupUse::inference);
    EXPECT_EQ(group->use(), FoldGroupUse::inference);
    for (int f = 0; f < folds; ++f) {
      auto p = group->params(f);
      for (std::size_t k = 0; k < p.size(); ++k) p[k] = 0.05f * float((k + f) % 9) - 0.2f;
    }
    group->upload_params();
    // Fold f's outputs: its own backend's forward pass with its parameters, on its block.
    auto outputs = [&] {
      group->forward(x.data(), rows);
      std::vector<float> all;
      for (int f = 0; f < folds; ++f) {
        auto one = make_backend(backend, 1);
        one->setup(net, rows);
        std::copy(group->params(f).begin(), group->params(f).end(), one->params().begin());
        one->forward(x.data() + std::size_t(f) * rows * spec.inputs, rows);
        for (int h = 0; h < net.num_heads(); ++h) {
          const int n = rows * spec.heads[h].outputs;
          EXPECT_EQ(std::vector<float>(group->output(f, h), group->output(f, h) + n),
                    std::vector<float>(one->output(h), one->output(h) + n));
          all.insert(all.end(), group->output(f, h), group->output(f, h) + n);
        }
      }
      return all;
    };
    const std::vector<float> before = outputs();
    const std::vector<std::pair<std::string, std::function<void()>>> calls = {
        {"set_training_rows",
         [&] {
           for (int f = 0; f < folds; ++f) group->set_training_rows(f, set);
         }},
        {"set_validation_rows",
         [&] {
           for (int f = 0; f < folds; ++f) group->set_validation_rows(f, set);
         }},
        {"start_epoch", [&] { group->start_epoch(orders, 1e-2); }},
        {"step", [&] { group->step(batches, alpha); }},
        {"take_epoch_loss", [&] { group->take_epoch_loss(epoch_loss); }},
        {"set_loss", [&] { group->set_loss(0, set, rows, loss); }}};
    for (const auto& [name, call] : calls) {
      try {
        call();
        ADD_FAILURE() << name << " on an inference group must fail";
      } catch (const Error& e) {
        const std::string what = e.what();
        EXPECT_NE(what.find(name), std::string::npos) << what;
        EXPECT_NE(what.find("inference only"), std::string::npos) << what;
      }
    }
    EXPECT_EQ(outputs(), before);

    group->setup(net, folds, rows, Precision::fp32, FoldGroupUse::training);
    EXPECT_EQ(group->use(), FoldGroupUse::training);
    for (const auto& [name, call] : calls) EXPECT_NO_THROW(call()) << name;
    EXPECT_EQ(epoch_loss.size(), std::size_t(folds) * net.num_heads());
    for (double l : loss) EXPECT_GT(l, 0.0);  // set_loss ran
  }
}

// A step takes its rows from the epoch's row orders: after setup, and after new training rows
// (whose orders the group does not have yet), a step without start_epoch is refused, naming it.
TEST(NnMultiFold, AStepNeedsAnEpochStartedAfterNewTrainingRows) {
  const Network net = test::tanh_energy_network(3, 4);
  EncodedRows set;
  set.rows = 4;
  set.inputs.assign(set.rows * net.inputs(), 0.5f);
  set.targets = {std::vector<float>(set.rows, 1.0f)};
  const std::vector<std::vector<std::size_t>> orders = {{0, 1, 2, 3}};
  const FoldBatch batch{0, 4, 1};
  const float alpha[] = {1.0f};
  for (const auto& backend : available_backend_names()) {
    SCOPED_TRACE(backend);
    auto group = make_fold_group(backend, 1);
    group->setup(net, 1, 4, Precision::fp32, FoldGroupUse::training);
    auto refused = [&] {
      try {
        group->step(&batch, alpha);
        ADD_FAILURE() << "a step without start_epoch must fail";
      } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("without start_epoch"), std::string::npos) << e.what();
      }
    };
    refused();
    group->set_training_rows(0, set);
    group->start_epoch(orders, 1e-2);
    EXPECT_NO_THROW(group->step(&batch, alpha));
    group->set_training_rows(0, set);
    refused();
    group->start_epoch(orders, 1e-2);
    EXPECT_NO_THROW(group->step(&batch, alpha));
  }
}

// set_loss gives one loss per head whatever `out` held before (a vector last filled by
// take_epoch_loss, folds x heads, left stale entries behind on the CPU groups), for an empty set
// too (NaN per head).
TEST(NnMultiFold, SetLossGivesOneLossPerHeadWhateverOutHeld) {
  NetworkSpec spec;
  spec.inputs = 3;
  spec.heads = {{Task::energy, 1, 0}, {Task::charge, 2, 0}};
  const Network net(spec);
  EncodedRows set, empty;
  set.rows = 3;
  set.inputs.assign(set.rows * spec.inputs, 0.5f);
  set.targets = {std::vector<float>(3, 1.0f), std::vector<float>(6, -1.0f)};
  empty.targets = {{}, {}};
  for (const auto& backend : available_backend_names()) {
    SCOPED_TRACE(backend);
    auto group = make_fold_group(backend, 1);
    group->setup(net, 2, 3, Precision::fp32, FoldGroupUse::training);
    for (int f = 0; f < 2; ++f) group->set_validation_rows(f, set);
    std::vector<double> out(7, 123.0);
    group->set_loss(1, set, 3, out);
    ASSERT_EQ(out.size(), 2u);
    for (double l : out) EXPECT_GT(l, 0.0);
    out.assign(7, 123.0);
    group->set_loss(0, empty, 3, out);
    ASSERT_EQ(out.size(), 2u);
    for (double l : out) EXPECT_TRUE(std::isnan(l));
  }
}
