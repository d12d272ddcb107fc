#pragma once
// Several fold models of one architecture trained together, in lockstep: one epoch of every
// fold, then the next (the FoldGroup interface: nn/core/fold_group.hpp). The bookkeeping (per-fold
// splits, row sets, seeds, shuffles, batch plans, Adam step counters, learning curves and early
// stopping) is host code shared by every backend; a FoldGroup runs one lockstep step of all folds.
// On the CPU the group is one backend per fold (results identical to training the folds one by one,
// tested); the cuda backend runs all folds in the same kernels (strided-batched GEMMs over the
// folds' stacked parameters).
#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "dataset_builder/dataset.hpp"
#include "nn/core/backend.hpp"
#include "nn/core/fold_group.hpp"
#include "nn/core/network.hpp"
#include "nn/core/trainer.hpp"
#include "nn/model.hpp"

namespace lsmss::nn {

// The CPU group: one `backend` (reference, onednn) per fold, stepped one after the other.
std::unique_ptr<FoldGroup> make_backend_fold_group(const std::string& backend, int threads);
// The group for training.backend: the cuda group where that backend is chosen (and compiled),
// the CPU group otherwise.
std::unique_ptr<FoldGroup> make_fold_group(const std::string& backend, int threads);

// Whether training.backend resolves to a backend that trains folds together (cuda): then
// train_model and the fold loop of `train` go through train_folds_together.
bool trains_folds_together(const TrainingOptions& options);

// Trains `folds` of `data` together (one lockstep epoch of every fold at a time) and returns
// their models in the order of `folds`. With a CPU backend the models are those of
// train_model() for each fold (same seeds, same arithmetic).
std::vector<Model> train_folds_together(const dataset::Dataset& data,
                                        const TrainingOptions& options,
                                        const std::vector<int>& folds,
                                        const std::string& deck_text = "");

}  // namespace lsmss::nn
