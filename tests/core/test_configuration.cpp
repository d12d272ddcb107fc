#include <gtest/gtest.h>

#include <unordered_set>

#include "core/configuration.hpp"
#include "core/error.hpp"
#include "core/lattice.hpp"
#include "core/rng.hpp"
#include "core/species.hpp"

using namespace lsmss;

TEST(Configuration, OneHotRoundTrip) {
  Rng rng(3);
  for (int trial = 0; trial < 50; ++trial) {
    std::vector<std::uint8_t> occ(32);
    for (auto& o : occ) o = static_cast<std::uint8_t>(rng.below(3));
    Configuration c(occ);
    auto oh = c.one_hot(3);
    ASSERT_EQ(oh.size(), 96u);
    for (int i = 0; i < 32; ++i) EXPECT_EQ(oh[i * 3 + occ[i]], 1.0f);
    EXPECT_EQ(Configuration::from_one_hot(oh, 3), c);
  }
  EXPECT_THROW(Configuration::from_one_hot(std::vector<float>{1, 1, 0, 1}, 2), Error);
  EXPECT_THROW(Configuration::from_one_hot(std::vector<float>{0, 0, 0, 1}, 2), Error);
  EXPECT_THROW(Configuration::from_one_hot(std::vector<float>{0.5, 0.5}, 2), Error);
  EXPECT_THROW(Configuration::from_one_hot(std::vector<float>{1, 0, 0}, 2), Error);
  EXPECT_THROW(Configuration::from_string("01a"), Error);
  EXPECT_THROW(Configuration::from_string("012").one_hot(2), Error);
}

TEST(Configuration, CompositionAndString) {
  auto c = Configuration::from_string("0011101");
  EXPECT_EQ(c.count(0), 3);
  EXPECT_EQ(c.count(1), 4);
  EXPECT_EQ(c.composition(), 3);
  EXPECT_EQ(c.to_string(), "0011101");
}

TEST(Configuration, HashDistinguishesAllSmallConfigurations) {
  // Every binary configuration of 16 sites hashes differently; equal ones hash equal.
  std::unordered_set<std::uint64_t> seen;
  for (int m = 0; m < (1 << 16); ++m) {
    std::vector<std::uint8_t> occ(16);
    for (int i = 0; i < 16; ++i) occ[i] = (m >> i) & 1;
    EXPECT_TRUE(seen.insert(Configuration(occ).hash()).second);
    EXPECT_EQ(Configuration(occ).hash(), Configuration(occ).hash());
  }
  EXPECT_NE(Configuration::from_string("0").hash(), Configuration::from_string("00").hash());
}

TEST(Configuration, HashIsPinned) {
  // Stored in datasets (the `hash` column): the value must never change. Computed with the
  // original inline FNV-1a before it moved to core/hash.hpp.
  EXPECT_EQ(Configuration::from_string("0110").hash(), 15930367387414291087ULL);
}

TEST(Configuration, TranslationCanonicalForm) {
  Lattice lat(LatticeKind::sc, 1.0, 0, {4, 1, 1});
  auto tr = lat.translations();
  auto a = Configuration::from_string("1000");
  auto b = Configuration::from_string("0010");
  EXPECT_EQ(a.canonical(tr), b.canonical(tr));
  EXPECT_EQ(a.canonical(tr).to_string(), "0001");
  EXPECT_NE(Configuration::from_string("1100").canonical(tr),
            Configuration::from_string("1010").canonical(tr));
  EXPECT_EQ(a.permuted(tr[1]).to_string(), "0100");
}

TEST(Species, PeriodicTable) {
  EXPECT_EQ(species_from_symbol("Cu").Z, 29);
  EXPECT_EQ(species_from_symbol("Au").valence, 11);
  EXPECT_EQ(species_from_symbol("Fe").valence, 8);
  EXPECT_EQ(species_from_symbol("Pt").valence, 10);
  EXPECT_EQ(species_from_symbol("Pd").valence, 10);
  EXPECT_EQ(species_from_Z(78).symbol, "Pt");
  EXPECT_THROW(species_from_symbol("cu"), Error);
  EXPECT_THROW(species_from_symbol("Xx"), Error);
  EXPECT_THROW(species_from_Z(0), Error);
  EXPECT_THROW(species_from_Z(200), Error);
}
