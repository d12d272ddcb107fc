#include "app/common.hpp"

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
