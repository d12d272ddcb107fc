#pragma once
// The architecture search's trials on real data: each candidate is trained on the search's
// folds through nn::train_folds (folds spread over the MPI ranks of `comm`), and rank 0 measures
// every fold model's validation loss and shares the losses with all ranks, so that every rank
// follows the same search (nn/core/architecture_search.hpp).
#include <filesystem>
#include <string>
#include <vector>

#include <mpi.h>

#include "core/system.hpp"
#include "dataset_builder/dataset.hpp"
#include "nn/core/architecture_search.hpp"
#include "nn/core/trainer.hpp"

namespace lsmss::nn {

struct SearchTraining {
  const dataset::Dataset* data = nullptr;
  TrainingOptions base;    // the deck's training options; the search sets the shared layers
  std::vector<int> folds;  // trained per trial
  std::filesystem::path work_model;  // model file of the trial in progress (removed after it)
  std::string deck_text;             // provenance of the trial models
  const System* system = nullptr;    // when set, every model must match it
  MPI_Comm comm = MPI_COMM_SELF;
};

// The search's settings applied to the deck's training options: epochs and folds.
TrainingOptions search_training_options(const TrainingOptions& training,
                                        const SearchSettings& search, const dataset::Dataset& data);

// The training options of one candidate: `base` with the candidate's shared layers.
TrainingOptions trial_options(const TrainingOptions& base, const Architecture& a);

// What, besides the search's own settings, decides the trials' losses: the dataset and every
// training option that changes the result (not how it is computed: backend, threads).
std::string training_fingerprint(const TrainingOptions& options, const dataset::Dataset& data);

// Validation loss of a fold model: sum over tasks of alpha_t * mean squared error of the
// standardized outputs (value / training std of the raw value), on the fold's validation rows.
double validation_loss(const Model& model, const dataset::Dataset& data,
                       const std::vector<double>& alpha);

// The evaluator run_search calls: trains the candidate's fold models and returns their
// validation losses, on every rank.
TrialEvaluator fold_trial_evaluator(const SearchTraining& training);

}  // namespace lsmss::nn
