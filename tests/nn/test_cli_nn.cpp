// The nn subcommands from the command line: predict from a model file on text and LSMS inputs.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>

#include "core/hdf5.hpp"
#include "lsms_plugin/info_evec.hpp"
#include "nn/core/trainer.hpp"
#include "synthetic.hpp"
#include "test_support.hpp"

using namespace lsmss;
using namespace lsmss::test;

namespace {
// One OpenMP thread: tiny networks, and spinning barriers between busy processes on a shared
// machine cost more than the work.
CommandResult cli(const std::string& args) {
  return run_command("OMP_NUM_THREADS=1 " + cli_path().string() + " " + args);
}
CommandResult cli_in(const std::string& cd, const std::string& args) {
  return run_command(cd + "OMP_NUM_THREADS=1 " + cli_path().string() + " " + args);
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

// A model of another kind (the linear cluster expansion) predicts through the same command.
TEST(NnCli, PredictWithAClusterExpansionModel) {
  TempDir dir;
  const auto d = synthetic_dataset(300, 3, 4);
  nn::TrainingOptions o;
  o.kind = nn::ModelKind::cluster_expansion;
  o.tasks = {nn::Task::energy, nn::Task::charge};
  o.progress = false;
  const nn::Model m = nn::train_model(d, o, 0);
  m.save(dir / "ce.h5");
  const auto configs = dir.write("c.txt", "00001111\n");
  auto r = cli(fmt::format("predict -m {} {} -o {}", (dir / "ce.h5").string(), configs.string(),
                           (dir / "p.csv").string()));
  ASSERT_EQ(r.status, 0) << r.output;
  const std::string csv = read_file(dir / "p.csv");
  const auto p = m.predict(std::vector<Configuration>{Configuration::from_string("00001111")});
  const auto at = csv.find("c.txt:1,00001111,4,");
  ASSERT_NE(at, std::string::npos) << csv;
  EXPECT_NEAR(std::stod(csv.substr(at + 19)), p.energy[0], 1e-6 * std::abs(p.energy[0])) << csv;
}

namespace {

// The synthetic 32-site CuAu alloy written as LSMS info_evec output files, one per
// configuration, in a shuffled site order (like real files, mapped back by position).
void write_lsms_files(const dataset::Dataset& d, const std::filesystem::path& dir) {
  std::filesystem::create_directories(dir);
  const int N = d.num_sites;
  std::vector<int> order(N);
  for (int i = 0; i < N; ++i) order[i] = (7 * i + 3) % N;  // 7 is coprime with 32
  for (std::size_t r = 0; r < d.rows(); ++r) {
    lsms::InfoEvec ie;
    ie.total_energy = d.energy[r];
    ie.band_energy = 0.1;
    ie.fermi_energy = 0.7;
    for (int k = 0; k < N; ++k) {
      const int i = order[k];
      lsms::InfoEvecAtom a;
      a.Z = d.system.species[d.occupation[r * N + i]].Z;
      a.index = k;
      a.position = d.system.lattice.position(i);
      a.electrons = d.charge[r * N + i];
      a.moment = d.moment[r * N + i];
      a.evec = {0, 0, 1};
      ie.atoms.push_back(a);
    }
    std::ofstream(dir / fmt::format("out_{}", r)) << lsms::format_info_evec(ie);
  }
}

std::size_t count_lines(const std::string& s) {
  return static_cast<std::size_t>(std::count(s.begin(), s.end(), '\n'));
}

}  // namespace

// import (LSMS files) -> train (deck, --fold) -> evaluate (tables, CSV/JSON, parity) -> predict
// (dataset HDF5, LSMS output files, text) from the command line, on a 32-site cell.
TEST(NnCli, ImportTrainEvaluatePredictEndToEnd) {
  TempDir dir;
  const auto d = synthetic_dataset(240, 3, 21, {2, 2, 2});
  write_lsms_files(d, dir / "runs");
  const auto deck = dir.write("cuau.lua", R"(
system = { lattice = "fcc", a = 7.2377, supercell = {2,2,2}, species = {"Cu","Au"} }
sampling = { cap = 1000, seed = 1, test_fraction = 0.15, folds = 3 }
dataset = { file = "cuau.h5" }
training = {
  tasks = {"energy", "charge"},
  architecture = { shared = {24}, task_specific = 16 },
  learning_rate = 3e-3, epochs = 40, batch_fraction = 0.25, folds = {0, 2},
  model = "cuau_ec.h5",
}
)");
  const std::string cd = "cd " + dir.path().string() + " && ";
  auto r = cli_in(cd, fmt::format("import -q {} runs", deck.string()));
  ASSERT_EQ(r.status, 0) << r.output;
  const auto data = dataset::read_dataset(dir / "cuau.h5");
  std::size_t test_rows = 0;
  for (std::size_t k = 0; k < data.rows(); ++k) test_rows += data.is_test(k);
  ASSERT_GT(test_rows, 0u);

  // Both folds of the deck into one file; the table has the three scales.
  r = cli_in(cd, fmt::format("train -q {}", deck.string()));
  ASSERT_EQ(r.status, 0) << r.output;
  for (const char* s :
       {"MTL E+C", "64-24-[8|8]-[1|32]",
        "standardized (RMSE / RMS spread of the test values within each composition)",
        "physical units", "meV/atom", "wrote     cuau_ec.h5 (2 fold models)"})
    EXPECT_NE(r.output.find(s), std::string::npos) << s << "\n" << r.output;
  EXPECT_EQ(nn::Model::count_in_file(dir / "cuau_ec.h5"), 2u);
  EXPECT_TRUE(std::filesystem::exists(dir / "cuau_ec.eval.csv"));
  // --fold overrides the deck; -o another file; an STL file for a second table row.
  r = cli_in(cd,
             fmt::format("train -q {} --fold 1 --epochs 5 -o one.h5 --no-evaluate", deck.string()));
  ASSERT_EQ(r.status, 0) << r.output;
  const nn::Model one = nn::Model::load(dir / "one.h5");
  EXPECT_EQ(one.fold(), 1);
  EXPECT_EQ(one.epochs_run(), 5);
  EXPECT_NE(one.training_deck().find("task_specific = 16"), std::string::npos);
  // info on a model file: kind, tasks, architecture, folds, training data hash and the test
  // errors train recorded (none for a --no-evaluate run).
  r = cli_in(cd, "info cuau_ec.h5 one.h5");
  ASSERT_EQ(r.status, 0) << r.output;
  for (const std::string& s :
       {std::string("cuau_ec.h5 (model file, 2 models)"),
        std::string("MTL E+C (mlp; tasks energy, charge), 64-24-"),
        std::string("fold   0  epochs 40, trained on data ") + data.fingerprint(),
        std::string("fold   2  epochs 40"), std::string("test RMSE: energy "),
        std::string("test RMSE: not recorded")})
    EXPECT_NE(r.output.find(s), std::string::npos) << s << "\n" << r.output;

  r = cli_in(cd, fmt::format("evaluate {} -m cuau_ec.h5 -m one.h5 --parity -o ev", deck.string()));
  ASSERT_EQ(r.status, 0) << r.output;
  const std::string csv = read_file(dir / "ev.csv");
  EXPECT_NE(csv.find("model_file,model,fold,task,count,rmse,unit,rmse_standardized,"
                     "rmse_mev_per_atom,mae"),
            std::string::npos);
  // Comment, header, (2 + 1 folds) x 2 tasks, and the ensemble of the 2-fold file x 2 tasks.
  EXPECT_EQ(count_lines(csv), 2u + 3 * 2 + 2);
  EXPECT_NE(csv.find("cuau_ec.h5,MTL E+C,ensemble,energy"), std::string::npos) << csv;
  // The fold scatter with the ensemble error is printed (issue 15).
  EXPECT_NE(r.output.find("test RMSE over the fold models (energy mRy/cell, charge e, moment muB)"),
            std::string::npos)
      << r.output;
  const std::string json = read_file(dir / "ev.json");
  EXPECT_NE(json.find("\"rmse_mev_per_atom_mean\""), std::string::npos);
  const std::string parity = read_file(dir / "ev.parity.csv");
  EXPECT_EQ(count_lines(parity), 2 + 3 * test_rows * (1 + 32));
  // The physical-units energy RMSE of fold 0 in the CSV is the library's evaluation.
  {
    const nn::Model m0 = nn::Model::load_member(dir / "cuau_ec.h5", 0);
    std::vector<std::size_t> rows;
    for (std::size_t k = 0; k < data.rows(); ++k)
      if (data.is_test(k)) rows.push_back(k);
    const auto ev = nn::evaluate_model(m0, data, rows);
    const auto at = csv.find("cuau_ec.h5,MTL E+C,0,energy," + std::to_string(rows.size()) + ",");
    ASSERT_NE(at, std::string::npos) << csv;
    std::stringstream line(csv.substr(at, csv.find('\n', at) - at));
    std::vector<std::string> cells;
    for (std::string c; std::getline(line, c, ',');) cells.push_back(c);
    ASSERT_EQ(cells.size(), 10u);
    const std::string value = cells[5];
    EXPECT_NEAR(std::stod(value), ev.tasks[0].rmse, 1e-6 * ev.tasks[0].rmse);
  }

  // predict: the dataset, two LSMS files and the same configurations as text agree; the
  // inputs' own values come back for comparison.
  r = cli_in(cd, "predict -m cuau_ec.h5 cuau.h5 -o all.csv");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("against the input's values: energy RMSE"), std::string::npos)
      << r.output;
  EXPECT_EQ(count_lines(read_file(dir / "all.csv")), 2 + data.rows());
  std::string text;
  for (int k : {3, 4})  // rows 3 and 4 of the synthetic data are the files out_3 and out_4
    text += Configuration(std::vector<std::uint8_t>(d.occupation.begin() + k * 32,
                                                    d.occupation.begin() + (k + 1) * 32))
                .to_string() +
            "\n";
  dir.write("two.txt", text);
  r = cli_in(cd, "predict -m cuau_ec.h5 runs/out_3 runs/out_4 two.txt -o p.h5");
  ASSERT_EQ(r.status, 0) << r.output;
  auto f = h5::File::open(dir / "p.h5");
  const auto e = h5::read<double>(f, "energy");
  const auto ie = h5::read<double>(f, "input_energy");
  const auto q = h5::read<double>(f, "charge");
  const auto iq = h5::read<double>(f, "input_charge");
  ASSERT_EQ(e.size(), 4u);
  EXPECT_NEAR(e[0], e[2], 1e-9 * std::abs(e[0]));  // LSMS file == its text form
  EXPECT_NEAR(e[1], e[3], 1e-9 * std::abs(e[1]));
  EXPECT_DOUBLE_EQ(ie[0], d.energy[3]);
  EXPECT_TRUE(std::isnan(ie[2]));
  // Sites come back in the lattice's order, whatever the file's order.
  for (int i = 0; i < 32; ++i) EXPECT_DOUBLE_EQ(iq[i], d.charge[3 * 32 + i]) << i;
  EXPECT_NEAR(q[5], q[2 * 32 + 5], 1e-9);
  // Issue 15 item 5: the HDF5 output names each row's source, as the CSV does.
  EXPECT_EQ(h5::read_strings(f, "source"),
            (std::vector<std::string>{"runs/out_3", "runs/out_4", "two.txt:1", "two.txt:2"}));
  // A directory of LSMS files is its files, in name order.
  r = cli_in(cd, "predict -m cuau_ec.h5 runs -o dir.csv");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(count_lines(read_file(dir / "dir.csv")), 2 + d.rows());
  EXPECT_NE(r.output.find("against the input's values: charge RMSE"), std::string::npos)
      << r.output;
  // One fold model of the file: its own prediction, no spread; a fold the file lacks is named.
  r = cli_in(cd, "predict -m cuau_ec.h5 --fold 2 two.txt -o fold2.h5");
  ASSERT_EQ(r.status, 0) << r.output;
  {
    auto f2 = h5::File::open(dir / "fold2.h5");
    const auto e2 = h5::read<double>(f2, "energy");
    const auto s2 = h5::read<double>(f2, "energy_std");
    const nn::Model m2 = nn::Model::load_member(dir / "cuau_ec.h5", 1);
    ASSERT_EQ(m2.fold(), 2);
    const auto p2 = m2.predict(std::vector<Configuration>{d.configuration(3)});
    ASSERT_EQ(e2.size(), 2u);
    EXPECT_NEAR(e2[0], p2.energy[0], 1e-9 * std::abs(e2[0]));
    EXPECT_EQ(s2[0], 0.0);
  }
  r = cli_in(cd, "predict -m cuau_ec.h5 --fold 1 two.txt");
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.output.find("no model of fold 1"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("folds there: 0,2"), std::string::npos) << r.output;
  // The deck's training.model; a deck given as an input is refused with the way to pass it.
  r = cli_in(cd, fmt::format("predict --deck {} two.txt -o deck.csv", deck.string()));
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(count_lines(read_file(dir / "deck.csv")), 2u + 2);
  r = cli_in(cd, fmt::format("predict -m cuau_ec.h5 {}", deck.string()));
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.output.find("--deck"), std::string::npos) << r.output;
  // evaluate --all-rows scores every row of the dataset (and the ensemble of the fold models).
  r = cli_in(cd, fmt::format("evaluate {} -m cuau_ec.h5 --all-rows -o allrows", deck.string()));
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find(fmt::format("scoring   {} rows", data.rows())), std::string::npos)
      << r.output;
  EXPECT_NE(read_file(dir / "allrows.csv")
                .find(fmt::format("cuau_ec.h5,MTL E+C,ensemble,energy,{},", data.rows())),
            std::string::npos);

  // Errors: a model for another lattice, the uncompiled cuda backend.
  const auto other = dir.write("other.lua", R"(
system = { lattice = "fcc", a = 7.0, supercell = {2,2,2}, species = {"Cu","Au"} }
dataset = { file = "cuau.h5" }
)");
  r = cli_in(cd, fmt::format("evaluate {} -m cuau_ec.h5", other.string()));
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.output.find("other.lua describes CuAu on fcc"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("cuau.h5 was computed for CuAu on fcc a=7.2377"), std::string::npos)
      << r.output;
  r = cli_in(cd, fmt::format("predict -m cuau_ec.h5 {}", (dir / "one.h5").string()));
  EXPECT_NE(r.status, 0);  // a model file is not a dataset
  r = cli_in(cd,
             fmt::format("train -q {} --fold 0 --epochs 1 --backend cuda -o c.h5", deck.string()));
  // Without the CUDA Toolkit at build time: "not compiled"; compiled but no GPU here: "no CUDA
  // device"; with a GPU, cuda runs.
  const auto usable = nn::available_backend_names();
  const bool gpu = std::find(usable.begin(), usable.end(), "cuda") != usable.end();
  const char* why = nn::backend_compiled("cuda") ? "no CUDA device is visible"
                                                 : "'cuda' is not compiled into this build";
  EXPECT_EQ(r.status == 0, gpu) << r.output;
  if (!gpu) {
    EXPECT_NE(r.output.find(why), std::string::npos) << r.output;
  }
  r = cli_in(cd, "predict --backend cuda -m cuau_ec.h5 two.txt");
  EXPECT_EQ(r.status == 0, gpu) << r.output;
  if (!gpu) {
    EXPECT_NE(r.output.find(why), std::string::npos) << r.output;
  }
}

