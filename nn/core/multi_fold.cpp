#include "nn/core/multi_fold.hpp"

#include <algorithm>
#include <limits>
#include <numeric>

#include <fmt/format.h>

#include "core/error.hpp"
#include "core/progress.hpp"
#include "core/version.hpp"
#include "nn/core/loss.hpp"
#include "nn/core/model_impl.hpp"
#include "nn/core/training_parts.hpp"

namespace lsmss::nn {

#ifdef LSMSS_NN_CUDA_BACKEND
std::unique_ptr<FoldGroup> make_cuda_fold_group();
#endif

using namespace training;

EpochPlan plan_epoch(std::span<const long> rows, std::span<const int> batch,
                     std::span<const bool> active, std::span<long> adam_steps) {
  const std::size_t folds = rows.size();
  if (batch.size() != folds || active.size() != folds || adam_steps.size() != folds)
    fail("plan_epoch: {} folds but {} batch sizes, {} flags, {} step counters", folds, batch.size(),
         active.size(), adam_steps.size());
  EpochPlan plan;
  plan.folds = static_cast<int>(folds);
  std::vector<long> steps(folds, 0);
  for (std::size_t f = 0; f < folds; ++f) {
    if (!active[f]) continue;
    if (batch[f] < 1) fail("plan_epoch: fold {} has batch size {}", f, batch[f]);
    steps[f] = (rows[f] + batch[f] - 1) / batch[f];
    plan.steps = static_cast<int>(std::max<long>(plan.steps, steps[f]));
  }
  plan.batches.assign(static_cast<std::size_t>(plan.steps) * folds, FoldBatch{});
  for (int s = 0; s < plan.steps; ++s)
    for (std::size_t f = 0; f < folds; ++f) {
      if (s >= steps[f]) continue;
      FoldBatch& b = plan.batches[s * folds + f];
      b.first = static_cast<long>(s) * batch[f];
      b.count = static_cast<int>(std::min<long>(batch[f], rows[f] - b.first));
      b.adam_step = ++adam_steps[f];
    }
  return plan;
}

// ---------------------------------------------------------------- CPU group

namespace {

// One backend, one optimizer and one batch assembler per fold; a step runs the folds one after
// the other with exactly the calls of the one-fold trainer.
class BackendFoldGroup final : public FoldGroup {
 public:
  BackendFoldGroup(std::string backend, int threads)
      : backend_(std::move(backend)), threads_(threads) {}

  std::string name() const override { return folds_.empty() ? backend_ : folds_[0].b->name(); }

  void setup(const Network& net, int folds, int max_batch, Precision precision) override {
    folds_.clear();
    net_ = net;
    for (int f = 0; f < folds; ++f) {
      Fold fold{make_backend(backend_, threads_), Adam{}, BatchAssembler(net_, max_batch)};
      fold.b->set_precision(precision);
      fold.b->setup(net_, max_batch);
      fold.adam.reset(net_.num_params());
      folds_.push_back(std::move(fold));
    }
    epoch_loss_.assign(static_cast<std::size_t>(folds) * net_.num_heads(), 0.0);
    batch_loss_.assign(net_.num_heads(), 0.0);
  }

  std::span<float> params(int fold) override { return folds_.at(fold).b->params(); }
  void upload_params() override {
    for (auto& f : folds_) f.b->upload_params();
  }
  void download_params() override {
    for (auto& f : folds_) f.b->download_params();
  }

  void set_training_rows(int fold, const EncodedRows& rows) override {
    folds_.at(fold).rows = &rows;
  }

  void set_validation_rows(int /*fold*/, const EncodedRows& /*rows*/) override {}

  void start_epoch(std::span<const std::vector<std::size_t>> orders, double lr) override {
    for (std::size_t f = 0; f < folds_.size(); ++f) {
      folds_[f].order = &orders[f];
      folds_[f].adam.set_learning_rate(lr);
    }
  }

  void step(const FoldBatch* batches, const float* alpha) override {
    const int heads = net_.num_heads();
    for (std::size_t f = 0; f < folds_.size(); ++f) {
      const FoldBatch& batch = batches[f];
      if (batch.count == 0) continue;
      Fold& fold = folds_[f];
      fold.batches.gather(*fold.rows, *fold.order, batch.first, batch.count);
      fold.b->gradient(loss_, fold.batches.inputs(), fold.batches.targets(), batch.count, alpha,
                       batch_loss_.data());
      fold.b->apply_optimizer(fold.adam, batch.adam_step);
      for (int h = 0; h < heads; ++h) epoch_loss_[f * heads + h] += batch_loss_[h] * batch.count;
    }
  }

