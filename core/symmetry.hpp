#pragma once
// The symmetry operations of a periodic supercell as site permutations: every rotation or
// reflection of the cubic group (about site 0) that maps the lattice and the supercell onto
// themselves, combined with every lattice translation of the supercell. Energies of a
// configuration are invariant, per-site values move with their sites (nn augmentation,
// docs/nn.md "Symmetry").
#include <array>
#include <vector>

#include "core/lattice.hpp"

namespace lsmss {

// A rotation or reflection r' = R r with R a signed permutation matrix (Cartesian axes).
struct PointOperation {
  std::array<std::array<int, 3>, 3> matrix{};
  Vec3 apply(const Vec3& r) const;
  bool is_identity() const;
};

// The 48 signed permutation matrices of the full cubic group O_h, the identity first.
std::vector<PointOperation> cubic_point_operations();

// The operations of cubic_point_operations() that map the lattice onto itself (about site 0)
// and the supercell's periodicity onto itself (each supercell edge onto a supercell lattice
// vector), in that order. E.g. fcc 2x2x2: all 48; bct 4x2x2 (c != a): the 8 sign changes of
// the axes, as the 4a x 2a x 2c box admits no exchange of axes.
std::vector<PointOperation> supercell_point_operations(const Lattice& lattice);

// The distinct site permutations of the supercell's space group: perm[g][i] is the site that
// site i moves to under operation g, r_i -> R r_i + t (R from supercell_point_operations, t a
// lattice translation), wrapped into the supercell. perm[0] is the identity; then come the
// pure translations (in the order of Lattice::translations()), then the others. Every
// permutation is a bijection and preserves all periodic pair distances.
std::vector<std::vector<int>> space_group_permutations(const Lattice& lattice);

}  // namespace lsmss
