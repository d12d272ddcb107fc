// `search`: the paper's architecture search (nn/core/architecture_search.hpp, docs/search.md).
// This file reads the command line and prints; the search itself lives in nn/.
#include <algorithm>
#include <cmath>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "app/common.hpp"
#include "core/defaults.hpp"
#include "core/mpi.hpp"
#include "core/progress.hpp"
#include "dataset_builder/dataset.hpp"
#include "nn/core/architecture_search.hpp"
#include "nn/core/evaluation_report.hpp"
#include "nn/core/search_training.hpp"

namespace lsmss::app {
namespace {

struct SearchArgs {
  std::string deck, dataset, backend;
  int threads = -1;
  bool quiet = false, restart = false;
};

std::string trial_text(const nn::Trial& t) {
  return fmt::format("{:>3}  {:<20} {:<28} {:>11.4e} {:>11.4e} {:>9.1f}", t.index,
                     t.architecture.widths_text(), t.architecture.activations_text(), t.mean_loss,
                     t.score, t.seconds);
}

// The one-screen summary: the best trial of each layer count, the five best trials, the winner
// and how to use it.
void print_summary(const nn::SearchSettings& s, const nn::TrainingOptions& opt,
                   const nn::SearchOutcome& out) {
  fmt::print("\nsearch    {} trials ({} from the log), folds {}, {} epochs per fold model\n",
             out.trials.size(), out.resumed, fmt::join(opt.folds, ","), opt.epochs);
  fmt::print("stopped   {}\n", out.stop_reason);
  fmt::print(
      "\nvalidation loss: alpha-weighted MSE of the standardized outputs, mean over folds "
      "(dimensionless); score = loss x {} / total width; time in s\n",
      s.width_reference);
  fmt::print("{:>3}  {:<20} {:<28} {:>11} {:>11} {:>9}\n", "#", "widths", "activations", "val loss",
             "score", "time s");
  std::vector<nn::Trial> best = out.trials;
  std::stable_sort(best.begin(), best.end(), [](const nn::Trial& a, const nn::Trial& b) {
    return !std::isnan(a.mean_loss) && (std::isnan(b.mean_loss) || a.mean_loss < b.mean_loss);
  });
  if (best.size() > 5) best.resize(5);
  for (const auto& t : best) fmt::print("{}\n", trial_text(t));
  const nn::Trial& w = out.winner;
  fmt::print("\nwinner    {} ({}), validation loss {:.4e} +- {:.2e} over {} folds, score {:.4e}\n",
             w.architecture.widths_text(), w.architecture.activations_text(), w.mean_loss,
             nn::mean_and_std(w.fold_loss).std, w.fold_loss.size(), w.score);
  fmt::print("wrote     {} (trial log), {} (winner fragment)\n", s.log.string(), s.winner.string());
  std::vector<std::string> acts;
  for (auto a : w.architecture.activations) acts.push_back('"' + nn::activation_name(a) + '"');
  fmt::print(
      "use it    training = {{ architecture = {{ shared = {{{}}}, shared_activations = {{{}}} }} "
      "}}\n",
      fmt::join(w.architecture.widths, ", "), fmt::join(acts, ", "));
}

void run_search_command(const SearchArgs& a, AppContext& ctx) {
  mpi::Session session;
  const mpi::Comm world = mpi::Comm::world();
  const bool root = world.rank() == 0;
  LoadedDeck d = load_deck(a.deck, ctx);
  const std::string file = d.deck.file();
  nn::TrainingOptions training = nn::TrainingOptions::from_deck(d.root().table("training"), file);
  if (!a.backend.empty()) training.backend = a.backend;
  if (a.threads >= 0) training.threads = a.threads;
  const nn::SearchSettings settings = nn::SearchSettings::from_deck(d.root().table("search"), file);
  const std::string data_path =
      a.dataset.empty() ? defaults::dataset_file(d.root(), file) : a.dataset;
  const dataset::Dataset data = dataset::read_dataset(data_path);
  check_deck_matches_dataset(d, data, data_path);
  const nn::TrainingOptions opt = nn::search_training_options(training, settings, data);
  if (a.restart && root) std::filesystem::remove(settings.log);
  MPI_Barrier(world.get());  // no rank reads a log that --restart is removing
  if (root)
    fmt::print(
        "search    {} on {} ({} rows), {}, {} epochs, folds {} on {} MPI rank{}, "
        "up to {} trials\n",
        file, data_path, data.rows(), opt.label(), opt.epochs, fmt::join(opt.folds, ","),
        world.size(), world.size() == 1 ? "" : "s", nn::max_trials(settings));

  nn::SearchTraining st;
  st.data = &data;
  st.base = opt;
  st.folds = opt.folds;
  st.work_model = settings.log.string() + ".trial.h5";
  st.deck_text = d.deck.text();
  st.system = &d.system;
  st.comm = world.get();
  Progress progress("search", nn::max_trials(settings), "trials", root && !a.quiet);
  nn::SearchRun run;
  run.training_fingerprint = nn::training_fingerprint(opt, data);
  run.folds = opt.folds;
  run.write_log = root;
  run.on_trial = [&](const nn::Trial& t, bool from_log) {
    progress.advance(1, fmt::format("{}{} {} loss {:.3e}", from_log ? "(log) " : "",
                                    t.architecture.widths_text(), t.architecture.activations_text(),
                                    t.mean_loss));
  };
  const nn::SearchOutcome out = nn::run_search(settings, run, nn::fold_trial_evaluator(st));
  progress.finish(fmt::format("{} trials", out.trials.size()));
  if (!root) return;
  nn::write_winner_fragment(
      settings.winner, out.winner,
      fmt::format("lsms-surrogate search winner for {} (docs/search.md): {} trials, {}.\n"
                  "Validation loss {:.4e} (alpha-weighted standardized MSE, mean over folds {}).\n"
                  "Use: training = {{ architecture = <this table>, ... }} (copy it, or with "
                  "--allow-lua-io: dofile(\"{}\"))",
                  file, out.trials.size(), out.stop_reason, out.winner.mean_loss,
                  fmt::join(opt.folds, ","), settings.winner.string()));
  print_summary(settings, opt, out);
}

}  // namespace

void add_search_command(CLI::App& app, AppContext& ctx) {
  auto* sub = app.add_subcommand(
      "search",
      "architecture search as in the paper (the deck's `search` table, docs/search.md): "
      "layer-by-layer random search over widths and activations of the shared layers, resumable; "
      "writes a trial log (CSV) and the winner as a Lua fragment for training.architecture");
  auto a = std::make_shared<SearchArgs>();
  sub->add_option("deck", a->deck, "Lua input deck (its training and search tables)")
      ->required()
      ->check(CLI::ExistingFile);
  sub->add_option("--dataset", a->dataset, "dataset HDF5 file (default: the deck's dataset.file)");
  sub->add_option("--backend", a->backend,
                  "auto, reference, onednn or cuda (overrides training.backend)");
  sub->add_option("--threads", a->threads,
                  "CPU threads (overrides training.threads; 0 = OMP_NUM_THREADS)")
      ->check(finite_in(0, 4096));
  sub->add_flag("--restart", a->restart,
                "remove the trial log and start over (default: resume from it)");
  sub->add_flag("-q,--quiet", a->quiet, "no progress bar");
  sub->footer(
      "Run under `mpirun -np P` to spread each trial's fold models over P ranks (the log is the "
      "same as with one rank). A killed search resumes from its trial log (search.log) when run "
      "again with the same deck; finished trials are not trained again.");
  sub->callback([&ctx, a] { run_search_command(*a, ctx); });
}

}  // namespace lsmss::app
