#pragma once
// Scoring trained model files and reporting it (`lsms-surrogate evaluate`, and `train` after
// training; docs/nn.md, "Evaluation" and "Evaluation output files"): the fold models of each
// file and their ensemble scored on dataset rows, the text tables (the paper's Tables 2/3 in
// three scales, the scatter over the fold models), the CSV per fold model, the JSON of mean and
// sample std, the parity CSV, and the test errors kept in the model file (docs/model-format.md).
// The tables go to a stream the caller passes in; the library prints nothing itself.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "dataset_builder/dataset.hpp"
#include "nn/core/trainer.hpp"
#include "nn/model.hpp"

namespace lsmss::nn {

// Mean and sample standard deviation (n - 1 in the denominator; 0 for one value) of a quantity
// over fold models: the "mean +- std" of every table. NaN values give NaN.
struct MeanStd {
  double mean = 0, std = 0;
};
MeanStd mean_and_std(const std::vector<double>& values);

// "3.569e-02 +- 2.76e-03": one mean +- std cell of the tables (NaN prints as "nan").
std::string mean_std_text(const MeanStd& m);

// "MTL E+C" / "STL E" for the paper's MLP; other kinds lead with their name ("CE+MTL E+C" for
// ce+mlp, "CE E+C" for cluster_expansion), so `evaluate -m a -m b` compares kinds side by side.
std::string model_label(const Model& model);

// One model file scored: one row of the tables.
struct EvaluatedModel {
  std::string file, label;
  std::vector<Evaluation> folds;       // one per fold model, in file order
  std::optional<Evaluation> ensemble;  // the mean of the fold models (two or more)
};

// Scores `models` (the fold models of `file`, in file order) on `rows` of `data`, each one and,
// with two or more, their mean prediction. `parity` keeps every value compared (per fold model);
// `average_over` as in evaluate_model.
EvaluatedModel evaluate_models(const std::string& file, const std::string& label,
                               const std::vector<Model>& models, const dataset::Dataset& data,
                               const std::vector<std::size_t>& rows, bool parity = false,
                               const SymmetryOperations* average_over = nullptr);

// What a caller may want to show while models are scored (a line without a prefix).
using NoteSink = std::function<void(const std::string&)>;

// Loads every fold model of `file` on `backend` and scores them as evaluate_models does; the label
// is model_label of the first, with " symN" appended when averaged over N operations. Each fold
// model trained on other data than `data` (another dataset fingerprint) is told to `note` as it
// is loaded: "<file> model <i> was trained on other data (dataset hash <model's> vs <data's>)".
EvaluatedModel evaluate_file(const std::string& file, const dataset::Dataset& data,
                             const std::vector<std::size_t>& rows, const std::string& backend,
                             bool parity, const SymmetryOperations* average_over,
                             const NoteSink& note = {});

// The paper's Tables 2/3: test RMSE mean +- std over the fold models, one row per model file, in
// three scales (standardized, physical units, energy in meV/atom).
void print_rmse_tables(std::ostream& out, const std::vector<EvaluatedModel>& models);
// Per model file and task: min, median and max of the fold models' test RMSE, max / median and
// the ensemble's RMSE (energy mRy/cell, charge e, moment muB).
void print_fold_scatter(std::ostream& out, const std::vector<EvaluatedModel>& models);

// The files; each throws FileError when it cannot be written.
// One line per fold model (and the ensemble) and task.
void write_rmse_csv(const std::filesystem::path& csv, const std::vector<EvaluatedModel>& models);
// Mean and sample std over the fold models per model file and task (NaN as null).
void write_rmse_json(const std::filesystem::path& json, const std::vector<EvaluatedModel>& models);
// Every value compared (evaluated with `parity`): reference against predicted.
void write_parity_csv(const std::filesystem::path& csv, const std::vector<EvaluatedModel>& models,
                      const dataset::Dataset& data);

// Both tables to `out`, then the CSV and the JSON above.
void report_evaluation(std::ostream& out, const std::vector<EvaluatedModel>& models,
                       const std::filesystem::path& csv, const std::filesystem::path& json);

// The test errors of each fold model, kept in the model file `file` for `info` (attributes
// test_tasks, test_rmse, test_rows of /models/<i>; docs/model-format.md). `model` holds the
// evaluations of the file's fold models in file order.
void record_test_errors(const std::filesystem::path& file, const EvaluatedModel& model);

struct RecordedTestErrors {
  std::vector<Task> tasks;
  std::vector<double> rmse;  // per task, physical units
  std::int64_t rows = 0;     // test rows scored
};
// The errors record_test_errors kept for fold model `member` of `file`; nullopt when none were
// recorded (e.g. `train --no-evaluate`). Throws lsmss::Error for a task name it does not know.
std::optional<RecordedTestErrors> read_test_errors(const std::filesystem::path& file,
                                                   std::size_t member);

}  // namespace lsmss::nn
