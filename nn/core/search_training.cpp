#include "nn/core/search_training.hpp"

#include <algorithm>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "core/error.hpp"
#include "core/mpi.hpp"
#include "nn/core/fold_training.hpp"

namespace lsmss::nn {

TrainingOptions search_training_options(const TrainingOptions& training,
                                        const SearchSettings& search,
                                        const dataset::Dataset& data) {
  TrainingOptions o = training;
  if (search.epochs > 0) o.epochs = search.epochs;
  for (int f : search.folds)
    if (f >= data.num_folds)
      fail("search.folds names fold {}, the dataset has folds 0..{}", f, data.num_folds - 1);
  if (!search.folds.empty()) o.folds = search.folds;
  o.folds = folds_to_train(data, o);
  if (data.num_folds < 2)
    fail(
        "the search validates on held-out folds, but the dataset has {} fold (sampling.folds "
        ">= 2 is needed)",
        data.num_folds);
  o.progress = false;
  return o;
}

TrainingOptions trial_options(const TrainingOptions& base, const Architecture& a) {
  TrainingOptions o = base;
  o.shared = a.widths;
  o.shared_act = a.activations;
  return o;
}

std::string training_fingerprint(const TrainingOptions& o, const dataset::Dataset& data) {
  std::vector<std::string> tasks;
  for (Task t : o.tasks) tasks.push_back(task_name(t));
  return fmt::format(
      "tasks={} task_width={} task_act={} alpha={} lr={} schedule={},{},{},{} epochs={} "
      "batch={},{} folds={} seed={} energy_target={} charge_target={} patience={},{} "
      "precision={} data={}",
      fmt::join(tasks, ","), o.task_width, activation_name(o.task_act), fmt::join(o.alpha, ","),
      o.learning_rate, static_cast<int>(o.lr_schedule), o.lr_factor, o.lr_every, o.lr_min, o.epochs,
      o.batch_fraction, o.batch_size, fmt::join(o.folds, ","), o.seed,
      static_cast<int>(o.energy_target), static_cast<int>(o.charge_target), o.patience, o.min_delta,
      static_cast<int>(o.precision), data.fingerprint());
}

double validation_loss(const Model& model, const dataset::Dataset& data,
                       const std::vector<double>& alpha) {
  const FoldSplit split = split_for_fold(data, model.fold());
  if (split.validation.empty()) fail("fold {} has no validation rows", model.fold());
  const Evaluation ev = evaluate_model(model, data, split.validation);
  double loss = 0;
  for (std::size_t t = 0; t < ev.tasks.size(); ++t) {
    const double weight = alpha.empty() ? 1.0 : alpha[t];
    loss += weight * ev.tasks[t].rmse_over_training_std * ev.tasks[t].rmse_over_training_std;
  }
  return loss;
}

TrialEvaluator fold_trial_evaluator(const SearchTraining& training) {
  return [training](const Architecture& a) {
    const TrainingOptions options = trial_options(training.base, a);
    FoldTrainingRun run;
    run.output = training.work_model;
    run.deck_text = training.deck_text;
    run.system = training.system;
    run.comm = training.comm;
    const FoldTrainingResult result = train_folds(*training.data, options, training.folds, run);
    std::vector<double> losses(training.folds.size(), 0.0);
    const int rank = mpi::rank_of(training.comm);
    if (rank == 0) {
      // Models come in fold order with several ranks, in training order with one.
      for (const Model& m : result.models) {
        const auto at = std::find(training.folds.begin(), training.folds.end(), m.fold());
        if (at == training.folds.end()) fail("trial model of fold {} was not asked for", m.fold());
        losses[at - training.folds.begin()] = validation_loss(m, *training.data, options.alpha);
      }
      std::filesystem::remove(training.work_model);
    }
    // Ranks other than 0 hold no models: the losses come from rank 0.
    if (mpi::size_of(training.comm) > 1)
      MPI_Bcast(losses.data(), static_cast<int>(losses.size()), MPI_DOUBLE, 0, training.comm);
    return losses;
  };
}

}  // namespace lsmss::nn
