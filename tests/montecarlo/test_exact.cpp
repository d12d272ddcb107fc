// Metropolis and Wang-Landau against exact canonical averages from full enumeration of small
// cells, with the generic driver path (FakeDriver: nearest-neighbour pair energy) and the
// surrogate fast path (a small random network). Statistical tolerances are stated per test.
#include <gtest/gtest.h>

#include <map>

#include "fake_driver.hpp"
#include "mc_support.hpp"
#include "montecarlo/sampler.hpp"

using namespace lsmss;
using namespace lsmss::test;

namespace {

double stddev(const std::vector<double>& v) {
  double m = 0, m2 = 0;
  for (double x : v) m += x / v.size();
  for (double x : v) m2 += (x - m) * (x - m) / v.size();
  return std::sqrt(m2);
}

// Every estimate within 4 jackknife standard errors of the exact value. For a Gaussian
// estimator a 4-sigma excursion has probability 6e-5 per comparison; the seeds are fixed, so
// a pass is reproducible, and a biased sampler (wrong acceptance, asymmetric proposals, wrong
// temperature) shows up as many-sigma deviations: see the power checks beside each call.
void expect_agrees(const mc::TemperatureResult& r, const ExactAverages& x,
                   const std::string& what) {
  SCOPED_TRACE(what + " T = " + std::to_string(r.temperature));
  EXPECT_NEAR(r.energy, x.energy, 4 * r.energy_err);
  EXPECT_NEAR(r.heat_capacity, x.heat_capacity, 4 * r.heat_capacity_err);
  ASSERT_EQ(r.sro.size(), x.sro.size());
  for (std::size_t k = 0; k < x.sro.size(); ++k)
    EXPECT_NEAR(r.sro[k], x.sro[k], 4 * r.sro_err[k]) << "alpha_" << k + 1;
}

}  // namespace

TEST(MetropolisExact, DriverPathMatchesEnumeration) {
  // fcc 2x1x1: 8 sites, C(8,4) = 70 configurations at CuAu composition.
  const System sys = small_system(LatticeKind::fcc, {2, 1, 1});
  FakeDriver fake(sys, -0.5, 0.004);
  const auto all = enumerate({4, 4});
  std::vector<double> e;
  for (const auto& c : all) e.push_back(fake.energy(c));
  const double sigma = stddev(e);
  ASSERT_GT(sigma, 0.001);
  // k_B T = sigma and 3 sigma: Boltzmann weights neither uniform nor concentrated on the ground
  // state.
  const std::vector<double> temps = {sigma / mc::kBoltzmannRyPerK,
                                     3 * sigma / mc::kBoltzmannRyPerK};
  mc::Settings s = test_settings(sys, 4, temps);
  s.walkers = 8;
  s.equilibration = 100;
  s.sweeps = 4000;
  s.blocks = 10;
  s.shells = 2;
  mc::DriverEnergy energy(fake, true);
  mc::Evaluator ev(energy, nullptr);
  mc::RunOptions opt;
  opt.progress = false;
  const mc::McResult r = mc::run_metropolis(sys, s, ev, opt);
  ASSERT_EQ(r.rows.size(), 2u);
  EXPECT_LE(fake.calls, 70);  // memoized: each configuration computed once
  for (int t = 0; t < 2; ++t) {
    const ExactAverages x = exact_averages(sys, all, e, temps[t], 2);
    EXPECT_EQ(r.rows[t].chains, 8);
    EXPECT_EQ(r.rows[t].samples, 8 * 4000);
    expect_agrees(r.rows[t], x, "fake driver");
    // Power: at 1.5 T the exact energy moves by more than 8 error bars, so a sampler at the
    // wrong temperature would fail the 4-sigma check above.
    const ExactAverages off = exact_averages(sys, all, e, 1.5 * temps[t], 2);
    EXPECT_GT(std::abs(off.energy - x.energy), 8 * r.rows[t].energy_err);
    EXPECT_GT(r.rows[t].acceptance, 0.05);
    EXPECT_LT(r.rows[t].acceptance, 1.0);
  }
  EXPECT_DOUBLE_EQ(r.lowest_energy, *std::min_element(e.begin(), e.end()));
}

TEST(MetropolisExact, SurrogateFastPathMatchesEnumeration) {
  // fcc 2x2x1: 16 sites, C(16,8) = 12870 configurations; energies from a random network.
  const System sys = small_system(LatticeKind::fcc, {2, 2, 1});
  ToyMlp mlp(32, 24, 5, 0.02);
  const auto all = enumerate({8, 8});
  std::vector<double> e;
  for (const auto& c : all) e.push_back(mlp.energy(c, 2));
  const double sigma = stddev(e);
  const double T = 0.7 * sigma / mc::kBoltzmannRyPerK;
  const ExactAverages x = exact_averages(sys, all, e, T, 3);
  mc::Settings s = test_settings(sys, 8, {T});
  s.walkers = 16;
  s.equilibration = 100;
  s.sweeps = 2000;
  s.blocks = 8;
  mc::FirstLayerEnergy fast({&mlp}, 2);
  mc::Evaluator ev(fast, nullptr);
  mc::RunOptions opt;
  opt.progress = false;
  const mc::McResult r = mc::run_metropolis(sys, s, ev, opt);
  ASSERT_EQ(r.rows.size(), 1u);
  expect_agrees(r.rows[0], x, "fast path");
  const ExactAverages off = exact_averages(sys, all, e, 1.5 * T, 3);
  EXPECT_GT(std::abs(off.energy - x.energy), 8 * r.rows[0].energy_err);
}

