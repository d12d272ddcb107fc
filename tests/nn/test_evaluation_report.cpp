// The evaluation report (nn/core/evaluation_report): mean and sample std, the task units, the
// CSV / JSON / parity files and the text tables of a hand-made evaluation (values, NaN, the
// ensemble row), the test errors kept in a model file, and evaluate_file on trained models
// (labels per kind, the note about models trained on other data).
#include <gtest/gtest.h>

#include <cmath>
#include <sstream>

#include "core/hdf5.hpp"
#include "nn/core/evaluation_report.hpp"
#include "nn/core/linear_model.hpp"
#include "synthetic.hpp"
#include "test_support.hpp"

using namespace lsmss;
using namespace lsmss::nn;

namespace {

TaskError task_error(Task t, std::size_t count, double rmse, double standardized, double mae) {
  TaskError e;
  e.task = t;
  e.count = count;
  e.rmse = rmse;
  e.rmse_standardized = standardized;
  e.rmse_mev_per_atom = t == Task::energy ? rmse * 100 : std::nan("");
  e.mae = mae;
  return e;
}

Evaluation fold_evaluation(int fold, double energy_rmse, double charge_rmse, double standardized) {
  Evaluation ev;
  ev.fold = fold;
  ev.tasks = {task_error(Task::energy, 2, energy_rmse, standardized, energy_rmse / 2),
              task_error(Task::charge, 8, charge_rmse, 0.5, charge_rmse / 4)};
  ev.parity.resize(2);
  return ev;
}

// Two files: "runs/mtl.h5" with two fold models (energy and charge; a NaN standardized energy
// RMSE in fold 2) and their ensemble, "stl.h5" with one fold model of the energy alone.
std::vector<EvaluatedModel> hand_made() {
  EvaluatedModel mtl{"runs/mtl.h5", "MTL E+C", {}, std::nullopt};
  mtl.folds.push_back(fold_evaluation(0, 1.0, 0.25, 0.5));
  mtl.folds.push_back(fold_evaluation(2, 3.0, 0.75, std::nan("")));
  mtl.folds[0].parity = {{{4, -1, 10.0, 11.0}}, {{4, 1, 0.125, 0.25}}};
  mtl.ensemble = fold_evaluation(-1, 1.5, 0.5, 0.25);
  EvaluatedModel stl{"stl.h5", "STL E", {}, std::nullopt};
  Evaluation one;
  one.fold = 1;
  one.tasks = {task_error(Task::energy, 2, 2.0, 0.75, 1.0)};
  one.parity.resize(1);
  stl.folds.push_back(one);
  return {mtl, stl};
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::stringstream in(text);
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  return lines;
}

}  // namespace

TEST(NnEvaluationReport, MeanAndSampleStd) {
  const MeanStd m = mean_and_std({1.0, 2.0, 3.0, 4.0});
  EXPECT_DOUBLE_EQ(m.mean, 2.5);
  EXPECT_DOUBLE_EQ(m.std, std::sqrt(5.0 / 3.0));  // n - 1 in the denominator
  EXPECT_EQ(mean_and_std({7.0}).std, 0.0);        // one fold model: no spread
  EXPECT_DOUBLE_EQ(mean_and_std({7.0}).mean, 7.0);
  EXPECT_TRUE(std::isnan(mean_and_std({1.0, std::nan("")}).mean));
  EXPECT_EQ(mean_std_text({3.569083920e-02, 2.756816058e-03}), "3.569e-02 +- 2.76e-03");
  EXPECT_EQ(mean_std_text({std::nan(""), std::nan("")}), "nan +- nan");
}

TEST(NnEvaluationReport, TaskUnits) {
  EXPECT_EQ(task_unit(Task::energy), "Ry");
  EXPECT_EQ(task_unit(Task::charge), "e");
  EXPECT_EQ(task_unit(Task::moment), "muB");
}

// One line per fold model and task, then the ensemble's; NaN stays "nan", the energy-only
// column is empty for the charge.
TEST(NnEvaluationReport, CsvPerFoldModelWithEnsembleRow) {
  test::TempDir dir;
  write_rmse_csv(dir / "ev.csv", hand_made());
  const std::string expected =
      "# lsms-surrogate evaluate: test-set errors per fold model\n"
      "model_file,model,fold,task,count,rmse,unit,rmse_standardized,rmse_mev_per_atom,mae\n"
      "runs/mtl.h5,MTL E+C,0,energy,2,1.000000000e+00,Ry,5.000000000e-01,1.000000000e+02,"
      "5.000000000e-01\n"
      "runs/mtl.h5,MTL E+C,0,charge,8,2.500000000e-01,e,5.000000000e-01,,6.250000000e-02\n"
      "runs/mtl.h5,MTL E+C,2,energy,2,3.000000000e+00,Ry,nan,3.000000000e+02,1.500000000e+00\n"
      "runs/mtl.h5,MTL E+C,2,charge,8,7.500000000e-01,e,5.000000000e-01,,1.875000000e-01\n"
      "runs/mtl.h5,MTL E+C,ensemble,energy,2,1.500000000e+00,Ry,2.500000000e-01,1.500000000e+02,"
      "7.500000000e-01\n"
      "runs/mtl.h5,MTL E+C,ensemble,charge,8,5.000000000e-01,e,5.000000000e-01,,1.250000000e-01\n"
      "stl.h5,STL E,1,energy,2,2.000000000e+00,Ry,7.500000000e-01,2.000000000e+02,"
      "1.000000000e+00\n";
  EXPECT_EQ(test::read_file(dir / "ev.csv"), expected);
}

