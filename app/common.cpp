#include "app/common.hpp"

namespace lsmss::app {

LoadedDeck load_deck(const std::filesystem::path& path, const AppContext& ctx) {
  DeckOptions opts;
  opts.allow_io = ctx.allow_lua_io;
  Deck deck = Deck::from_file(path, opts);
  const DeckTable& root = deck.root();
  System system = System::from_deck(root.table("system"));
  for (const auto& s : deck_sections()) root.allow({s});
  for (const auto& d : ctx.registry.names()) root.allow({d});
  root.finish();
  return LoadedDeck{std::move(deck), std::move(system)};
}

}  // namespace lsmss::app
