// The LSMS side: k.out / info_evec parsers on real fixtures, the deck writer, and the `lsms`
// driver end to end against a stand-in executable (fake_lsms.py) that checks decks as LSMS does.
#include <gtest/gtest.h>

#include <cstdlib>

#include "core/deck.hpp"
#include "drivers/lsms/lsms_driver.hpp"
#include "drivers/register.hpp"
#include "lsms_plugin/deck_writer.hpp"
#include "lsms_plugin/info_evec.hpp"
#include "lsms_plugin/kout.hpp"
#include "test_support.hpp"

using namespace lsmss;

namespace {
const auto kRuns = test::shared_dir() / "data/lsms/runs";

System fept2() {
  return System{Lattice(LatticeKind::bct, 5.218, 7.058, {1, 1, 1}),
                {species_from_symbol("Fe"), species_from_symbol("Pt")}};
}
}  // namespace

TEST(Kout, ParsesBothExecutablesAndJudgesConvergence) {
  auto asa = lsms::parse_kout(kRuns / "cuzn_b2_lsms_asa/k.out");
  ASSERT_EQ(asa.size(), 3u);
  EXPECT_DOUBLE_EQ(asa.back().total_energy, -6891.734226627432);
  EXPECT_DOUBLE_EQ(asa.back().rms(), 2.742668e-03);  // potential rms, column 5
  auto mt = lsms::parse_kout(kRuns / "cuzn_b2_lsms_mt/k.out");
  ASSERT_EQ(mt.size(), 3u);
  EXPECT_DOUBLE_EQ(mt.back().rms(), 0.0044723790);
  auto fept = lsms::parse_kout(kRuns / "fept_l10_lsms_asa_unconverged/k.out");
  ASSERT_EQ(fept.size(), 8u);

  // None of the fixtures converged by their decks' tolerances.
  EXPECT_FALSE(lsms::judge_convergence(asa, 1e-11, 3).converged);
  auto c = lsms::judge_convergence(fept, 1e-8, 8);
  EXPECT_FALSE(c.converged);
  EXPECT_NE(c.reason.find("nscf reached"), std::string::npos);
  EXPECT_TRUE(lsms::judge_convergence(asa, 1e-2, 3).converged);
  EXPECT_FALSE(lsms::judge_convergence({}, 1.0, 3).converged);

  EXPECT_THROW(lsms::parse_kout_text("0 -1.0 0.5\n", "k.out"), FileError);
  EXPECT_THROW(lsms::parse_kout_text("0 -1.0 nan 1e-3 1e-3\n", "k.out"), FileError);
  EXPECT_THROW(lsms::parse_kout("/nonexistent/k.out"), FileError);
}

TEST(InfoEvec, ParsesFixturesAndRealSamples) {
  auto run = lsms::parse_info_evec(kRuns / "fept_l10_lsms_asa_unconverged/info_evec_out");
  ASSERT_EQ(run.atoms.size(), 2u);
  EXPECT_EQ(run.atoms[0].Z, 26);
  auto cuau = lsms::parse_info_evec(test::shared_dir() / "data/lsms/samples/CuAu_32atoms/out_0");
  ASSERT_EQ(cuau.atoms.size(), 32u);
  EXPECT_DOUBLE_EQ(cuau.total_energy, -1218350.3714865949);
  EXPECT_NEAR(cuau.atoms[1].position[0], 3.61883295, 1e-12);
  auto fept = lsms::parse_info_evec(test::shared_dir() / "data/lsms/samples/FePt_32atoms/out_100");
  EXPECT_NEAR(fept.atoms[2].moment, 0.775751, 1e-12);
  EXPECT_NEAR(fept.atoms[0].electrons, 78.240089, 1e-12);
  try {
    lsms::parse_info_evec_text("1 2 3\n 29 0 0 0 0 29.1\n", "bad_file");
    FAIL();
  } catch (const FileError& e) {
    EXPECT_NE(std::string(e.what()).find("bad_file:2"), std::string::npos) << e.what();
  }
  EXPECT_THROW(lsms::parse_info_evec_text("", "empty"), FileError);
  EXPECT_THROW(lsms::parse_info_evec_text("1 2 3\n", "noatoms"), FileError);
  EXPECT_THROW(lsms::parse_info_evec_text("1 2\n", "short"), FileError);
}

TEST(DeckWriter, WritesEveryKeyLsmsNeeds) {
  System sys = fept2();
  std::vector<lsms::SpeciesSetup> setup = {lsms::default_species_setup(sys.species[0]),
                                           lsms::default_species_setup(sys.species[1])};
  lsms::DeckSpec spec;
  const std::string text =
      lsms::write_deck(spec, sys.lattice, Configuration::from_string("01"), setup);
  // The deck must run as Lua and define what LSMS reads without defaults.
  Deck d = Deck::from_string(text, "i_lsms");
  const auto& root = d.root();
  EXPECT_EQ(root.integer("num_atoms"), 2);
  EXPECT_EQ(root.integer("pot_in_type"), -1);
  EXPECT_EQ(root.integer("numberOfMixQuantities"), 1);
  auto mixing = root.tables("mixing");
  ASSERT_EQ(mixing.size(), 1u);
  EXPECT_DOUBLE_EQ(mixing[0].number("mixing_parameter"), 0.05);
  auto sites = root.tables("site");
  ASSERT_EQ(sites.size(), 2u);
  for (const auto& s : sites) {
    EXPECT_EQ(s.numbers("pos").size(), 3u);
    EXPECT_EQ(s.numbers("evec").size(), 3u);
    EXPECT_EQ(s.numbers("rsteps").size(), 4u);
    EXPECT_EQ(s.integer("Z"), s.integer("Zc") + s.integer("Zs") + s.integer("Zv"));
  }
  EXPECT_EQ(sites[1].string("atom"), "Pt");
  EXPECT_NEAR(sites[1].numbers("pos")[2], 7.058 / 2, 1e-12);
  auto bad = setup;
  bad[0].Zv = 7;
  EXPECT_THROW(lsms::write_deck(spec, sys.lattice, Configuration::from_string("01"), bad), Error);
  EXPECT_THROW(lsms::default_species_setup(species_from_symbol("U")), Error);
}

