#pragma once
// The physical system of a study: lattice + supercell and the species that occupy it.
#include <string>
#include <vector>

#include "core/deck.hpp"
#include "core/lattice.hpp"
#include "core/species.hpp"

namespace lsmss {

struct System {
  Lattice lattice;
  std::vector<Species> species;  // species[0] is "A": composition counts its atoms

  int num_sites() const { return lattice.num_sites(); }
  int num_species() const { return static_cast<int>(species.size()); }
  std::string name() const;        // e.g. "CuAu"
  int species_index(int Z) const;  // -1 if not present

  // Reads the deck's `system` table (keys: lattice, a, c, supercell, species).
  static System from_deck(const DeckTable& system_table);
};

}  // namespace lsmss
