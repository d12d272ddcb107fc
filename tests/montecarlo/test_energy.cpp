// Energy sources of the walkers: the incremental first-layer fast path against a plain forward
// pass, ensembles (mean, sample std), and batched driver calls with memoization.
#include <gtest/gtest.h>

#include "fake_driver.hpp"
#include "mc_support.hpp"
#include "montecarlo/energy.hpp"
#include "montecarlo/walkers.hpp"

using namespace lsmss;
using namespace lsmss::test;

TEST(FirstLayerEnergy, IncrementalSwapsMatchFullForwardPass) {
  const System sys = small_system(LatticeKind::fcc, {2, 2, 2});
  ToyMlp mlp(64, 40, 1);
  mc::FirstLayerEnergy fast({&mlp}, 2);
  const int W = 16;
  mc::Settings s = test_settings(sys, 12, {300});
  std::vector<Configuration> cs;
  std::vector<mc::Rng> rngs;
  for (int w = 0; w < W; ++w) {
    rngs.emplace_back(2, w);
    cs.push_back(mc::random_configuration(s.counts, rngs.back()));
  }
  mc::Walkers walkers(2, cs, rngs);
  std::vector<mc::EnergyResult> cur(W), prop(W);
  fast.reset(walkers.configs(), cur);
  for (int w = 0; w < W; ++w) EXPECT_NEAR(cur[w].energy, mlp.energy(walkers.config(w), 2), 1e-7);
  EXPECT_FALSE(fast.has_uncertainty());
  EXPECT_TRUE(std::isnan(cur[0].std));
  // 3000 steps, about half accepted, no refresh: z1 is carried incrementally all along.
  double worst = 0;
  for (int step = 0; step < 3000; ++step) {
    walkers.propose();
    fast.propose(walkers.configs(), walkers.swaps(), prop);
    for (int w = 0; w < W; ++w) {
      Configuration c = walkers.config(w);
      std::swap(c[walkers.swaps()[w].i], c[walkers.swaps()[w].j]);
      worst = std::max(worst, std::abs(prop[w].energy - mlp.energy(c, 2)));
      ASSERT_TRUE(prop[w].ok);
      if (walkers.rng(w).uniform() < 0.5) {
        fast.accept(w);
        walkers.apply(w);
      }
    }
  }
  // Energies are 0.01 x O(1) network outputs: float rounding of z1 gives ~1e-8 Ry.
  EXPECT_LT(worst, 1e-6);
  EXPECT_EQ(fast.evaluations(), W + 3000L * W);
  EXPECT_EQ(mlp.calls, 1 + 3000);  // one batched call per step for all walkers
}

// A loaded 2-core machine made 16-walker runs 50x slower on 2 threads than on 1 (OpenMP
// regions around microseconds of work): small batches run the network on one thread, large
// ones on all, and the caller's thread count is left as it was.
TEST(FirstLayerEnergy, SmallBatchesRunTheNetworkOnOneThread) {
  const System sys = small_system(LatticeKind::fcc, {2, 1, 1});
  ToyMlp mlp(16, 64, 1);  // 64 x 64 = 4096 multiply-adds per configuration (estimate)
  mc::FirstLayerEnergy fast({&mlp}, 2);
  const int saved = omp_get_max_threads();
  omp_set_num_threads(2);
  for (int walkers : {16, 512}) {
    std::vector<Configuration> cs(walkers, Configuration::from_string("01010011"));
    std::vector<mc::Swap> swaps(walkers, mc::Swap{0, 1});
    std::vector<mc::EnergyResult> out(walkers);
    fast.reset(cs, out);
    fast.propose(cs, swaps, out);
    // 16 x 4096 is far below kParallelMacs (2^20); 512 x 4096 = 2^21 is above it.
    EXPECT_EQ(mlp.threads_seen, walkers * 4096 < mc::FirstLayerEnergy::kParallelMacs ? 1 : 2)
        << walkers;
    EXPECT_EQ(omp_get_max_threads(), 2);
  }
  omp_set_num_threads(saved);
}

TEST(FirstLayerEnergy, EnsembleMeanAndSampleStd) {
  const System sys = small_system(LatticeKind::fcc, {2, 1, 1});
  ToyMlp a(16, 8, 1), b(16, 8, 2), c(16, 8, 3);
  mc::FirstLayerEnergy fast({&a, &b, &c}, 2);
  EXPECT_TRUE(fast.has_uncertainty());
  const std::vector<Configuration> cs = {Configuration::from_string("01010011"),
                                         Configuration::from_string("11110000")};
  std::vector<mc::EnergyResult> out(2);
  fast.reset(cs, out);
  for (int w = 0; w < 2; ++w) {
    const double e[3] = {a.energy(cs[w], 2), b.energy(cs[w], 2), c.energy(cs[w], 2)};
    const double m = (e[0] + e[1] + e[2]) / 3;
    const double sd = std::sqrt(
        ((e[0] - m) * (e[0] - m) + (e[1] - m) * (e[1] - m) + (e[2] - m) * (e[2] - m)) / 2);
    EXPECT_NEAR(out[w].energy, m, 1e-7);
    EXPECT_NEAR(out[w].std, sd, 1e-7);
    EXPECT_GT(out[w].std, 0);
  }
}