// Mean and sample std over the fold models (the ensemble not among them); NaN becomes null.
TEST(NnEvaluationReport, JsonSummaryWithNull) {
  test::TempDir dir;
  write_rmse_json(dir / "ev.json", hand_made());
  const std::string expected =
      "{\n  \"models\": [\n"
      "    {\"file\": \"runs/mtl.h5\", \"model\": \"MTL E+C\", \"tasks\": {\n"
      "      \"energy\": {\"folds\": 2, \"rmse_mean\": 2.000000000e+00, \"rmse_std\": "
      "1.414213562e+00, \"unit\": \"Ry\", \"rmse_standardized_mean\": null, "
      "\"rmse_standardized_std\": null, \"rmse_mev_per_atom_mean\": 2.000000000e+02, "
      "\"rmse_mev_per_atom_std\": 1.414213562e+02},\n"
      "      \"charge\": {\"folds\": 2, \"rmse_mean\": 5.000000000e-01, \"rmse_std\": "
      "3.535533906e-01, \"unit\": \"e\", \"rmse_standardized_mean\": 5.000000000e-01, "
      "\"rmse_standardized_std\": 0.000000000e+00}}},\n"
      "    {\"file\": \"stl.h5\", \"model\": \"STL E\", \"tasks\": {\n"
      "      \"energy\": {\"folds\": 1, \"rmse_mean\": 2.000000000e+00, \"rmse_std\": "
      "0.000000000e+00, \"unit\": \"Ry\", \"rmse_standardized_mean\": 7.500000000e-01, "
      "\"rmse_standardized_std\": 0.000000000e+00, \"rmse_mev_per_atom_mean\": 2.000000000e+02, "
      "\"rmse_mev_per_atom_std\": 0.000000000e+00}}}\n"
      "  ]\n}\n";
  EXPECT_EQ(test::read_file(dir / "ev.json"), expected);
}

TEST(NnEvaluationReport, ParityCsvNamesCompositionAndSite) {
  test::TempDir dir;
  auto data = test::synthetic_dataset(8, 2, 3);
  data.composition[4] = 3;
  write_parity_csv(dir / "p.csv", hand_made(), data);
  const auto lines = lines_of(test::read_file(dir / "p.csv"));
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[1], "model,fold,task,row,composition,site,reference,predicted");
  EXPECT_EQ(lines[2], "MTL E+C,0,energy,4,3,-1,10,11");
  EXPECT_EQ(lines[3], "MTL E+C,0,charge,4,3,1,0.125,0.25");
}

TEST(NnEvaluationReport, FilesThatCannotBeWrittenAreNamed) {
  test::TempDir dir;
  const auto missing = dir / "no" / "such" / "ev.csv";
  test::expect_error_containing([&] { write_rmse_csv(missing, hand_made()); },
                                "cannot write '" + missing.string() + "'");
}

// The three scales (the energy-only one without charge and moment columns), "nan +- nan" for
// an undefined standardized mean, the file name without its folder; the scatter in mRy for the
// energy, with "-" where a file has no ensemble.
TEST(NnEvaluationReport, TextTables) {
  std::ostringstream out;
  print_rmse_tables(out, hand_made());
  const auto t = lines_of(out.str());
  ASSERT_EQ(t.size(), 15u) << out.str();
  EXPECT_EQ(t[1],
            "test RMSE, standardized (RMSE / RMS spread of the test values within each "
            "composition)");
  EXPECT_EQ(t[2],
            "model         folds                 energy                 charge        "
            "         moment  file");
  EXPECT_EQ(t[3],
            "MTL E+C           2             nan +- nan  5.000e-01 +- 0.00e+00        "
            "                 mtl.h5");
  EXPECT_EQ(t[4],
            "STL E             1  7.500e-01 +- 0.00e+00                               "
            "                 stl.h5");
  EXPECT_EQ(t[8],
            "MTL E+C           2  2.000e+00 +- 1.41e+00  5.000e-01 +- 3.54e-01        "
            "                 mtl.h5");
  EXPECT_EQ(t[11], "test RMSE, energy in meV/atom");
  EXPECT_EQ(t[12], "model         folds                 energy  file");
  EXPECT_EQ(t[13], "MTL E+C           2  2.000e+02 +- 1.41e+02  mtl.h5");

  std::ostringstream scatter;
  print_fold_scatter(scatter, hand_made());
  const auto s = lines_of(scatter.str());
  ASSERT_EQ(s.size(), 6u) << scatter.str();
  EXPECT_EQ(s[3],
            "MTL E+C      energy       2       1000       2000       3000     1.50       "
            "1500  mtl.h5");
  EXPECT_EQ(s[4],
            "MTL E+C      charge       2       0.25        0.5       0.75     1.50       "
            " 0.5  mtl.h5");
  EXPECT_EQ(s[5],
            "STL E        energy       1       2000       2000       2000     1.00       "
            "   -  stl.h5");
}

