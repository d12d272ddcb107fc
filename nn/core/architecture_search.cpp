#include "nn/core/architecture_search.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>
#include <iterator>
#include <limits>
#include <sstream>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "core/error.hpp"
#include "core/hash.hpp"
#include "core/rng.hpp"

namespace lsmss::nn {

namespace {

constexpr const char* kLogTitle = "# lsms-surrogate search: trial log";
constexpr const char* kFingerprintTag = "# fingerprint: ";

std::vector<int> read_folds(const DeckTable& t) {
  std::vector<int> folds;
  t.allow({"folds"});
  if (t.is_string("folds")) {
    if (t.string("folds") != "all") t.error("folds", "expected \"all\" or a list of fold numbers");
    return folds;
  }
  for (long f : t.integers("folds", {})) {
    if (f < 0 || f > 100000) t.error("folds", fmt::format("fold {} is negative or absurd", f));
    if (std::find(folds.begin(), folds.end(), f) != folds.end())
      t.error("folds", fmt::format("fold {} given twice", f));
    folds.push_back(static_cast<int>(f));
  }
  return folds;
}

std::vector<Activation> read_activations(const DeckTable& t) {
  std::vector<Activation> acts;
  for (const auto& s : t.strings("activations", {"tanh", "sigmoid", "relu"})) {
    if (s != "relu" && s != "tanh" && s != "sigmoid")
      t.error("activations",
              fmt::format("unknown activation '{}' (expected tanh, sigmoid, relu)", s));
    const Activation a = activation_from_name(s);
    if (std::find(acts.begin(), acts.end(), a) != acts.end())
      t.error("activations", fmt::format("activation '{}' given twice", s));
    acts.push_back(a);
  }
  if (acts.empty()) t.error("activations", "needs at least one activation");
  return acts;
}

// NaN (a diverged trial) ranks below every number.
bool lower(double a, double b) {
  if (std::isnan(a)) return false;
  if (std::isnan(b)) return true;
  return a < b;
}

std::string number(double x) {
  return fmt::format("{:.17g}", x);
}

std::string log_header(const std::vector<int>& folds) {
  std::string h = "trial,layers,widths,activations,total_width";
  for (int f : folds) fmt::format_to(std::back_inserter(h), ",val_loss_fold{}", f);
  return h + ",val_loss_mean,score,time_s";
}

std::string log_line(const Trial& t) {
  std::string l = fmt::format("{},{},{},{},{}", t.index, t.layer, t.architecture.widths_text(),
                              t.architecture.activations_text(), t.architecture.total_width());
  for (double x : t.fold_loss) fmt::format_to(std::back_inserter(l), ",{:.17g}", x);
  return l + fmt::format(",{},{},{:.3f}", number(t.mean_loss), number(t.score), t.seconds);
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, sep)) out.push_back(item);
  if (!s.empty() && s.back() == sep) out.emplace_back();
  return out;
}

// One data line of the log back into a trial; throws Error on a malformed field.
Trial parse_line(const std::string& line, const std::vector<int>& folds) {
  const auto f = split(line, ',');
  if (f.size() != 8 + folds.size()) fail("{} fields, expected {}", f.size(), 8 + folds.size());
  Trial t;
  t.index = std::stoi(f[0]);
  t.layer = std::stoi(f[1]);
  for (const auto& w : split(f[2], '-')) t.architecture.widths.push_back(std::stoi(w));
  for (const auto& a : split(f[3], '-'))
    t.architecture.activations.push_back(activation_from_name(a));
  if (t.architecture.widths.size() != t.architecture.activations.size() ||
      static_cast<int>(t.architecture.widths.size()) != t.layer)
    fail("the widths '{}' and activations '{}' do not describe {} layers", f[2], f[3], t.layer);
  t.folds = folds;
  for (std::size_t k = 0; k < folds.size(); ++k) t.fold_loss.push_back(std::stod(f[5 + k]));
  t.mean_loss = std::stod(f[5 + folds.size()]);
  t.score = std::stod(f[6 + folds.size()]);
  t.seconds = std::stod(f[7 + folds.size()]);
  return t;
}

std::vector<int> folds_of_header(const std::string& header, const std::filesystem::path& path) {
  std::vector<int> folds;
  for (const auto& name : split(header, ','))
    if (name.rfind("val_loss_fold", 0) == 0) folds.push_back(std::stoi(name.substr(13)));
  if (header != log_header(folds))
    throw FileError(fmt::format("{}: not a search trial log (header '{}')", path.string(), header));
  return folds;
}

