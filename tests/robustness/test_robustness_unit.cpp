// In-process robustness checks (docs/reliability.md): Lua budgets and one-line errors, the
// command policy of decks, the fallback budget across interrupted Monte Carlo runs, model
// files replaced only by valid ones.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>

#include <fmt/ranges.h>

#include "core/deck.hpp"
#include "core/hdf5.hpp"
#include "core/system.hpp"
#include "dataset_builder/builder.hpp"
#include "dataset_builder/dataset.hpp"
#include "drivers/register.hpp"
#include "montecarlo/fallback.hpp"
#include "test_support.hpp"

using namespace lsmss;
using namespace lsmss::test;

namespace {

std::string deck_error(const std::string& text, const DeckOptions& opts = {}) {
  try {
    Deck::from_string(text, "budget.lua", opts);
  } catch (const DeckError& e) {
    return e.what();
  }
  return {};
}

}  // namespace

TEST(RobustnessDeck, InstructionBudgetStopsEveryKindOfEndlessLoop) {
  DeckOptions small;
  small.instruction_limit = 1'000'000;
  for (const char* loop : {"while true do end", "for i = 1, math.maxinteger do end",
                           "repeat until false", "::top:: goto top",
                           "local function f() return f() end f()",  // a tail call: no stack
                           "while true do pcall(function() while true do end end) end",
                           "string.gsub('x', 'x', function() while true do end end)"}) {
    SCOPED_TRACE(loop);
    const auto t0 = std::chrono::steady_clock::now();
    const std::string e = deck_error(std::string("a = 1\n") + loop + "\n", small);
    EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), 20.0);
    EXPECT_NE(e.find("budget.lua:2:"), std::string::npos) << e;
    EXPECT_NE(e.find("1000000 Lua instructions"), std::string::npos) << e;
    EXPECT_EQ(e.find('\n'), std::string::npos) << e;
  }
  // An ordinary deck is far below the default budget.
  EXPECT_NO_THROW(Deck::from_string("t = {}\nfor i = 1, 100000 do t[i] = i * i end\n", "ok.lua"));
}

TEST(RobustnessDeck, MemoryBudgetStopsRunawayTablesAndStrings) {
  DeckOptions small;
  small.memory_limit = std::size_t{8} << 20;
  for (const char* greedy :
       {"t = {} for i = 1, 1e8 do t[i] = i end", "s = string.rep('x', 1 << 30)",
        "s = 'x' while true do s = s .. s end"}) {
    SCOPED_TRACE(greedy);
    const std::string e = deck_error(greedy, small);
    EXPECT_NE(e.find("budget.lua: the deck needs more than 8 MiB"), std::string::npos) << e;
  }
}

TEST(RobustnessDeck, RuntimeErrorsAreOneLineWithFileAndLine) {
  for (const auto& [text, where] : {std::pair{"a = 1\nb = nil .. 'x'\n", "budget.lua:2:"},
                                    std::pair{"a = 1\n\nb = string.rep()\n", "budget.lua:3:"},
                                    std::pair{"error({})\n", "budget.lua:1:"}}) {
    const std::string e = deck_error(text);
    EXPECT_NE(e.find(where), std::string::npos) << e;
    EXPECT_EQ(e.find('\n'), std::string::npos) << e;
    EXPECT_EQ(e.find("traceback"), std::string::npos) << e;
  }
}

TEST(RobustnessDeck, NonFiniteNumbersAndHugeIntegersNameTheKey) {
  const Deck d = Deck::from_string("x = 0/0\ny = -1/0\nz = math.maxinteger\n", "n.lua");
  for (const char* k : {"x", "y"}) {
    try {
      d.root().number(k);
      ADD_FAILURE() << k;
    } catch (const DeckError& e) {
      EXPECT_NE(std::string(e.what()).find(fmt::format("key '{}'", k)), std::string::npos)
          << e.what();
      EXPECT_NE(std::string(e.what()).find("finite"), std::string::npos) << e.what();
    }
  }
  try {
    d.root().integer("z", 1, 0, 1000);
    ADD_FAILURE();
  } catch (const DeckError& e) {
    EXPECT_NE(std::string(e.what()).find("9223372036854775807"), std::string::npos) << e.what();
  }
}

