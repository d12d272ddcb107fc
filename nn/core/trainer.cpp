#include "nn/core/trainer.hpp"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <ctime>
#include <limits>
#include <map>
#include <numeric>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "core/defaults.hpp"
#include "core/error.hpp"
#include "core/progress.hpp"
#include "core/rng.hpp"
#include "core/version.hpp"
#include "nn/core/backend.hpp"
#include "nn/core/loss.hpp"
#include "nn/core/model_impl.hpp"
#include "nn/core/multi_fold.hpp"
#include "nn/core/symmetrized_prediction.hpp"
#include "nn/core/training_parts.hpp"

namespace lsmss::nn {

namespace {
Activation activation_key(const DeckTable& t, std::string_view key, Activation def) {
  const std::string s = t.choice(key, activation_name(def), {"relu", "tanh", "sigmoid", "linear"});
  return activation_from_name(s);
}
}  // namespace

namespace {

void read_tasks(const DeckTable& t, TrainingOptions& o) {
  o.tasks.clear();
  for (const auto& s : t.strings("tasks", {"energy"})) {
    if (s != "energy" && s != "charge" && s != "moment")
      t.error("tasks", fmt::format("unknown task '{}' (expected energy, charge, moment)", s));
    const Task task = task_from_name(s);
    if (std::find(o.tasks.begin(), o.tasks.end(), task) != o.tasks.end())
      t.error("tasks", fmt::format("task '{}' given twice", s));
    o.tasks.push_back(task);
  }
  if (o.tasks.empty()) t.error("tasks", "needs at least one task");
}

// Refused up front instead of an allocation failure later: every weight between shared layers
// is held about 6 times while training (weights, gradients, two Adam moments, the best copy,
// the backend's copy), 4 bytes each.
void check_training_memory(const DeckTable& a, const std::vector<int>& shared) {
  double weights = 0;
  for (std::size_t i = 1; i < shared.size(); ++i)
    weights += static_cast<double>(shared[i - 1]) * shared[i];
  const double bytes = 24.0 * weights;
  const double memory =
      static_cast<double>(sysconf(_SC_PHYS_PAGES)) * static_cast<double>(sysconf(_SC_PAGE_SIZE));
  if (memory > 0 && bytes > 0.8 * memory)
    a.error("shared", fmt::format("{:.3g} weights between the shared layers need about {:.1f} "
                                  "GiB to train, more than this machine's {:.1f} GiB",
                                  weights, bytes / (1 << 30), memory / (1 << 30)));
}

// training.architecture (after the tasks: the task-specific default depends on them).
void read_architecture(const DeckTable& t, TrainingOptions& o) {
  const DeckTable a = t.table("architecture");
  o.shared.clear();
  for (long w : a.integers("shared", {200, 200})) {
    if (w < 1 || w > 100000) a.error("shared", fmt::format("width {} outside 1..100000", w));
    o.shared.push_back(static_cast<int>(w));
  }
  if (o.shared.empty()) a.error("shared", "needs at least one shared layer width");
  check_training_memory(a, o.shared);
  o.activation = activation_key(a, "activation", Activation::relu);
  for (const auto& s : a.strings("shared_activations", {})) {
    if (s != "relu" && s != "tanh" && s != "sigmoid" && s != "linear")
      a.error("shared_activations", fmt::format("unknown activation '{}'", s));
    o.shared_act.push_back(activation_from_name(s));
  }
  if (!o.shared_act.empty() && o.shared_act.size() != o.shared.size())
    a.error("shared_activations", fmt::format("has {} entries for {} shared layers",
                                              o.shared_act.size(), o.shared.size()));
  o.task_width = static_cast<int>(
      a.integer("task_specific", o.tasks.size() > 1 ? 100 * static_cast<long>(o.tasks.size()) : 0,
                0, 100000));
  if (o.tasks.size() > 1 && o.task_width > 0 && o.task_width < static_cast<int>(o.tasks.size()))
    a.error("task_specific",
            fmt::format("{} units cannot be split among {} tasks", o.task_width, o.tasks.size()));
  o.task_act = activation_key(a, "task_activation", o.activation);
  a.finish();
}

// alpha, learning rate, epochs, batches and folds.
void read_optimization(const DeckTable& t, TrainingOptions& o) {
  o.alpha = t.numbers("alpha", std::vector<double>(o.tasks.size(), 1.0));
  if (o.alpha.size() != o.tasks.size())
    t.error("alpha", fmt::format("needs one weight per task ({})", o.tasks.size()));
  for (double x : o.alpha)
    if (!(x >= 0 && x <= 1e6))
      t.error("alpha", fmt::format("weights must lie in [0, 1e6], got {}", x));
  o.learning_rate = t.number_in("learning_rate", defaults::kLearningRate, 1e-12, 10.0);
  o.epochs = t.integer("epochs", 30000, 1, 100000000);
  o.batch_fraction = t.number_in("batch_fraction", 0.1, 1e-9, 1.0);
  o.batch_size = t.integer("batch_size", 0, 0, 1000000000);
  t.allow({"folds"});  // listed among the valid keys even when absent
  if (t.is_string("folds")) {
    if (t.string("folds") != "all") t.error("folds", "expected \"all\" or a list of fold numbers");
  } else if (t.has("folds")) {
    for (long f : t.integers("folds", {})) {
      if (f < 0 || f > 100000) t.error("folds", fmt::format("fold {} is negative or absurd", f));
      o.folds.push_back(static_cast<int>(f));
    }
  }
}

// seed, backend, threads and precision.
void read_runtime(const DeckTable& t, TrainingOptions& o) {
  o.seed = static_cast<std::uint64_t>(t.integer("seed", 1, 0, std::numeric_limits<long>::max()));
  o.backend = t.choice("backend", "auto", backend_names());
  o.threads = static_cast<int>(t.integer("threads", 0, 0, 4096));
  o.precision = precision_from_name(t.choice("precision", "fp32", {"fp32", "tf32", "bf16"}));
  if (o.precision != Precision::fp32 && (o.backend == "reference" || o.backend == "onednn"))
    t.error("precision", fmt::format("\"{}\" needs the cuda backend (tensor cores); backend \"{}\" "
                                     "computes in fp32 only",
                                     precision_name(o.precision), o.backend));
}

// early_stopping and lr_schedule.
void read_stopping_and_schedule(const DeckTable& t, TrainingOptions& o) {
  const DeckTable es = t.table("early_stopping");
  o.patience = es.integer("patience", 0, 0, 100000000);
  o.min_delta = es.number_in("min_delta", 0.0, 0.0, 1e30);
  es.finish();
  const DeckTable ls = t.table("lr_schedule");
  o.lr_schedule = schedule_from_name(ls.choice("kind", "constant", {"constant", "step", "cosine"}));
  o.lr_factor = ls.number_in("factor", 0.5, 1e-9, 1.0);
  o.lr_every = ls.integer("every", 1000, 1, 100000000);
  o.lr_min = ls.number_in("min", 0.0, 0.0, 10.0);
  ls.finish();
}

}  // namespace

TrainingOptions TrainingOptions::from_deck(const DeckTable& t,
                                           const std::filesystem::path& deck_file) {
  TrainingOptions o;
  read_tasks(t, o);
  read_architecture(t, o);
  read_optimization(t, o);
  read_runtime(t, o);
  o.energy_target =
      energy_target_from_name(t.choice("energy_target", "mixing", {"mixing", "standardized"}));
  o.charge_target =
      charge_target_from_name(t.choice("charge_target", "transfer", {"transfer", "total"}));
  o.keep_best = t.boolean("keep_best", true);
  o.outlier_z = t.number_in("outlier_z", 0.0, 0.0, 1e30);
  o.outlier_weight = t.number_in("outlier_weight", 0.0, 0.0, 1.0);
  if (o.outlier_weight > 0 && o.outlier_z <= 0)
    t.error("outlier_weight", "weighs the rows that outlier_z selects: set outlier_z > 0 too");
  read_stopping_and_schedule(t, o);
  o.model = t.string("model", defaults::model_file(deck_file));
  o.curve_interval = t.integer("curve_interval", 0, 0, 100000000);
  read_model_kind_keys(t, o);
  t.finish();
  return o;
}

NetworkSpec TrainingOptions::network_spec(int num_sites, int num_species) const {
  NetworkSpec s;
  s.inputs = num_sites * num_species;
  s.shared = shared;
  s.shared_act =
      shared_act.empty() ? std::vector<Activation>(shared.size(), activation) : shared_act;
  s.task_act = task_act;
  const int tw =
      task_width >= 0 ? task_width : (tasks.size() > 1 ? 100 * static_cast<int>(tasks.size()) : 0);
  const auto widths = split_width(tw, static_cast<int>(tasks.size()));
  for (std::size_t k = 0; k < tasks.size(); ++k)
    s.heads.push_back({tasks[k], tasks[k] == Task::energy ? 1 : num_sites, widths[k]});
  return s;
}

LearningRate TrainingOptions::learning_rate_schedule() const {
  return {learning_rate, lr_schedule, lr_factor, lr_every, lr_min, epochs};
}

std::string TrainingOptions::label() const {
  std::vector<std::string> letters;
  for (Task t : tasks) letters.push_back(fmt::format("{:c}", std::toupper(task_name(t)[0])));
  return fmt::format("{} {}", tasks.size() > 1 ? "MTL" : "STL", fmt::join(letters, "+"));
}

FoldSplit split_for_fold(const dataset::Dataset& d, int fold) {
  if (d.num_folds < 1) fail("dataset has no folds (num_folds = {})", d.num_folds);
  if (fold < 0 || fold >= d.num_folds)
    fail("fold {} does not exist: the dataset has folds 0..{}", fold, d.num_folds - 1);
  FoldSplit s;
  for (std::size_t r = 0; r < d.rows(); ++r) {
    const int f = d.fold[r];
    if (f == dataset::kTestFold)
      s.test.push_back(r);
    else if (f == fold && d.num_folds > 1)
      s.validation.push_back(r);
    else
      s.train.push_back(r);
  }
  if (s.train.empty()) fail("fold {}: no training rows", fold);
  return s;
}

namespace {

double median_of(std::vector<double> v) {
  const std::size_t n = v.size();
  std::nth_element(v.begin(), v.begin() + n / 2, v.end());
  const double upper = v[n / 2];
  if (n % 2) return upper;
  return 0.5 * (upper + *std::max_element(v.begin(), v.begin() + n / 2));
}

// Per composition: the median energy and the robust scale (1.4826 MAD) of `rows`, as the
// importer's report computes them.
std::map<int, std::pair<double, double>> energy_statistics(const dataset::Dataset& d,
                                                           const std::vector<std::size_t>& rows) {
  std::map<int, std::vector<double>> by;
  for (std::size_t r : rows) by[d.composition[r]].push_back(d.energy[r]);
  std::map<int, std::pair<double, double>> stats;
  for (auto& [k, e] : by) {
    const double m = median_of(e);
    for (double& x : e) x = std::abs(x - m);
    stats[k] = {m, 1.4826 * median_of(e)};
  }
  return stats;
}

// Whether row r lies more than z robust scales from its composition's median (`stats`); rows
// of a composition without statistics, or with a zero scale, are no outliers.
bool is_energy_outlier(const dataset::Dataset& d, std::size_t r, double z,
                       const std::map<int, std::pair<double, double>>& stats) {
  const auto it = stats.find(d.composition[r]);
  return it != stats.end() && it->second.second > 0 &&
         !(std::abs(d.energy[r] - it->second.first) <= z * it->second.second);
}

// The rows of `rows` that are no energy outliers.
std::vector<std::size_t> without_energy_outliers(
    const dataset::Dataset& d, const std::vector<std::size_t>& rows, double z,
    const std::map<int, std::pair<double, double>>& stats) {
  std::vector<std::size_t> kept;
  for (std::size_t r : rows)
    if (!is_energy_outlier(d, r, z, stats)) kept.push_back(r);
  return kept;
}

// The loss weight of every row of `rows`: `outlier_weight` for the energy outliers, 1 otherwise.
std::vector<float> outlier_weights(const dataset::Dataset& d, const std::vector<std::size_t>& rows,
                                   double z, double outlier_weight,
                                   const std::map<int, std::pair<double, double>>& stats) {
  std::vector<float> weights(rows.size(), 1.0f);
  for (std::size_t k = 0; k < rows.size(); ++k)
    if (is_energy_outlier(d, rows[k], z, stats)) weights[k] = static_cast<float>(outlier_weight);
  return weights;
}

}  // namespace

FoldSplit training_split(const dataset::Dataset& d, const TrainingOptions& o, int fold) {
  FoldSplit s = split_for_fold(d, fold);
  if (o.outlier_z <= 0) return s;
  if (!(d.available & task_bit(Task::energy)) || d.energy.size() != d.rows())
    fail("training.outlier_z needs energies in the dataset (it carries {})",
         property_mask_name(d.available));
  // Statistics of the training rows decide for the (small) validation fold too.
  const auto stats = energy_statistics(d, s.train);
  if (o.outlier_weight > 0) {  // down-weighted (1: kept at full weight)
    s.train_weight = outlier_weights(d, s.train, o.outlier_z, o.outlier_weight, stats);
    s.validation_weight = outlier_weights(d, s.validation, o.outlier_z, o.outlier_weight, stats);
    return s;
  }
  s.train = without_energy_outliers(d, s.train, o.outlier_z, stats);
  s.validation = without_energy_outliers(d, s.validation, o.outlier_z, stats);
  if (s.train.empty()) fail("fold {}: no training rows left after training.outlier_z", fold);
  return s;
}

std::vector<int> folds_to_train(const dataset::Dataset& d, const TrainingOptions& o) {
  if (o.folds.empty()) {
    std::vector<int> all(std::max(d.num_folds, 0));
    std::iota(all.begin(), all.end(), 0);
    return all;
  }
  for (int f : o.folds)
    if (f >= d.num_folds)
      fail("training.folds names fold {}, the dataset has folds 0..{}", f, d.num_folds - 1);
  return o.folds;
}

namespace {

using namespace training;

// One fold's training run: the data of the fold encoded, a backend, the shared loss and
// optimizer policies, and the epoch loop.
class FoldTrainer {
 public:
  FoldTrainer(const dataset::Dataset& data, const TrainingOptions& options, int fold)
      : data_(data),
        options_(options),
        fold_(fold),
        split_(training_split(data, options, fold)),
        net_(options.network_spec(data.num_sites, data.system.num_species())),
        stdz_(fit_standardization()),
        train_(encode_rows(data, net_, stdz_, values_, split_.train, split_.train_weight)),
        validation_(
            encode_rows(data, net_, stdz_, values_, split_.validation, split_.validation_weight)),
        batch_(batch_rows()),
        backend_(make_backend(options.backend, options.threads)),
        batches_(net_, batch_),
        stopping_(options.patience, options.min_delta, options.keep_best, net_.num_params()),
        schedule_(options.learning_rate_schedule()),
        rng_(options.seed, static_cast<std::uint64_t>(fold)) {
    backend_->set_precision(options.precision);
    backend_->setup(net_, batch_);
    initialize_parameters(backend_->params(), net_, rng_);
    backend_->upload_params();
    optimizer_.reset(net_.num_params());
    alpha_.assign(options.alpha.begin(), options.alpha.end());
    if (alpha_.empty()) alpha_.assign(net_.num_heads(), 1.0f);
    order_.resize(train_.rows);
    std::iota(order_.begin(), order_.end(), 0);
  }

