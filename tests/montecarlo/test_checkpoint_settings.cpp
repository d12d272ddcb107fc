// Checkpoint/resume reproduces an uninterrupted run exactly; deck parsing of `montecarlo`.
#include <gtest/gtest.h>

#include "fake_driver.hpp"
#include "mc_support.hpp"
#include "montecarlo/sampler.hpp"
#include "montecarlo/settings.hpp"
#include "test_support.hpp"

using namespace lsmss;
using namespace lsmss::test;

namespace {

// Bitwise equality, NaN equal to NaN (Wang-Landau rows carry no error bars).
void expect_same(double a, double b) {
  if (std::isnan(a) && std::isnan(b)) return;
  EXPECT_EQ(a, b);
}

void expect_same_rows(const mc::McResult& a, const mc::McResult& b) {
  ASSERT_EQ(a.rows.size(), b.rows.size());
  for (std::size_t t = 0; t < a.rows.size(); ++t) {
    expect_same(a.rows[t].energy, b.rows[t].energy);
    expect_same(a.rows[t].energy_err, b.rows[t].energy_err);
    expect_same(a.rows[t].heat_capacity, b.rows[t].heat_capacity);
    expect_same(a.rows[t].acceptance, b.rows[t].acceptance);
    ASSERT_EQ(a.rows[t].sro.size(), b.rows[t].sro.size());
    for (std::size_t k = 0; k < a.rows[t].sro.size(); ++k)
      expect_same(a.rows[t].sro[k], b.rows[t].sro[k]);
    EXPECT_EQ(a.rows[t].samples, b.rows[t].samples);
  }
  EXPECT_EQ(a.lowest_energy, b.lowest_energy);
  EXPECT_EQ(a.lowest, b.lowest);
  EXPECT_EQ(a.steps, b.steps);
}

}  // namespace

class Resume : public ::testing::TestWithParam<int> {};

// 0: Metropolis, driver path, independent temperatures; 1: Metropolis, fast path, annealing;
// 2: Wang-Landau, fast path.
TEST_P(Resume, InterruptedRunsEqualUninterruptedOnes) {
  const int mode = GetParam();
  TempDir dir;
  const System sys = small_system(LatticeKind::fcc, {2, 1, 1});
  FakeDriver fake(sys, -0.5, 0.003);
  ToyMlp mlp(16, 12, 4, 0.02);
  auto settings = [&](const std::string& ckpt) {
    mc::Settings s = test_settings(sys, 3, {900, 500, 300});
    s.walkers = 3;
    s.equilibration = 5;
    s.sweeps = 40;
    s.blocks = 4;
    s.anneal = mode == 1;
    s.checkpoint = (dir / ckpt).string();
    s.checkpoint_interval = 7;
    if (mode == 2) {
      s.method = mc::Method::wang_landau;
      s.wl.bins = 10;
      s.wl.ln_f_final = 1e-3;
      s.wl.scan_sweeps = 20;
    }
    return s;
  };
  auto run = [&](const mc::Settings& s, long stop_after) {
    mc::DriverEnergy slow(fake, true);
    mc::FirstLayerEnergy fast({&mlp}, 2);
    mc::WalkerEnergy& energy = mode == 0 ? static_cast<mc::WalkerEnergy&>(slow) : fast;
    mc::Evaluator ev(energy, nullptr);
    mc::RunOptions opt;
    opt.progress = false;
    opt.stop_after = stop_after;
    return mc::run(sys, s, ev, opt);
  };
  const mc::McResult whole = run(settings("a.h5"), 0);
  EXPECT_FALSE(whole.interrupted);
  EXPECT_FALSE(whole.resumed);
  const mc::Settings sb = settings("b.h5");
  mc::McResult part = run(sb, 11);
  EXPECT_TRUE(part.interrupted);
  int sessions = 1;
  while (part.interrupted) {
    part = run(sb, 11);
    EXPECT_TRUE(part.resumed);
    ++sessions;
    ASSERT_LT(sessions, 1000);
  }
  EXPECT_GT(sessions, 2);
  expect_same_rows(whole, part);
  if (mode == 2) {
    ASSERT_EQ(whole.dos.size(), part.dos.size());
    for (std::size_t b = 0; b < whole.dos.size(); ++b)
      EXPECT_EQ(whole.dos[b].ln_g, part.dos[b].ln_g);
  }
  // A finished checkpoint gives the results again without sampling.
  const long calls = fake.calls;
  const mc::McResult again = run(sb, 0);
  expect_same_rows(whole, again);
  EXPECT_EQ(fake.calls, calls);
  // Other settings refuse the checkpoint.
  mc::Settings other = sb;
  other.seed = 99;
  EXPECT_THROW(run(other, 0), FileError);
}

