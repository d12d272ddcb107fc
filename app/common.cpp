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

void add_unavailable_command(CLI::App& app, const std::string& name, const std::string& what) {
  auto* sub = app.add_subcommand(name, what + " [not yet available in this version]");
  sub->allow_extras();
  sub->callback([name] {
    throw NotCompiledError(
        fmt::format("'{}' is not yet available in this version of lsms-surrogate", name));
  });
}

}  // namespace lsmss::app
