// End-to-end checks of the command-line front end: help, version, deck errors.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "core/version.hpp"

#include "test_support.hpp"

using namespace lsmss::test;

namespace {
CommandResult cli(const std::string& args) {
  return run_command(cli_path().string() + " " + args);
}
}  // namespace

TEST(Cli, HelpAndVersion) {
  auto r = cli("--help");
  EXPECT_EQ(r.status, 0);
  for (const char* sub :
       {"check", "calc", "build", "import", "info", "train", "evaluate", "predict", "mc"})
    EXPECT_NE(r.output.find(sub), std::string::npos) << sub << "\n" << r.output;
  auto v = cli("--version");
  EXPECT_EQ(v.status, 0);
  EXPECT_NE(v.output.find("lsms-surrogate 0."), std::string::npos);
  // The cuda backend is compiled exactly where the CUDA Toolkit was found, and then the line says
  // whether a device is visible.
  if (lsmss::kHaveCuda) {
    EXPECT_NE(v.output.find("CUDA backend: compiled for 80-real"), std::string::npos) << v.output;
    EXPECT_NE(v.output.find("visible"), std::string::npos) << v.output;
  } else {
    EXPECT_NE(v.output.find("CUDA backend: not compiled"), std::string::npos) << v.output;
  }
  EXPECT_NE(v.output.find("BLAS: "), std::string::npos) << v.output;
  auto h = cli("calc --help");
  EXPECT_EQ(h.status, 0);
  EXPECT_NE(h.output.find("--random"), std::string::npos);
  EXPECT_NE(cli("").status, 0);
  EXPECT_NE(cli("frobnicate").status, 0);
}

TEST(Cli, BadDeckGivesOneClearMessageAndNonZeroExit) {
  TempDir dir;
  auto deck = dir.write(
      "bad.lua",
      "system = { lattice = 'fcc', a = 7.2, supercell = {1,1,1}, species = {'Cu','Au'} }\n"
      "sampling = { cap = 10 }\nsytem2 = 1\n");
  auto r = cli("check " + deck.string());
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.output.find("lsms-surrogate: error:"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("bad.lua"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("sytem2"), std::string::npos) << r.output;

  auto syntax = dir.write("syntax.lua", "system = {\n a = \n");
  r = cli("check " + syntax.string());
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.output.find("syntax.lua:"), std::string::npos) << r.output;

  r = cli("check " + (dir / "missing.lua").string());
  EXPECT_NE(r.status, 0);
}

// `check` reads every section the way its stage does, so a typo in `montecarlo` or a wrong type
// in `training` is found before a long `build` runs (it used to read only system and driver).
TEST(Cli, CheckValidatesEverySection) {
  TempDir dir;
  const std::string head =
      "system = { lattice = 'fcc', a = 7.2, supercell = {1,1,1}, species = {'Cu','Au'} }\n"
      "driver = 'pair'\n";
  struct Case {
    std::string body, key;
  };
  for (const Case& c :
       {Case{"sampling = { capp = 3 }\n", "sampling.capp"},
        Case{"dataset = { file = 3 }\n", "dataset.file"},
        Case{"training = { epochs = 'many' }\n", "training.epochs"},
        Case{"montecarlo = { composition = 2, temperatures = {300}, walkerz = 2 }\n",
             "montecarlo.walkerz"},
        Case{"montecarlo = { composition = 2, temperatures = {300},\n"
             "  fallback = { threshold = 0.1, driver = 'nodriver' } }\n",
             "montecarlo.fallback.driver"},
        // `output` was once accepted and never read: a deck setting it would have been ignored.
        Case{"output = { prefix = 'run' }\n", "unknown key 'output'"}}) {
    auto deck = dir.write("sections.lua", head + c.body);
    auto r = cli("check " + deck.string());
    EXPECT_EQ(r.status, 1) << c.body << r.output;
    EXPECT_NE(r.output.find(c.key), std::string::npos) << c.body << r.output;
  }
  auto good = dir.write("good.lua", head +
                                        "sampling = { cap = 3 }\ntraining = { epochs = 5 }\n"
                                        "montecarlo = { composition = 2, temperatures = {300} }\n");
  auto r = cli("check " + good.string());
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("montecarlo OK"), std::string::npos) << r.output;
  // An import deck names no driver: check does not print the default as if it were used
  // (issue 15: it printed "driver    tb").
  auto import_deck = dir.write(
      "import.lua",
      "system = { lattice = 'fcc', a = 7.2, supercell = {1,1,1}, species = {'Cu','Au'} }\n"
      "sampling = { cap = 3 }\ndataset = { file = 'x.h5' }\n");
  r = cli("check " + import_deck.string());
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("driver    none named"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("driver    tb"), std::string::npos) << r.output;
}

// Every deck shipped in examples/ passes `check`; a surrogate deck whose model is not trained
// yet has every section valid, but `check` fails (exit 1) and says the driver is missing.
TEST(Cli, EveryExampleDeckPassesCheck) {
  const std::filesystem::path examples = std::filesystem::path(LSMSS_SOURCE_DIR) / "examples";
  int decks = 0;
  for (const auto& e : std::filesystem::directory_iterator(examples)) {
    if (e.path().extension() != ".lua") continue;
    ++decks;
    auto r = cli("check " + e.path().string());
    if (r.output.find("driver    not created") != std::string::npos) {
      EXPECT_EQ(r.status, 1) << e.path() << "\n" << r.output;
      EXPECT_NE(r.output.find("every section is valid, but the driver could not be created"),
                std::string::npos)
          << e.path() << "\n"
          << r.output;
      EXPECT_EQ(r.output.find("deck OK"), std::string::npos) << e.path() << "\n" << r.output;
      continue;
    }
    EXPECT_EQ(r.status, 0) << e.path() << "\n" << r.output;
    EXPECT_NE(r.output.find("deck OK"), std::string::npos) << e.path() << "\n" << r.output;
  }
  EXPECT_GE(decks, 10);
}

// `calc --random` draws with the project's generator (core/rng.hpp): the same seed gives the
// same configurations, each with exactly --composition atoms of species 0, spread over the sites.
TEST(Cli, CalcRandomConfigurations) {
  TempDir dir;
  auto deck = dir.write(
      "pair.lua",
      "system = { lattice = 'fcc', a = 7.2, supercell = {1,1,1}, species = {'Cu','Au'} }\n"
      "driver = 'pair'\n");
  auto configurations = [&](const std::string& seed) {
    const auto tsv = dir / ("calc" + seed + ".tsv");
    auto r = cli("calc " + deck.string() + " --random 20 --composition 1 --seed " + seed + " -o " +
                 tsv.string());
    EXPECT_EQ(r.status, 0) << r.output;
    std::vector<std::string> configs;
    std::istringstream in(read_file(tsv));
    std::string line;
    while (std::getline(in, line)) {
      if (line.empty() || line[0] == '#' || line.rfind("index", 0) == 0) continue;
      std::istringstream fields(line);
      std::string index, config;
      fields >> index >> config;
      configs.push_back(config);
    }
    return configs;
  };
  const auto a = configurations("7");
  ASSERT_EQ(a.size(), 20u);
  std::set<std::string> distinct(a.begin(), a.end());
  for (const auto& c : a) EXPECT_EQ(std::count(c.begin(), c.end(), '0'), 1) << c;
  EXPECT_GT(distinct.size(), 1u);  // 4 sites: all 20 draws alike has probability 4^-19
  EXPECT_EQ(configurations("7"), a);
}
