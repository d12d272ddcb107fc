#include "dataset_builder/settings.hpp"

#include <algorithm>
#include <filesystem>
#include <limits>
#include <map>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "core/defaults.hpp"

namespace lsmss::dataset {

SamplingSettings SamplingSettings::from_deck(const DeckTable& t, const System& sys) {
  SamplingSettings s;
  s.cap = t.integer("cap", s.cap, 1, 10'000'000);
  s.seed = static_cast<std::uint64_t>(t.integer("seed", 1, 0, std::numeric_limits<long>::max()));
  s.folds = static_cast<int>(t.integer("folds", s.folds, 1, 100'000));
  s.test_fraction = t.number_in("test_fraction", s.test_fraction, 0.0, 0.99);
  s.unique_translations = t.boolean("unique_translations", false);
  for (long c : t.integers("compositions", {})) {
    if (c < 0 || c > sys.num_sites())
      t.error("compositions",
              fmt::format("{} atoms of {} is outside 0..{} (the supercell's sites)", c,
                          sys.species.empty() ? "A" : sys.species[0].symbol, sys.num_sites()));
    s.compositions.push_back(static_cast<int>(c));
  }
  std::sort(s.compositions.begin(), s.compositions.end());
  if (std::adjacent_find(s.compositions.begin(), s.compositions.end()) != s.compositions.end())
    t.error("compositions", "lists a composition twice");
  t.finish();
  return s;
}

std::vector<int> SamplingSettings::composition_list(int num_sites) const {
  if (!compositions.empty()) return compositions;
  std::vector<int> all(num_sites + 1);
  for (int k = 0; k <= num_sites; ++k) all[k] = k;
  return all;
}

DatasetSettings DatasetSettings::from_deck(const DeckTable& t, const std::string& deck_file) {
  DatasetSettings s;
  s.file = t.string("file", defaults::dataset_file(deck_file));
  if (s.file.empty()) t.error("file", "must not be empty");
  s.ranks_per_calculation = static_cast<int>(t.integer("ranks_per_calculation", 1, 1, 1'000'000));
  s.retries = static_cast<int>(t.integer("retries", s.retries, 0, 1000));
  s.batch = static_cast<int>(t.integer("batch", s.batch, 1, 100'000));
  s.coordinator_computes = t.boolean("coordinator_computes", true);
  t.finish();
  return s;
}

std::vector<std::string> plan_keys(const System& sys, const SamplingSettings& s) {
  const auto& L = sys.lattice;
  std::vector<std::string> symbols;
  for (const auto& sp : sys.species) symbols.push_back(sp.symbol);
  const auto reps = L.supercell();
  std::vector<std::string> k = {
      fmt::format("system.lattice = {}", lattice_kind_name(L.kind())),
      fmt::format("system.a = {:.17g}", L.a()),
      fmt::format("system.c = {:.17g}", L.c()),
      fmt::format("system.supercell = {},{},{}", reps[0], reps[1], reps[2]),
      fmt::format("system.species = {}", fmt::join(symbols, ",")),
      fmt::format("sampling.cap = {}", s.cap),
      fmt::format("sampling.seed = {}", s.seed),
      fmt::format("sampling.folds = {}", s.folds),
      fmt::format("sampling.test_fraction = {:.17g}", s.test_fraction),
      fmt::format("sampling.unique_translations = {}", s.unique_translations),
      fmt::format("sampling.compositions = {}",
                  s.compositions.empty() ? std::string("all")
                                         : fmt::format("{}", fmt::join(s.compositions, ","))),
  };
  return k;
}

namespace {

// Tries the typed accessors in turn: the deck API has no type query, and a failed accessor
// only throws.
template <class F>
bool try_read(F&& f) {
  try {
    f();
    return true;
  } catch (const DeckError&) {
    return false;
  }
}

void collect(const DeckTable& t, const std::string& prefix, std::vector<std::string>& out) {
  for (const auto& key : t.keys()) {
    std::string name = prefix;
    if (!name.empty()) name += '.';
    name += key;
    if (try_read([&] { out.push_back(fmt::format("{} = {:.17g}", name, t.number(key))); }))
      continue;
    if (try_read([&] { out.push_back(fmt::format("{} = {}", name, t.boolean(key, false))); }))
      continue;
    if (try_read([&] { out.push_back(fmt::format("{} = \"{}\"", name, t.string(key))); })) continue;
    if (try_read([&] {
          out.push_back(fmt::format("{} = {{{:.17g}}}", name, fmt::join(t.numbers(key), ",")));
        }))
      continue;
    if (try_read([&] {
          out.push_back(fmt::format("{} = {{\"{}\"}}", name, fmt::join(t.strings(key), "\",\"")));
        }))
      continue;
    if (try_read([&] {
          const auto items = t.tables(key);
          for (std::size_t i = 0; i < items.size(); ++i)
            collect(items[i], fmt::format("{}[{}]", name, i + 1), out);
          if (items.empty()) throw DeckError("not a list of tables");
        }))
      continue;
    const std::size_t before = out.size();
    collect(t.table(key), name, out);
    if (out.size() == before) out.push_back(fmt::format("{} = {{}}", name));
  }
}

std::map<std::string, std::string> split_keys(const std::vector<std::string>& lines) {
  std::map<std::string, std::string> m;
  for (const auto& l : lines) {
    const auto eq = l.find(" = ");
    if (eq == std::string::npos)
      m[l] = "";
    else
      m[l.substr(0, eq)] = l.substr(eq + 3);
  }
  return m;
}

}  // namespace

std::vector<std::string> table_keys(const DeckTable& t, const std::string& prefix) {
  std::vector<std::string> out;
  collect(t, prefix, out);
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::string> diff_keys(const std::vector<std::string>& stored,
                                   const std::vector<std::string>& current) {
  const auto a = split_keys(stored), b = split_keys(current);
  std::vector<std::string> d;
  for (const auto& [k, v] : a) {
    auto it = b.find(k);
    if (it == b.end())
      d.push_back(fmt::format("{}: file has {}, the deck does not set it", k, v));
    else if (it->second != v)
      d.push_back(fmt::format("{}: file has {}, deck has {}", k, v, it->second));
  }
  for (const auto& [k, v] : b)
    if (!a.count(k))
      d.push_back(fmt::format("{}: deck has {}, the file was made without it", k, v));
  return d;
}

}  // namespace lsmss::dataset
