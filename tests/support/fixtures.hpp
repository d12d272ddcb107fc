#pragma once
// Fixtures shared by the tests and the benchmarks (bench/ includes this folder too): the cells
// of the real LSMS data (../shared/data/lsms), as systems and as deck text.
#include <array>
#include <string>
#include <vector>

#include "core/system.hpp"

namespace lsmss::fixtures {

// CuAu: fcc, a in Bohr (32 sites in the 2x2x2 cell of the real data).
inline constexpr double kCuAuA = 7.2377;
// FePt: bct (L1_0 axes), a and c in Bohr (32 sites in the 4x2x2 cell of the real data).
inline constexpr double kFePtA = 5.218;
inline constexpr double kFePtC = 7.058;

inline System make_system(LatticeKind kind, double a, double c, std::array<int, 3> cells,
                          const std::vector<std::string>& species) {
  std::vector<Species> sp;
  sp.reserve(species.size());
  for (const auto& s : species) sp.push_back(species_from_symbol(s));
  return System{Lattice(kind, a, c, cells), sp};
}

inline System cuau_system(std::array<int, 3> cells = {2, 2, 2}) {
  return make_system(LatticeKind::fcc, kCuAuA, 0.0, cells, {"Cu", "Au"});
}
inline System fept_system(std::array<int, 3> cells = {4, 2, 2}) {
  return make_system(LatticeKind::bct, kFePtA, kFePtC, cells, {"Fe", "Pt"});
}

// The deck's `system` line of those cells; `supercell` in Lua, e.g. "{2,2,2}".
inline std::string cuau_system_lua(const std::string& supercell = "{2,2,2}") {
  return "system = { lattice = 'fcc', a = 7.2377, supercell = " + supercell +
         ", species = {'Cu','Au'} }\n";
}
inline std::string fept_system_lua(const std::string& supercell = "{4,2,2}") {
  return "system = { lattice = 'bct', a = 5.218, c = 7.058, supercell = " + supercell +
         ", species = {'Fe','Pt'} }\n";
}

}  // namespace lsmss::fixtures