// Rewrites the log with the header and `trials` (dropping a torn tail), atomically.
void rewrite_log(const std::filesystem::path& path, const std::string& fingerprint,
                 const std::vector<int>& folds, const std::vector<Trial>& trials) {
  const std::filesystem::path tmp = path.string() + ".tmp";
  {
    std::ofstream f(tmp);
    if (!f) throw FileError(fmt::format("cannot write the search log '{}'", tmp.string()));
    f << kLogTitle
      << " (docs/search.md). val_loss: validation loss, alpha-weighted MSE of the standardized "
         "outputs (dimensionless); score = val_loss_mean * width_reference / total_width; "
         "time_s: wall time of the trial in s\n"
      << kFingerprintTag << fingerprint << "\n"
      << log_header(folds) << "\n";
    for (const auto& t : trials) f << log_line(t) << "\n";
    if (!f.flush()) throw FileError(fmt::format("cannot write the search log '{}'", tmp.string()));
  }
  std::filesystem::rename(tmp, path);
}

void append_log(const std::filesystem::path& path, const Trial& t) {
  std::ofstream f(path, std::ios::app);
  f << log_line(t) << "\n";
  if (!f.flush())
    throw FileError(fmt::format("cannot append to the search log '{}'", path.string()));
}

// The search's state between trials: the proposals' random stream, the log it replays, the
// trials so far.
class Search {
 public:
  Search(const SearchSettings& s, const SearchRun& run, const TrialEvaluator& evaluate)
      : s_(s), run_(run), evaluate_(evaluate), rng_(s.seed) {
    const std::string fp = s.fingerprint(run.training_fingerprint);
    if (std::filesystem::exists(s.log)) {
      std::string logged_fp;
      logged_ = read_search_log(s.log, &logged_fp);
      if (logged_fp != fp)
        throw FileError(fmt::format(
            "{}: this trial log was written by a search with other settings, training options or "
            "data (fingerprint {} vs {}); remove it or set search.log to start a new search",
            s.log.string(), logged_fp, fp));
    }
    if (run.write_log) rewrite_log(s.log, fp, run.folds, logged_);
  }

  SearchOutcome run() {
    Architecture prefix;
    Trial best;
    bool have_best = false;
    for (int layer = 1; layer <= s_.max_layers; ++layer) {
      const auto layer_best = search_layer(prefix, layer);
      if (stopped_) return finish();
      if (have_best && !lower(layer_best.mean_loss, best.mean_loss * (1 - s_.min_improvement))) {
        out_.winner = best;
        out_.stop_reason = fmt::format(
            "a layer {} did not lower the validation loss: best {:.4e} vs {:.4e} with {} layer{}",
            layer, layer_best.mean_loss, best.mean_loss, layer - 1, layer - 1 == 1 ? "" : "s");
        return finish();
      }
      best = layer_best;
      have_best = true;
      prefix = best.architecture;
    }
    out_.winner = best;
    out_.stop_reason = fmt::format("reached search.max_layers = {}", s_.max_layers);
    return finish();
  }

 private:
  // Random candidates for layer `layer` on top of `prefix`, without repeats; the best one.
  Trial search_layer(const Architecture& prefix, int layer) {
    struct Choice {
      int width;
      Activation act;
    };
    std::vector<Choice> pool;
    for (int w : s_.widths())
      for (Activation a : s_.activations) pool.push_back({w, a});
    Trial layer_best;
    for (int k = 0; k < s_.trials_per_layer && !pool.empty(); ++k) {
      const auto pick = static_cast<std::ptrdiff_t>(rng_.below(pool.size()));
      Architecture a = prefix;
      a.widths.push_back(pool[pick].width);
      a.activations.push_back(pool[pick].act);
      pool.erase(pool.begin() + pick);
      const Trial t = trial(a, layer);
      if (k == 0 || lower(t.mean_loss, layer_best.mean_loss)) layer_best = t;
      if (lower(t.score, s_.threshold)) {
        stopped_ = true;
        out_.winner = t;
        out_.stop_reason = fmt::format("trial {} reached the threshold: score {:.4e} < {:.4e}",
                                       t.index, t.score, s_.threshold);
        break;
      }
    }
    return layer_best;
  }

