// Sampling plan: exact counts, the cap, reproducibility, uniformity, translation classes, splits.
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include "dataset_builder/dataset.hpp"
#include "dataset_builder/sampling.hpp"
#include "fixtures.hpp"

using namespace lsmss;
using namespace lsmss::dataset;

// Hash sets: ordered containers of configurations trip a GCC 12 false -Wstringop-overread.
using ConfigSet = std::unordered_set<lsmss::Configuration, lsmss::ConfigurationHash>;

namespace {

System make_system(LatticeKind kind, std::array<int, 3> reps, double c = 0) {
  const double a = 7.0;
  return System{Lattice(kind, a, c > 0 ? c : a, reps),
                {species_from_symbol("Cu"), species_from_symbol("Au")}};
}

// Translation classes by brute force: canonical forms of all 2^n configurations.
std::map<int, std::size_t> brute_force_classes(const System& sys) {
  const int n = sys.num_sites();
  const auto tr = sys.lattice.translations();
  std::map<int, ConfigSet> classes;
  for (std::uint32_t bits = 0; bits < (1u << n); ++bits) {
    std::vector<std::uint8_t> occ(n);
    for (int i = 0; i < n; ++i) occ[i] = (bits >> i) & 1u;
    Configuration c(occ);
    classes[c.composition()].insert(c.canonical(tr));
  }
  std::map<int, std::size_t> out;
  for (const auto& [k, s] : classes) out[k] = s.size();
  return out;
}

}  // namespace

TEST(Dataset, FingerprintIsPinned) {
  // Stored in model files as the training data's fingerprint: the value must never change.
  // Computed independently (Python, FNV-1a with the project's offset basis over the bytes of
  // the occupations, folds and energies).
  // Fields in declaration order: system (not hashed), sites, folds, driver (not hashed),
  // properties, occupations, compositions, folds, origins, energies, charges, moments.
  const lsmss::dataset::Dataset d{lsmss::fixtures::cuau_system(),
                                  2,
                                  3,
                                  "pair",
                                  lsmss::kEnergy,
                                  {0, 1, 1, 1},
                                  {1, 0},
                                  {0, lsmss::dataset::kTestFold},
                                  {0, 1},
                                  {-1.5, -2.25},
                                  {},
                                  {}};
  EXPECT_EQ(d.fingerprint(), "b26b3dca7a7bdf59");
}

TEST(Sampling, BinomialIsExactAndSaturates) {
  EXPECT_EQ(binomial(0, 0), 1u);
  EXPECT_EQ(binomial(5, 7), 0u);
  EXPECT_EQ(binomial(32, 1), 32u);
  EXPECT_EQ(binomial(32, 2), 496u);
  EXPECT_EQ(binomial(32, 16), 601080390u);
  EXPECT_EQ(binomial(64, 32), 1832624140942590534ULL);
  EXPECT_EQ(binomial(67, 33), 14226520737620288370ULL);  // largest central one below 2^64
  EXPECT_FALSE(binomial(68, 34).has_value());
  EXPECT_FALSE(binomial(4096, 2048).has_value());
  EXPECT_NEAR(log10_binomial(32, 16), std::log10(601080390.0), 1e-9);
  EXPECT_EQ(format_count(binomial(32, 16), 0), "601080390");
  EXPECT_EQ(format_count(std::nullopt, log10_binomial(128, 64)).substr(0, 4), "~2.4");
}

TEST(Sampling, OrbitCountsMatchBruteForce) {
  for (const auto& sys :
       {make_system(LatticeKind::sc, {2, 2, 2}), make_system(LatticeKind::fcc, {2, 1, 1}),
        make_system(LatticeKind::bcc, {2, 2, 1}), make_system(LatticeKind::bct, {2, 1, 2}, 9.0),
        make_system(LatticeKind::fcc, {1, 1, 3})}) {
    const auto expect = brute_force_classes(sys);
    const auto tr = sys.lattice.translations();
    for (int k = 0; k <= sys.num_sites(); ++k)
      EXPECT_EQ(count_orbits(sys.num_sites(), k, tr), expect.at(k))
          << sys.lattice.describe() << " k=" << k;
  }
  // 32-site fcc: one class for a single atom, C(32,2)/32 pairs up to symmetric ones.
  const auto fcc = make_system(LatticeKind::fcc, {2, 2, 2});
  const auto tr = fcc.lattice.translations();
  EXPECT_EQ(count_orbits(32, 1, tr), 1u);
  ConfigSet pairs;
  std::vector<int> sites = {0, 0};
  for (int i = 0; i < 32; ++i)
    for (int j = i + 1; j < 32; ++j) {
      std::vector<std::uint8_t> occ(32, 1);
      occ[i] = occ[j] = 0;
      pairs.insert(Configuration(occ).canonical(tr));
    }
  EXPECT_EQ(count_orbits(32, 2, tr), pairs.size());
}

