// Warren-Cowley SRO on known orderings; swap proposals (composition, bookkeeping, symmetry).
#include <gtest/gtest.h>

#include <map>

#include "mc_support.hpp"
#include "montecarlo/sro.hpp"
#include "montecarlo/walkers.hpp"

using namespace lsmss;
using namespace lsmss::test;

namespace {

// fcc sites: basis index = site % 4 (0: corner, 1: (a/2,a/2,0), 2: (a/2,0,a/2), 3: (0,a/2,a/2)).
Configuration by_basis(int sites, std::array<int, 4> species_of_basis) {
  std::vector<std::uint8_t> occ(sites);
  for (int i = 0; i < sites; ++i) occ[i] = static_cast<std::uint8_t>(species_of_basis[i % 4]);
  return Configuration(occ);
}

}  // namespace

TEST(WarrenCowley, L10OrderingOnFcc) {
  const System sys = small_system(LatticeKind::fcc, {2, 2, 2});
  const mc::WarrenCowley wc(sys.lattice, 2, 3);
  EXPECT_EQ(wc.coordination(0), 12);
  EXPECT_EQ(wc.coordination(1), 6);
  EXPECT_EQ(wc.coordination(2), 24);
  // L1_0 along z: layers z = 0 (basis 0, 1) species 0, z = a/2 (basis 2, 3) species 1.
  // Shell 1: 8 of 12 unlike -> 1 - (8/12)/(1/2) = -1/3; shell 2 (a, lattice vectors): all
  // like -> +1; shell 3 (a, a/2, a/2): 16 of 24 unlike -> -1/3.
  const auto a = wc.compute(by_basis(32, {0, 0, 1, 1}));
  ASSERT_EQ(a.size(), 3u);
  EXPECT_NEAR(a[0], -1.0 / 3.0, 1e-12);
  EXPECT_NEAR(a[1], 1.0, 1e-12);
  EXPECT_NEAR(a[2], -1.0 / 3.0, 1e-12);
  EXPECT_EQ(wc.names(), (std::vector<std::string>{"alpha_1", "alpha_2", "alpha_3"}));
}

TEST(WarrenCowley, L12AndSegregatedAndPure) {
  const System sys = small_system(LatticeKind::fcc, {2, 2, 2});
  const mc::WarrenCowley wc(sys.lattice, 2, 2);
  // L1_2 Cu3Au: every Au has 12 Cu neighbours: 1 - 96 / (32 * 12 * 3/4 * 1/4) = -1/3.
  const auto l12 = wc.compute(by_basis(32, {1, 0, 0, 0}));
  EXPECT_NEAR(l12[0], -1.0 / 3.0, 1e-12);
  EXPECT_NEAR(l12[1], 1.0, 1e-12);  // second neighbours of the simple-cubic sublattices: like
  // Two slabs (x < a, x >= a): clustering, alpha_1 > 0.
  std::vector<std::uint8_t> occ(32);
  for (int i = 0; i < 32; ++i) occ[i] = sys.lattice.position(i)[0] < sys.lattice.a() - 1e-9 ? 0 : 1;
  EXPECT_GT(wc.compute(Configuration(occ))[0], 0.2);
  // A species that is absent has no SRO.
  EXPECT_TRUE(std::isnan(wc.compute(Configuration(std::vector<std::uint8_t>(32, 1)))[0]));
}

TEST(WarrenCowley, TernaryPairs) {
  const System sys = small_system(LatticeKind::bcc, {2, 2, 2}, {"Fe", "Pt", "Ni"});
  const mc::WarrenCowley wc(sys.lattice, 3, 1);
  EXPECT_EQ(wc.names(), (std::vector<std::string>{"alpha_1_01", "alpha_1_02", "alpha_1_12"}));
  // B2-like: corners species 0, body centres alternate 1 and 2 -> 0 has only 1/2 neighbours.
  std::vector<std::uint8_t> occ(16);
  for (int i = 0; i < 16; ++i) occ[i] = i % 2 == 0 ? 0 : static_cast<std::uint8_t>(1 + (i / 2) % 2);
  const auto a = wc.compute(Configuration(occ));
  // c0 = 1/2, c1 = c2 = 1/4; pairs (0,1): every species-1 site has 8 neighbours of species 0.
  EXPECT_NEAR(a[0], 1.0 - 4.0 * 8 / (16 * 8 * 0.5 * 0.25), 1e-12);
  EXPECT_NEAR(a[2], 1.0, 1e-12);  // species 1 and 2 are never nearest neighbours
}

TEST(Walkers, SwapsConserveCompositionAndBookkeeping) {
  const std::vector<int> counts = {3, 3, 2};
  std::vector<Configuration> cs;
  std::vector<mc::Rng> rngs;
  for (int w = 0; w < 4; ++w) {
    rngs.emplace_back(7, w);
    cs.push_back(mc::random_configuration(counts, rngs.back()));
  }
  mc::Walkers walkers(3, cs, rngs);
  for (int step = 0; step < 2000; ++step) {
    walkers.propose();
    for (int w = 0; w < walkers.size(); ++w) {
      const mc::Swap s = walkers.swaps()[w];
      ASSERT_NE(walkers.config(w)[s.i], walkers.config(w)[s.j]);
      if ((step + w) % 3 != 0) walkers.apply(w);
    }
  }
  for (int w = 0; w < walkers.size(); ++w)
    for (int s = 0; s < 3; ++s) EXPECT_EQ(walkers.config(w).count(s), counts[s]);
}

// The proposal picks the unordered pair {i, j} with probability (1/N)(1/(N - n_ci) +
// 1/(N - n_cj)), the same before and after the swap. Chi-square over 21 unlike pairs (20
// degrees of freedom) with 2e5 draws: the 99.999% quantile is 50.
TEST(Walkers, ProposalFrequenciesMatchTheSymmetricLaw) {
  const std::vector<int> counts = {3, 3, 2};
  mc::Rng r(11, 0);
  const Configuration c = mc::random_configuration(counts, r);
  mc::Walkers walkers(3, {c}, {mc::Rng(3, 1)});
  std::map<std::pair<int, int>, long> seen;
  const long draws = 200000;
  for (long k = 0; k < draws; ++k) {
    walkers.propose();
    const auto s = walkers.swaps()[0];
    ++seen[{std::min(s.i, s.j), std::max(s.i, s.j)}];
  }
  double chi2 = 0;
  int pairs = 0;
  for (int i = 0; i < 8; ++i)
    for (int j = i + 1; j < 8; ++j) {
      if (c[i] == c[j]) continue;
      ++pairs;
      const double p = (1.0 / 8) * (1.0 / (8 - counts[c[i]]) + 1.0 / (8 - counts[c[j]]));
      const double expect = p * draws;
      chi2 += (seen[{i, j}] - expect) * (seen[{i, j}] - expect) / expect;
    }
  EXPECT_EQ(pairs, 21);
  EXPECT_EQ(seen.size(), 21u);
  EXPECT_LT(chi2, 50.0);
}

TEST(Rng, ReproducibleStreams) {
  mc::Rng a(5, 0), b(5, 0), c(5, 1);
  for (int k = 0; k < 10; ++k) {
    const auto x = a.next();
    EXPECT_EQ(x, b.next());
    EXPECT_NE(x, c.next());
  }
  double m = 0;
  for (int k = 0; k < 100000; ++k) m += a.uniform();
  EXPECT_NEAR(m / 100000, 0.5, 0.005);  // 0.5 +- 5 sigma (sigma = 0.29/sqrt(1e5) = 9e-4)
}
