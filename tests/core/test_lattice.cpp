#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <sstream>

#include "core/error.hpp"
#include "core/lattice.hpp"
#include "fixtures.hpp"
#include "test_support.hpp"

using namespace lsmss;

namespace {
std::vector<Vec3> read_lsms_positions(const std::filesystem::path& file) {
  std::ifstream in(file);
  std::string line;
  std::getline(in, line);
  std::vector<Vec3> pos;
  while (std::getline(in, line)) {
    std::istringstream ss(line);
    double z, idx, x, y, zz;
    if (ss >> z >> idx >> x >> y >> zz) pos.push_back({x, y, zz});
  }
  return pos;
}
}  // namespace

TEST(Lattice, SiteCountsAndNumbering) {
  Lattice fcc(LatticeKind::fcc, fixtures::kCuAuA, 0, {2, 2, 2});
  EXPECT_EQ(fcc.num_sites(), 32);
  EXPECT_EQ(fcc.basis_size(), 4);
  // Cells x first: site 4 is the origin of cell (1,0,0).
  EXPECT_NEAR(fcc.position(4)[0], fixtures::kCuAuA, 1e-12);
  EXPECT_NEAR(fcc.position(8)[1], fixtures::kCuAuA, 1e-12);   // cell (0,1,0)
  EXPECT_NEAR(fcc.position(16)[2], fixtures::kCuAuA, 1e-12);  // cell (0,0,1)
  EXPECT_NEAR(fcc.position(1)[0], fixtures::kCuAuA / 2, 1e-12);
  Lattice bct(LatticeKind::bct, fixtures::kFePtA, fixtures::kFePtC, {4, 2, 2});
  EXPECT_EQ(bct.num_sites(), 32);
  EXPECT_NEAR(bct.position(1)[2], 7.058 / 2, 1e-12);
  EXPECT_NEAR(bct.box()[0], 4 * fixtures::kFePtA, 1e-12);
  EXPECT_NEAR(bct.box()[2], 2 * 7.058, 1e-12);
  EXPECT_EQ(Lattice(LatticeKind::sc, 1, 0, {3, 2, 1}).num_sites(), 6);
}

TEST(Lattice, NeighbourCountsWithPeriodicImages) {
  // Bulk coordination must hold on every site, even on 2x2x2 and uneven 4x2x2 boxes.
  struct Case {
    LatticeKind k;
    std::array<int, 3> reps;
    std::vector<int> counts;
  };
  const std::vector<Case> cases = {{LatticeKind::fcc, {2, 2, 2}, {12, 6, 24}},
                                   {LatticeKind::fcc, {1, 1, 1}, {12, 6, 24}},
                                   {LatticeKind::bcc, {2, 2, 2}, {8, 6, 12}},
                                   {LatticeKind::bcc, {4, 2, 2}, {8, 6, 12}},
                                   {LatticeKind::sc, {3, 3, 3}, {6, 12, 8}}};
  for (const auto& c : cases) {
    Lattice lat(c.k, 3.0, 0, c.reps);
    auto sh = lat.shells(3);
    for (int s = 0; s < 3; ++s)
      for (int i = 0; i < lat.num_sites(); ++i)
        EXPECT_EQ(static_cast<int>(sh.sites[s][i].size()), c.counts[s])
            << lattice_kind_name(c.k) << " shell " << s << " site " << i;
  }
  Lattice fcc(LatticeKind::fcc, 2.0, 0, {2, 2, 2});
  auto sh = fcc.shells(2);
  EXPECT_NEAR(sh.distance[0], 2.0 / std::sqrt(2.0), 1e-12);
  EXPECT_NEAR(sh.distance[1], 2.0, 1e-12);
}

TEST(Lattice, BctShellsSplitByTetragonality) {
  Lattice bct(LatticeKind::bct, fixtures::kFePtA, fixtures::kFePtC, {4, 2, 2});
  auto sh = bct.shells(3);
  // Nearest: 8 body-centre neighbours; then 4 in-plane at a; then 2 along c.
  EXPECT_NEAR(sh.distance[0], std::sqrt(2 * 2.609 * 2.609 + 3.529 * 3.529), 1e-9);
  EXPECT_NEAR(sh.distance[1], fixtures::kFePtA, 1e-9);
  EXPECT_NEAR(sh.distance[2], 7.058, 1e-9);
  for (int i = 0; i < 32; ++i) {
    EXPECT_EQ(sh.sites[0][i].size(), 8u);
    EXPECT_EQ(sh.sites[1][i].size(), 4u);
    EXPECT_EQ(sh.sites[2][i].size(), 2u);
  }
}

