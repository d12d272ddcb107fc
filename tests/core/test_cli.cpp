// End-to-end checks of the command-line front end: help, version, deck errors.
#include <gtest/gtest.h>

#include "test_support.hpp"

using namespace lsmss::test;

namespace {
CommandResult cli(const std::string& args) { return run_command(cli_path().string() + " " + args); }
}  // namespace

TEST(Cli, HelpAndVersion) {
  auto r = cli("--help");
  EXPECT_EQ(r.status, 0);
  for (const char* sub : {"check", "calc", "build", "import", "info", "train", "evaluate", "predict", "mc"})
    EXPECT_NE(r.output.find(sub), std::string::npos) << sub << "\n" << r.output;
  auto v = cli("--version");
  EXPECT_EQ(v.status, 0);
  EXPECT_NE(v.output.find("lsms-surrogate 0."), std::string::npos);
  auto h = cli("calc --help");
  EXPECT_EQ(h.status, 0);
  EXPECT_NE(h.output.find("--random"), std::string::npos);
  EXPECT_NE(cli("").status, 0);
  EXPECT_NE(cli("frobnicate").status, 0);
}

TEST(Cli, BadDeckGivesOneClearMessageAndNonZeroExit) {
  TempDir dir;
  auto deck = dir.write("bad.lua",
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