  // The next trial: from the log where it has it, else evaluated and appended.
  Trial trial(const Architecture& a, int layer) {
    const int index = static_cast<int>(out_.trials.size());
    if (index < static_cast<int>(logged_.size())) {
      const Trial& t = logged_[index];
      if (!(t.architecture == a) || t.folds != run_.folds)
        throw FileError(fmt::format(
            "{}: trial {} is {} ({}) on folds {}, but this search proposes {} ({}) on folds {}; "
            "the log belongs to another search: remove it or set search.log",
            s_.log.string(), index, t.architecture.widths_text(), t.architecture.activations_text(),
            fmt::join(t.folds, ","), a.widths_text(), a.activations_text(),
            fmt::join(run_.folds, ",")));
      out_.trials.push_back(t);
      ++out_.resumed;
      if (run_.on_trial) run_.on_trial(t, true);
      return t;
    }
    Trial t;
    t.index = index;
    t.layer = layer;
    t.architecture = a;
    t.folds = run_.folds;
    const auto start = std::chrono::steady_clock::now();
    t.fold_loss = evaluate_(a);
    t.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (t.fold_loss.size() != t.folds.size())
      fail("trial {}: {} validation losses for {} folds", index, t.fold_loss.size(),
           t.folds.size());
    t.mean_loss = 0;
    for (double x : t.fold_loss) t.mean_loss += x / static_cast<double>(t.fold_loss.size());
    t.score = search_score(t.mean_loss, a, s_);
    if (run_.write_log) append_log(s_.log, t);
    out_.trials.push_back(t);
    if (run_.on_trial) run_.on_trial(t, false);
    return t;
  }

  SearchOutcome finish() {
    if (out_.trials.size() < logged_.size())
      throw FileError(
          fmt::format("{}: the log has {} trials, this search ends after {}; it "
                      "belongs to another search",
                      s_.log.string(), logged_.size(), out_.trials.size()));
    return std::move(out_);
  }

  const SearchSettings& s_;
  const SearchRun& run_;
  const TrialEvaluator& evaluate_;
  Rng rng_;
  std::vector<Trial> logged_;
  SearchOutcome out_;
  bool stopped_ = false;
};

}  // namespace

SearchSettings SearchSettings::from_deck(const DeckTable& t,
                                         const std::filesystem::path& deck_file) {
  SearchSettings s;
  s.threshold = t.number_in("threshold", 1e-3, 0.0, 1e30);
  s.width_step = static_cast<int>(t.integer("width_step", 50, 1, 100000));
  s.min_width = static_cast<int>(t.integer("min_width", s.width_step, 1, 100000));
  s.max_width = static_cast<int>(t.integer("max_width", 8L * s.width_step, 1, 100000));
  for (const char* key : {"min_width", "max_width"}) {
    const int w = std::string_view(key) == "min_width" ? s.min_width : s.max_width;
    if (w % s.width_step != 0)
      t.error(key, fmt::format("{} is not a multiple of width_step = {}", w, s.width_step));
  }
  if (s.min_width > s.max_width)
    t.error("max_width", fmt::format("{} is below min_width = {}", s.max_width, s.min_width));
  s.width_reference = t.number_in("width_reference", s.width_step, 1e-9, 1e9);
  s.activations = read_activations(t);
  s.max_layers = static_cast<int>(t.integer("max_layers", 4, 1, 100));
  s.trials_per_layer = static_cast<int>(t.integer("trials_per_layer", 4, 1, 100000));
  s.min_improvement = t.number_in("min_improvement", 0.0, 0.0, 1.0);
  s.seed = static_cast<std::uint64_t>(t.integer("seed", 1, 0, std::numeric_limits<long>::max()));
  s.epochs = t.integer("epochs", 0, 0, 100000000);
  s.folds = read_folds(t);
  const std::string stem = (deck_file.parent_path() / deck_file.stem()).string();
  s.log = t.string("log", stem + ".search.csv");
  s.winner = t.string("winner", stem + ".search.lua");
  if (s.log.empty()) t.error("log", "must not be empty");
  if (s.winner.empty()) t.error("winner", "must not be empty");
  t.finish();
  return s;
}

std::vector<int> SearchSettings::widths() const {
  std::vector<int> w;
  for (int x = min_width; x <= max_width; x += width_step) w.push_back(x);
  return w;
}

std::string SearchSettings::fingerprint(const std::string& training_fingerprint) const {
  std::vector<std::string> acts;
  for (Activation a : activations) acts.push_back(activation_name(a));
  const std::string text = fmt::format(
      "threshold={} width_step={} min_width={} max_width={} width_reference={} activations={} "
      "max_layers={} trials_per_layer={} min_improvement={} seed={} training={}",
      number(threshold), width_step, min_width, max_width, number(width_reference),
      fmt::join(acts, ","), max_layers, trials_per_layer, number(min_improvement), seed,
      training_fingerprint);
  Fnv1a h;
  h.add(text.data(), text.size());
  return fmt::format("{:016x}", h.value());
}

int Architecture::total_width() const {
  int n = 0;
  for (int w : widths) n += w;
  return n;
}

std::string Architecture::widths_text() const {
  return fmt::format("{}", fmt::join(widths, "-"));
}

std::string Architecture::activations_text() const {
  std::vector<std::string> names;
  for (Activation a : activations) names.push_back(activation_name(a));
  return fmt::format("{}", fmt::join(names, "-"));
}

