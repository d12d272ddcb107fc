#pragma once
// The training protocol (defaults = the paper's) and test-set evaluation.
#include <cstdint>
#include <string>
#include <vector>

#include "core/deck.hpp"
#include "core/defaults.hpp"
#include "dataset_builder/dataset.hpp"
#include "nn/core/backend.hpp"
#include "nn/core/linear_model.hpp"
#include "nn/core/network.hpp"
#include "nn/core/optimizer.hpp"
#include "nn/core/standardization.hpp"
#include "nn/core/symmetry_augmentation.hpp"
#include "nn/model.hpp"

namespace lsmss::nn {

struct TrainingOptions {
  std::vector<Task> tasks = {Task::energy};
  std::vector<int> shared = {200, 200};
  std::vector<Activation> shared_act;  // empty: `activation` for every shared layer
  Activation activation = Activation::relu;
  int task_width = -1;  // total task-specific width; -1: 0 for one task, 100 per task otherwise
  Activation task_act = Activation::relu;
  std::vector<double> alpha;  // per task; empty: 1
  double learning_rate = defaults::kLearningRate;
  long epochs = 30000;
  double batch_fraction = 0.1;
  long batch_size = 0;     // rows; > 0 overrides batch_fraction
  std::vector<int> folds;  // empty: all folds
  std::uint64_t seed = 1;
  std::string backend = "auto";
  int threads = 0;
  Precision precision = Precision::fp32;  // of the products; tf32/bf16: cuda backend only
  EnergyTarget energy_target = EnergyTarget::mixing;
  ChargeTarget charge_target = ChargeTarget::transfer;
  long patience = 0;      // early stopping (epochs without improvement); 0 = off
  bool keep_best = true;  // the model keeps the weights of the best validation loss
  // > 0: training and validation rows whose energy lies more than this many robust scales
  // (1.4826 MAD) from their composition's median are left out; 0 = keep every row.
  double outlier_z = 0.0;
  // The loss weight of those rows: 0 leaves them out (as above), 1 keeps them like every other
  // row, in between down-weights them (training.outlier_weight).
  double outlier_weight = 0.0;
  double min_delta = 0.0;
  LearningRateSchedule lr_schedule = LearningRateSchedule::constant;
  double lr_factor = 0.5;  // step: multiply every lr_every epochs
  long lr_every = 1000;
  double lr_min = 0.0;              // cosine: final learning rate
  ModelKind kind = ModelKind::mlp;  // training.kind (docs/nn.md, "Model kinds")
  LinearModelOptions linear;        // training.cluster_expansion
  int augment_translations = 0;     // training.augment.translations: copies per training row
  std::string model;                // from_deck: training.model, else defaults::model_file(<deck>)
  long curve_interval = 0;          // epochs between curve samples; 0: epochs/200 (>= 1)
  bool progress = true;
  // training.augment.copies and .group (nn/core/symmetry_augmentation.hpp)
  SymmetryAugmentation augment_symmetry;

  // Reads the deck's `training` table (every key typed, then finish()); `deck_file` names the
  // default model file.
  static TrainingOptions from_deck(const DeckTable& training,
                                   const std::filesystem::path& deck_file);
  NetworkSpec network_spec(int num_sites, int num_species) const;
  LearningRate learning_rate_schedule() const;
  std::string label() const;  // "STL E", "MTL E+C"
};

struct FoldSplit {
  std::vector<std::size_t> train, validation, test;
  // Loss weights of the train and validation rows (training.outlier_weight); empty: all 1.
  std::vector<float> train_weight, validation_weight;
};
// Fold f of the dataset's stored per-composition splits: train on the other folds, validate
// on fold f, test on the held-out test rows.
FoldSplit split_for_fold(const dataset::Dataset& data, int fold);
// split_for_fold, then the energy outliers of training.outlier_z (never the test rows) left
// out, or weighted by training.outlier_weight when that is > 0.
FoldSplit training_split(const dataset::Dataset& data, const TrainingOptions& options, int fold);
std::vector<int> folds_to_train(const dataset::Dataset& data, const TrainingOptions& opt);

// Reads training.kind, training.cluster_expansion and training.augment into `o`
// (nn/core/model_kinds.cpp).
void read_model_kind_keys(const DeckTable& training, TrainingOptions& o);

// The kinds with a linear part and translation augmentation (nn/core/model_kinds.cpp): fits the
// linear model, trains the network on its residual (ce+mlp) and/or on translated copies of the
// training rows. Called by train_model for anything but a plain MLP.
Model train_model_kind(const dataset::Dataset& data, const TrainingOptions& opt, int fold,
                       const std::string& deck_text);

// The dataset with `copies` distinct random lattice translations of every non-test row
// appended (same fold; charges and moments move with their sites).
dataset::Dataset augment_translations(const dataset::Dataset& data, int copies, std::uint64_t seed);
// training.augment.copies: the dataset with opt.augment_symmetry.copies distinct random
// operations of its group applied to each training row of `fold` (training_split(...).train:
// never the validation or test rows) appended.
dataset::Dataset augment_training_rows(const dataset::Dataset& data, const TrainingOptions& opt,
                                       int fold);

// Trains one fold model. `deck_text` is stored in the model file for provenance.
Model train_model(const dataset::Dataset& data, const TrainingOptions& opt, int fold,
                  const std::string& deck_text = "");

// ---------------------------------------------------------------- evaluation

struct TaskError {
  Task task = Task::energy;
  std::size_t count = 0;              // values compared
  double rmse = 0;                    // physical units (Ry, e, muB)
  double rmse_standardized = 0;       // rmse / composition_spread of the rows scored (NaN if 0)
  double rmse_over_training_std = 0;  // per output column, / the network's training std of the
                                      // raw value (the search's loss; NaN for a linear model)
  double rmse_mev_per_atom = 0;       // energy only: rmse / sites in meV
  double mae = 0;
};

struct ParityPoint {
  std::size_t row;
  int site;  // -1 for energy
  double reference, predicted;
};

struct Evaluation {
  int fold = -1;
  std::vector<TaskError> tasks;
  std::vector<std::vector<ParityPoint>> parity;  // per task (filled when asked)
};

inline constexpr double kRydbergMeV = 13605.693122994;

// `average_over` (optional): site permutations (chosen_symmetry_operations) over which each
// prediction is averaged (symmetrized_predictions) instead of the model's plain prediction.
using SymmetryOperations = std::vector<std::vector<int>>;
Evaluation evaluate_model(const Model& model, const dataset::Dataset& data,
                          const std::vector<std::size_t>& rows, bool parity = false,
                          const SymmetryOperations* average_over = nullptr);
// The scale of TaskError::rmse_standardized: the RMS deviation of the reference values of
// `rows` from the mean of their composition (the dataset's composition column; means over the
// same rows; charge and moment: the mean over the sites of the same species in that
// composition's rows). It is the RMSE of a model that knows those means and nothing else (the
// composition, and a site's own species), and does not depend on the model
// (every kind, fold and ensemble scored on the same rows gets the same scale). 0 without rows
// or when every composition's values are equal.
double composition_spread(const dataset::Dataset& data, const std::vector<std::size_t>& rows,
                          Task task);

// The errors of the mean prediction of `models` (a fold ensemble, as the surrogate driver and
// `predict` use it); fold = -1.
Evaluation evaluate_ensemble(const std::vector<Model>& models, const dataset::Dataset& data,
                             const std::vector<std::size_t>& rows,
                             const SymmetryOperations* average_over = nullptr);

}  // namespace lsmss::nn