  Model run(const std::string& deck_text) {
    Progress progress(fmt::format("{} fold {}", options_.label(), fold_), options_.epochs, "epochs",
                      options_.progress);
    long epoch = 1;
    for (; epoch <= options_.epochs; ++epoch) {
      const double lr = schedule_.at(epoch);
      optimizer_.set_learning_rate(lr);
      train_epoch();
      const bool stop = sample(epoch, lr);
      progress.advance(1, status_);
      if (stop) break;
    }
    progress.finish(status_);
    return finish(std::min(epoch, options_.epochs), deck_text);
  }

 private:
  Standardization fit_standardization() {
    if (data_.num_sites != data_.system.num_sites())
      fail("dataset: {} sites per row but its lattice has {}", data_.num_sites,
           data_.system.num_sites());
    for (const auto& h : net_.spec().heads) values_.push_back(&values_of(data_, h.task));
    return Standardization::fit(data_.occupation, data_.num_sites, data_.system, net_.spec().heads,
                                values_, split_.train, options_.energy_target,
                                options_.charge_target);
  }

  int batch_rows() const {
    const long rows = static_cast<long>(split_.train.size());
    const long wanted = options_.batch_size > 0
                            ? options_.batch_size
                            : std::lround(options_.batch_fraction * double(rows));
    return static_cast<int>(std::clamp<long>(wanted, 1L, rows));
  }

