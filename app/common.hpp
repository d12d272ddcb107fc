#pragma once
// Shared plumbing of the CLI subcommands: loading and validating a deck, the driver registry.
#include <filesystem>
#include <string>

#include <CLI/CLI.hpp>

#include "core/deck.hpp"
#include "core/driver.hpp"
#include "core/system.hpp"
#include "dataset_builder/dataset.hpp"

namespace lsmss::app {

struct AppContext {
  DriverRegistry registry;
  bool allow_lua_io = false;    // --allow-lua-io on the top-level command
  bool allow_commands = false;  // --allow-commands: the deck may name programs to run
};

struct LoadedDeck {
  Deck deck;
  System system;
  const DeckTable& root() const { return deck.root(); }
};

// Runs the deck, reads its `system`, and checks the top level for unknown keys (sections are
// checked by the stage that reads them, and all at once by `lsms-surrogate check`).
LoadedDeck load_deck(const std::filesystem::path& path, const AppContext& ctx);

// Top-level deck sections known to the program (besides one settings table per driver).
inline const std::vector<std::string>& deck_sections() {
  static const std::vector<std::string> s = {"system",   "driver",     "sampling", "dataset",
                                             "training", "montecarlo", "search",   "study"};
  return s;
}

// Subcommand groups; each lives in its own file and registers its CLI11 subcommands.
void add_calc_commands(CLI::App& app, AppContext& ctx);     // check, calc
void add_dataset_commands(CLI::App& app, AppContext& ctx);  // build, import, info
void add_nn_commands(CLI::App& app, AppContext& ctx);       // train, evaluate, predict
// `info` on a model file: kind, tasks, architecture, and per fold model epochs, training data
// hash and the test errors `train` recorded.
void print_model_info(const std::string& path);
void add_mc_commands(CLI::App& app, AppContext& ctx);     // mc, retrain
void add_search_command(CLI::App& app, AppContext& ctx);  // search

// The deck's system against a dataset's: a deck for another cell must not train or evaluate on
// that data (fails naming both). Warns about damaged rows.
void check_deck_matches_dataset(const LoadedDeck& d, const dataset::Dataset& data,
                                const std::string& data_path);
void add_study_commands(CLI::App& app, AppContext& ctx);  // study

// "lsms-surrogate: warning: <line>" on stderr: where the libraries' warning sinks lead.
void print_warning(const std::string& line);

// A validator for numeric options: a finite number in [lo, hi] (CLI::Range and
// CLI::PositiveNumber let NaN through). A violation is a usage error (exit 2).
CLI::Validator finite_in(double lo, double hi);

}  // namespace lsmss::app
