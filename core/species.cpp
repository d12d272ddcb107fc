#include "core/species.hpp"

#include <array>

#include "core/error.hpp"

namespace lsmss {
namespace {

constexpr std::array<std::string_view, 87> kSymbols = {
    "",   "H",  "He", "Li", "Be", "B",  "C",  "N",  "O",  "F",  "Ne", "Na", "Mg", "Al", "Si",
    "P",  "S",  "Cl", "Ar", "K",  "Ca", "Sc", "Ti", "V",  "Cr", "Mn", "Fe", "Co", "Ni", "Cu",
    "Zn", "Ga", "Ge", "As", "Se", "Br", "Kr", "Rb", "Sr", "Y",  "Zr", "Nb", "Mo", "Tc", "Ru",
    "Rh", "Pd", "Ag", "Cd", "In", "Sn", "Sb", "Te", "I",  "Xe", "Cs", "Ba", "La", "Ce", "Pr",
    "Nd", "Pm", "Sm", "Eu", "Gd", "Tb", "Dy", "Ho", "Er", "Tm", "Yb", "Lu", "Hf", "Ta", "W",
    "Re", "Os", "Ir", "Pt", "Au", "Hg", "Tl", "Pb", "Bi", "Po", "At", "Rn"};

// Valence electrons outside the last closed noble-gas (+ filled f) shell: for d-block
// elements this is the group number (s + d electrons), which is what a d-band model fills.
double valence_of(int Z) {
  auto row_start = [](int z) {
    if (z <= 2) return 0;
    if (z <= 10) return 2;
    if (z <= 18) return 10;
    if (z <= 36) return 18;
    if (z <= 54) return 36;
    return 54;
  };
  int n = Z - row_start(Z);
  if (Z >= 57 && Z <= 71) return 3.0;  // lanthanides: treat as trivalent
  if (Z > 71) n = Z - 68;              // 5d row after the 4f shell: Hf = 4 ... Hg = 12
  if (n > 12 && Z > 18) n -= 10;       // p-block of rows 4-6: count s+p only
  return static_cast<double>(n);
}

}  // namespace

Species species_from_Z(int Z) {
  if (Z < 1 || Z >= static_cast<int>(kSymbols.size()))
    fail("unknown atomic number Z = {} (supported: 1..{})", Z, kSymbols.size() - 1);
  return Species{std::string(kSymbols[Z]), Z, valence_of(Z)};
}

Species species_from_symbol(std::string_view symbol) {
  for (std::size_t z = 1; z < kSymbols.size(); ++z)
    if (kSymbols[z] == symbol) return species_from_Z(static_cast<int>(z));
  fail("unknown chemical symbol '{}' (symbols are case-sensitive, e.g. 'Cu', 'Au')", symbol);
}

}  // namespace lsmss