// `mpirun -np 2 lsms-surrogate train`: folds spread over the ranks, gathered by rank 0 into one
// file in fold order, with exactly the weights a serial run gives (reference backend).
TEST(NnCli, TrainingSpreadsFoldsOverMpiRanks) {
  if (run_command("mpirun --version").status != 0) GTEST_SKIP() << "mpirun not found";
  TempDir dir;
  const auto d = synthetic_dataset(120, 3, 5, {2, 2, 2});
  write_lsms_files(d, dir / "runs");
  const auto deck = dir.write("cuau.lua", R"(
system = { lattice = "fcc", a = 7.2377, supercell = {2,2,2}, species = {"Cu","Au"} }
sampling = { cap = 1000, seed = 1, test_fraction = 0.15, folds = 3 }
dataset = { file = "cuau.h5" }
training = { architecture = { shared = {16} }, epochs = 20, backend = "reference", threads = 1 }
)");
  const std::string cd = "cd " + dir.path().string() + " && ";
  ASSERT_EQ(cli_in(cd, fmt::format("import -q {} runs", deck.string())).status, 0);
  auto r = cli_in(cd, fmt::format("train -q {} -o serial.h5 --no-evaluate", deck.string()));
  ASSERT_EQ(r.status, 0) << r.output;
  r = run_command(cd + "OMP_NUM_THREADS=1 mpirun --oversubscribe --allow-run-as-root -np 2 " +
                  cli_path().string() + " train -q " + deck.string() + " -o par.h5");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("2 MPI ranks, 2 of them training"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("wrote     par.h5 (3 fold models)"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("meV/atom"), std::string::npos) << r.output;  // rank 0 evaluated
  for (const char* part : {"par.h5.rank0.part.h5", "par.h5.rank1.part.h5"})
    EXPECT_FALSE(std::filesystem::exists(dir / part)) << part;
  ASSERT_EQ(nn::Model::count_in_file(dir / "par.h5"), 3u);
  for (std::size_t i = 0; i < 3; ++i) {
    const nn::Model s = nn::Model::load_member(dir / "serial.h5", i);
    const nn::Model p = nn::Model::load_member(dir / "par.h5", i);
    EXPECT_EQ(p.fold(), static_cast<int>(i));
    EXPECT_EQ(s.fold(), p.fold());
    EXPECT_TRUE(std::equal(s.parameters().begin(), s.parameters().end(), p.parameters().begin(),
                           p.parameters().end()))
        << "fold " << i;
  }
}