  void train_epoch() {
    shuffle(order_, rng_);
    const int heads = net_.num_heads();
    std::vector<double>& loss = batch_loss_;
    loss.assign(heads, 0.0);
    epoch_loss_.assign(heads, 0.0);
    const long rows = static_cast<long>(train_.rows);
    for (long first = 0; first < rows; first += batch_) {
      const int n = static_cast<int>(std::min<long>(batch_, rows - first));
      batches_.gather(train_, order_, first, n);
      backend_->gradient(loss_, batches_.inputs(), batches_.targets(), n, alpha_.data(),
                         loss.data(), batches_.row_weights());
      backend_->apply_optimizer(optimizer_, ++step_);
      for (int h = 0; h < heads; ++h) epoch_loss_[h] += loss[h] * n;
    }
  }

  // Records a learning-curve sample on the sampled epochs; returns true to stop early.
  bool sample(long epoch, double lr) {
    const long interval =
        options_.curve_interval > 0 ? options_.curve_interval : std::max(1L, options_.epochs / 200);
    if (!(epoch % interval == 0 || epoch == options_.epochs || epoch == 1)) return false;
    std::vector<double>& validation = validation_loss_;
    validation.assign(net_.num_heads(), 0.0);
    set_loss(*backend_, loss_, validation_, batch_, validation);
    curve_.epoch.push_back(epoch);
    curve_.learning_rate.push_back(lr);
    const double rows = double(train_.rows);
    double train_total = 0, validation_total = 0;
    for (int h = 0; h < net_.num_heads(); ++h) {
      curve_.train.push_back(epoch_loss_[h] / rows);
      curve_.validation.push_back(validation[h]);
      train_total += alpha_[h] * epoch_loss_[h] / rows;
      validation_total += alpha_[h] * validation[h];
    }
    status_ = fmt::format("train {:.3e}  val {:.3e}", train_total, validation_total);
    if (!stopping_.tracking()) return false;
    backend_->download_params();
    return stopping_.update(epoch, validation_total, backend_->params());
  }

