#pragma once
// The evaluate stage of a study: every trained model file against the dataset's held-out test
// rows, written as the CSV files the tables and plots are made from (docs/study-format.md):
//   rmse_folds.csv        test RMSE per model, fold model and task
//   parity_<task>.csv     reference vs predicted test values of one fold model per model
//   rmse_composition.csv  test RMSE per composition (all fold models together)
//   learning_curves.csv   training and validation loss per epoch sample, fold models
#include <filesystem>
#include <string>
#include <vector>

#include "dataset_builder/dataset.hpp"
#include "study/stages.hpp"

namespace lsmss::study {

struct TrainedModel {
  std::string name;
  std::filesystem::path file;  // model file with the fold models
};

struct EvaluateOptions {
  long parity_fold = 0;          // the fold model whose predictions go to parity_<task>.csv
  long cost_predictions = 1000;  // configurations timed one by one (seconds per prediction)
  bool progress = true;
};

// Writes the files above into `report`; returns the timing of predictions
// (predict_seconds_single / _batched: wall seconds per configuration of one fold model,
// predict_cpu_seconds_single: the same in CPU time).
Measurements evaluate_models(const std::vector<TrainedModel>& models, const dataset::Dataset& data,
                             const std::filesystem::path& report, const EvaluateOptions& options);

// One line of rmse_folds.csv.
struct FoldError {
  std::string model, task, unit;
  int fold = 0;
  double rmse = 0, rmse_mev_per_atom = 0;  // the latter NaN except for energy
};
std::vector<FoldError> read_fold_errors(const std::filesystem::path& csv);

}  // namespace lsmss::study
