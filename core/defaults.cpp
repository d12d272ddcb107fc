#include "core/defaults.hpp"

#include "core/deck.hpp"

namespace lsmss::defaults {

std::string dataset_file(const std::filesystem::path& deck_file) {
  return deck_file.stem().string() + ".h5";
}

std::string dataset_file(const DeckTable& root, const std::filesystem::path& deck_file) {
  const DeckTable ds = root.table("dataset");
  return ds.present() && ds.has("file") ? ds.string("file") : dataset_file(deck_file);
}

std::string model_file(const std::filesystem::path& deck_file) {
  return deck_file.stem().string() + ".model.h5";
}

}  // namespace lsmss::defaults
