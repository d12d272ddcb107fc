#pragma once
#include <string>
#include <string_view>

namespace lsmss {

// A chemical species. `valence` is the number of valence (s+d for transition metals)
// electrons of the neutral atom, the count the embedded tight-binding engine fills.
struct Species {
  std::string symbol;
  int Z = 0;
  double valence = 0.0;

  bool operator==(const Species&) const = default;
};

// Look-ups in the periodic table (Z = 1..86). Throw lsmss::Error for unknown input.
Species species_from_symbol(std::string_view symbol);
Species species_from_Z(int Z);

}  // namespace lsmss
