// `study`: the paper's study in one command (study/, docs/study.md): dataset, models, test
// errors, Monte Carlo, and a report folder with tables, figures and an HTML page.
#include <fmt/format.h>

#include "app/common.hpp"
#include "app/plot.hpp"
#include "core/mpi.hpp"
#include "study/study.hpp"

namespace lsmss::app {
namespace {

void run_study(const std::string& deck_path, bool quiet, AppContext& ctx) {
  mpi::Session session;  // `mpirun -np P lsms-surrogate study`: build, folds and chains over ranks
  const bool root = mpi::rank_of(MPI_COMM_WORLD) == 0;
  LoadedDeck d = load_deck(deck_path, ctx);
  const GnuplotPlotter gnuplot;
  study::StudyOptions opt;
  opt.deck_options.allow_io = ctx.allow_lua_io;
  opt.deck_options.allow_commands = ctx.allow_lua_io || ctx.allow_commands;
  opt.registry = &ctx.registry;
  opt.plotter = &gnuplot;
  opt.progress = !quiet;
  opt.comm = MPI_COMM_WORLD;
  opt.log = [](const std::string& line) {
    fmt::print("{}\n", line);
    std::fflush(stdout);
  };
  opt.warn = print_warning;
  opt.on_rank_failure = [](int failed_rank, const std::exception& e) {
    fmt::print(stderr, "lsms-surrogate: error: rank {}: {}\n", failed_rank, e.what());
    std::fflush(stderr);
    MPI_Abort(MPI_COMM_WORLD, 1);
  };
  if (root)
    fmt::print("study     {}: {} on {}\n", d.deck.file(), d.system.name(),
               d.system.lattice.describe());
  const study::StudySummary s = study::run_study(d.deck, d.system, opt);
  if (!root) return;
  fmt::print("\n");
  for (const auto& line : s.lines) fmt::print("{}\n", line);
}

}  // namespace

void add_study_commands(CLI::App& app, AppContext& ctx) {
  auto* sub = app.add_subcommand(
      "study",
      "the paper's study in one run (the deck's `study` table): build or import the dataset, "
      "train the models it names (STL/MTL), evaluate them, optionally run Monte Carlo, and "
      "write a report folder (tables as CSV/Markdown/HTML, PNG+SVG figures, cost table); "
      "rerun to resume: finished stages are skipped");
  auto deck = std::make_shared<std::string>();
  auto quiet = std::make_shared<bool>(false);
  sub->add_option("deck", *deck, "Lua input deck with a `study` table")
      ->required()
      ->check(CLI::ExistingFile);
  sub->add_flag("-q,--quiet", *quiet, "no progress bars");
  sub->callback([&ctx, deck, quiet] { run_study(*deck, *quiet, ctx); });
}

}  // namespace lsmss::app