  Model finish(long epochs_run, const std::string& deck_text) {
    backend_->download_params();
    auto impl = std::make_unique<ModelData>(data_.system);
    impl->net = net_;
    impl->params.assign(backend_->params().begin(), backend_->params().end());
    if (stopping_.has_best()) impl->params = stopping_.best();  // best validation loss
    impl->stdz = stdz_;
    impl->fold = fold_;
    impl->dataset_hash = data_.fingerprint();
    impl->training_deck = deck_text;
    impl->trained_backend = backend_->name();
    impl->software_version = kVersion;
    impl->created = now_iso();
    impl->epochs_run = epochs_run;
    impl->seed = static_cast<std::int64_t>(options_.seed);
    impl->curve = std::move(curve_);
    backend_.reset();
    impl->prepare(options_.backend);
    return ModelAccess::make(std::move(impl));
  }

  const dataset::Dataset& data_;
  const TrainingOptions& options_;
  int fold_;
  FoldSplit split_;
  Network net_;
  std::vector<const std::vector<double>*> values_;  // per head: the dataset's raw values
  Standardization stdz_;
  EncodedRows train_, validation_;
  int batch_;
  std::unique_ptr<Backend> backend_;
  BatchAssembler batches_;
  MseLoss loss_;
  Adam optimizer_;
  EarlyStopping stopping_;
  LearningRate schedule_;
  Rng rng_;  // one stream per (seed, fold)
  std::vector<float> alpha_;
  std::vector<std::size_t> order_;  // training rows in this epoch's order
  std::vector<double> batch_loss_, epoch_loss_, validation_loss_;
  long step_ = 0;
  LearningCurve curve_;
  std::string status_;
};

}  // namespace

Model train_model(const dataset::Dataset& data, const TrainingOptions& options, int fold,
                  const std::string& deck_text) {
  // The cuda backend trains through the multi-fold engine (also for one fold): it keeps the
  // data, the step and Adam on the device.
  if (options.kind != ModelKind::mlp || options.augment_translations > 0 ||
      options.augment_symmetry.copies > 0)
    return train_model_kind(data, options, fold, deck_text);
  if (trains_folds_together(options))
    return std::move(train_folds_together(data, options, {fold}, deck_text).front());
  return FoldTrainer(data, options, fold).run(deck_text);
}

namespace {

std::vector<Configuration> configurations_of(const dataset::Dataset& d,
                                             const std::vector<std::size_t>& rows) {
  const int N = d.num_sites;
  std::vector<Configuration> configs;
  configs.reserve(rows.size());
  for (std::size_t r : rows)
    configs.emplace_back(std::vector<std::uint8_t>(d.occupation.begin() + r * N,
                                                   d.occupation.begin() + (r + 1) * N));
  return configs;
}

// The errors of predictions `p` of the rows `rows` against the dataset, per head of `model`.
Evaluation errors_of(const Model& model, const dataset::Dataset& d,
                     const std::vector<std::size_t>& rows, const Predictions& p, bool parity) {
  const int N = d.num_sites;
  Evaluation ev;
  ev.fold = model.fold();
  const auto& heads = model.network().spec().heads;
  const auto& stdz = model.standardization();
  for (Task t : kTasks) {
    if (!(model.tasks() & task_bit(t))) continue;
    const int O = t == Task::energy ? 1 : N;
    // The network's training spread of the raw value (the search's loss scale); a linear model
    // alone has none (NaN).
    const std::vector<double>* paper_std = nullptr;
    for (std::size_t h = 0; h < heads.size(); ++h)
      if (heads[h].task == t) paper_std = &stdz.heads[h].paper_std;
    const std::vector<double>& ref = values_of(d, t);
    const std::vector<double>& pred = t == Task::energy   ? p.energy
                                      : t == Task::charge ? p.charge
                                                          : p.moment;
    TaskError e;
    e.task = t;
    double s2 = 0, s2std = 0, sa = 0;
    ev.parity.emplace_back();
    for (std::size_t k = 0; k < rows.size(); ++k)
      for (int o = 0; o < O; ++o) {
        const double a = ref[rows[k] * O + o], b = pred[k * O + o];
        s2 += (b - a) * (b - a);
        const double z =
            paper_std ? (b - a) / (*paper_std)[o] : std::numeric_limits<double>::quiet_NaN();
        s2std += z * z;
        sa += std::abs(b - a);
        if (parity) ev.parity.back().push_back({rows[k], t == Task::energy ? -1 : o, a, b});
      }
    e.count = rows.size() * O;
    const double n = std::max<double>(1.0, double(e.count));
    e.rmse = std::sqrt(s2 / n);
    const double spread = composition_spread(d, rows, t);
    e.rmse_standardized = spread > 0 ? e.rmse / spread : std::numeric_limits<double>::quiet_NaN();
    e.rmse_over_training_std = std::sqrt(s2std / n);
    e.mae = sa / n;
    e.rmse_mev_per_atom =
        t == Task::energy ? e.rmse / N * kRydbergMeV : std::numeric_limits<double>::quiet_NaN();
    ev.tasks.push_back(e);
  }
  return ev;
}

}  // namespace

double composition_spread(const dataset::Dataset& data, const std::vector<std::size_t>& rows,
                          Task task) {
  const int N = data.num_sites, O = task == Task::energy ? 1 : N;
  const std::vector<double>& values = values_of(data, task);
  // Groups: the composition, and for per-site values also the site's species (else the spread
  // of charges is the species' Z difference, ~50 e for CuAu).
  auto group = [&](std::size_t r, int o) {
    const int species = task == Task::energy ? 0 : data.occupation[r * N + o];
    return std::pair<int, int>(data.composition[r], species);
  };
  // Two passes (means, then deviations): energies are ~1e6 Ry, their spreads mRy.
  std::map<std::pair<int, int>, std::pair<double, std::size_t>> mean;  // -> (sum, values)
  for (std::size_t r : rows)
    for (int o = 0; o < O; ++o) {
      auto& [sum, count] = mean[group(r, o)];
      sum += values[r * O + o];
      ++count;
    }
  for (auto& [key, m] : mean) m.first /= double(m.second);
  double s2 = 0;
  for (std::size_t r : rows)
    for (int o = 0; o < O; ++o) {
      const double dev = values[r * O + o] - mean[group(r, o)].first;
      s2 += dev * dev;
    }
  return rows.empty() ? 0.0 : std::sqrt(s2 / (double(rows.size()) * O));
}

namespace {
Predictions predictions_of(const Model& model, const std::vector<Configuration>& configs,
                           const SymmetryOperations* average_over) {
  return average_over != nullptr ? symmetrized_predictions(model, configs, *average_over)
                                 : model.predict(configs);
}
}  // namespace

Evaluation evaluate_model(const Model& model, const dataset::Dataset& d,
                          const std::vector<std::size_t>& rows, bool parity,
                          const SymmetryOperations* average_over) {
  model.check_matches(d.system);
  return errors_of(model, d, rows, predictions_of(model, configurations_of(d, rows), average_over),
                   parity);
}

Evaluation evaluate_ensemble(const std::vector<Model>& models, const dataset::Dataset& d,
                             const std::vector<std::size_t>& rows,
                             const SymmetryOperations* average_over) {
  if (models.empty()) fail("evaluate_ensemble: no models");
  const auto configs = configurations_of(d, rows);
  Predictions mean;
  for (const auto& m : models) {
    m.check_matches(d.system);
    if (m.network().spec().heads.size() != models[0].network().spec().heads.size())
      fail("evaluate_ensemble: the models predict different tasks");
    const Predictions p = predictions_of(m, configs, average_over);
    auto add = [&](std::vector<double>& sum, const std::vector<double>& v) {
      if (sum.empty()) sum.assign(v.size(), 0.0);
      if (sum.size() != v.size()) fail("evaluate_ensemble: the models predict different tasks");
      for (std::size_t i = 0; i < v.size(); ++i) sum[i] += v[i] / double(models.size());
    };
    add(mean.energy, p.energy);
    add(mean.charge, p.charge);
    add(mean.moment, p.moment);
  }
  Evaluation ev = errors_of(models[0], d, rows, mean, false);
  ev.fold = -1;
  return ev;
}

}  // namespace lsmss::nn