  void take_epoch_loss(std::vector<double>& out) override {
    out = epoch_loss_;
    std::fill(epoch_loss_.begin(), epoch_loss_.end(), 0.0);
  }

  void set_loss(int fold, const EncodedRows& set, int chunk, std::vector<double>& out) override {
    training::set_loss(*folds_.at(fold).b, loss_, set, chunk, out);
  }

 private:
  struct Fold {
    std::unique_ptr<Backend> b;
    Adam adam;
    BatchAssembler batches;
    const EncodedRows* rows = nullptr;
    const std::vector<std::size_t>* order = nullptr;
  };
  std::string backend_;
  int threads_;
  Network net_;
  MseLoss loss_;
  std::vector<Fold> folds_;
  std::vector<double> epoch_loss_, batch_loss_;
};

}  // namespace

std::unique_ptr<FoldGroup> make_backend_fold_group(const std::string& backend, int threads) {
  return std::make_unique<BackendFoldGroup>(backend, threads);
}

std::unique_ptr<FoldGroup> make_fold_group(const std::string& backend, int threads) {
  const std::string chosen = backend == "auto" ? auto_backend_name() : backend;
#ifdef LSMSS_NN_CUDA_BACKEND
  if (chosen == "cuda") return make_cuda_fold_group();
#endif
  if (!backend_compiled(chosen)) make_backend(chosen, threads);  // throws the clear error
  return make_backend_fold_group(chosen, threads);
}

bool trains_folds_together(const TrainingOptions& options) {
  return options.backend == "cuda" || (options.backend == "auto" && auto_backend_name() == "cuda");
}

// ---------------------------------------------------------------- the multi-fold trainer

namespace {

// The host state of one fold: its data, seed, row order, curve and early stopping, as in the
// one-fold trainer (trainer.cpp), which it must match step for step.
struct FoldState {
  FoldState(const dataset::Dataset& data, const TrainingOptions& options, const Network& net,
            int fold_number)
      : fold(fold_number),
        split(training_split(data, options, fold_number)),
        stdz(fit(data, options, net)),
        train(encode_rows(data, net, stdz, values, split.train)),
        validation(encode_rows(data, net, stdz, values, split.validation)),
        stopping(options.patience, options.min_delta, options.keep_best, net.num_params()),
        rng(options.seed, static_cast<std::uint64_t>(fold_number)) {
    const long rows = static_cast<long>(split.train.size());
    const long wanted = options.batch_size > 0 ? options.batch_size
                                               : std::lround(options.batch_fraction * double(rows));
    batch = static_cast<int>(std::clamp<long>(wanted, 1L, rows));
  }

  Standardization fit(const dataset::Dataset& data, const TrainingOptions& options,
                      const Network& net) {
    if (data.num_sites != data.system.num_sites())
      fail("dataset: {} sites per row but its lattice has {}", data.num_sites,
           data.system.num_sites());
    for (const auto& h : net.spec().heads) values.push_back(&values_of(data, h.task));
    return Standardization::fit(data.occupation, data.num_sites, data.system, net.spec().heads,
                                values, split.train, options.energy_target, options.charge_target);
  }

