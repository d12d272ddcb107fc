// The `lsms` driver end to end against a stand-in executable (fake_lsms.py) that checks decks as
// LSMS does. The parsers and the deck writer it uses: tests/lsms_plugin/.
#include <gtest/gtest.h>

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>

#include "core/deck.hpp"
#include "drivers/lsms/lsms_driver.hpp"
#include "drivers/register.hpp"
#include "fixtures.hpp"
#include "lsms_plugin/process.hpp"
#include "test_support.hpp"

using namespace lsmss;

namespace {
const auto kRuns = test::shared_dir() / "data/lsms/runs";

// The 2-site FePt cell of the LSMS run fixtures.
System fept2() {
  return fixtures::fept_system({1, 1, 1});
}
}  // namespace

class LsmsDriverTest : public ::testing::Test {
 protected:
  void SetUp() override { setenv("FAKE_LSMS_MODE", "ok", 1); }
  std::string deck_text(const std::string& extra, const std::string& work_dir = "") const {
    return fmt::format(
        "driver = 'lsms'\nlsms = {{ executable = '{}', kind = 'lsms_asa', launcher = {{}}, "
        "work_dir = '{}', timeout = 2, nscf = 10, rms_tolerance = 1e-6 {} }}",
        LSMSS_FAKE_LSMS, work_dir.empty() ? dir_.path().string() : work_dir, extra);
  }
  std::unique_ptr<Driver> make(const std::string& extra = "", const std::string& work_dir = "") {
    DriverRegistry reg;
    drivers::register_builtin_drivers(reg);
    deck_ = Deck::from_string(deck_text(extra, work_dir), "lsms.lua");
    return reg.create_from_deck(deck_.root(), sys_);
  }
  // Run directories (run-...) under the work directory.
  std::vector<std::filesystem::path> run_dirs() const {
    std::vector<std::filesystem::path> out;
    for (const auto& e : std::filesystem::directory_iterator(dir_.path()))
      if (e.path().filename().string().rfind("run-", 0) == 0) out.push_back(e.path());
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
      return std::filesystem::last_write_time(a) < std::filesystem::last_write_time(b);
    });
    return out;
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
  EXPECT_EQ(p.iterations, 6);  // charge rms 1e-2, 1e-3, ..., 1e-7 < 1e-6
  EXPECT_LE(p.residual, 1e-6);
  // Successful run directories are removed unless keep_runs is set.
  EXPECT_TRUE(run_dirs().empty());
}

TEST_F(LsmsDriverTest, FailuresAreReportedNeverData) {
  auto drv = make();
  setenv("FAKE_LSMS_MODE", "unconverged", 1);
  auto p = drv->evaluate_one(Configuration::from_string("10"));
  EXPECT_EQ(p.status, Status::not_converged);
  EXPECT_NE(p.message.find("nscf = 10 reached"), std::string::npos) << p.message;

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
  EXPECT_FALSE(run_dirs().empty());
}

// The real error line of an aborted run (an uncaught exception in a rank) used to be pushed out
// of the 15-line tail by the launcher's own messages.
TEST_F(LsmsDriverTest, ErrorMessageKeepsTheRealErrorLine) {
  auto drv = make();
  setenv("FAKE_LSMS_MODE", "crash_mpi", 1);
  auto p = drv->evaluate_one(Configuration::from_string("10"));
  EXPECT_EQ(p.status, Status::failed);
  EXPECT_NE(p.message.find("what():  std::bad_array_new_length"), std::string::npos) << p.message;
  EXPECT_NE(p.message.find("terminate called"), std::string::npos) << p.message;
  EXPECT_NE(p.message.find("launcher noise line 29"), std::string::npos) << p.message;
}

