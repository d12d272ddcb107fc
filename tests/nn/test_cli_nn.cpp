// The nn subcommands from the command line: predict from a model file on text and LSMS inputs.
#include <gtest/gtest.h>

#include <fstream>

#include "core/hdf5.hpp"
#include "nn/core/trainer.hpp"
#include "synthetic.hpp"
#include "test_support.hpp"

using namespace lsmss;
using namespace lsmss::test;

namespace {
CommandResult cli(const std::string& args) {
  return run_command(cli_path().string() + " " + args);
}
}  // namespace

TEST(NnCli, HelpNamesUnitsAndOptions) {
  auto t = cli("train --help");
  EXPECT_EQ(t.status, 0) << t.output;
  for (const char* s : {"--epochs", "--folds", "--backend", "--dataset"})
    EXPECT_NE(t.output.find(s), std::string::npos) << s;
  auto p = cli("predict --help");
  EXPECT_EQ(p.status, 0);
  EXPECT_NE(p.output.find("Ry"), std::string::npos);
}

TEST(NnCli, PredictTextConfigurationsWithAModelFile) {
  TempDir dir;
  const auto d = synthetic_dataset(300, 3, 4);
  nn::TrainingOptions o;
  o.shared = {16};
  o.tasks = {nn::Task::energy, nn::Task::moment};
  o.task_width = 8;
  o.epochs = 3;
  o.progress = false;
  const nn::Model m = nn::train_model(d, o, 0);
  m.save(dir / "m.h5");
  const auto configs = dir.write("c.txt", "00001111\n01010101\n");
  auto r = cli(fmt::format("predict -m {} {} -o {}", (dir / "m.h5").string(), configs.string(),
                           (dir / "p.csv").string()));
  ASSERT_EQ(r.status, 0) << r.output;
  const std::string csv = read_file(dir / "p.csv");
  const auto p = m.predict(std::vector<Configuration>{Configuration::from_string("00001111")});
  const auto at = csv.find("c.txt:1,00001111,4,");
  ASSERT_NE(at, std::string::npos) << csv;
  EXPECT_NEAR(std::stod(csv.substr(at + 19)), p.energy[0], 1e-6 * std::abs(p.energy[0])) << csv;
  EXPECT_NE(csv.find("01010101"), std::string::npos);
  // HDF5 output with the dataset's array names.
  r = cli(fmt::format("predict -m {} {} -o {}", (dir / "m.h5").string(), configs.string(),
                      (dir / "p.h5").string()));
  ASSERT_EQ(r.status, 0) << r.output;
  auto f = h5::File::open(dir / "p.h5");
  EXPECT_EQ(h5::read<double>(f, "energy").size(), 2u);
  EXPECT_EQ(h5::read<double>(f, "moment").size(), 16u);
  // Wrong size and unknown species are clear errors.
  dir.write("bad.txt", "0000111\n");
  r = cli(fmt::format("predict -m {} {}", (dir / "m.h5").string(), (dir / "bad.txt").string()));
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.output.find("sites"), std::string::npos) << r.output;
  r = cli(fmt::format("predict -m {} {}", (dir / "c.txt").string(), configs.string()));
  EXPECT_NE(r.status, 0);
}
