// The architecture search (nn/core/architecture_search.hpp): the proposal and stop rules with a
// fake evaluator, the trial log and its resumption, the winner fragment, the deck table, and
// `lsms-surrogate search` end to end on the embedded engine under 1 and 2 MPI ranks.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <set>

#include <fmt/format.h>

#include "core/deck.hpp"
#include "nn/core/architecture_search.hpp"
#include "test_support.hpp"

using namespace lsmss;
using namespace lsmss::test;
using nn::Activation;
using nn::Architecture;

namespace {

nn::SearchSettings settings_in(const TempDir& dir) {
  nn::SearchSettings s;
  s.log = dir / "s.search.csv";
  s.winner = dir / "s.search.lua";
  s.max_width = 300;
  s.trials_per_layer = 3;
  s.max_layers = 4;
  s.threshold = 0;  // the stop rule off unless a test sets it
  return s;
}

nn::SearchRun run_on_folds(std::vector<int> folds = {0, 1, 2}) {
  nn::SearchRun r;
  r.training_fingerprint = "fake";
  r.folds = std::move(folds);
  return r;
}

// A loss that depends on the architecture only (a deterministic stand-in for training): the
// per-layer `gain` says how much each extra layer helps, widths and activations shift it a bit.
nn::TrialEvaluator fake_evaluator(std::vector<double> layer_loss, int* calls = nullptr) {
  return [layer_loss = std::move(layer_loss), calls](const Architecture& a) {
    if (calls) ++*calls;
    const double base = layer_loss.at(a.widths.size() - 1);
    const double shape =
        1.0 + 1e-3 * a.widths.back() / 50.0 + 0.01 * static_cast<int>(a.activations.back());
    return std::vector<double>{base * shape, base * shape * 1.1, base * shape * 0.9};
  };
}

// Every column but the trial's time.
std::vector<std::string> log_without_times(const std::filesystem::path& p) {
  std::vector<std::string> rows;
  std::ifstream f(p);
  std::string line;
  while (std::getline(f, line)) rows.push_back(line.substr(0, line.rfind(',')));
  return rows;
}

}  // namespace

TEST(ArchitectureSearch, ProposesMultiplesOfTheStepAndAllowedActivationsOnly) {
  TempDir dir;
  auto s = settings_in(dir);
  s.width_step = 50;
  s.min_width = 100;
  s.max_width = 250;
  s.activations = {Activation::tanh, Activation::relu};
  s.trials_per_layer = 8;  // the whole grid: 4 widths x 2 activations
  std::vector<Architecture> seen;
  auto eval = [&](const Architecture& a) {
    seen.push_back(a);
    return std::vector<double>(3, 1.0 / static_cast<double>(a.widths.size()));
  };
  s.max_layers = 2;
  const auto out = nn::run_search(s, run_on_folds(), eval);
  ASSERT_EQ(seen.size(), 16u);
  std::set<std::pair<int, int>> first_layer;
  for (const auto& a : seen) {
    for (int w : a.widths) {
      EXPECT_EQ(w % 50, 0);
      EXPECT_GE(w, 100);
      EXPECT_LE(w, 250);
    }
    for (Activation x : a.activations) EXPECT_TRUE(x == Activation::tanh || x == Activation::relu);
    if (a.widths.size() == 1) first_layer.insert({a.widths[0], static_cast<int>(a.activations[0])});
  }
  EXPECT_EQ(first_layer.size(), 8u);  // no candidate twice in a layer
  EXPECT_EQ(nn::max_trials(s), 16);
}