// On a time-out every process LSMS's launcher started dies, also ranks that the launcher put
// into process groups of their own (only the launcher's group was killed before).
TEST_F(LsmsDriverTest, TimeOutKillsTheWholeJob) {
  auto drv = make();
  setenv("FAKE_LSMS_MODE", "hang", 1);
  auto p = drv->evaluate_one(Configuration::from_string("10"));
  ASSERT_EQ(p.status, Status::timeout);
  const auto dirs = run_dirs();
  ASSERT_EQ(dirs.size(), 1u);
  const pid_t grandchild = std::stoi(test::read_file(dirs[0] / "grandchild.pid"));
  // Give init a moment to reap it; a zombie counts as dead.
  bool alive = true;
  for (int k = 0; k < 100 && alive; ++k) {
    const std::string stat = test::read_file(fmt::format("/proc/{}/stat", grandchild));
    const auto close = stat.rfind(')');
    alive = close != std::string::npos && stat.size() > close + 2 && stat[close + 2] != 'Z';
    if (alive) usleep(20000);
  }
  EXPECT_FALSE(alive) << "process " << grandchild << " outlived the time-out";
  if (alive) kill(grandchild, SIGKILL);
}

// LSMS converges on the charge rms (and the energy change); the potential rms (column 5 of
// lsms_asa's k.out, which the driver used to judge) does not count.
TEST_F(LsmsDriverTest, ConvergenceFollowsLsmsNotThePotentialRms) {
  auto drv = make();
  setenv("FAKE_LSMS_MODE", "potential_rms_high", 1);
  auto p = drv->evaluate_one(Configuration::from_string("01"));
  EXPECT_EQ(p.status, Status::ok) << p.message;
  EXPECT_EQ(p.iterations, 6);
  // One SCF iteration with a loose tolerance: LSMS did not declare convergence (its energy test
  // fails on the first iteration), so it is not data.
  auto one = make(", nscf = 1, rms_tolerance = 0.1");
  setenv("FAKE_LSMS_MODE", "ok", 1);
  p = one->evaluate_one(Configuration::from_string("01"));
  EXPECT_EQ(p.status, Status::not_converged) << p.message;
  EXPECT_FALSE(p.ok());
}

// A relative work_dir (the default) made every launch exit with status 126: the child changed
// into the run directory and then opened a path that was still relative.
TEST_F(LsmsDriverTest, RelativeWorkDir) {
  const auto cwd = std::filesystem::current_path();
  std::filesystem::current_path(dir_.path());
  auto drv = make(", keep_runs = true", "relative-runs");
  auto p = drv->evaluate_one(Configuration::from_string("01"));
  std::filesystem::current_path(cwd);
  EXPECT_EQ(p.status, Status::ok) << p.message;
  EXPECT_TRUE(std::filesystem::exists(dir_.path() / "relative-runs"));
}

