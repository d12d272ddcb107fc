// The parameter data file: complete, cited, validated.
#include <gtest/gtest.h>

#include <fstream>
#include <regex>
#include <sstream>

#include "core/data_path.hpp"
#include "core/error.hpp"
#include "drivers/tb/tb_parameters.hpp"
#include "test_support.hpp"

using namespace lsmss;

TEST(TbParameters, ShippedFileHasTheElementsOfTheStudies) {
  const auto p = tb::TbParameters::load(data_file("tb/parameters.lua"));
  for (const char* el : {"Fe", "Co", "Ni", "Cu", "Pd", "Ag", "Pt", "Au"}) {
    const auto& e = p.element(el);
    EXPECT_GT(e.a, 4.0) << el;
    EXPECT_LT(e.dd_sigma, 0.0) << el;
    EXPECT_GT(e.dd_pi, 0.0) << el;
    EXPECT_GT(e.work_function, 0.2) << el;  // Ry
  }
  // Units: eV in the file, Ry inside; first-neighbour distance derived from the structure.
  EXPECT_NEAR(p.element("Fe").stoner_i * tb::kRydbergEV, 0.95, 1e-12);
  EXPECT_NEAR(p.element("Cu").r1, 6.822 / std::sqrt(2.0), 1e-12);
  EXPECT_NEAR(p.element("Fe").r1, 5.30 * std::sqrt(3.0) / 2.0, 1e-12);
  EXPECT_DOUBLE_EQ(p.exponent_dd, 5.0);
  EXPECT_DOUBLE_EQ(p.exponent_repulsion, 8.0);
}

TEST(TbParameters, EveryNumberCitesItsSource) {
  std::ifstream in(test::source_dir() / "data/tb/parameters.lua");
  ASSERT_TRUE(in);
  const std::regex assignment(R"(^\s*\w+\s*=\s*-?[0-9.]+\s*,?)");
  const std::regex citation(R"(--\s*\[(P|AM|H|J|SP|M|S|WH|fit|init)\])");
  std::string line;
  int numbers = 0, lineno = 0;
  while (std::getline(in, line)) {
    ++lineno;
    if (!std::regex_search(line, assignment)) continue;
    ++numbers;
    EXPECT_TRUE(std::regex_search(line, citation))
        << "line " << lineno << " has no source: " << line;
  }
  // 8 elements x 19 numbers (a, 4 on-site levels, 10 two-centre integrals, I, U, work function,
  // initial moment) plus the 7 scaling exponents.
  EXPECT_GE(numbers, 8 * 19 + 7);
}

TEST(TbParameters, MissingOrUnknownEntriesAreNamed) {
  test::TempDir dir;
  std::ifstream in(test::source_dir() / "data/tb/parameters.lua");
  std::stringstream ss;
  ss << in.rdbuf();
  std::string text = ss.str();
  const std::string bad =
      std::regex_replace(text, std::regex(R"(\n\s*dd_pi = 0\.03528,[^\n]*)"), "");
  ASSERT_NE(bad, text);
  const auto f = dir.write("p.lua", bad);
  try {
    tb::TbParameters::load(f);
    FAIL() << "a missing parameter must be rejected";
  } catch (const DeckError& e) {
    EXPECT_NE(std::string(e.what()).find("elements.Pt.dd_pi"), std::string::npos) << e.what();
  }
  const auto f2 = dir.write("p2.lua", text + "\nelements.Pt.stoner = 1.0\n");
  EXPECT_THROW(tb::TbParameters::load(f2), DeckError);
  const auto p = tb::TbParameters::load(test::source_dir() / "data/tb/parameters.lua");
  try {
    p.element("Zr");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("available: Ag, Au, Co, Cu, Fe, Ni, Pd, Pt"),
              std::string::npos)
        << e.what();
  }
  EXPECT_THROW(tb::TbParameters::load(dir / "none.lua"), FileError);
}