double search_score(double mean_loss, const Architecture& a, const SearchSettings& s) {
  return mean_loss * s.width_reference / std::max(1, a.total_width());
}

int max_trials(const SearchSettings& s) {
  const long grid = static_cast<long>(s.widths().size() * s.activations.size());
  return static_cast<int>(std::min<long>(s.trials_per_layer, grid) * s.max_layers);
}

SearchOutcome run_search(const SearchSettings& settings, const SearchRun& run,
                         const TrialEvaluator& evaluate) {
  if (run.folds.empty()) fail("the search needs at least one fold to validate on");
  return Search(settings, run, evaluate).run();
}

std::vector<Trial> read_search_log(const std::filesystem::path& path, std::string* fingerprint) {
  std::ifstream f(path);
  if (!f) throw FileError(fmt::format("cannot read the search log '{}'", path.string()));
  const std::string text((std::istreambuf_iterator<char>(f)), {});
  std::vector<std::string> lines = split(text, '\n');
  // The text after the last newline is a line the writer did not finish (killed): ignored.
  if (!lines.empty()) lines.pop_back();
  if (lines.size() < 3 || lines[0].rfind(kLogTitle, 0) != 0 ||
      lines[1].rfind(kFingerprintTag, 0) != 0)
    throw FileError(fmt::format("{}: not a search trial log (no title, fingerprint and header)",
                                path.string()));
  if (fingerprint) *fingerprint = lines[1].substr(std::string(kFingerprintTag).size());
  const auto folds = folds_of_header(lines[2], path);
  std::vector<Trial> trials;
  for (std::size_t i = 3; i < lines.size(); ++i) {
    try {
      trials.push_back(parse_line(lines[i], folds));
    } catch (const std::exception& e) {
      throw FileError(
          fmt::format("{}:{}: malformed trial line: {}", path.string(), i + 1, e.what()));
    }
    if (trials.back().index != static_cast<int>(trials.size()) - 1)
      throw FileError(fmt::format("{}:{}: trial {} where trial {} was expected", path.string(),
                                  i + 1, trials.back().index, trials.size() - 1));
  }
  return trials;
}

void write_winner_fragment(const std::filesystem::path& path, const Trial& winner,
                           const std::string& comment) {
  std::vector<std::string> acts;
  for (Activation a : winner.architecture.activations)
    acts.push_back(fmt::format("\"{}\"", activation_name(a)));
  const std::filesystem::path tmp = path.string() + ".tmp";
  {
    std::ofstream f(tmp);
    if (!f) throw FileError(fmt::format("cannot write '{}'", tmp.string()));
    for (const auto& line : split(comment, '\n')) f << "-- " << line << "\n";
    f << "return {\n"
      << fmt::format("  shared = {{{}}},\n", fmt::join(winner.architecture.widths, ", "))
      << fmt::format("  shared_activations = {{{}}},\n", fmt::join(acts, ", ")) << "}\n";
    if (!f.flush()) throw FileError(fmt::format("cannot write '{}'", tmp.string()));
  }
  std::filesystem::rename(tmp, path);
}

Architecture read_winner_fragment(const std::filesystem::path& path) {
  std::ifstream f(path);
  if (!f) throw FileError(fmt::format("cannot read the search winner '{}'", path.string()));
  const std::string text((std::istreambuf_iterator<char>(f)), {});
  // The chunk's return value becomes a global table, on the chunk's own first line (line
  // numbers in errors stay the file's).
  const Deck deck =
      Deck::from_string("architecture = (function() " + text + "\nend)()", path.string());
  const DeckTable t = deck.root().table("architecture");
  if (!t.present())
    throw DeckError(
        fmt::format("{}: returns no table (expected `return {{ shared = ..., "
                    "shared_activations = ... }}`)",
                    path.string()));
  Architecture a;
  for (long w : t.integers("shared", {})) {
    if (w < 1 || w > 100000) t.error("shared", fmt::format("width {} outside 1..100000", w));
    a.widths.push_back(static_cast<int>(w));
  }
  if (a.widths.empty()) t.error("shared", "needs at least one width");
  for (const auto& s : t.strings("shared_activations")) {
    if (s != "relu" && s != "tanh" && s != "sigmoid" && s != "linear")
      t.error("shared_activations", fmt::format("unknown activation '{}'", s));
    a.activations.push_back(activation_from_name(s));
  }
  if (a.activations.size() != a.widths.size())
    t.error("shared_activations", fmt::format("has {} entries for {} shared layers",
                                              a.activations.size(), a.widths.size()));
  t.finish();
  deck.root().finish();
  return a;
}

}  // namespace lsmss::nn