// An ensemble's group (nn::FirstLayerGroup): the energies of all members come from one group
// call per evaluation instead of the members' own, with the same mean and spread.
TEST(FirstLayerEnergy, GroupEvaluatesAllMembersInOneCall) {
  ToyMlp a(16, 8, 1), b(16, 8, 2), c(16, 8, 3);
  // Answers each member's energies through that member, and counts its calls.
  struct Group : mc::FirstLayerGroup {
    std::vector<mc::FirstLayerModel*> members;
    int calls = 0;
    void energies_from_z1(std::span<const std::vector<float>> z1, int batch,
                          std::span<std::vector<double>> out) override {
      ++calls;
      for (std::size_t m = 0; m < members.size(); ++m)
        members[m]->energy_from_z1(z1[m], batch, out[m]);
    }
  } group;
  group.members = {&a, &b, &c};
  mc::FirstLayerEnergy alone({&a, &b, &c}, 2), with_group({&a, &b, &c}, 2, &group);
  const std::vector<Configuration> cs = {Configuration::from_string("01010011"),
                                         Configuration::from_string("11110000")};
  std::vector<mc::EnergyResult> want(2), got(2);
  alone.reset(cs, want);
  with_group.reset(cs, got);
  EXPECT_EQ(group.calls, 1);
  for (int w = 0; w < 2; ++w) {
    EXPECT_EQ(got[w].energy, want[w].energy);
    EXPECT_EQ(got[w].std, want[w].std);
  }
  const std::vector<mc::Swap> swaps = {{0, 1}, {3, 4}};
  alone.propose(cs, swaps, want);
  with_group.propose(cs, swaps, got);
  EXPECT_EQ(group.calls, 2);
  for (int w = 0; w < 2; ++w) EXPECT_EQ(got[w].energy, want[w].energy);
  EXPECT_NE(with_group.describe().find("all models together"), std::string::npos);
}

TEST(FirstLayerEnergy, RejectsMismatchedModels) {
  ToyMlp a(16, 8, 1), b(18, 8, 2);
  EXPECT_THROW(mc::FirstLayerEnergy({&a, &b}, 2), Error);
  ToyMlp c(15, 8, 1);
  EXPECT_THROW(mc::FirstLayerEnergy({&c}, 2), Error);
  mc::FirstLayerEnergy ok({&a}, 2);
  std::vector<mc::EnergyResult> out(1);
  const std::vector<Configuration> big = {Configuration::from_string("010100110")};
  EXPECT_THROW(ok.reset(big, out), Error);
}

TEST(DriverEnergy, BatchedCallsAndMemoization) {
  const System sys = small_system(LatticeKind::fcc, {2, 1, 1});
  FakeDriver fake(sys, -0.5, 0.002);
  mc::DriverEnergy memo(fake, true);
  const std::vector<Configuration> cs = {Configuration::from_string("01010011"),
                                         Configuration::from_string("01010011"),
                                         Configuration::from_string("11110000")};
  std::vector<mc::EnergyResult> out(3);
  memo.reset(cs, out);
  EXPECT_EQ(fake.calls, 2);  // the duplicate inside the batch is evaluated once
  for (int w = 0; w < 3; ++w) EXPECT_DOUBLE_EQ(out[w].energy, fake.energy(cs[w]));
  const std::vector<mc::Swap> swaps = {{0, 1}, {1, 0}, {0, 7}};
  memo.propose(cs, swaps, out);  // walkers 0 and 1 propose the same configuration
  EXPECT_DOUBLE_EQ(out[0].energy, fake.energy(Configuration::from_string("10010011")));
  EXPECT_DOUBLE_EQ(out[2].energy, fake.energy(Configuration::from_string("01110001")));
  EXPECT_EQ(fake.calls, 4);
  memo.propose(cs, swaps, out);
  EXPECT_EQ(fake.calls, 4);  // all memoized
  EXPECT_EQ(memo.cache_hits(), 1 + 1 + 3);
  EXPECT_FALSE(memo.has_uncertainty());

  FakeDriver fake2(sys, -0.5, 0.002, {Configuration::from_string("10010011").hash()});
  mc::DriverEnergy plain(fake2, false);
  plain.propose(cs, swaps, out);
  EXPECT_EQ(fake2.calls, 3);
  EXPECT_FALSE(out[0].ok);  // scripted failure: reported, not a number
  EXPECT_TRUE(out[2].ok);
}
