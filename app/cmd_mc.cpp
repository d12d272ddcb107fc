// `mc`: Monte Carlo over configurations (montecarlo/, docs/montecarlo.md); `retrain`: retrain
// the surrogate on a dataset enlarged by DFT fallbacks (the active-learning loop).
#include <algorithm>
#include <filesystem>

#include <fmt/format.h>

#include "app/common.hpp"
#include "app/plot.hpp"
#include "core/mpi.hpp"
#include "dataset_builder/dataset.hpp"
#include "montecarlo/checkpoint.hpp"
#include "montecarlo/job.hpp"
#include "montecarlo/output.hpp"
#include "montecarlo/retrain.hpp"
#include "nn/core/fold_training.hpp"
#include "nn/core/trainer.hpp"

namespace lsmss::app {
namespace {

void run_mc(const std::string& deck_path, bool restart, bool quiet, int threads, AppContext& ctx) {
  // `mpirun -np P lsms-surrogate mc`: Metropolis chains spread over the ranks; rank 0 prints and
  // writes the files.
  mpi::Session session;
  const mpi::Comm world = mpi::Comm::world();
  const bool root = world.rank() == 0;
  LoadedDeck d = load_deck(deck_path, ctx);
  if (threads > 0) mc::set_threads(threads);
  mc::Job job = mc::prepare_job(d.root(), d.system, ctx.registry, d.deck.file(), print_warning);
  const mc::Settings& s = job.settings;
  mc::RunOptions opt;
  opt.progress = !quiet;
  opt.restart = restart;
  opt.comm = world.get();
  opt.log = [](const std::string& line) {
    fmt::print("{}\n", line);
    std::fflush(stdout);
  };
  if (!root) {
    mc::run(d.system, s, *job.evaluator, opt);
    return;
  }
  fmt::print("deck      {}\n", d.deck.file());
  fmt::print("system    {} on {}\n", d.system.name(), d.system.lattice.describe());
  std::string comp;
  for (int k = 0; k < d.system.num_species(); ++k)
    comp += fmt::format("{}{}{}", k ? " " : "", d.system.species[k].symbol, s.counts[k]);
  fmt::print("ensemble  canonical, composition {} ({} sites), {} walker{}{}\n", comp, s.num_sites(),
             s.walkers, s.walkers == 1 ? "" : "s",
             s.method == mc::Method::metropolis
                 ? (s.anneal ? ", annealing schedule" : " per temperature")
                 : " sharing ln g");
  if (world.size() > 1 && s.method == mc::Method::metropolis)
    fmt::print("          chains spread over {} MPI ranks (chain i on rank i mod {})\n",
               world.size(), world.size());
  for (const auto& n : job.notes) fmt::print("          {}\n", n);
  fmt::print("\n");
  std::fflush(stdout);

  const mc::McResult r = mc::run(d.system, s, *job.evaluator, opt);
  const GnuplotPlotter gnuplot;
  const mc::OutputFiles files = mc::write_outputs(r, s, d.system, &gnuplot);
  fmt::print("\n{}", mc::format_summary(r, d.system));
  fmt::print("wrote     {}", files.thermo);
  if (!files.dos.empty()) fmt::print(", {}", files.dos);
  fmt::print(", {}", files.json);
  if (!files.plot.empty()) fmt::print(", {} (gnuplot script {})", files.plot, files.script);
  fmt::print("\n");
  if (!files.plot_message.empty()) fmt::print("note      {}\n", files.plot_message);
  if (!s.checkpoint.empty() && s.checkpoint_interval > 0) {
    const int p = world.size();
    const std::string where =
        p > 1 ? fmt::format("{} ... {} (one per rank)",
                            mc::rank_checkpoint(s.checkpoint, 0, p).string(),
                            mc::rank_checkpoint(s.checkpoint, p - 1, p).string())
              : s.checkpoint;
    fmt::print("checkpoint {} (rerun resumes or reprints; --restart starts over)\n", where);
  }
}

void run_retrain(const std::string& deck_path, std::string data_path, std::string out, long epochs,
                 bool quiet, AppContext& ctx) {
  LoadedDeck d = load_deck(deck_path, ctx);
  const DeckTable& root = d.root();
  if (data_path.empty()) data_path = mc::fallback_dataset_file(root, d.deck.file());
  nn::TrainingOptions opt = nn::TrainingOptions::from_deck(root.table("training"), d.deck.file());
  if (epochs > 0) opt.epochs = epochs;
  opt.progress = !quiet;
  if (out.empty()) out = mc::retrain_model_file(root, opt.model);
  const dataset::Dataset data = dataset::read_dataset(data_path);
  const auto acquired = std::count(data.origin.begin(), data.origin.end(),
                                   static_cast<std::int8_t>(dataset::Origin::acquired));
  fmt::print("dataset   {} ({} rows, {} acquired by DFT fallbacks during Monte Carlo)\n", data_path,
             data.rows(), acquired);
  if (acquired == 0)
    fmt::print(
        "note      no acquired rows yet: run `lsms-surrogate mc` with montecarlo.fallback first\n");
  std::vector<std::size_t> test;
  for (std::size_t r = 0; r < data.rows(); ++r)
    if (data.is_test(r)) test.push_back(r);
  nn::FoldTrainingRun run;
  run.output = out;
  run.deck_text = d.deck.text();
  run.system = &d.system;
  run.keep_previous = true;  // the old model stays in place until every fold is done
  run.on_model = [&](const nn::Model& m) {
    if (test.empty()) return;
    const nn::Evaluation e = nn::evaluate_model(m, data, test);
    for (const auto& te : e.tasks)
      fmt::print("fold {:>3}  test RMSE {} {:.4e} ({} values)\n", m.fold(), nn::task_name(te.task),
                 te.rmse, te.count);
  };
  const nn::FoldTrainingResult result =
      nn::train_folds(data, opt, nn::folds_to_train(data, opt), run);
  if (!result.previous.empty())
    fmt::print("kept      previous model as {}\n", result.previous.string());
  fmt::print("wrote     {} ({} fold model{}, trained on {} rows)\n", out, result.models.size(),
             result.models.size() == 1 ? "" : "s", data.rows());
}

}  // namespace

void add_mc_commands(CLI::App& app, AppContext& ctx) {
  {
    auto* sub = app.add_subcommand(
        "mc",
        "Monte Carlo over configurations at fixed composition (the deck's `montecarlo` section): "
        "Metropolis over temperatures (K) or Wang-Landau; energies in Ry with the deck's driver");
    struct Opts {
      std::string deck;
      bool restart = false, quiet = false;
      int threads = 0;
    };
    auto o = std::make_shared<Opts>();
    sub->add_option("deck", o->deck, "Lua input deck")->required()->check(CLI::ExistingFile);
    sub->add_flag("--restart", o->restart, "ignore an existing checkpoint and start over");
    sub->add_flag("-q,--quiet", o->quiet, "no progress bar");
    sub->add_option("--threads", o->threads,
                    "CPU threads for the walkers and the network (0: OMP_NUM_THREADS)")
        ->check(finite_in(0, 4096));
    sub->callback([&ctx, o] { run_mc(o->deck, o->restart, o->quiet, o->threads, ctx); });
  }
  {
    auto* sub = app.add_subcommand(
        "retrain",
        "retrain the surrogate (the deck's `training` section) on the dataset enlarged by DFT "
        "fallbacks, and write it where surrogate.model points (the old file is kept as .prev.h5)");
    struct Opts {
      std::string deck, dataset, output;
      long epochs = 0;
      bool quiet = false;
    };
    auto o = std::make_shared<Opts>();
    sub->add_option("deck", o->deck, "Lua input deck")->required()->check(CLI::ExistingFile);
    sub->add_option("--dataset", o->dataset,
                    "dataset file (default: montecarlo.fallback.dataset, else dataset.file)");
    sub->add_option("-o,--output", o->output, "model file to write (default: surrogate.model)");
    sub->add_option("--epochs", o->epochs, "epochs (overrides training.epochs)")
        ->check(finite_in(1, 100'000'000));
    sub->add_flag("-q,--quiet", o->quiet, "no progress bar");
    sub->callback(
        [&ctx, o] { run_retrain(o->deck, o->dataset, o->output, o->epochs, o->quiet, ctx); });
  }
}

}  // namespace lsmss::app