// LSMS gets a clean environment: no MPI variables of this process (an mpirun that inherits them
// exits 1 silently), none that this program set for itself, the deck's `environment` on top.
TEST_F(LsmsDriverTest, ChildEnvironmentIsClean) {
  setenv("OMPI_COMM_WORLD_SIZE", "2", 1);
  setenv("OMPI_MCA_ess_base_jobid", "123", 1);
  setenv("PMIX_RANK", "0", 1);
  setenv("PRTE_MCA_foo", "1", 1);
  setenv("OMPI_ALLOW_RUN_AS_ROOT", "1", 1);
  const char* own_before = std::getenv("LSMSS_SELF_SET_ENV");
  const std::string own = own_before ? own_before : "";
  const char* core_before = std::getenv("OPENBLAS_CORETYPE");
  const std::string core = core_before ? core_before : "";
  setenv("LSMSS_SELF_SET_ENV", "OPENBLAS_CORETYPE", 1);
  setenv("OPENBLAS_CORETYPE", "Haswell", 1);
  auto drv = make(", keep_runs = true, environment = { LSMSS_TEST_EXTRA = 'yes' }");
  auto p = drv->evaluate_one(Configuration::from_string("01"));
  for (const char* v : {"OMPI_COMM_WORLD_SIZE", "OMPI_MCA_ess_base_jobid", "PMIX_RANK",
                        "PRTE_MCA_foo", "OMPI_ALLOW_RUN_AS_ROOT"})
    unsetenv(v);
  if (own.empty())
    unsetenv("LSMSS_SELF_SET_ENV");
  else
    setenv("LSMSS_SELF_SET_ENV", own.c_str(), 1);
  if (core.empty())
    unsetenv("OPENBLAS_CORETYPE");
  else
    setenv("OPENBLAS_CORETYPE", core.c_str(), 1);
  ASSERT_EQ(p.status, Status::ok) << p.message;
  const auto dirs = run_dirs();
  ASSERT_EQ(dirs.size(), 1u);
  const std::string env = "\n" + test::read_file(dirs[0] / "env.txt");
  for (const char* gone :
       {"\nOMPI_COMM_WORLD_SIZE\n", "\nOMPI_MCA_ess_base_jobid\n", "\nPMIX_RANK\n",
        "\nPRTE_MCA_foo\n", "\nOPENBLAS_CORETYPE\n", "\nLSMSS_SELF_SET_ENV\n"})
    EXPECT_EQ(env.find(gone), std::string::npos) << gone << env;
  EXPECT_NE(env.find("\nOMPI_ALLOW_RUN_AS_ROOT\n"), std::string::npos) << env;
  EXPECT_NE(env.find("\nLSMSS_TEST_EXTRA\n"), std::string::npos) << env;
  EXPECT_NE(env.find("\nPATH\n"), std::string::npos) << env;
  // A user's own OPENBLAS_CORETYPE (not set by this program) is passed on.
  auto env2 = lsms::clean_child_environment({});
  setenv("OPENBLAS_CORETYPE", "Haswell", 1);
  unsetenv("LSMSS_SELF_SET_ENV");
  env2 = lsms::clean_child_environment({});
  if (own.empty())
    unsetenv("LSMSS_SELF_SET_ENV");
  else
    setenv("LSMSS_SELF_SET_ENV", own.c_str(), 1);
  if (core.empty())
    unsetenv("OPENBLAS_CORETYPE");
  else
    setenv("OPENBLAS_CORETYPE", core.c_str(), 1);
  EXPECT_NE(std::find(env2.begin(), env2.end(), "OPENBLAS_CORETYPE=Haswell"), env2.end());
}

