#include "app/common.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

namespace lsmss::app {

LoadedDeck load_deck(const std::filesystem::path& path, const AppContext& ctx) {
  DeckOptions opts;
  opts.allow_io = ctx.allow_lua_io;
  opts.allow_commands = ctx.allow_lua_io || ctx.allow_commands;
  Deck deck = Deck::from_file(path, opts);
  const DeckTable& root = deck.root();
  System system = System::from_deck(root.table("system"));
  for (const auto& s : deck_sections()) root.allow({s});
  for (const auto& d : ctx.registry.names()) root.allow({d});
  root.finish();
  return LoadedDeck{std::move(deck), std::move(system)};
}

void check_deck_matches_dataset(const LoadedDeck& d, const dataset::Dataset& data,
                                const std::string& data_path) {
  if (data.damaged_rows > 0)
    print_warning(fmt::format(
        "{}: {} damaged rows (failed checksum, not a torn tail) are left out; `lsms-surrogate "
        "info {}` lists them",
        data_path, data.damaged_rows, data_path));
  const System &a = d.system, &b = data.system;
  auto close = [](double x, double y) {
    return std::abs(x - y) <= 1e-6 * std::max(1.0, std::abs(x));
  };
  bool same = a.lattice.kind() == b.lattice.kind() &&
              a.lattice.supercell() == b.lattice.supercell() &&
              close(a.lattice.a(), b.lattice.a()) && close(a.lattice.c(), b.lattice.c()) &&
              a.species.size() == b.species.size();
  for (std::size_t k = 0; same && k < a.species.size(); ++k)
    same = a.species[k].symbol == b.species[k].symbol;
  if (!same)
    fail("{} describes {} on {}, but the dataset {} was computed for {} on {}", d.deck.file(),
         a.name(), a.lattice.describe(), data_path, b.name(), b.lattice.describe());
}

void print_warning(const std::string& line) {
  fmt::print(stderr, "lsms-surrogate: warning: {}\n", line);
}

CLI::Validator finite_in(double lo, double hi) {
  return CLI::Validator(
      [lo, hi](std::string& text) -> std::string {
        double v = 0;
        try {
          std::size_t used = 0;
          v = std::stod(text, &used);
          if (used != text.size()) return fmt::format("'{}' is not a number", text);
        } catch (const std::exception&) {
          return fmt::format("'{}' is not a number", text);
        }
        if (!std::isfinite(v) || v < lo || v > hi)
          return fmt::format("{} is not a finite number in [{}, {}]", text, lo, hi);
        return {};
      },
      fmt::format("NUMBER in [{}, {}]", lo, hi));
}

}  // namespace lsmss::app