TEST(ArchitectureSearch, AddsALayerOnlyWhileItHelps) {
  TempDir dir;
  const auto s = settings_in(dir);
  int calls = 0;
  // Layers 1 and 2 lower the loss, a third does not.
  const auto out =
      nn::run_search(s, run_on_folds(), fake_evaluator({1e-2, 5e-3, 6e-3, 1e-4}, &calls));
  EXPECT_EQ(calls, 9);  // three layers tried, the fourth never
  EXPECT_EQ(out.trials.size(), 9u);
  EXPECT_EQ(out.winner.architecture.widths.size(), 2u);
  EXPECT_NE(out.stop_reason.find("did not lower"), std::string::npos) << out.stop_reason;
  // The winner is the best two-layer trial, and its first layer is the best one-layer trial.
  double best1 = 1e9, best2 = 1e9;
  Architecture arch1;
  for (const auto& t : out.trials) {
    if (t.layer == 1 && t.mean_loss < best1) best1 = t.mean_loss, arch1 = t.architecture;
    if (t.layer == 2) best2 = std::min(best2, t.mean_loss);
  }
  EXPECT_EQ(out.winner.mean_loss, best2);
  EXPECT_EQ(out.winner.architecture.widths[0], arch1.widths[0]);
  EXPECT_EQ(out.winner.architecture.activations[0], arch1.activations[0]);
  for (const auto& t : out.trials)
    if (t.layer >= 2) {
      EXPECT_EQ(t.architecture.widths[0], arch1.widths[0]);
    }
  // Every layer helping: the search ends at max_layers.
  const TempDir dir2;
  const auto out2 =
      nn::run_search(settings_in(dir2), run_on_folds(), fake_evaluator({1e-2, 5e-3, 2e-3, 1e-3}));
  EXPECT_EQ(out2.winner.architecture.widths.size(), 4u);
  EXPECT_NE(out2.stop_reason.find("max_layers"), std::string::npos);
}

TEST(ArchitectureSearch, StopsWhenTheWidthScaledLossFallsBelowTheThreshold) {
  TempDir dir;
  auto s = settings_in(dir);
  s.width_reference = 50;
  s.threshold = 1e-3;
  s.min_improvement = 0;
  // Loss 4e-3 for every candidate: score = 4e-3 * 50 / width, below 1e-3 only from width 250.
  auto eval = [](const Architecture&) { return std::vector<double>{4e-3, 4e-3, 4e-3}; };
  s.trials_per_layer = 7;  // every width 50..300 with luck; the first with width >= 250 stops
  s.activations = {Activation::relu};
  const auto out = nn::run_search(s, run_on_folds(), eval);
  const auto& w = out.winner;
  EXPECT_NE(out.stop_reason.find("threshold"), std::string::npos) << out.stop_reason;
  EXPECT_EQ(w.index, static_cast<int>(out.trials.size()) - 1);
  EXPECT_GE(w.architecture.total_width(), 250);
  EXPECT_DOUBLE_EQ(w.score, 4e-3 * 50 / w.architecture.total_width());
  for (const auto& t : out.trials) {
    EXPECT_DOUBLE_EQ(t.score, nn::search_score(t.mean_loss, t.architecture, s));
    if (t.index < w.index) {
      EXPECT_GE(t.score, 1e-3);
    }
  }
  // The factor uses the total hidden width: two layers of 100 count as 200.
  Architecture two{{100, 100}, {Activation::relu, Activation::relu}};
  EXPECT_DOUBLE_EQ(nn::search_score(1.0, two, s), 0.25);
}

TEST(ArchitectureSearch, SameSeedSameSearchOtherSeedOtherProposals) {
  TempDir a, b, c;
  auto sa = settings_in(a), sb = settings_in(b), sc = settings_in(c);
  sc.seed = 7;
  const auto eval = fake_evaluator({1e-2, 5e-3, 6e-3, 1e-4});
  nn::run_search(sa, run_on_folds(), eval);
  nn::run_search(sb, run_on_folds(), eval);
  nn::run_search(sc, run_on_folds(), eval);
  const auto la = log_without_times(sa.log);
  EXPECT_EQ(la, log_without_times(sb.log));
  EXPECT_NE(la, log_without_times(sc.log));
}

TEST(ArchitectureSearch, ResumesAfterAKillWithTheSameLog) {
  TempDir whole, killed;
  const auto eval = fake_evaluator({1e-2, 5e-3, 6e-3, 1e-4});
  const auto s_whole = settings_in(whole);
  const auto ref = nn::run_search(s_whole, run_on_folds(), eval);
  ASSERT_GT(ref.trials.size(), 5u);

  // Killed during the fifth trial: four trials logged, and half a line of the fifth.
  auto s = settings_in(killed);
  int calls = 0;
  auto dying = [&](const Architecture& a) {
    if (++calls == 5) throw std::runtime_error("killed");
    return eval(a);
  };
  EXPECT_THROW(nn::run_search(s, run_on_folds(), dying), std::runtime_error);
  std::ofstream(s.log, std::ios::app) << "4,2,150-";
  int resumed_calls = 0;
  const auto out =
      nn::run_search(s, run_on_folds(), fake_evaluator({1e-2, 5e-3, 6e-3, 1e-4}, &resumed_calls));
  EXPECT_EQ(out.resumed, 4);
  EXPECT_EQ(resumed_calls, static_cast<int>(ref.trials.size()) - 4);  // nothing trained twice
  EXPECT_EQ(log_without_times(s.log), log_without_times(s_whole.log));
  EXPECT_EQ(out.winner.architecture, ref.winner.architecture);
  EXPECT_EQ(out.winner.mean_loss, ref.winner.mean_loss);
  // A finished search run again trains nothing.
  int again = 0;
  nn::run_search(s, run_on_folds(), fake_evaluator({1e-2, 5e-3, 6e-3, 1e-4}, &again));
  EXPECT_EQ(again, 0);
}