// The test errors train records in the model file come back for `info`; a member without them
// reads as none; a task name the program does not know is an error.
TEST(NnEvaluationReport, TestErrorsKeptInTheModelFile) {
  test::TempDir dir;
  const auto file = dir / "m.h5";
  {
    auto f = h5::File::create(file);
    h5::create_group(f, "models");
    h5::create_group(f, "models/0");
    h5::create_group(f, "models/1");
    h5::create_group(f, "models/2");
  }
  EvaluatedModel s = hand_made()[0];
  record_test_errors(file, s);
  const auto e0 = read_test_errors(file, 0);
  ASSERT_TRUE(e0.has_value());
  EXPECT_EQ(e0->tasks, (std::vector<Task>{Task::energy, Task::charge}));
  EXPECT_EQ(e0->rmse, (std::vector<double>{1.0, 0.25}));
  EXPECT_EQ(e0->rows, 2);
  EXPECT_EQ(read_test_errors(file, 1)->rmse, (std::vector<double>{3.0, 0.75}));
  EXPECT_FALSE(read_test_errors(file, 2).has_value());
  {
    auto f = h5::File::open(file, h5::Mode::read_write);
    h5::Handle g = h5::open_group(f, "models/2");
    h5::write_attr(g, "test_tasks", std::vector<std::string>{"enthalpy"});
    h5::write_attr(g, "test_rmse", std::vector<double>{1.0});
    h5::write_attr(g, "test_rows", std::int64_t{1});
  }
  test::expect_error_containing([&] { read_test_errors(file, 2); }, "unknown task 'enthalpy'");
}

// evaluate_file scores each fold model as evaluate_model does and their ensemble; labels name
// the kind; models trained on other data are told to the note sink, not printed.
TEST(NnEvaluationReport, EvaluateFileLabelsAndNotes) {
  test::TempDir dir;
  const auto data = test::synthetic_dataset(120, 2, 5, {2, 2, 1});
  TrainingOptions o;
  o.kind = ModelKind::cluster_expansion;
  o.tasks = {Task::energy, Task::charge};
  o.progress = false;
  o.threads = test::kOneThread;
  const Model ce0 = train_model(data, o, 0), ce1 = train_model(data, o, 1);
  save_models(dir / "ce.h5", {&ce0, &ce1});
  const auto rows = data.test_rows();

  std::vector<std::string> notes;
  const auto note = [&](const std::string& line) { notes.push_back(line); };
  const EvaluatedModel s =
      evaluate_file((dir / "ce.h5").string(), data, rows, "reference", true, nullptr, note);
  EXPECT_TRUE(notes.empty());
  EXPECT_EQ(s.label, "CE E+C");
  ASSERT_EQ(s.folds.size(), 2u);
  ASSERT_TRUE(s.ensemble.has_value());
  const Evaluation direct = evaluate_model(ce1, data, rows);
  EXPECT_EQ(s.folds[1].fold, 1);
  EXPECT_DOUBLE_EQ(s.folds[1].tasks[0].rmse, direct.tasks[0].rmse);
  EXPECT_EQ(s.folds[0].parity[0].size(), rows.size());  // parity kept when asked

  // Another dataset of the same cell: each fold model is noted, in file order.
  const auto other = test::synthetic_dataset(120, 2, 6, {2, 2, 1});
  const SymmetryOperations identity = {{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}};
  ASSERT_EQ(other.num_sites, 16);
  const EvaluatedModel t = evaluate_file((dir / "ce.h5").string(), other, other.test_rows(),
                                         "reference", false, &identity, note);
  EXPECT_EQ(t.label, "CE E+C sym1");
  ASSERT_EQ(notes.size(), 2u);
  EXPECT_EQ(notes[1], (dir / "ce.h5").string() +
                          " model 1 was trained on other data (dataset hash " + ce1.dataset_hash() +
                          " vs " + other.fingerprint() + ")");

  // The labels of the other kinds.
  o.shared = {4};
  o.epochs = 1;
  o.kind = ModelKind::ce_mlp;
  EXPECT_EQ(model_label(train_model(data, o, 0)), "CE+MTL E+C");
  o.kind = ModelKind::mlp;
  EXPECT_EQ(model_label(train_model(data, o, 0)), "MTL E+C");
  o.tasks = {Task::energy};
  EXPECT_EQ(model_label(train_model(data, o, 0)), "STL E");
}