TEST(RobustnessDeck, ProgramKeysNeedTrust) {
  DeckOptions untrusted;
  untrusted.allow_commands = false;
  const Deck d =
      Deck::from_string("lsms = { executable = '/bin/sh', ranks = 1 }\n", "p.lua", untrusted);
  const DeckTable t = d.root().table("lsms");
  EXPECT_NO_THROW(t.require_trust_unless("launcher", true));
  try {
    t.require_trust_unless("executable", harmless_program("/bin/sh", {"lsms", "lsms_asa"}));
    ADD_FAILURE();
  } catch (const DeckError& e) {
    EXPECT_NE(std::string(e.what()).find("lsms.executable"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("--allow-commands"), std::string::npos) << e.what();
  }
  const Deck trusted = Deck::from_string("lsms = { executable = '/bin/sh' }\n", "p.lua");
  EXPECT_NO_THROW(trusted.root().table("lsms").require_trust_unless("executable", false));
  // What needs no trust: known programs by bare name, launchers with plain flags only.
  EXPECT_TRUE(harmless_program("lsms_asa", {"lsms", "lsms_asa"}));
  EXPECT_FALSE(harmless_program("/tmp/x/lsms_asa", {"lsms", "lsms_asa"}));
  EXPECT_TRUE(harmless_launcher({}));
  EXPECT_TRUE(harmless_launcher({"mpirun", "-np", "{ranks}"}));
  EXPECT_TRUE(harmless_launcher({"srun", "--exclusive", "-N", "1", "-n", "{ranks}"}));
  for (const std::vector<std::string>& bad : {std::vector<std::string>{"sh", "-c", "x"},
                                              {"mpirun", "-np", "1", "sh"},
                                              {"srun", "--prolog=/tmp/x"},
                                              {"mpirun", "--mca", "plm_rsh_agent", "/tmp/x"},
                                              {"/usr/bin/mpirun"},
                                              {"mpirun", "-"},
                                              {"mpirun", "-np", "1;sh"}})
    EXPECT_FALSE(harmless_launcher(bad)) << fmt::format("{}", fmt::join(bad, " "));
}

// The lsms driver writes some deck values into LSMS's own Lua deck, which LSMS runs with os and
// io: from an untrusted deck those must be plain data, and the child's environment must not be
// able to load code (LD_PRELOAD). LSMS itself may be named by path when the file is lsms_asa.
TEST(RobustnessDeck, LsmsKeysThatCouldRunCodeNeedTrust) {
  EXPECT_TRUE(harmless_lua_table("{1, 1, 7}"));
  EXPECT_TRUE(harmless_lua_table(
      "{ npts = 24, grid = 2, ebot = -0.3, etop = 0.0, eitop = 0.825, eibot = 0.0025 }"));
  for (const char* bad : {"{} os.execute('x')", "{1} os.execute'x'", "{f{}}", "{x = y}",
                          "{1, 2} --[[x]]", "{ a = 1 }\nos.exit()"})
    EXPECT_FALSE(harmless_lua_table(bad)) << bad;
  EXPECT_TRUE(harmless_environment_name("OMPI_MCA_btl"));
  EXPECT_TRUE(harmless_environment_name("OMP_NUM_THREADS"));
  for (const char* bad : {"LD_PRELOAD", "PATH", "LD_LIBRARY_PATH", "PYTHONPATH"})
    EXPECT_FALSE(harmless_environment_name(bad)) << bad;

  const std::string exe = std::string(LSMSS_SHARED_DIR) + "/lsms/bin/lsms_asa";
  const System sys{Lattice(LatticeKind::bcc, 6.82192, 6.82192, {1, 1, 1}),
                   {species_from_symbol("Cu"), species_from_symbol("Zn")}};
  auto creation_error = [&](const std::string& extra, bool trusted) {
    DeckOptions opts;
    opts.allow_commands = trusted;
    const Deck d = Deck::from_string(
        fmt::format("driver = 'lsms'\nlsms = {{ launcher = {{}}, executable = '{}', {} }}", exe,
                    extra),
        "lsms.lua", opts);
    DriverRegistry reg;
    drivers::register_builtin_drivers(reg);
    try {
      reg.create_from_deck(d.root(), sys);
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  EXPECT_EQ(creation_error("nscf = 2", false), "");  // LSMS by path, no launcher: harmless
  for (const std::string& bad : {std::string("extra_lua = 'os.execute(\"true\")'"),
                                 std::string("energy_contour = '{} os.execute(\"true\")'"),
                                 std::string("xc_functional = '{1} os.exit()'"),
                                 std::string("environment = { LD_PRELOAD = '/tmp/x.so' }")}) {
    const std::string e = creation_error(bad, false);
    EXPECT_NE(e.find("--allow-commands"), std::string::npos) << bad << ": " << e;
    EXPECT_EQ(creation_error(bad, true), "") << bad;
  }
}

TEST(RobustnessDeck, LatticeConstantsOutsideTheSensibleRangeAreRefused) {
  for (const char* a : {"1e300", "1e-300", "0.5", "101"}) {
    const Deck d = Deck::from_string(
        fmt::format("system = {{ lattice = 'fcc', a = {}, species = {{'Cu','Au'}} }}", a), "l.lua");
    try {
      System::from_deck(d.root().table("system"));
      ADD_FAILURE() << a;
    } catch (const DeckError& e) {
      EXPECT_NE(std::string(e.what()).find("system.a"), std::string::npos) << e.what();
    }
  }
}

// `mc` with the DFT fallback, killed and rerun (no checkpoint yet, so the chain starts over):
// the rows the job acquired before count against max_fallbacks, so the budget is not reset.
TEST(RobustnessFallback, RerunCountsTheRowsEarlierRunsOfTheJobAcquired) {
  TempDir dir;
  const auto file = dir / "data.h5";
  const Deck deck = Deck::from_string(
      fmt::format(
          "system = {{ lattice = 'fcc', a = 7.2377, supercell = {{1,1,2}}, species = "
          "{{'Cu','Au'}} }}\ndriver = 'tb'\ntb = {{}}\nsampling = {{ cap = 2, seed = 2, "
          "folds = 2, test_fraction = 0, compositions = {{4}} }}\ndataset = {{ file = '{}' }}\n",
          file.string()),
      "data.lua");
  const System sys = System::from_deck(deck.root().table("system"));
  DriverRegistry registry;
  drivers::register_builtin_drivers(registry);
  dataset::BuildOptions o;
  o.progress = false;
  o.verbose = false;
  dataset::build_dataset(deck, sys, registry, o);
  auto tb = [&] {
    return registry.create("tb", DriverContext{sys, deck.root().table("tb"), deck.root()});
  };
  mc::FallbackSettings s;
  s.enabled = true;
  s.threshold = 0.0;
  s.driver = "tb";
  s.dataset = file.string();
  s.max_fallbacks = 3;
  s.flush_interval = 1;
  s.run = "mc:job";
  // Fresh configurations of composition 4 the dataset does not hold.
  const dataset::Dataset have = dataset::read_dataset(file);
  std::vector<Configuration> fresh;
  std::vector<std::uint8_t> occ = {0, 0, 0, 0, 1, 1, 1, 1};
  do {
    const Configuration c(occ);
    bool known = false;
    for (std::size_t r = 0; r < have.rows(); ++r) known = known || have.configuration(r) == c;
    if (!known) fresh.push_back(c);
  } while (std::next_permutation(occ.begin(), occ.end()) && fresh.size() < 6);
  ASSERT_EQ(fresh.size(), 6u);
  auto evaluate = [&](mc::Fallback& fb, std::size_t first, std::size_t n) {
    std::vector<mc::EnergyResult> res(n);
    std::vector<mc::EnergyResult*> ptr;
    for (auto& r : res) r.ok = true, r.std = 1.0, ptr.push_back(&r);
    fb.evaluate(std::span(fresh).subspan(first, n), ptr);
    return static_cast<long>(std::count_if(res.begin(), res.end(), [](auto& r) { return r.dft; }));
  };
  {
    // The first run acquires 2 rows, appended at once (flush_interval 1), then "dies": the
    // object is leaked, as kill -9 would leave it.
    auto* first = new mc::Fallback(s, tb(), sys);
    EXPECT_EQ(first->earlier(), 0);
    EXPECT_EQ(evaluate(*first, 0, 2), 2);
    first->flush();
    (void)first;  // NOLINT: never destroyed, like a killed process
  }
  mc::Fallback again(s, tb(), sys);
  EXPECT_EQ(again.earlier(), 2);
  EXPECT_FALSE(again.limit_reached());
  EXPECT_EQ(evaluate(again, 0, 2), 2);  // memoized from the dataset: free
  EXPECT_EQ(again.calculations(), 0);
  EXPECT_EQ(evaluate(again, 2, 4), 1);  // one new calculation left of the budget of 3
  EXPECT_EQ(again.calculations(), 1);
  EXPECT_TRUE(again.limit_reached());
  // Another job (another output prefix) has its own budget.
  s.run = "mc:other";
  mc::Fallback other(s, tb(), sys);
  EXPECT_EQ(other.earlier(), 0);
}