TEST(ArchitectureSearch, RefusesALogOfAnotherSearch) {
  TempDir dir;
  auto s = settings_in(dir);
  const auto eval = fake_evaluator({1e-2, 5e-3, 6e-3, 1e-4});
  nn::run_search(s, run_on_folds(), eval);
  s.seed = 2;
  try {
    nn::run_search(s, run_on_folds(), eval);
    FAIL() << "a log with another fingerprint was accepted";
  } catch (const FileError& e) {
    EXPECT_NE(std::string(e.what()).find("s.search.csv"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("other settings"), std::string::npos) << e.what();
  }
  // A damaged line in the middle names the file and line.
  s.seed = 1;
  std::ifstream in(s.log);
  std::string text((std::istreambuf_iterator<char>(in)), {});
  text.replace(text.find("\n1,1,") + 1, 4, "1,x,");
  std::ofstream(s.log) << text;
  try {
    nn::read_search_log(s.log, nullptr);
    FAIL() << "a malformed line was accepted";
  } catch (const FileError& e) {
    EXPECT_NE(std::string(e.what()).find("s.search.csv:5"), std::string::npos) << e.what();
  }
}

TEST(ArchitectureSearch, WinnerFragmentRoundTripsAndIsATrainingArchitectureTable) {
  TempDir dir;
  nn::Trial w;
  w.architecture = {{150, 100}, {Activation::tanh, Activation::relu}};
  const auto path = dir / "w.lua";
  nn::write_winner_fragment(path, w, "found by a test\nsecond line");
  const auto back = nn::read_winner_fragment(path);
  EXPECT_EQ(back, w.architecture);
  const std::string text = read_file(path);
  EXPECT_EQ(text.rfind("-- found by a test\n-- second line\nreturn {", 0), 0u) << text;
  // Pasted into a deck, the table is a valid training.architecture.
  const std::string body = text.substr(text.find("return ") + 7);
  const Deck deck = Deck::from_string("training = { architecture = " + body + "}", "d.lua");
  const DeckTable a = deck.root().table("training").table("architecture");
  EXPECT_EQ(a.integers("shared", {}), (std::vector<long>{150, 100}));
  EXPECT_EQ(a.strings("shared_activations"), (std::vector<std::string>{"tanh", "relu"}));
  dir.write("bad.lua", "return { shared = {100}, shared_activations = {\"tanh\"}, widht = 3 }");
  EXPECT_THROW(nn::read_winner_fragment(dir / "bad.lua"), DeckError);
}

TEST(ArchitectureSearch, DeckTableIsCheckedKeyByKey) {
  auto read = [](const std::string& text) {
    const Deck d = Deck::from_string(text, "deck.lua");
    return nn::SearchSettings::from_deck(d.root().table("search"), "run/deck.lua");
  };
  const auto s = read("search = { threshold = 2e-3, max_width = 200, activations = {'relu'} }");
  EXPECT_EQ(s.threshold, 2e-3);
  EXPECT_EQ(s.widths(), (std::vector<int>{50, 100, 150, 200}));
  EXPECT_EQ(s.log, std::filesystem::path("run/deck.search.csv"));
  EXPECT_EQ(s.winner, std::filesystem::path("run/deck.search.lua"));
  const auto d = read("search = {}");
  EXPECT_EQ(d.threshold, 1e-3);
  EXPECT_EQ(d.width_step, 50);
  EXPECT_EQ(d.activations.size(), 3u);
  auto error_of = [&](const std::string& text) {
    try {
      read(text);
    } catch (const DeckError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(error_of("search = { treshold = 1 }").find("did you mean 'threshold'"),
            std::string::npos);
  EXPECT_NE(error_of("search = { max_width = 120 }").find("search.max_width"), std::string::npos);
  EXPECT_NE(error_of("search = { activations = {'linear'} }").find("search.activations"),
            std::string::npos);
  EXPECT_NE(error_of("search = { min_width = 300, max_width = 100 }").find("min_width"),
            std::string::npos);
  EXPECT_NE(error_of("search = { activations = {} }").find("at least one"), std::string::npos);
}

// ---------------------------------------------------------------- end to end

namespace {

// A tiny dataset computed with the embedded tight-binding engine (8-site fcc cell), built once
// for the end-to-end tests, and a search deck over it with tiny trials.
class SearchCli : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir;
    const std::string deck = R"(
system = { lattice = "fcc", a = 7.2377, supercell = {1,1,2}, species = {"Cu","Au"} }
driver = "tb"
tb = { final_kpoints = "none" }
sampling = { cap = 6, seed = 3, test_fraction = 0.2, folds = 2 }
dataset = { file = "tiny.h5", batch = 4 }
training = { architecture = { shared = {8} }, learning_rate = 1e-2, epochs = 15,
             backend = "reference", threads = 1 }
search = { max_width = 100, activations = {"tanh", "relu"}, trials_per_layer = 2,
           max_layers = 2, threshold = 1e-9 }
)";
    for (const char* name : {"one.lua", "two.lua"}) dir_->write(name, deck);
    build_ = run_command(cd() + "OMP_NUM_THREADS=1 " + cli_path().string() + " build -q one.lua");
  }
  static void TearDownTestSuite() {
    delete dir_;
    dir_ = nullptr;
  }
  static std::string cd() { return "cd " + dir_->path().string() + " && "; }
  static CommandResult search(const std::string& deck, const std::string& launcher = "") {
    return run_command(cd() + "OMP_NUM_THREADS=1 " + launcher + cli_path().string() +
                       " search -q " + deck);
  }
  static TempDir* dir_;
  static CommandResult build_;
};
TempDir* SearchCli::dir_ = nullptr;
CommandResult SearchCli::build_;

}  // namespace