TEST(MetropolisExact, AnnealingFindsTheGroundState) {
  const System sys = small_system(LatticeKind::fcc, {2, 2, 1});
  ToyMlp mlp(32, 24, 9, 0.02);
  const auto all = enumerate({8, 8});
  std::vector<double> e;
  for (const auto& c : all) e.push_back(mlp.energy(c, 2));
  const double sigma = stddev(e);
  const double kb = mc::kBoltzmannRyPerK;
  mc::Settings s =
      test_settings(sys, 8, {3 * sigma / kb, sigma / kb, 0.3 * sigma / kb, 0.05 * sigma / kb});
  s.anneal = true;
  s.walkers = 8;
  s.equilibration = 50;
  s.sweeps = 200;
  mc::FirstLayerEnergy fast({&mlp}, 2);
  mc::Evaluator ev(fast, nullptr);
  mc::RunOptions opt;
  opt.progress = false;
  const mc::McResult r = mc::run_metropolis(sys, s, ev, opt);
  ASSERT_EQ(r.rows.size(), 4u);
  for (int t = 0; t < 4; ++t) EXPECT_DOUBLE_EQ(r.rows[t].temperature, s.temperatures[t]);
  for (int t = 1; t < 4; ++t) EXPECT_LT(r.rows[t].energy, r.rows[t - 1].energy);
  const double emin = *std::min_element(e.begin(), e.end());
  EXPECT_NEAR(r.lowest_energy, emin, 1e-6);  // float z1: the same configuration to ~1e-8 Ry
  EXPECT_NEAR(r.rows[3].energy, emin, 0.1 * sigma);
}

namespace {

// Exact ln g per energy level of the pair model (levels are multiples of v).
std::map<long, double> exact_levels(const FakeDriver& fake, const std::vector<Configuration>& all,
                                    double e0, double v) {
  std::map<long, double> g;
  for (const auto& c : all) g[std::lround((fake.energy(c) - e0) / v)] += 1;
  for (auto& [k, n] : g) n = std::log(n);
  return g;
}

}  // namespace

class WangLandauSchedule : public ::testing::TestWithParam<bool> {};

TEST_P(WangLandauSchedule, DensityOfStatesAndThermodynamics) {
  const bool one_over_t = GetParam();
  const System sys = small_system(LatticeKind::fcc, {2, 2, 1});  // 16 sites, 12870 configurations
  const double v = 0.002;
  FakeDriver fake(sys, 0.0, v);
  const auto all = enumerate({8, 8});
  std::vector<double> e;
  for (const auto& c : all) e.push_back(fake.energy(c));
  const double lo = *std::min_element(e.begin(), e.end()),
               hi = *std::max_element(e.begin(), e.end());
  const auto g = exact_levels(fake, all, 0.0, v);
  ASSERT_GT(g.size(), 4u);
  mc::Settings s = test_settings(sys, 8, {});
  s.method = mc::Method::wang_landau;
  s.walkers = 4;
  s.shells = 2;
  // One level per bin: bins of width v centred on the levels.
  s.wl.energy_min = lo - 0.5 * v;
  s.wl.energy_max = hi + 0.5 * v;
  s.wl.bin_width = v;
  s.wl.ln_f_final = one_over_t ? 1e-5 : 1e-7;
  s.wl.flatness = 0.9;
  s.wl.one_over_t = one_over_t;
  const double sigma = stddev(e);
  s.temperatures = {0.5 * sigma / mc::kBoltzmannRyPerK, sigma / mc::kBoltzmannRyPerK,
                    3 * sigma / mc::kBoltzmannRyPerK};
  mc::DriverEnergy energy(fake, true);
  mc::Evaluator ev(energy, nullptr);
  mc::RunOptions opt;
  opt.progress = false;
  const mc::McResult r = mc::run_wang_landau(sys, s, ev, opt);
  EXPECT_LT(r.ln_f, 1e-5);
  // Every level found, ln g within 0.1 (the error of Wang-Landau at ln f ~ 1e-5 with 80%
  // flatness is ~ a few 1e-2 for a few dozen bins; a sampler with a wrong acceptance ratio is
  // off by O(1) on the tails, where ln g spans ~ 9).
  int found = 0;
  double worst = 0;
  for (const auto& d : r.dos) {
    if (!d.visited) continue;
    const long level = std::lround(0.5 * (d.lo + d.hi) / v);
    ASSERT_TRUE(g.count(level)) << "bin at " << d.lo << " holds no level";
    worst = std::max(worst, std::abs(d.ln_g - g.at(level)));
    ++found;
  }
  EXPECT_EQ(found, static_cast<int>(g.size()));
  EXPECT_LT(worst, 0.1);
  // Thermodynamics from g(E): with |d ln g| < 0.1 the Boltzmann weights are within 10%, so
  // <E> lies within 10% of sigma_E(T) <= sigma of the exact value (and C within ~20%).
  for (const auto& row : r.rows) {
    const ExactAverages x = exact_averages(sys, all, e, row.temperature, 2);
    EXPECT_NEAR(row.energy, x.energy, 0.1 * sigma) << "T = " << row.temperature;
    EXPECT_NEAR(row.heat_capacity, x.heat_capacity, 0.2 * x.heat_capacity + 1e-3)
        << "T = " << row.temperature;
    for (int k = 0; k < 2; ++k)
      EXPECT_NEAR(row.sro[k], x.sro[k], 0.05) << "T = " << row.temperature;
  }
}

