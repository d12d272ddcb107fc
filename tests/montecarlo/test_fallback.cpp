// Uncertainty-aware DFT fallback (montecarlo/fallback.hpp) and the surrogate driver's checks:
//  - Fallback in-process on a tb dataset of an 8-site cell: which results are replaced, the
//    exact tb energies, memoization by dataset rows and earlier calculations, the budget, rows
//    appended marked acquired;
//  - the surrogate driver refuses a model of another system and names the backend it uses.
#include <gtest/gtest.h>

#include <algorithm>

#include "dataset_builder/builder.hpp"
#include "dataset_builder/dataset.hpp"
#include "drivers/register.hpp"
#include "drivers/surrogate/surrogate_driver.hpp"
#include "fake_driver.hpp"
#include "fixtures.hpp"
#include "mc_support.hpp"
#include "montecarlo/fallback.hpp"
#include "nn/core/trainer.hpp"
#include "test_support.hpp"

using namespace lsmss;
using namespace lsmss::test;

namespace {

// fcc 1x1x2 (8 sites) with a tb dataset of 3 configurations per composition (all where fewer).
Deck data_deck(int cap, const std::filesystem::path& file) {
  return Deck::from_string(
      fixtures::cuau_system_lua("{1,1,2}") +
          fmt::format("driver = 'tb'\ntb = {{}}\nsampling = {{ cap = {}, seed = 2, "
                      "folds = 4, test_fraction = 0 }}\ndataset = {{ file = '{}' }}\n",
                      cap, file.string()),
      "data.lua");
}

struct TbData {
  TempDir dir;
  DriverRegistry registry;
  std::filesystem::path file = dir / "data.h5";
  Deck deck;
  System sys;
  explicit TbData(int cap = 3)
      : deck(data_deck(cap, file)), sys(System::from_deck(deck.root().table("system"))) {
    drivers::register_builtin_drivers(registry);
    dataset::BuildOptions o;
    o.progress = false;
    o.verbose = false;
    dataset::build_dataset(deck, sys, registry, o);
  }
  std::unique_ptr<Driver> tb() const {
    return registry.create("tb", DriverContext{sys, deck.root().table("tb"), deck.root()});
  }
  mc::FallbackSettings settings(double threshold, long max = 0) const {
    mc::FallbackSettings s;
    s.enabled = true;
    s.threshold = threshold;
    s.driver = "tb";
    s.dataset = file.string();
    s.max_fallbacks = max;
    s.flush_interval = 1000;  // flushed explicitly by the test
    return s;
  }
};

mc::EnergyResult surrogate_value(double e, double std) {
  mc::EnergyResult r;
  r.energy = e;
  r.std = std;
  r.ok = true;
  return r;
}

}  // namespace

TEST(Fallback, ReplacesUncertainResultsWithDftAndAppendsAcquiredRows) {
  TbData d;
  const dataset::Dataset before = dataset::read_dataset(d.file);
  ASSERT_GT(before.rows(), 5u);
  mc::Fallback fb(d.settings(0.01), d.tb(), d.sys);
  EXPECT_EQ(fb.preloaded(), static_cast<long>(before.rows()));

  // Threshold: strictly greater; a result without a spread (single model) never falls back.
  EXPECT_FALSE(fb.wants(surrogate_value(-1, 0.01)));
  EXPECT_TRUE(fb.wants(surrogate_value(-1, 0.0100001)));
  EXPECT_FALSE(fb.wants(surrogate_value(-1, NAN)));
  mc::EnergyResult failed = surrogate_value(-1, 1.0);
  failed.ok = false;
  EXPECT_FALSE(fb.wants(failed));

  // A 4/4 configuration outside the dataset (cap 3 of 70), asked twice in one batch, and one
  // that the dataset already holds.
  std::unordered_set<Configuration, ConfigurationHash> known;
  for (std::size_t r = 0; r < before.rows(); ++r) known.insert(before.configuration(r));
  Configuration fresh;
  for (const auto& c : enumerate({4, 4}))
    if (!known.count(c)) {
      fresh = c;
      break;
    }
  ASSERT_EQ(fresh.num_sites(), 8);
  const Configuration held = before.configuration(0);
  const std::vector<Configuration> configs = {fresh, held, fresh};
  std::vector<mc::EnergyResult> res = {surrogate_value(1.0, 0.5), surrogate_value(2.0, 0.5),
                                       surrogate_value(3.0, 0.5)};
  std::vector<mc::EnergyResult*> ptr = {&res[0], &res[1], &res[2]};
  fb.evaluate(configs, ptr);

  const auto tb = d.tb();
  const double e_fresh = *tb->evaluate(std::vector<Configuration>{fresh})[0].energy;
  EXPECT_DOUBLE_EQ(res[0].energy, e_fresh);  // tb is deterministic: the same number
  EXPECT_DOUBLE_EQ(res[2].energy, e_fresh);
  EXPECT_DOUBLE_EQ(res[1].energy, before.energy[0]);  // answered by the dataset row
  for (const auto& r : res) {
    EXPECT_TRUE(r.dft);
    EXPECT_DOUBLE_EQ(r.std, 0.5);  // the ensemble spread is kept for the record
  }
  EXPECT_TRUE(res[0].acquired);   // one new calculation ...
  EXPECT_FALSE(res[1].acquired);  // ... not for a known row ...
  EXPECT_FALSE(res[2].acquired);  // ... nor twice for a duplicate
  EXPECT_EQ(fb.calculations(), 1);
  EXPECT_EQ(fb.fallbacks(), 3);

  // Memoized: asking again costs no calculation.
  mc::EnergyResult again = surrogate_value(7.0, 0.5);
  mc::EnergyResult* again_ptr = &again;
  fb.evaluate(std::vector<Configuration>{fresh}, std::span<mc::EnergyResult* const>(&again_ptr, 1));
  EXPECT_DOUBLE_EQ(again.energy, e_fresh);
  EXPECT_FALSE(again.acquired);
  EXPECT_EQ(fb.calculations(), 1);

  fb.flush();
  EXPECT_EQ(fb.appended(), 1);
  const dataset::Dataset after = dataset::read_dataset(d.file);
  ASSERT_EQ(after.rows(), before.rows() + 1);
  int acquired = 0;
  for (std::size_t r = 0; r < after.rows(); ++r)
    if (after.origin[r] == static_cast<std::int8_t>(dataset::Origin::acquired)) {
      ++acquired;
      EXPECT_EQ(after.configuration(r), fresh);
      EXPECT_DOUBLE_EQ(after.energy[r], e_fresh);
    }
  EXPECT_EQ(acquired, 1);
  EXPECT_EQ(after.driver, "tb");
}

