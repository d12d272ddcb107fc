#pragma once
// Defaults that more than one stage, or a library and the CLI, need: each is written here once,
// and every reader asks here (their meaning is documented in docs/deck.md).
#include <filesystem>
#include <string>

namespace lsmss {
class DeckTable;
}

namespace lsmss::defaults {

// Deck key `driver`.
inline constexpr const char* kDriver = "tb";
// Deck key `training.learning_rate` (Adam's step size).
inline constexpr double kLearningRate = 1e-4;

// `<deck stem>.h5`: the dataset a deck builds, trains on and appends DFT fallbacks to.
std::string dataset_file(const std::filesystem::path& deck_file);
// The deck's `dataset.file`, else dataset_file(deck_file).
std::string dataset_file(const DeckTable& root, const std::filesystem::path& deck_file);
// `<deck stem>.model.h5`: the model file `train` writes (deck key `training.model`).
std::string model_file(const std::filesystem::path& deck_file);

}  // namespace lsmss::defaults
