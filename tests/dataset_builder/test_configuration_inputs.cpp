// The configurations `predict` reads from files and `calc` draws at random
// (dataset_builder/configuration_inputs.hpp).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "core/error.hpp"
#include "dataset_builder/configuration_inputs.hpp"
#include "fixtures.hpp"
#include "lsms_plugin/info_evec.hpp"
#include "test_support.hpp"

using namespace lsmss;

namespace {

std::string error_of(const std::vector<std::string>& paths, const System& sys) {
  try {
    dataset::read_prediction_inputs(paths, sys);
  } catch (const Error& e) {
    return e.what();
  }
  ADD_FAILURE() << "no error";
  return "";
}

}  // namespace

// Text files of species digits (blanks and empty lines ignored, named by line) and LSMS output
// files (mapped onto the lattice, with their energy, charges and moments), in argument order.
TEST(PredictionInputs, ReadsDigitLinesAndLsmsOutput) {
  test::TempDir dir;
  const System fept = fixtures::fept_system({1, 1, 1});  // 2 sites
  const auto text = dir.write("c.txt", "0 1\n\n11\n");
  lsms::InfoEvec info;
  info.total_energy = -12.5;
  for (int site : {1, 0}) {
    lsms::InfoEvecAtom a;
    a.Z = site == 0 ? 78 : 26;
    a.position = fept.lattice.position(site);
    a.electrons = site == 0 ? 78.2 : 25.9;
    a.moment = site == 0 ? 0.3 : 2.8;
    info.atoms.push_back(a);
  }
  const auto lsms_file = dir.write("info_evec_out", lsms::format_info_evec(info));

  const auto in = dataset::read_prediction_inputs({text.string(), lsms_file.string()}, fept);
  ASSERT_EQ(in.size(), 3u);
  EXPECT_EQ(in.configs[0].to_string(), "01");
  EXPECT_EQ(in.names[0], text.string() + ":1");
  EXPECT_EQ(in.configs[1].to_string(), "11");
  EXPECT_EQ(in.names[1], text.string() + ":3");
  EXPECT_TRUE(std::isnan(in.energy[1]));
  EXPECT_TRUE(in.charge[1].empty() && in.moment[1].empty());
  EXPECT_EQ(in.configs[2].to_string(), "10");
  EXPECT_EQ(in.names[2], lsms_file.string());
  EXPECT_EQ(in.energy[2], -12.5);
  EXPECT_EQ(in.charge[2], (std::vector<double>{78.2, 25.9}));
  EXPECT_EQ(in.moment[2], (std::vector<double>{0.3, 2.8}));
}

// Bad input names the file and line; nothing to predict is an error too.
TEST(PredictionInputs, BadInputNamesFileAndLine) {
  test::TempDir dir;
  const System fept = fixtures::fept_system({1, 1, 1});
  const auto long_line = dir.write("long.txt", "01\n011\n");
  EXPECT_NE(error_of({long_line.string()}, fept)
                .find(long_line.string() + ":2: 3 species digits, the model's lattice has 2 sites"),
            std::string::npos);
  const auto species = dir.write("species.txt", "02\n");
  EXPECT_NE(error_of({species.string()}, fept)
                .find(species.string() + ":1: species 2 at site 1 does not exist"),
            std::string::npos);
  EXPECT_NE(error_of({(dir / "missing.txt").string()}, fept).find("cannot read"),
            std::string::npos);
  EXPECT_NE(error_of({}, fept).find("no configurations to predict"), std::string::npos);
}

// `calc --random`: exactly count_a atoms of species 0, and the same draws for the same seed on
// every platform (the first configurations of seed 7 are pinned: results stay bit-identical).
TEST(RandomConfiguration, FixedCompositionAndPortableDraws) {
  const System cuau = fixtures::cuau_system({1, 1, 1});  // 4 sites
  Rng rng(7);
  std::vector<std::string> drawn;
  drawn.reserve(6);
  for (int k = 0; k < 6; ++k) {
    const Configuration c = dataset::random_configuration(cuau, 1, rng);
    EXPECT_EQ(c.count(0), 1);
    drawn.push_back(c.to_string());
  }
  EXPECT_EQ(drawn, (std::vector<std::string>{"1101", "0111", "1110", "1110", "1011", "1101"}));
  Rng free_rng(7);
  std::vector<std::string> any;
  any.reserve(4);
  for (int k = 0; k < 4; ++k)
    any.push_back(dataset::random_configuration(cuau, -1, free_rng).to_string());
  EXPECT_EQ(any, (std::vector<std::string>{"1011", "1100", "0011", "1101"}));
}