TEST(Fallback, BudgetKeepsTheSurrogateValueBeyondMaxFallbacks) {
  TbData d;
  mc::Fallback fb(d.settings(0.0, 2), d.tb(), d.sys);
  const dataset::Dataset ds = dataset::read_dataset(d.file);
  std::unordered_set<Configuration, ConfigurationHash> known;
  for (std::size_t r = 0; r < ds.rows(); ++r) known.insert(ds.configuration(r));
  std::vector<Configuration> fresh;
  for (const auto& c : enumerate({4, 4}))
    if (!known.count(c) && fresh.size() < 4) fresh.push_back(c);
  std::vector<mc::EnergyResult> res(fresh.size(), surrogate_value(5.0, 1.0));
  std::vector<mc::EnergyResult*> ptr;
  for (auto& r : res) ptr.push_back(&r);
  fb.evaluate(fresh, ptr);
  EXPECT_EQ(fb.calculations(), 2);
  EXPECT_TRUE(fb.limit_reached());
  EXPECT_TRUE(res[0].dft && res[1].dft);
  EXPECT_FALSE(res[2].dft || res[3].dft);
  EXPECT_DOUBLE_EQ(res[3].energy, 5.0);
}  // the destructor flushes the 2 acquisitions

// A failed DFT calculation keeps the surrogate value, counts in failed() and goes to the warning
// sink (the program prints it; the library does not), naming the driver and the reason.
TEST(Fallback, FailedDftCalculationGoesToTheWarningSink) {
  TbData d(1);
  const dataset::Dataset have = dataset::read_dataset(d.file);
  std::vector<std::uint8_t> occ = {0, 0, 0, 0, 1, 1, 1, 1};
  auto known = [&](const Configuration& c) {
    for (std::size_t r = 0; r < have.rows(); ++r)
      if (have.configuration(r) == c) return true;
    return false;
  };
  while (known(Configuration(occ))) ASSERT_TRUE(std::next_permutation(occ.begin(), occ.end()));
  const Configuration fresh(occ);
  std::vector<std::string> warnings;
  mc::Fallback fb(d.settings(0.0),
                  std::make_unique<FakeDriver>(d.sys, -1.0, 0.1, std::set{fresh.hash()}), d.sys,
                  [&](const std::string& line) { warnings.push_back(line); });
  mc::EnergyResult r = surrogate_value(-3.0, 1.0);
  std::vector<mc::EnergyResult*> ptr = {&r};
  fb.evaluate(std::span(&fresh, 1), ptr);
  EXPECT_FALSE(r.dft);
  EXPECT_DOUBLE_EQ(r.energy, -3.0);
  EXPECT_EQ(fb.failed(), 1);
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("fallback driver 'fake' failed (failed): scripted failure"),
            std::string::npos)
      << warnings[0];
}