TEST(Sampling, SmallCellIsEnumeratedCompletely) {
  const auto sys = make_system(LatticeKind::sc, {2, 2, 2});  // 8 sites, 256 configurations
  SamplingSettings s;
  s.cap = 1000;
  const Plan plan = make_plan(sys, s);
  ASSERT_EQ(plan.configs.size(), 256u);
  ConfigSet all(plan.configs.begin(), plan.configs.end());
  EXPECT_EQ(all.size(), 256u);
  ASSERT_EQ(plan.compositions.size(), 9u);
  for (const auto& cp : plan.compositions) {
    EXPECT_TRUE(cp.all);
    EXPECT_EQ(cp.count, *binomial(8, cp.composition));
    for (std::size_t r = cp.first; r < cp.first + cp.count; ++r) {
      EXPECT_EQ(plan.configs[r].composition(), cp.composition);
      EXPECT_EQ(plan.composition[r], cp.composition);
    }
  }
}

TEST(Sampling, CapOnThe32SiteCell) {
  const auto sys = make_system(LatticeKind::fcc, {2, 2, 2});
  SamplingSettings s;
  s.cap = 100;
  s.seed = 3;
  const Plan plan = make_plan(sys, s);
  std::size_t total = 0;
  for (const auto& cp : plan.compositions) {
    const std::uint64_t c = *binomial(32, cp.composition);
    EXPECT_EQ(cp.count, std::min<std::uint64_t>(c, 100)) << cp.composition;
    EXPECT_EQ(cp.all, c <= 100) << cp.composition;
    ConfigSet distinct(plan.configs.begin() + cp.first, plan.configs.begin() + cp.first + cp.count);
    EXPECT_EQ(distinct.size(), cp.count) << "duplicates in composition " << cp.composition;
    for (const auto& cf : distinct) EXPECT_EQ(cf.composition(), cp.composition);
    total += cp.count;
  }
  // 0, 1, 31, 32 atoms of A are taken whole; 2..30 are capped.
  EXPECT_EQ(total, 1u + 32u + 29u * 100u + 32u + 1u);
}

TEST(Sampling, ReproducibleWithASeedAndIndependentOfOtherCompositions) {
  const auto sys = make_system(LatticeKind::fcc, {2, 2, 2});
  SamplingSettings s;
  s.cap = 50;
  s.seed = 11;
  const Plan a = make_plan(sys, s), b = make_plan(sys, s);
  EXPECT_EQ(a.configs, b.configs);
  EXPECT_EQ(a.fold, b.fold);
  s.seed = 12;
  const Plan c = make_plan(sys, s);
  EXPECT_NE(a.configs, c.configs);
  // Sampling only composition 16 gives exactly the configurations of the full plan.
  s.seed = 11;
  s.compositions = {16};
  const Plan only = make_plan(sys, s);
  const auto& cp = a.compositions[16];
  ASSERT_EQ(only.configs.size(), cp.count);
  EXPECT_TRUE(std::equal(only.configs.begin(), only.configs.end(), a.configs.begin() + cp.first));
  EXPECT_TRUE(std::equal(only.fold.begin(), only.fold.end(), a.fold.begin() + cp.first));
}