TEST(Lattice, NeighborsWithinIsSymmetric) {
  Lattice lat(LatticeKind::bcc, 2.0, 0, {4, 2, 2});
  auto nb = lat.neighbors_within(3.0);
  std::multiset<std::tuple<int, int, long, long, long>> fwd, rev;
  for (const auto& n : nb) {
    fwd.insert({n.i, n.j, std::lround(n.d[0] * 1e6), std::lround(n.d[1] * 1e6),
                std::lround(n.d[2] * 1e6)});
    rev.insert({n.j, n.i, std::lround(-n.d[0] * 1e6), std::lround(-n.d[1] * 1e6),
                std::lround(-n.d[2] * 1e6)});
  }
  EXPECT_EQ(fwd, rev);
}

TEST(Lattice, MatchPositionsOfRealLsmsFiles) {
  const auto samples = test::shared_dir() / "data/lsms/samples";
  Lattice fcc(LatticeKind::fcc, fixtures::kCuAuA, 0, {2, 2, 2});
  auto pos = read_lsms_positions(samples / "CuAu_32atoms/out_0");
  ASSERT_EQ(pos.size(), 32u);
  auto map = fcc.match_positions(pos);
  // The files use the paper's numbering, which is ours.
  for (int k = 0; k < 32; ++k) EXPECT_EQ(map[k], k);

  Lattice bct(LatticeKind::bct, fixtures::kFePtA, fixtures::kFePtC, {4, 2, 2});
  auto pos2 = read_lsms_positions(samples / "FePt_32atoms/out_100");
  auto map2 = bct.match_positions(pos2);
  // The real FePt files do NOT follow the paper's numbering: they list a 2x2x2 block of cells
  // (x, y, z) and then the same block shifted by 2a along x. Matching recovers that order.
  std::set<int> hit(map2.begin(), map2.end());
  EXPECT_EQ(hit.size(), 32u);
  EXPECT_EQ(map2[1], 1);    // body centre of cell (0,0,0)
  EXPECT_EQ(map2[2], 2);    // cell (1,0,0)
  EXPECT_EQ(map2[4], 8);    // cell (0,1,0)
  EXPECT_EQ(map2[8], 16);   // cell (0,0,1)
  EXPECT_EQ(map2[16], 4);   // cell (2,0,0)
  EXPECT_EQ(map2[31], 31);  // body centre of cell (3,1,1)

  // Shuffled and shifted by a full box vector: still found, via periodic wrap.
  std::vector<Vec3> moved(pos2.rbegin(), pos2.rend());
  for (auto& p : moved) p = p + bct.box();
  auto map3 = bct.match_positions(moved);
  for (int k = 0; k < 32; ++k) EXPECT_EQ(map3[k], map2[31 - k]);
}

TEST(Lattice, MatchPositionsRejectsBadInput) {
  Lattice lat(LatticeKind::sc, 1.0, 0, {2, 1, 1});
  EXPECT_THROW(lat.match_positions({{0, 0, 0}}), Error);
  EXPECT_THROW(lat.match_positions({{0, 0, 0}, {0.5, 0, 0}}), Error);  // not a site
  EXPECT_THROW(lat.match_positions({{0, 0, 0}, {2.0, 0, 0}}), Error);  // both map to site 0
  EXPECT_THROW(Lattice(LatticeKind::fcc, -1.0, 0, {1, 1, 1}), Error);
  EXPECT_THROW(Lattice(LatticeKind::fcc, 1.0, 0, {0, 1, 1}), Error);
  EXPECT_THROW(lattice_kind_from_name("hcp"), Error);
}

TEST(Lattice, TranslationsArePermutationsAndFormAGroup) {
  Lattice lat(LatticeKind::fcc, 1.0, 0, {2, 2, 2});
  auto tr = lat.translations();
  ASSERT_EQ(tr.size(), 32u);
  for (int i = 0; i < 32; ++i) EXPECT_EQ(tr[0][i], i);
  for (const auto& p : tr) {
    std::set<int> s(p.begin(), p.end());
    EXPECT_EQ(s.size(), 32u);
  }
  // Translations preserve neighbour relations.
  auto sh = lat.shells(1);
  for (const auto& p : tr)
    for (int i = 0; i < 32; ++i) {
      std::multiset<int> mapped, expect;
      for (int j : sh.sites[0][i]) mapped.insert(p[j]);
      for (int j : sh.sites[0][p[i]]) expect.insert(j);
      EXPECT_EQ(mapped, expect);
    }
}