TEST(Fallback, RefusesMissingOrForeignDatasets) {
  TbData d(1);
  auto s = d.settings(0.01);
  s.dataset = (d.dir / "missing.h5").string();
  EXPECT_THROW(mc::Fallback(s, d.tb(), d.sys), FileError);
  s = d.settings(0.01);
  s.driver = "pair";  // the file was computed with tb: energies must not be mixed
  try {
    mc::Fallback fb(s, d.tb(), d.sys);
    FAIL() << "a dataset of another driver was accepted";
  } catch (const FileError& e) {
    EXPECT_NE(std::string(e.what()).find("computed with driver 'tb'"), std::string::npos)
        << e.what();
  }
  System other = small_system(LatticeKind::fcc, {2, 1, 1});  // another supercell
  try {
    mc::Fallback fb(d.settings(0.01), d.tb(), other);
    FAIL() << "a dataset of another system was accepted";
  } catch (const FileError& e) {
    EXPECT_NE(std::string(e.what()).find("the deck's system"), std::string::npos) << e.what();
  }
}

TEST(SurrogateDriver, ChecksTheSystemAndUsesTheNamedBackend) {
  TbData d(2);
  const dataset::Dataset data = dataset::read_dataset(d.file);
  nn::TrainingOptions o;
  o.shared = {8};
  o.epochs = 5;
  o.folds = {0};
  o.progress = false;
  o.backend = "reference";
  const nn::Model m = nn::train_model(data, o, 0);
  const auto file = d.dir / "m.h5";
  nn::save_models(file, {&m});

  drivers::SurrogateSettings s;
  s.models = {file};
  s.backend = "reference";
  drivers::SurrogateDriver ref(d.sys, s);
  s.backend = "onednn";
  drivers::SurrogateDriver dnn(d.sys, s);
  EXPECT_NE(ref.describe().find("backend reference"), std::string::npos) << ref.describe();
  EXPECT_NE(dnn.describe().find("backend onednn"), std::string::npos) << dnn.describe();
  const auto configs = enumerate({3, 5});
  const auto a = ref.evaluate(configs), b = dnn.evaluate(configs);
  for (std::size_t k = 0; k < configs.size(); ++k) {
    ASSERT_TRUE(a[k].ok() && b[k].ok());
    // Same model: float32 backends agree to rounding (|E| ~ 10^3 Ry, float epsilon 1.2e-7).
    EXPECT_NEAR(*a[k].energy, *b[k].energy, 1e-6 * std::abs(*a[k].energy));
    EXPECT_FALSE(a[k].energy_std.has_value());  // one model: no spread (absent, not zero)
    EXPECT_TRUE(a[k].charge.empty() && a[k].moment.empty());  // not predicted: absent
  }
  const System other = small_system(LatticeKind::fcc, {2, 1, 1});
  try {
    s.backend = "reference";
    drivers::SurrogateDriver bad(other, s);
    FAIL() << "a model of another system was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("does not match the deck's system"), std::string::npos)
        << e.what();
  }
  s.models = {d.dir / "nope.h5"};
  EXPECT_THROW(drivers::SurrogateDriver(d.sys, s), FileError);
}

// Issue 15: the fold models of a file are an ensemble by default (the mean predicts);
// `surrogate.folds` picks some of them (one fold: the paper's single model).
TEST(SurrogateDriver, PredictsTheFoldMeanByDefaultAndOneFoldOnRequest) {
  TbData d(2);
  const dataset::Dataset data = dataset::read_dataset(d.file);
  nn::TrainingOptions o;
  o.shared = {8};
  o.epochs = 5;
  o.progress = false;
  o.backend = "reference";
  const nn::Model m0 = nn::train_model(data, o, 0), m1 = nn::train_model(data, o, 1);
  const auto file = d.dir / "folds.h5";
  nn::save_models(file, {&m0, &m1});
  const auto configs = enumerate({3, 5});
  const nn::Predictions p0 = m0.predict(configs), p1 = m1.predict(configs);

  drivers::SurrogateSettings s;
  s.models = {file};
  s.backend = "reference";
  drivers::SurrogateDriver both(d.sys, s);
  EXPECT_EQ(both.ensemble_size(), 2u);
  s.folds = {1};
  drivers::SurrogateDriver one(d.sys, s);
  EXPECT_EQ(one.ensemble_size(), 1u);
  const auto a = both.evaluate(configs), b = one.evaluate(configs);
  for (std::size_t k = 0; k < configs.size(); ++k) {
    EXPECT_NEAR(*a[k].energy, 0.5 * (p0.energy[k] + p1.energy[k]), 1e-9 * std::abs(*a[k].energy));
    EXPECT_TRUE(a[k].energy_std.has_value());
    EXPECT_NEAR(*b[k].energy, p1.energy[k], 1e-9 * std::abs(*b[k].energy));
    EXPECT_FALSE(b[k].energy_std.has_value());
  }
  s.folds = {7};
  try {
    drivers::SurrogateDriver missing(d.sys, s);
    FAIL() << "a fold that is not in the file was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("no model of fold 7"), std::string::npos) << e.what();
  }
  {  // The deck key.
    const Deck dk = Deck::from_string("surrogate = { model = 'x.h5', folds = {0, 2} }", "s.lua");
    EXPECT_EQ(drivers::read_surrogate_settings(dk.root().table("surrogate")).folds,
              (std::vector<int>{0, 2}));
  }
}