INSTANTIATE_TEST_SUITE_P(Schedules, WangLandauSchedule, ::testing::Values(false, true));

TEST(WangLandauExact, WindowScanFindsTheWholeSpectrum) {
  const System sys = small_system(LatticeKind::fcc, {2, 1, 1});  // 8 sites, 70 configurations
  ToyMlp mlp(16, 12, 3, 0.02);
  const auto all = enumerate({4, 4});
  std::vector<double> e;
  for (const auto& c : all) e.push_back(mlp.energy(c, 2));
  mc::Settings s = test_settings(sys, 4, {});
  s.method = mc::Method::wang_landau;
  s.walkers = 2;
  s.wl.bins = 12;
  s.wl.ln_f_final = 1e-4;
  s.wl.scan_sweeps = 100;
  const double sigma = stddev(e);
  s.temperatures = {sigma / mc::kBoltzmannRyPerK};
  mc::FirstLayerEnergy fast({&mlp}, 2);
  mc::Evaluator ev(fast, nullptr);
  mc::RunOptions opt;
  opt.progress = false;
  const mc::McResult r = mc::run_wang_landau(sys, s, ev, opt);
  const double lo = *std::min_element(e.begin(), e.end()),
               hi = *std::max_element(e.begin(), e.end());
  ASSERT_FALSE(r.dos.empty());
  EXPECT_LT(r.dos.front().lo, lo);
  EXPECT_GT(r.dos.back().hi, hi);
  EXPECT_NEAR(r.lowest_energy, lo, 1e-6);
  // Normalization: sum of g over the bins = 70 configurations.
  double z = 0;
  for (const auto& d : r.dos)
    if (d.visited) z += std::exp(d.ln_g);
  EXPECT_NEAR(z, 70.0, 1e-6);
  const ExactAverages x = exact_averages(sys, all, e, s.temperatures[0], 3);
  // 12 bins over the spectrum lump levels: <E> from bin-mean energies, within 0.15 sigma.
  EXPECT_NEAR(r.rows[0].energy, x.energy, 0.15 * sigma);
}

// Regression: the heat capacity pooled all chains' samples, so chains frozen in different
// states at low temperature (constant but different energies) gave a huge spurious C.
TEST(BlockEstimates, HeatCapacityIsTheMeanOfPerChainVariances) {
  const int ncol = 4;  // samples, sum dE, sum dE^2, one alpha
  // Chain 0 sits at dE = 0, chain 1 at dE = 0.1 Ry: no fluctuation within either chain.
  std::vector<double> frozen = {5, 0.0, 0.0,  1.0, 5, 0.0, 0.0,  1.0,
                                5, 0.5, 0.05, 2.0, 5, 0.5, 0.05, 2.0};
  std::vector<std::vector<const double*>> chains = {{&frozen[0], &frozen[4]},
                                                    {&frozen[8], &frozen[12]}};
  lsmss::mc::TemperatureResult r;
  lsmss::mc::block_estimates(chains, ncol, -1.0, 100.0, 8, r);
  EXPECT_EQ(r.samples, 20);
  EXPECT_NEAR(r.energy, -1.0 + 0.05, 1e-12);  // pooled mean
  EXPECT_NEAR(r.heat_capacity, 0.0, 1e-9);
  ASSERT_EQ(r.sro.size(), 1u);
  EXPECT_NEAR(r.sro[0], 0.3, 1e-12);  // (10 * 0.2 + 10 * 0.4) / 20

  // One fluctuating chain: dE = +-0.01 Ry with equal weight, variance 1e-4 Ry^2.
  std::vector<double> fluct = {4, 0.0, 4e-4, 0.0, 4, 0.0, 4e-4, 0.0};
  std::vector<std::vector<const double*>> one = {{&fluct[0], &fluct[4]}};
  lsmss::mc::block_estimates(one, ncol, 0.0, 300.0, 8, r);
  const double kT = lsmss::mc::kBoltzmannRyPerK * 300.0;
  EXPECT_NEAR(r.heat_capacity, 1e-4 / (8 * kT * kT), 1e-9);
  EXPECT_NEAR(r.heat_capacity_err, 0.0, 1e-9);
}