TEST_F(LsmsDriverTest, ExecutableIsCheckedAtSetUp) {
  DriverRegistry reg;
  drivers::register_builtin_drivers(reg);
  auto create = [&](const std::string& lsms_table, const std::string& file = "x.lua") {
    Deck d = Deck::from_string("lsms = " + lsms_table, file);
    return reg.create("lsms", DriverContext{sys_, d.root().table("lsms"), d.root()});
  };
  try {
    create("{ executable = '/nonexistent/lsms_asa', launcher = {} }");
    FAIL() << "a missing executable was accepted";
  } catch (const DeckError& e) {
    EXPECT_NE(std::string(e.what()).find("lsms.executable"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("does not exist"), std::string::npos) << e.what();
  }
  auto plain = dir_.write("lsms_asa", "#!/bin/sh\n");  // not executable
  EXPECT_THROW(create(fmt::format("{{ executable = '{}', launcher = {{}} }}", plain.string())),
               DeckError);
  EXPECT_THROW(create("{ executable = 'no-such-lsms-program', kind = 'lsms', launcher = {} }"),
               DeckError);
  EXPECT_THROW(create(fmt::format("{{ executable = '{}', kind = 'lsms_asa', "
                                  "launcher = {{'no-such-launcher', '-n', '{{ranks}}'}} }}",
                                  LSMSS_FAKE_LSMS)),
               DeckError);
  // A relative path is taken from the deck file's folder, not the working directory.
  std::filesystem::create_directories(dir_.path() / "bin");
  std::filesystem::copy_file(LSMSS_FAKE_LSMS, dir_.path() / "bin/lsms_asa");
  EXPECT_NO_THROW(create("{ executable = 'bin/lsms_asa', launcher = {} }",
                         (dir_.path() / "deck.lua").string()));
  EXPECT_THROW(create("{ executable = 'bin/lsms_asa', launcher = {} }", "/nonexistent/deck.lua"),
               DeckError);

  Deck typo = Deck::from_string(
      fmt::format("lsms = {{ executable = '{}', kind = 'lsms_asa', nscf = 10, rms_tol = 1e-3 }}",
                  LSMSS_FAKE_LSMS),
      "t.lua");
  EXPECT_THROW(reg.create("lsms", DriverContext{sys_, typo.root().table("lsms"), typo.root()}),
               DeckError);
  Deck pots = Deck::from_string(
      fmt::format("lsms = {{ executable = '{}', kind = 'lsms_asa', start = 'potentials', "
                  "potentials = {{ Fe = '/nonexistent' }} }}",
                  LSMSS_FAKE_LSMS),
      "p.lua");
  EXPECT_THROW(reg.create("lsms", DriverContext{sys_, pots.root().table("lsms"), pots.root()}),
               DeckError);
}

// The kind (mtasa in the deck) comes from the executable's exact name; any other name (a wrapper
// script) must say it: it used to get mtasa = 0 silently.
TEST_F(LsmsDriverTest, KindIsExplicitForWrappers) {
  EXPECT_EQ(drivers::default_executable_kind("/opt/lsms/bin/lsms_asa"), "lsms_asa");
  EXPECT_EQ(drivers::default_executable_kind("lsms"), "lsms");
  EXPECT_EQ(drivers::default_executable_kind("/site/run_lsms_asa.sh"), "");
  DriverRegistry reg;
  drivers::register_builtin_drivers(reg);
  Deck wrapper = Deck::from_string(
      fmt::format("lsms = {{ executable = '{}', launcher = {{}} }}", LSMSS_FAKE_LSMS), "w.lua");
  try {
    reg.create("lsms", DriverContext{sys_, wrapper.root().table("lsms"), wrapper.root()});
    FAIL() << "a wrapper without kind was accepted";
  } catch (const DeckError& e) {
    EXPECT_NE(std::string(e.what()).find("lsms.kind"), std::string::npos) << e.what();
  }
  auto drv = make(", keep_runs = true");  // kind = 'lsms_asa' with the wrapper's name
  auto p = drv->evaluate_one(Configuration::from_string("01"));
  ASSERT_EQ(p.status, Status::ok) << p.message;
  const std::string deck = test::read_file(run_dirs().at(0) / "i_lsms");
  EXPECT_NE(deck.find("mtasa = 1\n"), std::string::npos) << deck;
}

TEST_F(LsmsDriverTest, StartsFromSpeciesPotentials) {
  auto fe = dir_.write("w_fe", "potential Z=26");
  auto pt = dir_.write("w_pt", "potential Z=78");
  auto drv = make(fmt::format(", start = 'potentials', potentials = {{ Fe = '{}', Pt = '{}' }}",
                              fe.string(), pt.string()));
  auto p = drv->evaluate_one(Configuration::from_string("01"));
  EXPECT_EQ(p.status, Status::ok) << p.message;
}

// Warm starts: a calculation starts from the converged potentials of an earlier one (same
// composition, else the nearest that has every species), site by site of the same species. The
// stand-in checks that every v_in.<site> belongs to the site's species, and converges faster
// from potential files.
TEST_F(LsmsDriverTest, WarmStartFromEarlierPotentials) {
  auto drv = make(", warm_start = true");
  auto cold = drv->evaluate_one(Configuration::from_string("01"));
  ASSERT_EQ(cold.status, Status::ok) << cold.message;
  EXPECT_EQ(cold.iterations, 6);
  auto warm = drv->evaluate_one(Configuration::from_string("10"));  // species swapped
  ASSERT_EQ(warm.status, Status::ok) << warm.message;
  EXPECT_EQ(warm.iterations, 4);
  auto pure = drv->evaluate_one(Configuration::from_string("00"));  // nearest composition
  ASSERT_EQ(pure.status, Status::ok) << pure.message;
  EXPECT_EQ(pure.iterations, 4);
  // Pure Pt: the mixed composition is the nearest that holds Pt.
  auto pt = drv->evaluate_one(Configuration::from_string("11"));
  ASSERT_EQ(pt.status, Status::ok) << pt.message;
  EXPECT_EQ(pt.iterations, 4);

  // Off (the default): every calculation from scratch.
  auto off = make();
  off->evaluate_one(Configuration::from_string("01"));
  EXPECT_EQ(off->evaluate_one(Configuration::from_string("10")).iterations, 6);

  // A warm start that fails is reported, and the next attempt starts from scratch.
  auto drv2 = make(", warm_start = true");
  ASSERT_TRUE(drv2->evaluate_one(Configuration::from_string("01")).ok());
  setenv("FAKE_LSMS_MODE", "warmfail", 1);
  auto bad = drv2->evaluate_one(Configuration::from_string("10"));
  EXPECT_EQ(bad.status, Status::failed);
  EXPECT_NE(bad.message.find("next attempt starts as lsms.start says"), std::string::npos)
      << bad.message;
  auto again = drv2->evaluate_one(Configuration::from_string("10"));
  EXPECT_EQ(again.status, Status::ok) << again.message;
  EXPECT_EQ(again.iterations, 6);
}

// `calc` exits non-zero when no calculation succeeded, 0 when at least one did.
TEST_F(LsmsDriverTest, CalcExitStatus) {
  auto deck = dir_.write("calc.lua",
                         "system = { lattice = 'bct', a = 5.218, c = 7.058, supercell = {1,1,1}, "
                         "species = {'Fe','Pt'} }\n" +
                             deck_text(""));
  // The stand-in LSMS is a script: the deck needs --allow-commands to name it.
  auto r =
      test::run_command(fmt::format("FAKE_LSMS_MODE=crash {} calc --allow-commands {} -c 01 -c 10",
                                    test::cli_path().string(), deck.string()));
  EXPECT_NE(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("no calculation succeeded"), std::string::npos) << r.output;
  r = test::run_command(fmt::format("FAKE_LSMS_MODE=ok {} calc --allow-commands {} -c 01",
                                    test::cli_path().string(), deck.string()));
  EXPECT_EQ(r.status, 0) << r.output;
  r = test::run_command(fmt::format("{} check {}", test::cli_path().string(),
                                    dir_.write("bad.lua",
                                               "system = { lattice = 'bcc', a = 5.4, species = "
                                               "{'Fe','Pt'} }\ndriver = 'lsms'\n"
                                               "lsms = { executable = '/nonexistent/lsms_asa' }\n")
                                        .string()));
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_NE(r.output.find("lsms.executable"), std::string::npos) << r.output;
}

// A recorded real run (CuZn B2, lsms_asa, 3 iterations): its stdout has only the final
// "Writing new potentials." and not LSMS's convergence line, so even tolerances its last
// iteration meets do not make it data unless LSMS's verdict is given.
TEST(LsmsHarvest, RecordedRunNeedsLsmsVerdict) {
  const System cuzn{Lattice(LatticeKind::bcc, 3.61 / 0.529177, 0.0, {1, 1, 1}),
                    {species_from_symbol("Cu"), species_from_symbol("Zn")}};
  drivers::LsmsSettings s;
  s.deck.executable_kind = "lsms_asa";
  s.deck.nscf = 3;
  s.deck.rms_tolerance = 1e-3;
  s.deck.energy_tolerance = 1e-5;
  const auto dir = kRuns / "cuzn_b2_lsms_asa";
  auto p = drivers::harvest_run(cuzn, s, dir, Configuration::from_string("01"));
  EXPECT_EQ(p.status, Status::not_converged);
  EXPECT_NE(p.message.find("did not print"), std::string::npos) << p.message;
  p = drivers::harvest_run(cuzn, s, dir, Configuration::from_string("01"), true);
  EXPECT_EQ(p.status, Status::ok) << p.message;
  EXPECT_NEAR(*p.energy, -6891.734226627432, 1e-9);
  EXPECT_NEAR(p.charge[0], 29.094448, 1e-9);
  EXPECT_EQ(p.iterations, 3);
  // Zn on site 0 contradicts the file: a failure naming it.
  p = drivers::harvest_run(cuzn, s, dir, Configuration::from_string("10"), true);
  EXPECT_EQ(p.status, Status::failed);
}