  int fold;
  FoldSplit split;
  std::vector<const std::vector<double>*> values;
  Standardization stdz;
  EncodedRows train, validation;
  int batch = 1;
  EarlyStopping stopping;
  Rng rng;  // one stream per (seed, fold), as in the one-fold trainer
  LearningCurve curve;
  bool active = true;
  long epochs_run = 0;
  long adam_steps = 0;
};

}  // namespace

std::vector<Model> train_folds_together(const dataset::Dataset& data,
                                        const TrainingOptions& options,
                                        const std::vector<int>& folds,
                                        const std::string& deck_text) {
  if (folds.empty()) return {};
  const Network net(options.network_spec(data.num_sites, data.system.num_species()));
  const int heads = net.num_heads();
  const int k = static_cast<int>(folds.size());
  std::vector<std::unique_ptr<FoldState>> state;
  state.reserve(folds.size());
  for (int f : folds) state.push_back(std::make_unique<FoldState>(data, options, net, f));
  int max_batch = 1;
  for (const auto& s : state) max_batch = std::max(max_batch, s->batch);

  auto group = make_fold_group(options.backend, options.threads);
  group->setup(net, k, max_batch, options.precision);
  // Initialization draws from each fold's generator first, as in the one-fold trainer.
  for (int f = 0; f < k; ++f) initialize_parameters(group->params(f), net, state[f]->rng);
  group->upload_params();
  for (int f = 0; f < k; ++f) {
    group->set_training_rows(f, state[f]->train);
    group->set_validation_rows(f, state[f]->validation);
  }

  std::vector<float> alpha(options.alpha.begin(), options.alpha.end());
  if (alpha.empty()) alpha.assign(heads, 1.0f);
  const LearningRate schedule = options.learning_rate_schedule();
  const long interval =
      options.curve_interval > 0 ? options.curve_interval : std::max(1L, options.epochs / 200);
  std::vector<long> rows(k), adam_steps(k);
  std::vector<int> batch(k);
  std::unique_ptr<bool[]> active(new bool[k]);
  std::vector<std::vector<std::size_t>> orders(k);
  std::vector<double> epoch_loss, validation(heads);
  for (int f = 0; f < k; ++f) {
    rows[f] = static_cast<long>(state[f]->train.rows);
    batch[f] = state[f]->batch;
    orders[f].resize(state[f]->train.rows);
    std::iota(orders[f].begin(), orders[f].end(), 0);
  }
  // Each fold's next row order, from its own generator (as the one-fold trainer draws it). The
  // folds are independent, so they shuffle in parallel; for a device group this runs while the
  // device works through the previous epoch. A fold that stops early may draw once more than
  // it needs: its generator is not used again.
  auto shuffle_orders = [&] {
#pragma omp parallel for schedule(dynamic) if (k >= 4)
    for (int f = 0; f < k; ++f)
      if (state[f]->active) shuffle(orders[f], state[f]->rng);
  };
  shuffle_orders();

  Progress progress(
      fmt::format("{} folds {}..{} together", options.label(), folds.front(), folds.back()),
      options.epochs, "epochs", options.progress);
  std::string status;
  int running = k;
  for (long epoch = 1; epoch <= options.epochs && running > 0; ++epoch) {
    const double lr = schedule.at(epoch);
    for (int f = 0; f < k; ++f) {
      active[f] = state[f]->active;
      adam_steps[f] = state[f]->adam_steps;
    }
    const EpochPlan plan = plan_epoch(rows, batch, {active.get(), std::size_t(k)}, adam_steps);
    group->start_epoch(orders, lr);
    for (int step = 0; step < plan.steps; ++step) group->step(plan.step(step), alpha.data());
    if (epoch < options.epochs) shuffle_orders();
    group->take_epoch_loss(epoch_loss);

    const bool sampled = epoch % interval == 0 || epoch == options.epochs || epoch == 1;
    bool downloaded = false;
    double train_sum = 0, validation_sum = 0;
    for (int f = 0; f < k; ++f) {
      FoldState& s = *state[f];
      if (!s.active) continue;
      s.adam_steps = adam_steps[f];
      s.epochs_run = epoch;
      if (!sampled) continue;
      group->set_loss(f, s.validation, s.batch, validation);
      s.curve.epoch.push_back(epoch);
      s.curve.learning_rate.push_back(lr);
      const double n = double(s.train.rows);
      double train_total = 0, validation_total = 0;
      for (int h = 0; h < heads; ++h) {
        s.curve.train.push_back(epoch_loss[f * heads + h] / n);
        s.curve.validation.push_back(validation[h]);
        train_total += alpha[h] * epoch_loss[f * heads + h] / n;
        validation_total += alpha[h] * validation[h];
      }
      train_sum += train_total;
      validation_sum += validation_total;
      if (!s.stopping.tracking()) continue;
      if (!downloaded) group->download_params();
      downloaded = true;
      if (s.stopping.update(epoch, validation_total, group->params(f))) {
        s.active = false;
        --running;
      }
    }
    if (sampled)
      status = fmt::format("mean train {:.3e}  val {:.3e}  running {}/{}", train_sum / k,
                           validation_sum / k, running, k);
    progress.advance(1, status);
  }
  progress.finish(status);

  group->download_params();
  std::vector<Model> models;
  models.reserve(folds.size());
  for (int f = 0; f < k; ++f) {
    FoldState& s = *state[f];
    auto impl = std::make_unique<ModelData>(data.system);
    impl->net = net;
    const auto p = group->params(f);
    impl->params.assign(p.begin(), p.end());
    if (s.stopping.has_best()) impl->params = s.stopping.best();
    impl->stdz = s.stdz;
    impl->fold = s.fold;
    impl->dataset_hash = data.fingerprint();
    impl->training_deck = deck_text;
    impl->trained_backend = group->name();
    impl->software_version = kVersion;
    impl->created = now_iso();
    impl->epochs_run = s.epochs_run;
    impl->seed = static_cast<std::int64_t>(options.seed);
    impl->curve = std::move(s.curve);
    impl->prepare(options.backend);
    models.push_back(ModelAccess::make(std::move(impl)));
  }
  return models;
}

}  // namespace lsmss::nn
