#pragma once
// The files of the active-learning loop (`mc` with montecarlo.fallback, then `retrain`): where
// the DFT fallback appends and `retrain` reads, and the model `retrain` replaces. Written once
// here so the fallback, `retrain` and their docs (docs/montecarlo.md) agree.
#include <filesystem>
#include <string>

#include "core/deck.hpp"

namespace lsmss::mc {

// montecarlo.fallback.dataset, else the deck's dataset file (defaults::dataset_file: the one
// `build` writes and `train` reads).
std::string fallback_dataset_file(const DeckTable& root, const std::filesystem::path& deck_file);

// The model file the surrogate driver loads (surrogate.model), so the next `mc` run uses the
// retrained ensemble; without that key, `trained_model` (training.model, as `train` writes it).
// A surrogate.model listing several files is an error naming the key: there is no one file to
// replace.
std::string retrain_model_file(const DeckTable& root, const std::string& trained_model);

}  // namespace lsmss::mc
