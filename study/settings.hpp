#pragma once
// The deck's `study` table (docs/deck.md, "study"): where the report goes, where the data come
// from (build with the deck's driver, or import LSMS outputs), which models to train and
// compare, and whether to run Monte Carlo on one of them.
#include <filesystem>
#include <string>
#include <vector>

#include "core/deck.hpp"

namespace lsmss::study {

// One model of the study: a name for the tables and the keys that replace the deck's
// `training` keys for it (any training key, so new model kinds need no change here).
struct ModelEntry {
  std::string name;          // "STL E", "MTL E+C", ...
  std::string slug;          // file-name form of the name: "stl_e", "mtl_e_c"
  int index = 0;             // 1-based position in study.models (the Lua merge reads it)
  bool from_search = false;  // the architecture `lsms-surrogate search` chose (study.search)
};

struct StudySettings {
  std::filesystem::path report;         // report directory
  std::filesystem::path import_source;  // LSMS outputs to import; empty: build with the driver
  std::vector<ModelEntry> models;
  bool montecarlo = false;       // run the deck's `montecarlo` section on a surrogate
  std::string mc_model;          // name of the model Monte Carlo uses
  long cost_predictions = 1000;  // configurations timed for seconds per prediction
  long parity_fold = 0;          // the fold model whose test predictions are plotted
  // Deck fragment with the winning architecture of `lsms-surrogate search` (a `training`
  // table); when the file exists, it is trained as one more model, "search".
  std::filesystem::path search_fragment;

  // Reads `study` of the deck (finish() on it): `deck_file` gives the default report folder
  // (<deck stem>_study); `report` and `search` are taken from the current directory like every
  // output path, `import` (an input) from the deck's folder.
  static StudySettings from_deck(const DeckTable& root, const std::filesystem::path& deck_file);
};

// "MTL E+C" -> "mtl_e_c": lowercase letters and digits, everything else one '_'.
std::string slug_of(const std::string& name);

// Lua text that, appended to the deck, replaces its `training` table by the merge of the
// deck's `training` keys and the keys of study.models[entry.index] (the entry's keys win;
// `name` is dropped). For the search winner, the fragment file's own text is appended instead.
std::string training_override_lua(const ModelEntry& entry);
// Lua run after the deck that puts a `lsms-surrogate search` winner fragment (docs/search.md: a
// chunk returning { shared, shared_activations }) into training.architecture, keeping the deck's
// other architecture keys (e.g. task_specific).
std::string search_override_lua(const std::string& fragment_text);

}  // namespace lsmss::study
