// `train`, `evaluate`, `predict`: neural-network surrogates (nn/, docs/nn.md).
#include <algorithm>
#include <fstream>
#include <iostream>
#include <numeric>
#include <optional>
#include <sstream>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "app/common.hpp"
#include "core/defaults.hpp"
#include "core/mpi.hpp"
#include "core/output_file.hpp"
#include "dataset_builder/configuration_inputs.hpp"
#include "dataset_builder/dataset.hpp"
#include "dataset_builder/predictions_file.hpp"
#include "nn/core/evaluation_report.hpp"
#include "nn/core/fold_training.hpp"
#include "nn/core/symmetrized_prediction.hpp"
#include "nn/core/trainer.hpp"

namespace lsmss::app {
namespace {

using nn::Task;

// Same key and default as the dataset builder (docs/deck.md, `dataset.file`).
std::string default_dataset(const LoadedDeck& d) {
  return defaults::dataset_file(d.root(), d.deck.file());
}

std::vector<std::size_t> test_rows(const dataset::Dataset& d) {
  std::vector<std::size_t> rows = d.test_rows();
  if (rows.empty()) fail("the dataset has no test rows (fold = -1)");
  return rows;
}

// ---------------------------------------------------------------- predict output

// The predictions against the values the input carries, on stderr so stdout stays the CSV.
void print_against_input(const dataset::InputConfigurations& in,
                         const std::vector<Properties>& props, int N) {
  const dataset::ErrorsAgainstInputs e = dataset::errors_against_inputs(in, props, N);
  if (e.energies > 0)
    fmt::print(
        stderr,
        "against the input's values: energy RMSE {:.4e} Ry ({:.4f} meV/atom), {} configurations\n",
        e.energy_rmse, e.energy_rmse / N * nn::kRydbergMeV, e.energies);
  if (e.charges > 0)
    fmt::print(stderr, "against the input's values: charge RMSE {:.4e} e, {} sites\n",
               e.charge_rmse, e.charges);
  if (e.moments > 0)
    fmt::print(stderr, "against the input's values: moment RMSE {:.4e} muB, {} sites\n",
               e.moment_rmse, e.moments);
}

// ---------------------------------------------------------------- train

struct TrainArgs {
  std::string deck, dataset, output, backend, folds;
  long epochs = 0;
  int threads = -1;
  bool quiet = false, no_eval = false;
};

// --folds 'all' or a comma-separated list.
std::vector<int> parse_folds(const std::string& text) {
  std::vector<int> folds;
  if (text == "all") return folds;
  std::stringstream ss(text);
  std::string item;
  while (std::getline(ss, item, ',')) {
    try {
      folds.push_back(std::stoi(item));
    } catch (const std::exception&) {
      fail("--folds '{}': expected 'all' or comma-separated fold numbers", text);
    }
  }
  return folds;
}

nn::TrainingOptions training_options(const LoadedDeck& d, const TrainArgs& a, bool progress) {
  nn::TrainingOptions opt =
      nn::TrainingOptions::from_deck(d.root().table("training"), d.deck.file());
  if (a.epochs > 0) opt.epochs = a.epochs;
  if (!a.backend.empty()) opt.backend = a.backend;
  if (a.threads >= 0) opt.threads = a.threads;
  opt.progress = progress;
  if (!a.folds.empty()) opt.folds = parse_folds(a.folds);
  return opt;
}

void print_evaluation(const std::string& out, const std::string& label,
                      const std::vector<nn::Model>& models, const dataset::Dataset& data) {
  const nn::EvaluatedModel s = nn::evaluate_models(out, label, models, data, test_rows(data));
  nn::record_test_errors(out, s);
  const auto stem = std::filesystem::path(out).replace_extension("").string();
  nn::report_evaluation(std::cout, {s}, stem + ".eval.csv", stem + ".eval.json");
  fmt::print("\nwrote     {0}.eval.csv, {0}.eval.json\n", stem);
}

// `mpirun -np P lsms-surrogate train`: the folds are spread over the ranks (nn::train_folds);
// rank 0 prints, and evaluates the gathered models.
void run_train(const TrainArgs& a, AppContext& ctx) {
  mpi::Session session;
  const mpi::Comm world = mpi::Comm::world();
  const bool root = world.rank() == 0;
  LoadedDeck d = load_deck(a.deck, ctx);
  const nn::TrainingOptions opt = training_options(d, a, !a.quiet && root);
  const std::string data_path = a.dataset.empty() ? default_dataset(d) : a.dataset;
  const std::string out = a.output.empty() ? opt.model : a.output;
  const dataset::Dataset data = dataset::read_dataset(data_path);
  check_deck_matches_dataset(d, data, data_path);
  const auto folds = nn::folds_to_train(data, opt);
  if (root) {
    fmt::print("dataset   {} ({} rows, {} folds, {} test rows, {})\n", data_path, data.rows(),
               data.num_folds, std::count(data.fold.begin(), data.fold.end(), dataset::kTestFold),
               property_mask_name(data.available));
    const int used = std::min<int>(world.size(), static_cast<int>(folds.size()));
    if (world.size() > 1)
      fmt::print("ranks     {} MPI ranks, {} of them training (fold i on rank i mod {})\n",
                 world.size(), used, world.size());
  }
  nn::FoldTrainingRun run;
  run.output = out;
  run.deck_text = d.deck.text();
  run.system = &d.system;
  run.comm = world.get();
  bool described = false;
  run.on_model = [&](const nn::Model& m) {
    if (described || !root) return;
    described = true;
    if (m.kind() == "cluster_expansion") {
      fmt::print("model     {} {} (ridge regression, no epochs)\n", nn::model_label(m),
                 m.describe());
      return;
    }
    fmt::print(
        "model     {} {} ({} network parameters), backend {}, {} epochs, batch fraction {}\n",
        nn::model_label(m), m.describe(), m.network().num_params(), m.trained_backend(), opt.epochs,
        opt.batch_fraction);
  };
  const nn::FoldTrainingResult result = nn::train_folds(data, opt, folds, run);
  if (!root) return;
  fmt::print("wrote     {} ({} fold model{})\n", out, result.models.size(),
             result.models.size() == 1 ? "" : "s");
  if (!a.no_eval)
    print_evaluation(out,
                     result.models.empty() ? opt.label() : nn::model_label(result.models.front()),
                     result.models, data);
}

void add_train_command(CLI::App& app, AppContext& ctx) {
  auto* sub = app.add_subcommand(
      "train", "train neural-network surrogates (the deck's `training` section) on a dataset");
  auto a = std::make_shared<TrainArgs>();
  sub->add_option("deck", a->deck, "Lua input deck")->required()->check(CLI::ExistingFile);
  sub->add_option("--dataset", a->dataset, "dataset HDF5 file (default: the deck's dataset.file)");
  sub->add_option("-o,--output", a->output,
                  "model file to write (default: training.model or <deck>.model.h5)");
  sub->add_option("--folds", a->folds,
                  "folds to train: 'all' or a comma-separated list (overrides training.folds)");
  sub->add_option("--fold", a->folds, "one fold to train (same as --folds f)");
  sub->add_option("--epochs", a->epochs, "epochs (overrides training.epochs)")
      ->check(finite_in(1, 100'000'000));
  sub->add_option("--backend", a->backend,
                  "auto, reference, onednn or cuda (overrides training.backend)");
  sub->add_option("--threads", a->threads,
                  "CPU threads (overrides training.threads; 0 = OMP_NUM_THREADS)")
      ->check(finite_in(0, 4096));
  sub->add_flag("-q,--quiet", a->quiet, "no progress bar");
  sub->add_flag("--no-evaluate", a->no_eval, "skip the test-set table after training");
  sub->callback([&ctx, a] { run_train(*a, ctx); });
}

// ---------------------------------------------------------------- evaluate

struct EvaluateArgs {
  std::string deck, dataset, output, backend = "auto";
  std::vector<std::string> models;
  bool parity = false, all_rows = false;
  int symmetrize = -1;  // -1: plain predictions; 0: averaged over the space group; n: n operations
};

void run_evaluate(EvaluateArgs a, AppContext& ctx) {
  LoadedDeck d = load_deck(a.deck, ctx);
  if (a.models.empty())
    a.models.push_back(
        nn::TrainingOptions::from_deck(d.root().table("training"), d.deck.file()).model);
  const std::string data_path = a.dataset.empty() ? default_dataset(d) : a.dataset;
  const dataset::Dataset data = dataset::read_dataset(data_path);
  check_deck_matches_dataset(d, data, data_path);
  fmt::print("dataset   {} ({} rows, {} test rows)\n", data_path, data.rows(),
             std::count(data.fold.begin(), data.fold.end(), dataset::kTestFold));
  std::vector<std::size_t> rows(data.rows());
  std::iota(rows.begin(), rows.end(), std::size_t{0});
  if (!a.all_rows) rows = test_rows(data);
  fmt::print(
      "scoring   {} rows ({})\n", rows.size(),
      a.all_rows ? "--all-rows: every row, training rows of the models included" : "the test rows");
  std::optional<nn::SymmetryOperations> ops;
  if (a.symmetrize >= 0) {
    ops = nn::chosen_symmetry_operations(data.system.lattice, a.symmetrize);
    fmt::print(
        "averaging every prediction over {} space-group operations (--symmetrize; labels "
        "end in sym{})\n",
        ops->size(), ops->size());
  }
  std::vector<nn::EvaluatedModel> sets;
  const auto note = [](const std::string& line) { fmt::print(stderr, "note: {}\n", line); };
  for (const auto& m : a.models)
    sets.push_back(
        nn::evaluate_file(m, data, rows, a.backend, a.parity, ops ? &*ops : nullptr, note));
  const std::string prefix =
      a.output.empty() ? std::filesystem::path(a.deck).stem().string() + ".eval" : a.output;
  nn::report_evaluation(std::cout, sets, prefix + ".csv", prefix + ".json");
  fmt::print("\nwrote     {0}.csv, {0}.json\n", prefix);
  if (a.parity) {
    nn::write_parity_csv(prefix + ".parity.csv", sets, data);
    fmt::print("wrote     {}.parity.csv\n", prefix);
  }
}

void add_evaluate_command(CLI::App& app, AppContext& ctx) {
  auto* sub = app.add_subcommand(
      "evaluate",
      "test-set errors of trained models: tables (paper's Tables 2/3), CSV/JSON, parity data");
  auto a = std::make_shared<EvaluateArgs>();
  sub->add_option("deck", a->deck, "Lua input deck")->required()->check(CLI::ExistingFile);
  sub->add_option("-m,--model", a->models,
                  "model file(s), one table row each (default: the deck's training.model); "
                  "repeat -m per file")
      ->allow_extra_args(false);
  sub->add_option("--dataset", a->dataset, "dataset HDF5 file (default: the deck's dataset.file)");
  sub->add_option("-o,--output", a->output,
                  "prefix of the CSV/JSON/parity files (default: <deck>.eval)");
  sub->add_option("--backend", a->backend, "auto, reference, onednn or cuda")
      ->capture_default_str();
  sub->add_flag("--parity", a->parity,
                "also write parity data (reference vs predicted, every test value)");
  sub->add_flag("--all-rows", a->all_rows,
                "score every row of the dataset, not only its test rows (e.g. a --dataset the "
                "models never saw, such as withheld LSMS results)");
  sub->add_option("--symmetrize", a->symmetrize,
                  "average every prediction over the supercell's space group: 0 = every "
                  "operation, N = the identity and N-1 others (fixed seed); off by default")
      ->check(CLI::NonNegativeNumber);
  sub->callback([&ctx, a] { run_evaluate(*a, ctx); });
}

// ---------------------------------------------------------------- predict

struct PredictArgs {
  std::vector<std::string> models, inputs;
  std::vector<int> folds;  // empty: every fold model of the files
  std::string deck, output, backend = "auto";
};

// The models of -m (or the deck's training.model), only the folds of --fold if given.
nn::Ensemble load_predict_models(PredictArgs& a, AppContext& ctx) {
  if (a.models.empty() && !a.deck.empty()) {
    const LoadedDeck d = load_deck(a.deck, ctx);
    a.models.push_back(
        nn::TrainingOptions::from_deck(d.root().table("training"), d.deck.file()).model);
  }
  if (a.models.empty()) fail("predict: give the model file(s) with -m, or a deck with --deck");
  std::vector<nn::Model> members;
  std::vector<int> present;
  for (const auto& file : a.models)
    for (std::size_t i = 0, n = nn::Model::count_in_file(file); i < n; ++i) {
      nn::Model m = nn::Model::load_member(file, i, a.backend);
      present.push_back(m.fold());
      if (a.folds.empty() || std::count(a.folds.begin(), a.folds.end(), m.fold()) > 0)
        members.push_back(std::move(m));
    }
  if (members.empty())
    fail("predict: no model of fold {} in {} (folds there: {})", fmt::join(a.folds, ","),
         fmt::join(a.models, ", "), fmt::join(present, ","));
  return nn::Ensemble(std::move(members));
}

void run_predict(PredictArgs a, AppContext& ctx) {
  const nn::Ensemble ens = load_predict_models(a, ctx);
  const System& sys = ens.member(0).system();
  const dataset::InputConfigurations in = dataset::read_prediction_inputs(a.inputs, sys);
  const auto props = ens.predict(in.configs);
  fmt::print(stderr, "{} configurations, {} model(s) for {} ({})\n", in.configs.size(), ens.size(),
             sys.name(), property_mask_name(ens.tasks()));
  print_against_input(in, props, sys.num_sites());
  if (!a.output.empty() && std::filesystem::path(a.output).extension() == ".h5") {
    dataset::write_predictions_h5(a.output, a.models, sys, in, props);
    fmt::print(stderr, "wrote {}\n", a.output);
    return;
  }
  if (a.output.empty()) {
    std::fflush(stdout);  // the CSV goes through std::cout, after anything printed before
    dataset::write_predictions_csv(std::cout, in, props);
    std::cout.flush();
    return;
  }
  auto file = open_output_file(a.output);
  dataset::write_predictions_csv(file, in, props);
  fmt::print(stderr, "wrote {}\n", a.output);
}

void add_predict_command(CLI::App& app, AppContext& ctx) {
  auto* sub = app.add_subcommand("predict",
                                 "predict energy (Ry), charges (e) and moments (muB) of "
                                 "configurations with trained model(s)");
  auto a = std::make_shared<PredictArgs>();
  sub->add_option("-m,--model", a->models,
                  "model file(s); several fold models give mean and spread; repeat -m per file")
      ->allow_extra_args(false);
  sub->add_option("--deck", a->deck, "deck whose training.model is the model file (instead of -m)")
      ->check(CLI::ExistingFile);
  sub->add_option("--fold", a->folds,
                  "use only the fold model(s) of these validation folds (repeat or comma-separate; "
                  "default: every fold model, their mean)")
      ->delimiter(',')
      ->allow_extra_args(false);
  sub->add_option(
         "inputs", a->inputs,
         "dataset HDF5 files, text files of species digits (one configuration per line), LSMS "
         "info_evec output files, or directories of LSMS output files")
      ->required();
  sub->add_option(
      "-o,--output", a->output,
      "write predictions: .h5 (dataset-like arrays) or .csv (default: table on stdout)");
  sub->add_option("--backend", a->backend, "auto, reference, onednn or cuda")
      ->capture_default_str();
  sub->callback([a, &ctx] { run_predict(*a, ctx); });
}

}  // namespace

void print_model_info(const std::string& path) {
  const std::size_t n = nn::Model::count_in_file(path);
  fmt::print("file      {} (model file, {} model{})\n", path, n, n == 1 ? "" : "s");
  for (std::size_t i = 0; i < n; ++i) {
    const nn::Model m = nn::Model::load_member(path, i, "reference");
    std::vector<std::string> tasks;
    for (Task t : nn::kTasks)
      if (m.tasks() & nn::task_bit(t)) tasks.emplace_back(nn::task_name(t));
    if (i == 0)
      fmt::print("model     {} ({}; tasks {}), {}\nsystem    {} on {}\n", nn::model_label(m),
                 m.kind(), fmt::join(tasks, ", "), m.describe(), m.system().name(),
                 m.system().lattice.describe());
    std::string errors = "not recorded (lsms-surrogate evaluate)";
    if (const auto recorded = nn::read_test_errors(path, i)) {
      std::vector<std::string> parts;
      for (std::size_t t = 0; t < recorded->tasks.size() && t < recorded->rmse.size(); ++t)
        parts.push_back(fmt::format("{} {:.4g} {}", nn::task_name(recorded->tasks[t]),
                                    recorded->rmse[t], nn::task_unit(recorded->tasks[t])));
      errors = fmt::format("{} ({} test values)", fmt::join(parts, ", "), recorded->rows);
    }
    fmt::print("fold {:>3}  epochs {}, trained on data {} ({}, {}); test RMSE: {}\n", m.fold(),
               m.epochs_run(), m.dataset_hash(), m.trained_backend(), m.created(), errors);
  }
}

void add_nn_commands(CLI::App& app, AppContext& ctx) {
  add_train_command(app, ctx);
  add_evaluate_command(app, ctx);
  add_predict_command(app, ctx);
}

}  // namespace lsmss::app
