#include "core/driver.hpp"

#include <fmt/ranges.h>

#include "core/defaults.hpp"

namespace lsmss {

void DriverRegistry::add(std::string name, std::string description, Factory factory) {
  if (entries_.count(name)) fail("driver '{}' is registered twice", name);
  entries_.emplace(std::move(name), Entry{std::move(description), std::move(factory)});
}

bool DriverRegistry::contains(std::string_view name) const {
  return entries_.find(name) != entries_.end();
}

std::vector<std::string> DriverRegistry::names() const {
  std::vector<std::string> n;
  for (const auto& [k, _] : entries_) n.push_back(k);
  return n;
}

const std::string& DriverRegistry::description(std::string_view name) const {
  auto it = entries_.find(name);
  if (it == entries_.end()) fail("unknown driver '{}' (known: {})", name, fmt::join(names(), ", "));
  return it->second.description;
}

std::unique_ptr<Driver> DriverRegistry::create(std::string_view name,
                                               const DriverContext& ctx) const {
  auto it = entries_.find(name);
  if (it == entries_.end()) fail("unknown driver '{}' (known: {})", name, fmt::join(names(), ", "));
  auto d = it->second.factory(ctx);
  ctx.settings.finish();
  return d;
}

std::unique_ptr<Driver> DriverRegistry::create_from_deck(const DeckTable& root,
                                                         const System& system,
                                                         MPI_Comm comm) const {
  const std::string name = root.string("driver", defaults::kDriver);
  if (!contains(name))
    root.error("driver",
               fmt::format("unknown driver '{}' (known: {})", name, fmt::join(names(), ", ")));
  DriverContext ctx{system, root.table(name), root, comm};
  return create(name, ctx);
}

}  // namespace lsmss
