#pragma once
// `lsms-surrogate study`: the paper's study in one run. Stages, each resumable (a marker in
// <report>/stages/ when it has finished; a rerun skips it, and reruns every later stage that
// depends on a stage it had to run):
//   dataset          build with the deck's driver (build_dataset resumes by itself) or import
//                    LSMS outputs (study.import)
//   train_<model>    one per study.models entry (and "search", the search winner, when
//                    study.search names an existing fragment): the fold models
//   evaluate         test RMSE, parity, per composition, learning curves, prediction timing
//   montecarlo       the deck's `montecarlo` section on the surrogate of study.mc_model
//   report           tables (CSV, Markdown, HTML), figures (PNG + SVG via the plotter)
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include <mpi.h>

#include "core/deck.hpp"
#include "core/driver.hpp"
#include "core/system.hpp"
#include "montecarlo/fallback.hpp"
#include "montecarlo/output.hpp"

namespace lsmss::study {

struct StudyOptions {
  DeckOptions deck_options;                     // to run the deck again per model
  const DriverRegistry* registry = nullptr;     // drivers for build and Monte Carlo
  const mc::Plotter* plotter = nullptr;         // draws the figures (nullptr: scripts only)
  bool progress = true;                         // a progress bar per stage (rank 0)
  MPI_Comm comm = MPI_COMM_SELF;                // ranks sharing build, training and Monte Carlo
  std::function<void(const std::string&)> log;  // one line per stage event (rank 0)
  mc::WarningSink warn;  // what a stage goes on without (e.g. a failed DFT fallback)
  // See dataset::BuildOptions::on_rank_failure.
  std::function<void(int rank, const std::exception& error)> on_rank_failure;
};

struct StudySummary {
  std::filesystem::path report;    // the report folder (index.html, report.md, ...)
  std::vector<std::string> lines;  // the one-screen summary (rank 0; empty elsewhere)
};

StudySummary run_study(const Deck& deck, const System& system, const StudyOptions& options);

// Reads the deck's `study` table and every model's training options, as the study does before
// any work (for `lsms-surrogate check`); returns the model names. Throws DeckError naming the
// model and key.
std::vector<std::string> check_study(const Deck& deck, const DeckOptions& deck_options);

}  // namespace lsmss::study
