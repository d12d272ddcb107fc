#include "study/settings.hpp"

#include <cctype>
#include <set>

#include <fmt/format.h>

#include "core/error.hpp"

namespace lsmss::study {

std::string slug_of(const std::string& name) {
  std::string s;
  for (char c : name) {
    if (std::isalnum(static_cast<unsigned char>(c)))
      s += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    else if (!s.empty() && s.back() != '_')
      s += '_';
  }
  while (!s.empty() && s.back() == '_') s.pop_back();
  return s;
}

std::string training_override_lua(const ModelEntry& entry) {
  // Plain Lua run after the deck: the entry's keys replace the deck's (whole sub-tables, e.g.
  // `architecture`), so a model kind with its own training keys needs nothing here.
  return fmt::format(
      "\ndo\n"
      "  local merged = {{}}\n"
      "  for k, v in pairs(training or {{}}) do merged[k] = v end\n"
      "  for k, v in pairs(study.models[{}]) do if k ~= 'name' then merged[k] = v end end\n"
      "  training = merged\n"
      "end\n",
      entry.index);
}

std::string search_override_lua(const std::string& fragment_text) {
  // The fragment is a chunk ending in `return {...}`: run it as a function body.
  return "\ndo\n"
         "  local winner = (function()\n" +
         fragment_text +
         "\n  end)()\n"
         "  local merged, arch = {}, {}\n"
         "  for k, v in pairs(training or {}) do merged[k] = v end\n"
         "  for k, v in pairs(merged.architecture or {}) do arch[k] = v end\n"
         "  arch.shared = winner.shared\n"
         "  arch.shared_activations = winner.shared_activations\n"
         "  merged.architecture = arch\n"
         "  training = merged\n"
         "end\n";
}

namespace {

std::vector<ModelEntry> read_models(const DeckTable& study) {
  std::vector<ModelEntry> models;
  std::set<std::string> slugs;
  const auto tables = study.tables("models");
  if (tables.empty())
    study.error("models",
                "a list of models to train, e.g. { {name = 'STL E', tasks = {'energy'}} }");
  for (std::size_t i = 0; i < tables.size(); ++i) {
    const DeckTable& t = tables[i];
    ModelEntry m;
    m.name = t.string("name");
    if (m.name.find_first_of(",\"<>&\n") != std::string::npos)
      t.error("name", fmt::format("'{}': a model name may not contain , \" < > & (it goes into "
                                  "CSV files and the HTML page)",
                                  m.name));
    m.slug = slug_of(m.name);
    m.index = static_cast<int>(i) + 1;
    if (m.slug.empty() || m.slug == "search")
      t.error("name", fmt::format("'{}' cannot name a model (letters or digits needed; 'search' "
                                  "is the search winner's)",
                                  m.name));
    if (!slugs.insert(m.slug).second)
      t.error("name",
              fmt::format("'{}' names the same files as another model ({})", m.name, m.slug));
    // The other keys are training keys: TrainingOptions::from_deck checks them per model.
    for (const auto& k : t.keys())
      if (k != "name") t.allow({k});
    models.push_back(std::move(m));
  }
  return models;
}

}  // namespace

StudySettings StudySettings::from_deck(const DeckTable& root,
                                       const std::filesystem::path& deck_file) {
  const DeckTable study = root.table("study");
  if (!study.present())
    throw DeckError(
        fmt::format("{}: no `study` table: a study names its models (docs/deck.md, "
                    "\"study\")",
                    deck_file.string()));
  StudySettings s;
  s.report = study.string("report", deck_file.stem().string() + "_study");
  if (study.has("import")) {
    // Like lsms.executable: a relative path is taken from the deck's folder, so the deck works
    // from any working directory.
    s.import_source = study.string("import");
    if (s.import_source.is_relative())
      s.import_source = (deck_file.parent_path() / s.import_source).lexically_normal();
  }
  s.models = read_models(study);
  s.montecarlo = study.boolean("montecarlo", root.table("montecarlo").present());
  if (s.montecarlo && !root.table("montecarlo").present())
    study.error("montecarlo", "true, but the deck has no `montecarlo` table");
  s.mc_model = study.string("mc_model", "");
  if (s.montecarlo) {
    if (s.mc_model.empty()) s.mc_model = s.models.front().name;
    bool known = false;
    for (const auto& m : s.models) known = known || m.name == s.mc_model;
    if (!known)
      study.error("mc_model", fmt::format("'{}' is not a name in study.models", s.mc_model));
  }
  s.cost_predictions = study.integer("cost_predictions", 1000, 1, 100'000'000);
  s.parity_fold = study.integer("parity_fold", 0, 0, 1'000'000);
  if (study.has("search")) s.search_fragment = study.string("search");
  study.finish();
  return s;
}

}  // namespace lsmss::study
