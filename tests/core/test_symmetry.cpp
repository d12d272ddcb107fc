// Space-group site permutations of the supercells (core/symmetry.hpp): group orders derived by
// hand, bijections, a group under composition, and pair distances and neighbour shells kept.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <set>

#include "core/symmetry.hpp"
#include "fixtures.hpp"

using namespace lsmss;

namespace {

using Perms = std::vector<std::vector<int>>;

void expect_bijections(const Perms& perms, int n) {
  for (const auto& p : perms) {
    ASSERT_EQ(static_cast<int>(p.size()), n);
    std::vector<int> sorted = p;
    std::sort(sorted.begin(), sorted.end());
    for (int i = 0; i < n; ++i) ASSERT_EQ(sorted[i], i);
  }
}

// perm[g] o perm[h] is again one of the permutations, for every g, h (a group).
void expect_closed(const Perms& perms) {
  const std::set<Perms::value_type> all(perms.begin(), perms.end());
  for (const auto& g : perms)
    for (const auto& h : perms) {
      std::vector<int> gh(g.size());
      for (std::size_t i = 0; i < g.size(); ++i) gh[i] = g[h[i]];
      ASSERT_TRUE(all.count(gh));
    }
}

// Minimum-image distances of every pair, and every neighbour shell (with image multiplicity),
// are carried over site by site.
bool keeps_geometry(const Lattice& lat, const NeighborShells& shells, const std::vector<int>& p) {
  const int n = lat.num_sites();
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < n; ++j)
      if (std::abs(norm(lat.minimum_image(lat.position(p[j]) - lat.position(p[i]))) -
                   norm(lat.minimum_image(lat.position(j) - lat.position(i)))) > 1e-9)
        return false;
  for (const auto& shell : shells.sites)
    for (int i = 0; i < n; ++i) {
      std::vector<int> moved;
      for (int j : shell[i]) moved.push_back(p[j]);
      std::vector<int> there = shell[p[i]];
      std::sort(moved.begin(), moved.end());
      std::sort(there.begin(), there.end());
      if (moved != there) return false;
    }
  return true;
}

void expect_geometry_kept(const Lattice& lat, const Perms& perms) {
  const auto shells = lat.shells(4);
  for (std::size_t g = 0; g < perms.size(); ++g)
    ASSERT_TRUE(keeps_geometry(lat, shells, perms[g])) << "operation " << g;
}

}  // namespace

TEST(Symmetry, CubicGroupHas48DistinctOrthogonalOperations) {
  const auto ops = cubic_point_operations();
  ASSERT_EQ(ops.size(), 48u);
  EXPECT_TRUE(ops[0].is_identity());
  std::set<std::array<std::array<int, 3>, 3>> distinct;
  for (const auto& op : ops) {
    distinct.insert(op.matrix);
    const Vec3 r = op.apply({1.0, 2.0, 3.0});
    EXPECT_NEAR(norm(r), norm(Vec3{1.0, 2.0, 3.0}), 1e-12);
  }
  EXPECT_EQ(distinct.size(), 48u);
}

// fcc 2x2x2 (the CuAu cell, a cube of edge 2a): all 48 operations keep it. An operation that
// fixes every site fixes site 0 (so t = 0) and the three face centres (a/2,a/2,0), ... exactly
// (their images differ by a < 2a), so it is the identity: 48 x 32 = 1536 distinct permutations.
TEST(Symmetry, FccCuAuCellHas1536Operations) {
  const System s = fixtures::cuau_system();
  EXPECT_EQ(supercell_point_operations(s.lattice).size(), 48u);
  const auto perms = space_group_permutations(s.lattice);
  ASSERT_EQ(perms.size(), 48u * 32u);
  expect_bijections(perms, 32);
  const auto tr = s.lattice.translations();
  for (std::size_t t = 0; t < tr.size(); ++t) EXPECT_EQ(perms[t], tr[t]);  // translations first
  expect_geometry_kept(s.lattice, perms);
  // Closure on a subset (all pairs of 1536 take too long for a unit test): the first 64 with
  // every one.
  const Perms head(perms.begin(), perms.begin() + 64);
  const std::set<Perms::value_type> all(perms.begin(), perms.end());
  for (const auto& g : head)
    for (const auto& h : perms) {
      std::vector<int> gh(32);
      for (int i = 0; i < 32; ++i) gh[i] = g[h[i]];
      ASSERT_TRUE(all.count(gh));
    }
}

// bct 4x2x2 (the FePt cell, 4a x 2a x 2c with c != a, 2a): no axis may be exchanged with
// another, so only the 8 sign changes remain (of the 16 of 4/mmm, the x-y exchanges map the
// 4a edge onto y, where the period is 2a). Each moves the body centre or a cell corner, so
// 8 x 32 = 256.
TEST(Symmetry, BctFePtCellKeepsOnlyTheAxisReflections) {
  const System s = fixtures::fept_system();
  const auto ops = supercell_point_operations(s.lattice);
  ASSERT_EQ(ops.size(), 8u);
  for (const auto& op : ops)
    for (int i = 0; i < 3; ++i) EXPECT_NE(op.matrix[i][i], 0);  // diagonal
  const auto perms = space_group_permutations(s.lattice);
  ASSERT_EQ(perms.size(), 8u * 32u);
  expect_bijections(perms, 32);
  expect_closed(perms);
  expect_geometry_kept(s.lattice, perms);
}

// bct 2x2x2 (square base): the 16 operations of 4/mmm, 16 x 16 = 256 permutations.
TEST(Symmetry, BctSquareCellKeepsTetragonalGroup) {
  const System s = fixtures::fept_system({2, 2, 2});
  EXPECT_EQ(supercell_point_operations(s.lattice).size(), 16u);
  const auto perms = space_group_permutations(s.lattice);
  ASSERT_EQ(perms.size(), 16u * 16u);
  expect_closed(perms);
  expect_geometry_kept(s.lattice, perms);
}

// fcc 1x1x1: 48 x 4 operations but only 4 sites: sign changes act trivially modulo a, axis
// exchanges permute the three face centres, so the group is S_4 (24), duplicates dropped.
TEST(Symmetry, DuplicatePermutationsAreDropped) {
  const System s = fixtures::cuau_system({1, 1, 1});
  const auto perms = space_group_permutations(s.lattice);
  EXPECT_EQ(perms.size(), 24u);
  expect_bijections(perms, 4);
  expect_closed(perms);
}

// The geometry check is not vacuous: exchanging two sites breaks it.
TEST(Symmetry, GeometryCheckRejectsANonSymmetry) {
  const System s = fixtures::fept_system();
  std::vector<int> swap(32);
  for (int i = 0; i < 32; ++i) swap[i] = i;
  std::swap(swap[0], swap[1]);
  EXPECT_FALSE(keeps_geometry(s.lattice, s.lattice.shells(4), swap));
}
