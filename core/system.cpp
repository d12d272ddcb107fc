#include "core/system.hpp"

#include <limits>

namespace lsmss {

std::string System::name() const {
  std::string s;
  for (const auto& sp : species) s += sp.symbol;
  return s;
}

int System::species_index(int Z) const {
  for (int i = 0; i < num_species(); ++i)
    if (species[i].Z == Z) return i;
  return -1;
}

System System::from_deck(const DeckTable& t) {
  if (!t.present()) t.error("", "the deck has no 'system' table (lattice, a, supercell, species)");
  const std::string kind = t.choice("lattice", "fcc", {"sc", "bcc", "fcc", "bct"});
  const double a = t.number("a");
  if (!(a >= kMinLatticeConstant && a <= kMaxLatticeConstant))
    t.error("a", fmt::format("lattice constant must lie in [{}, {}] Bohr, got {}",
                             kMinLatticeConstant, kMaxLatticeConstant, a));
  double c = a;
  if (kind == "bct") {
    c = t.number("c");
    if (!(c >= kMinLatticeConstant && c <= kMaxLatticeConstant))
      t.error("c", fmt::format("lattice constant must lie in [{}, {}] Bohr, got {}",
                               kMinLatticeConstant, kMaxLatticeConstant, c));
  } else if (t.has("c")) {
    t.error("c", fmt::format("is only used by lattice = 'bct', not '{}'", kind));
  }
  const auto reps = t.integers("supercell", {1, 1, 1});
  if (reps.size() != 3)
    t.error("supercell", fmt::format("expected 3 repetitions {{nx, ny, nz}}, got {}", reps.size()));
  for (long r : reps)
    if (r < 1 || r > 64)
      t.error("supercell", fmt::format("repetitions must lie in [1, 64], got {}", r));
  const auto symbols = t.strings("species");
  if (symbols.size() < 2) t.error("species", "needs at least two species, e.g. {\"Cu\", \"Au\"}");
  System sys{
      Lattice(lattice_kind_from_name(kind), a, c,
              {static_cast<int>(reps[0]), static_cast<int>(reps[1]), static_cast<int>(reps[2])}),
      {}};
  for (const auto& s : symbols) {
    try {
      sys.species.push_back(species_from_symbol(s));
    } catch (const Error& e) {
      t.error("species", e.what());
    }
  }
  for (std::size_t i = 0; i < sys.species.size(); ++i)
    for (std::size_t j = 0; j < i; ++j)
      if (sys.species[i].Z == sys.species[j].Z)
        t.error("species", fmt::format("'{}' is listed twice", symbols[i]));
  if (sys.lattice.num_sites() > 4096) t.error("supercell", "more than 4096 sites is not supported");
  t.finish();
  return sys;
}

}  // namespace lsmss