class LsmsDriverTest : public ::testing::Test {
 protected:
  void SetUp() override { setenv("FAKE_LSMS_MODE", "ok", 1); }
  std::unique_ptr<Driver> make(const std::string& extra = "") {
    DriverRegistry reg;
    drivers::register_builtin_drivers(reg);
    deck_ = Deck::from_string(
        fmt::format("driver = 'lsms'\nlsms = {{ executable = '{}', launcher = {{}}, "
                    "work_dir = '{}', timeout = 2, nscf = 10, rms_tolerance = 1e-6 {} }}",
                    LSMSS_FAKE_LSMS, dir_.path().string(), extra),
        "lsms.lua");
    return reg.create_from_deck(deck_.root(), sys_);
  }
  test::TempDir dir_;
  System sys_ = fept2();
  Deck deck_ = Deck::from_string("", "empty");
};

TEST_F(LsmsDriverTest, ConvergedRunIsHarvestedOntoLatticeSites) {
  auto drv = make();
  auto p = drv->evaluate_one(Configuration::from_string("01"));
  ASSERT_EQ(p.status, Status::ok) << p.message;
  EXPECT_DOUBLE_EQ(*p.energy, -1000.0 * (26 + 78) - 0.001);
  ASSERT_EQ(p.charge.size(), 2u);
  // Written in reverse order by the stand-in; mapped back by position.
  EXPECT_NEAR(p.charge[0], 26.0, 1e-9);
  EXPECT_NEAR(p.charge[1], 78.01, 1e-9);
  EXPECT_NEAR(p.moment[0], 0.1, 1e-9);
  EXPECT_EQ(p.iterations, 3);
  EXPECT_LE(p.residual, 1e-6);
  // Successful run directories are removed unless keep_runs is set.
  EXPECT_TRUE(std::filesystem::is_empty(dir_.path()));
}

TEST_F(LsmsDriverTest, FailuresAreReportedNeverData) {
  auto drv = make();
  setenv("FAKE_LSMS_MODE", "unconverged", 1);
  auto p = drv->evaluate_one(Configuration::from_string("10"));
  EXPECT_EQ(p.status, Status::not_converged);
  EXPECT_NE(p.message.find("nscf reached"), std::string::npos) << p.message;

  setenv("FAKE_LSMS_MODE", "crash", 1);
  p = drv->evaluate_one(Configuration::from_string("10"));
  EXPECT_EQ(p.status, Status::failed);
  EXPECT_FALSE(p.energy.has_value());
  EXPECT_NE(p.message.find("simulated"), std::string::npos) << p.message;  // stderr tail

  setenv("FAKE_LSMS_MODE", "garbage", 1);
  p = drv->evaluate_one(Configuration::from_string("10"));
  EXPECT_EQ(p.status, Status::failed);
  EXPECT_NE(p.message.find("info_evec_out:1"), std::string::npos) << p.message;

  setenv("FAKE_LSMS_MODE", "hang", 1);
  p = drv->evaluate_one(Configuration::from_string("10"));
  EXPECT_EQ(p.status, Status::timeout);
  EXPECT_LT(p.wall_time, 10.0);
  // Failed runs stay for inspection.
  EXPECT_FALSE(std::filesystem::is_empty(dir_.path()));
}

TEST_F(LsmsDriverTest, MissingExecutableAndBadSettings) {
  DriverRegistry reg;
  drivers::register_builtin_drivers(reg);
  Deck d = Deck::from_string(
      fmt::format("lsms = {{ executable = '/nonexistent/lsms', launcher = {{}}, work_dir = '{}' }}",
                  dir_.path().string()),
      "x.lua");
  auto drv = reg.create("lsms", DriverContext{sys_, d.root().table("lsms"), d.root(), &reg});
  auto p = drv->evaluate_one(Configuration::from_string("01"));
  EXPECT_EQ(p.status, Status::failed);
  EXPECT_NE(p.message.find("exited with status 127"), std::string::npos) << p.message;

  Deck typo = Deck::from_string("lsms = { nscf = 10, rms_tol = 1e-3 }", "t.lua");
  EXPECT_THROW(
      reg.create("lsms", DriverContext{sys_, typo.root().table("lsms"), typo.root(), &reg}),
      DeckError);
  Deck pots = Deck::from_string(
      "lsms = { start = 'potentials', potentials = { Fe = '/nonexistent' } }", "p.lua");
  EXPECT_THROW(
      reg.create("lsms", DriverContext{sys_, pots.root().table("lsms"), pots.root(), &reg}),
      DeckError);
}

TEST_F(LsmsDriverTest, StartsFromSpeciesPotentials) {
  auto fe = dir_.write("w_fe", "potential");
  auto pt = dir_.write("w_pt", "potential");
  auto drv = make(fmt::format(", start = 'potentials', potentials = {{ Fe = '{}', Pt = '{}' }}",
                              fe.string(), pt.string()));
  auto p = drv->evaluate_one(Configuration::from_string("01"));
  EXPECT_EQ(p.status, Status::ok) << p.message;
}