TEST_F(SearchCli, HelpNamesTheTableTheLogAndMpi) {
  const auto r = run_command(cli_path().string() + " search --help");
  EXPECT_EQ(r.status, 0) << r.output;
  for (const char* s : {"search", "--restart", "--dataset", "mpirun", "resume", "docs/search.md"})
    EXPECT_NE(r.output.find(s), std::string::npos) << s << "\n" << r.output;
}

TEST_F(SearchCli, SearchesLogsWritesTheWinnerAndResumesOnTheEmbeddedEngine) {
  ASSERT_EQ(build_.status, 0) << build_.output;
  auto r = search("one.lua");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("winner    "), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("use it    training = { architecture = "), std::string::npos);
  const auto trials = nn::read_search_log(dir_->path() / "one.search.csv", nullptr);
  ASSERT_GE(trials.size(), 2u);
  for (const auto& t : trials) {
    ASSERT_EQ(t.fold_loss.size(), 2u);
    EXPECT_TRUE(std::isfinite(t.mean_loss) && t.mean_loss > 0) << t.mean_loss;
    EXPECT_GT(t.seconds, 0);
  }
  const auto winner = nn::read_winner_fragment(dir_->path() / "one.search.lua");
  bool logged = false;
  for (const auto& t : trials) logged = logged || t.architecture == winner;
  EXPECT_TRUE(logged) << winner.widths_text();
  EXPECT_FALSE(std::filesystem::exists(dir_->path() / "one.search.csv.trial.h5"));
  // Run again: every trial comes from the log, the same winner.
  r = search("one.lua");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find(fmt::format("{0} trials ({0} from the log)", trials.size())),
            std::string::npos)
      << r.output;
  EXPECT_EQ(nn::read_winner_fragment(dir_->path() / "one.search.lua"), winner);
}

// Folds spread over 2 ranks: the same trials and losses as 1 rank (reference backend).
TEST_F(SearchCli, TwoMpiRanksGiveTheSameTrialLogAsOne) {
  if (run_command("mpirun --version").status != 0) GTEST_SKIP() << "mpirun not found";
  ASSERT_EQ(build_.status, 0) << build_.output;
  if (!std::filesystem::exists(dir_->path() / "one.search.csv")) {
    ASSERT_EQ(search("one.lua").status, 0);
  }
  const auto r = search("two.lua", "mpirun --oversubscribe --allow-run-as-root -np 2 ");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("on 2 MPI ranks"), std::string::npos) << r.output;
  const auto one = log_without_times(dir_->path() / "one.search.csv");
  const auto two = log_without_times(dir_->path() / "two.search.csv");
  EXPECT_EQ(one, two);
}
