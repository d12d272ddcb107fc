#pragma once
// The paper's architecture search (docs/search.md): an adaptive, layer-by-layer random search over
// the shared hidden layers. Layer L is chosen among random candidates (width a multiple of
// `width_step`, activation among the allowed ones) appended to the best L-1 layers; a layer is
// kept while it lowers the mean validation loss, and the search stops as soon as a trial's
// score, loss x width_reference / (total hidden width), falls below the threshold.
//
// The logic here is pure: a trial is evaluated through a callback (the fold trainer over MPI in
// nn/core/search_training.hpp, a fake in tests), and every finished trial is appended to a CSV
// log. Resuming replays the search from the log: the same seed proposes the same candidates,
// logged trials are taken from the log instead of being trained again.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "core/deck.hpp"
#include "nn/core/network.hpp"

namespace lsmss::nn {

struct SearchSettings {
  double threshold = 1e-3;      // stop when a trial's score falls below it (paper: 1e-3)
  int width_step = 50;          // widths are multiples of it (paper: 50)
  int min_width = 50;           // smallest width tried (a multiple of width_step)
  int max_width = 400;          // largest width tried (a multiple of width_step)
  double width_reference = 50;  // score = loss * width_reference / total hidden width
  std::vector<Activation> activations = {Activation::tanh, Activation::sigmoid, Activation::relu};
  int max_layers = 4;            // shared hidden layers at most
  int trials_per_layer = 4;      // random candidates per layer (fewer if the grid is smaller)
  double min_improvement = 0.0;  // a layer is kept if loss < previous * (1 - min_improvement)
  std::uint64_t seed = 1;        // the proposals' random stream (core/rng.hpp)
  long epochs = 0;               // epochs per trial; 0: training.epochs
  std::vector<int> folds;        // folds per trial; empty: training.folds (or all)
  std::filesystem::path log;     // trial log (CSV); default <deck stem>.search.csv
  std::filesystem::path winner;  // winner fragment (Lua); default <deck stem>.search.lua

  // Reads the deck's `search` table (every key typed and range-checked, then finish()).
  static SearchSettings from_deck(const DeckTable& search, const std::filesystem::path& deck_file);
  // The widths a layer may take: min_width, min_width + width_step, ..., max_width.
  std::vector<int> widths() const;
  // What a log must have been written with to be resumed (every setting that changes proposals
  // or losses, plus `training_fingerprint` from the caller).
  std::string fingerprint(const std::string& training_fingerprint) const;
};

// The searched part of a network: the shared hidden layers.
struct Architecture {
  std::vector<int> widths;
  std::vector<Activation> activations;  // one per layer
  int total_width() const;
  std::string widths_text() const;       // "150-100"
  std::string activations_text() const;  // "tanh-relu"
  bool operator==(const Architecture&) const = default;
};

struct Trial {
  int index = 0;  // 0-based, in proposal order
  int layer = 1;  // number of shared layers of this trial
  Architecture architecture;
  std::vector<int> folds;
  std::vector<double> fold_loss;  // validation loss per fold (standardized MSE, alpha-weighted)
  double mean_loss = 0;
  double score = 0;    // mean_loss * width_reference / total width (the stop rule's quantity)
  double seconds = 0;  // wall time of the trial, s
};

// The stop rule's quantity.
double search_score(double mean_loss, const Architecture& a, const SearchSettings& s);

// Per-fold validation losses of one candidate (same order as `folds`).
using TrialEvaluator = std::function<std::vector<double>(const Architecture&)>;

struct SearchOutcome {
  std::vector<Trial> trials;  // every trial, logged ones included
  int resumed = 0;            // trials taken from an existing log
  Trial winner;
  std::string stop_reason;  // why the search ended, in words
};

struct SearchRun {
  std::string training_fingerprint;  // part of the log's fingerprint (what else the trials use)
  std::vector<int> folds;            // the folds every trial trains
  bool write_log = true;             // false on MPI ranks other than 0 (they read it only)
  std::function<void(const Trial&, bool from_log)> on_trial;  // after each trial (progress)
};

// Runs (or resumes) the search. A log at settings.log written with another fingerprint is
// refused (FileError naming it), so is one whose trials differ from the proposals.
SearchOutcome run_search(const SearchSettings& settings, const SearchRun& run,
                         const TrialEvaluator& evaluate);

// Most trials a search with these settings can run (for a progress bar's total).
int max_trials(const SearchSettings& settings);

// ---- the trial log (docs/search.md) ----
// Reads the finished trials of a log; a torn last line (killed while writing) is ignored.
// Returns the fingerprint in `fingerprint`.
std::vector<Trial> read_search_log(const std::filesystem::path& path, std::string* fingerprint);

// ---- the winner fragment (docs/search.md) ----
// A Lua chunk returning a `training.architecture` table: { shared = {...},
// shared_activations = {...} }, with comment lines on the search that found it.
void write_winner_fragment(const std::filesystem::path& path, const Trial& winner,
                           const std::string& comment);
// Reads a fragment back (run in the deck sandbox); throws DeckError naming the file.
Architecture read_winner_fragment(const std::filesystem::path& path);

}  // namespace lsmss::nn