INSTANTIATE_TEST_SUITE_P(Modes, Resume, ::testing::Values(0, 1, 2));

namespace {

mc::Settings parse(const std::string& text, const System& sys) {
  const Deck deck = Deck::from_string(text, "t.lua");
  return mc::read_settings(deck.root().table("montecarlo"), sys, "decks/cuau.lua");
}

std::string error_of(const std::string& text, const System& sys) {
  try {
    parse(text, sys);
  } catch (const DeckError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(McSettings, DefaultsAndValues) {
  const System sys = small_system(LatticeKind::fcc, {2, 2, 2});
  const mc::Settings d = parse("montecarlo = { temperatures = {300} }", sys);
  EXPECT_EQ(d.method, mc::Method::metropolis);
  EXPECT_EQ(d.counts, (std::vector<int>{16, 16}));
  EXPECT_EQ(d.output, "cuau_mc");
  EXPECT_EQ(d.checkpoint, "cuau_mc_checkpoint.h5");
  EXPECT_FALSE(d.fallback.enabled);
  const mc::Settings s =
      parse(R"(montecarlo = { method = "wang_landau", fraction = 0.25, walkers = 4,
      wang_landau = { energy_min = -1.5, energy_max = -1.0, bin_width = 0.01, ln_f_final = 1e-7 },
      fallback = { threshold = 2e-3, driver = "tb", dataset = "d.h5" } })",
            sys);
  EXPECT_EQ(s.method, mc::Method::wang_landau);
  EXPECT_EQ(s.counts, (std::vector<int>{8, 24}));
  EXPECT_EQ(*s.wl.energy_min, -1.5);
  EXPECT_EQ(s.wl.bin_width, 0.01);
  EXPECT_FALSE(s.temperatures.empty());  // Wang-Landau: default grid
  EXPECT_TRUE(s.fallback.enabled);
  EXPECT_EQ(s.fallback.threshold, 2e-3);
  EXPECT_NE(s.fingerprint(), d.fingerprint());
}

TEST(McSettings, ErrorsNameTheKey) {
  const System sys = small_system(LatticeKind::fcc, {2, 2, 2});
  EXPECT_NE(error_of("montecarlo = { temperatures = {300}, sweps = 10 }", sys)
                .find("did you mean 'sweeps'"),
            std::string::npos);
  EXPECT_NE(error_of("montecarlo = { }", sys).find("montecarlo.temperatures"), std::string::npos);
  EXPECT_NE(error_of("montecarlo = { temperatures = {-5} }", sys).find("temperatures"),
            std::string::npos);
  EXPECT_NE(
      error_of("montecarlo = { temperatures = {300}, fraction = 0.3 }", sys).find("whole number"),
      std::string::npos);
  EXPECT_NE(error_of("montecarlo = { temperatures = {300}, fraction = 0.5, composition = 3 }", sys)
                .find("only one"),
            std::string::npos);
  EXPECT_NE(
      error_of("montecarlo = { temperatures = {300}, composition = 33 }", sys).find("composition"),
      std::string::npos);
  EXPECT_NE(
      error_of(R"(montecarlo = { method = "wang_landau", wang_landau = { energy_min = 1 } })", sys)
          .find("energy_max"),
      std::string::npos);
  EXPECT_NE(error_of("montecarlo = { temperatures = {300}, fallback = { dataset = 'd.h5' } }", sys)
                .find("montecarlo.fallback.threshold"),
            std::string::npos);
  EXPECT_NE(
      error_of("montecarlo = { temperatures = {300}, initial = '0101' }", sys).find("initial"),
      std::string::npos);
  EXPECT_NE(error_of("montecarlo = { temperatures = {300}, wang_landau = { bins = 5 } }", sys)
                .find("wang_landau"),
            std::string::npos);
}