TEST(Sampling, DrawsAreUniform) {
  // 4 of 8 sites: 70 configurations, 10 drawn per seed. Over 1400 seeds every configuration
  // is expected 200 times; a biased sampler would fail this chi-square bound by far.
  const int seeds = 1400;
  std::unordered_map<Configuration, int, ConfigurationHash> hits;
  std::vector<int> site_a(8, 0);
  for (int seed = 0; seed < seeds; ++seed)
    for (const auto& c : sample_composition(8, 4, 10, {}, static_cast<std::uint64_t>(seed))) {
      ++hits[c];
      for (int i = 0; i < 8; ++i) site_a[i] += c[i] == 0;
    }
  ASSERT_EQ(hits.size(), 70u);
  const double expected = seeds * 10.0 / 70.0;
  double chi2 = 0;
  for (const auto& [c, h] : hits) chi2 += (h - expected) * (h - expected) / expected;
  EXPECT_LT(chi2, 130.0);  // 69 degrees of freedom: p < 1e-5 beyond this
  for (int n : site_a) EXPECT_NEAR(n / (seeds * 10.0), 0.5, 0.02);
}

TEST(Sampling, TranslationClassesAreDistinctAndComplete) {
  const auto sys = make_system(LatticeKind::fcc, {2, 2, 2});
  SamplingSettings s;
  s.cap = 60;
  s.unique_translations = true;
  s.compositions = {0, 1, 2, 3, 16, 31};
  const Plan plan = make_plan(sys, s);
  const auto tr = sys.lattice.translations();
  for (const auto& cp : plan.compositions) {
    ConfigSet canon;
    for (std::size_t r = cp.first; r < cp.first + cp.count; ++r)
      canon.insert(plan.configs[r].canonical(tr));
    EXPECT_EQ(canon.size(), cp.count)
        << "translation-equivalent configurations in " << cp.composition;
    const auto classes = *count_orbits(32, cp.composition, tr);
    EXPECT_EQ(cp.count, std::min<std::uint64_t>(classes, 60)) << cp.composition;
  }
  EXPECT_EQ(plan.compositions[1].count, 1u);  // one A atom: a single class
}

TEST(Sampling, SplitProportionsPerComposition) {
  for (std::size_t n : {0u, 1u, 5u, 32u, 496u, 1000u}) {
    const auto folds = assign_folds(n, 7, 60, 0.1, 42);
    ASSERT_EQ(folds.size(), n);
    std::map<int, std::size_t> count;
    for (int f : folds) ++count[f];
    EXPECT_EQ(count[kTestFold], static_cast<std::size_t>(std::llround(0.1 * n))) << n;
    std::size_t lo = n, hi = 0;
    for (int f = 0; f < 60; ++f) lo = std::min(lo, count[f]), hi = std::max(hi, count[f]);
    EXPECT_LE(hi - lo, 1u) << "fold sizes differ by more than one for n = " << n;
    for (int f : folds) EXPECT_TRUE(f == kTestFold || (f >= 0 && f < 60));
    EXPECT_EQ(folds, assign_folds(n, 7, 60, 0.1, 42));
  }
  const auto f1000 = assign_folds(1000, 7, 60, 0.1, 42);
  std::map<int, int> c;
  for (int f : f1000) ++c[f];
  EXPECT_EQ(c[kTestFold], 100);
  // 900 training rows in 60 folds: 15 each, exactly the paper's 81% / 9% / 10%.
  for (int f = 0; f < 60; ++f) EXPECT_EQ(c[f], 15);
  EXPECT_NE(f1000, assign_folds(1000, 8, 60, 0.1, 42));  // shuffled per composition
}

TEST(Sampling, FoldsOfSingleRowsFollowTheFractions) {
  int test = 0;
  std::map<int, int> per;
  Rng rng(5);
  for (int i = 0; i < 20000; ++i) {
    const auto f = fold_for_hash(rng.next(), 10, 0.1, 9);
    if (f == kTestFold)
      ++test;
    else
      ++per[f];
  }
  EXPECT_NEAR(test / 20000.0, 0.1, 0.01);
  for (int f = 0; f < 10; ++f) EXPECT_NEAR(per[f] / 18000.0, 0.1, 0.015);
}

TEST(Sampling, RejectsNonBinarySystems) {
  System sys{Lattice(LatticeKind::fcc, 7.0, 7.0, {1, 1, 1}),
             {species_from_symbol("Cu"), species_from_symbol("Au"), species_from_symbol("Ag")}};
  EXPECT_THROW(make_plan(sys, SamplingSettings{}), Error);
}
