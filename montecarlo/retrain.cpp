#include "montecarlo/retrain.hpp"

#include "core/defaults.hpp"

namespace lsmss::mc {

std::string fallback_dataset_file(const DeckTable& root, const std::filesystem::path& deck_file) {
  const DeckTable fallback = root.table("montecarlo").table("fallback");
  const std::string given = fallback.present() ? fallback.string("dataset", "") : "";
  return given.empty() ? defaults::dataset_file(root, deck_file) : given;
}

std::string retrain_model_file(const DeckTable& root, const std::string& trained_model) {
  const DeckTable surrogate = root.table("surrogate");
  if (!surrogate.present() || !surrogate.has("model")) return trained_model;
  if (!surrogate.is_string("model"))
    surrogate.error("model", "lists several files: give the retrained model file with --output");
  return surrogate.string("model");
}

}  // namespace lsmss::mc
