// The output files of `predict` (dataset_builder/predictions_file.hpp, docs/nn.md "Prediction"):
// written and read back.
#include <gtest/gtest.h>

#include <cmath>
#include <sstream>

#include "core/error.hpp"
#include "core/hdf5.hpp"
#include "dataset_builder/predictions_file.hpp"
#include "fixtures.hpp"
#include "test_support.hpp"

using namespace lsmss;

namespace {

// Two configurations of a 2-site cell: the first with the input's energy and moments, the
// second a plain configuration; predictions of energy and moment only (no charge task).
struct Example {
  System system = fixtures::fept_system({1, 1, 1});
  dataset::InputConfigurations in;
  std::vector<Properties> props;
  Example() {
    in.add(Configuration::from_string("01"), "a.h5:0", -12.5, {}, {0.3, 2.8});
    in.add(Configuration::from_string("11"), "c.txt:2", std::nan(""));
    for (int k = 0; k < 2; ++k) {
      Properties p;
      p.status = Status::ok;
      p.energy = -12.0 - k;
      p.energy_std = 0.01 * (k + 1);
      p.moment = {0.25 + k, 2.75};
      p.moment_std = {0.05, 0.125};
      props.push_back(p);
    }
  }
};

}  // namespace

TEST(PredictionsFile, Hdf5RoundTripsWithInputValuesAndOnlyPredictedTasks) {
  test::TempDir dir;
  const Example x;
  const auto path = dir / "p.h5";
  dataset::write_predictions_h5(path, {"m1.h5", "m2.h5"}, x.system, x.in, x.props);
  const dataset::PredictionsFile p = dataset::read_predictions_h5(path);
  EXPECT_EQ(p.models, (std::vector<std::string>{"m1.h5", "m2.h5"}));
  EXPECT_EQ(p.system, x.system.name());
  EXPECT_EQ(p.lattice, x.system.lattice.describe());
  ASSERT_EQ(p.rows(), 2u);
  EXPECT_EQ(p.source, (std::vector<std::string>{"a.h5:0", "c.txt:2"}));
  EXPECT_EQ(p.occupation, (std::vector<std::uint8_t>{0, 1, 1, 1}));
  EXPECT_EQ(p.composition, (std::vector<std::int32_t>{1, 0}));
  EXPECT_EQ(p.energy, (std::vector<double>{-12.0, -13.0}));
  EXPECT_EQ(p.energy_std, (std::vector<double>{0.01, 0.02}));
  EXPECT_EQ(p.moment, (std::vector<double>{0.25, 2.75, 1.25, 2.75}));
  EXPECT_EQ(p.moment_std, (std::vector<double>{0.05, 0.125, 0.05, 0.125}));
  EXPECT_TRUE(p.charge.empty() && p.charge_std.empty()) << "no charge task: no charge datasets";
  // The input's own values: NaN for the row without them; no input charges at all.
  ASSERT_EQ(p.input_energy.size(), 2u);
  EXPECT_EQ(p.input_energy[0], -12.5);
  EXPECT_TRUE(std::isnan(p.input_energy[1]));
  ASSERT_EQ(p.input_moment.size(), 4u);
  EXPECT_EQ(p.input_moment[1], 2.8);
  EXPECT_TRUE(std::isnan(p.input_moment[2]) && std::isnan(p.input_moment[3]));
  EXPECT_TRUE(p.input_charge.empty());
  // Shapes as documented: per-site arrays rows x sites.
  const auto f = h5::File::open(path, h5::Mode::read);
  EXPECT_EQ(h5::dims(f, "moment"), (std::vector<hsize_t>{2, 2}));
  EXPECT_EQ(h5::dims(f, "occupation"), (std::vector<hsize_t>{2, 2}));
}

TEST(PredictionsFile, Hdf5WithoutAnyInputValuesHasNoInputDatasets) {
  test::TempDir dir;
  Example x;
  x.in.energy = {std::nan(""), std::nan("")};
  x.in.moment = {{}, {}};
  const auto path = dir / "p.h5";
  dataset::write_predictions_h5(path, {"m.h5"}, x.system, x.in, x.props);
  const auto p = dataset::read_predictions_h5(path);
  EXPECT_TRUE(p.input_energy.empty() && p.input_charge.empty() && p.input_moment.empty());
}

TEST(PredictionsFile, ReadingAnotherFileNamesIt) {
  test::TempDir dir;
  const auto path = dir / "other.h5";
  {
    auto f = h5::File::create(path);
    h5::write_attr(f, "format", "lsms-surrogate dataset");
  }
  try {
    dataset::read_predictions_h5(path);
    FAIL() << "no error";
  } catch (const FileError& e) {
    EXPECT_NE(std::string(e.what()).find("other.h5"), std::string::npos) << e.what();
  }
}

TEST(PredictionsFile, CsvHasUnitsHeaderAndOneLinePerConfiguration) {
  const Example x;
  std::ostringstream out;
  dataset::write_predictions_csv(out, x.in, x.props);
  const std::string want =
      "# lsms-surrogate predict: energy in Ry, charge in e (electrons on the site), moment in "
      "muB; _std = spread of the fold models; input_energy_Ry = the input's own energy "
      "(dataset or LSMS output file; empty for plain configurations)\n"
      "source,configuration,n_A,energy_Ry,energy_std_Ry,charge_e,charge_std_e,moment_muB,"
      "moment_std_muB,input_energy_Ry\n"
      "a.h5:0,01,1,-12.0000000000,1.000e-02,\"\",\"\",\"0.250000,2.750000\","
      "\"0.050000,0.125000\",-12.5000000000\n"
      "c.txt:2,11,0,-13.0000000000,2.000e-02,\"\",\"\",\"1.250000,2.750000\","
      "\"0.050000,0.125000\",\n";
  EXPECT_EQ(out.str(), want);
}

// What `predict` prints against the input's own values: only the configurations (energy) and
// sites (moment) that carry a value and were predicted count; no charge task, no charge error.
TEST(PredictionsFile, ErrorsAgainstTheInputsValues) {
  const Example x;
  const dataset::ErrorsAgainstInputs e = dataset::errors_against_inputs(x.in, x.props, 2);
  EXPECT_EQ(e.energies, 1u);
  EXPECT_DOUBLE_EQ(e.energy_rmse, 0.5);  // -12.0 predicted, -12.5 given
  EXPECT_EQ(e.moments, 2u);
  EXPECT_NEAR(e.moment_rmse, 0.05, 1e-12);  // 0.25 vs 0.3, 2.75 vs 2.8
  EXPECT_EQ(e.charges, 0u);
  EXPECT_EQ(e.charge_rmse, 0.0);
}
