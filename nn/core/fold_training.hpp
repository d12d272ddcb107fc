#pragma once
// The fold models of one training run, spread over MPI ranks: what `lsms-surrogate train` and
// `retrain` share. Fold i is trained on rank i mod P; every rank rewrites its part file after
// each fold (an interrupted run keeps what it finished), and rank 0 gathers the parts, sorted by
// fold, into the output model file.
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include <mpi.h>

#include "core/system.hpp"
#include "dataset_builder/dataset.hpp"
#include "nn/core/trainer.hpp"
#include "nn/model.hpp"

namespace lsmss::nn {

struct FoldTrainingRun {
  std::filesystem::path output;    // the model file with every fold model
  std::string deck_text;           // stored in every model (provenance)
  const System* system = nullptr;  // when set, every model must match it (the deck's system)
  MPI_Comm comm = MPI_COMM_SELF;   // ranks sharing the folds (MPI may be uninitialized: one)
  // false: with one rank the output itself is rewritten after every fold. true: an existing
  // output is left untouched until every fold is done, then kept as <output stem>.prev.h5.
  bool keep_previous = false;
  // Called on the rank that trained it, after each fold model is saved (progress lines).
  std::function<void(const Model&)> on_model;
};

struct FoldTrainingResult {
  std::vector<Model> models;       // rank 0: every fold model, by fold; other ranks: empty
  int ranks_used = 1;              // ranks that trained at least one fold
  std::filesystem::path previous;  // where the old output was kept (empty: none)
};

// `<output>.rank<r>.part.h5`: rank r's models while a run is in progress.
std::filesystem::path fold_part_file(const std::filesystem::path& output, int rank);

// Trains `folds` of `data`. Throws lsmss::Error (on every rank, naming the failed rank's error
// where it is known) when any rank fails.
FoldTrainingResult train_folds(const dataset::Dataset& data, const TrainingOptions& options,
                               const std::vector<int>& folds, const FoldTrainingRun& run);

}  // namespace lsmss::nn
