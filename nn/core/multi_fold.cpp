#include "nn/core/multi_fold.hpp"

#include <algorithm>
#include <limits>
#include <numeric>

#include <fmt/format.h>

#include "core/error.hpp"
#include "core/progress.hpp"
#include "core/version.hpp"
#include "nn/core/cuda_entry.hpp"
#include "nn/core/loss.hpp"
#include "nn/core/model_impl.hpp"
#include "nn/core/training_parts.hpp"

namespace lsmss::nn {

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

  std::span<float> params(int fold) override { return folds_.at(fold).b->params(); }
  void upload_params() override {
    for (auto& f : folds_) f.b->upload_params();
  }
  void download_params() override {
    for (auto& f : folds_) f.b->download_params();
  }

  // Each fold's backend on its block, exactly the call a ModelWorkspace makes.
  void forward(const float* x, int rows) override {
    const std::size_t block = static_cast<std::size_t>(rows) * net_.inputs();
    for (std::size_t f = 0; f < folds_.size(); ++f) folds_[f].b->forward(x + f * block, rows);
  }
  void forward_from_first(const float* z1, int rows) override {
    const std::size_t block = static_cast<std::size_t>(rows) * net_.layers()[0].out;
    for (std::size_t f = 0; f < folds_.size(); ++f)
      folds_[f].b->forward_from_first(z1 + f * block, rows);
  }
  const float* output(int fold, int head) const override { return folds_.at(fold).b->output(head); }

 private:
  // For inference, as the cuda group, no optimizer state and no batch buffers (the backends
  // themselves are set up as a ModelWorkspace sets up its one).
  void do_setup(const Network& net, int folds, int max_batch, Precision precision,
                FoldGroupUse use) override {
    folds_.clear();
    net_ = net;
    const bool training = use == FoldGroupUse::training;
    for (int f = 0; f < folds; ++f) {
      Fold fold{make_backend(backend_, threads_), Adam{},
                BatchAssembler(net_, training ? max_batch : 0)};
      fold.b->set_precision(precision);
      fold.b->setup(net_, max_batch);
      if (training) fold.adam.reset(net_.num_params());
      folds_.push_back(std::move(fold));
    }
    epoch_loss_.assign(static_cast<std::size_t>(folds) * net_.num_heads(), 0.0);
    batch_loss_.assign(net_.num_heads(), 0.0);
  }

  void do_set_training_rows(int fold, const EncodedRows& rows) override {
    folds_.at(fold).rows = &rows;
  }

  void do_set_validation_rows(int /*fold*/, const EncodedRows& /*rows*/) override {}

  void do_start_epoch(std::span<const std::vector<std::size_t>> orders, double lr) override {
    for (std::size_t f = 0; f < folds_.size(); ++f) {
      folds_[f].order = &orders[f];
      folds_[f].adam.set_learning_rate(lr);
    }
  }

  void do_step(const FoldBatch* batches, const float* alpha) override {
    const int heads = net_.num_heads();
    for (std::size_t f = 0; f < folds_.size(); ++f) {
      const FoldBatch& batch = batches[f];
      if (batch.count == 0) continue;
      Fold& fold = folds_[f];
      fold.batches.gather(*fold.rows, *fold.order, batch.first, batch.count);
      fold.b->gradient(loss_, fold.batches.inputs(), fold.batches.targets(), batch.count, alpha,
                       batch_loss_.data(), fold.batches.row_weights());
      fold.b->apply_optimizer(fold.adam, batch.adam_step);
      for (int h = 0; h < heads; ++h) epoch_loss_[f * heads + h] += batch_loss_[h] * batch.count;
    }
  }

  void do_take_epoch_loss(std::vector<double>& out) override {
    out = epoch_loss_;
    std::fill(epoch_loss_.begin(), epoch_loss_.end(), 0.0);
  }

  void do_set_loss(int fold, const EncodedRows& set, int chunk, std::vector<double>& out) override {
    training::set_loss(*folds_.at(fold).b, loss_, set, chunk, out);
  }

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
  if (chosen == "cuda")
    if (const CudaEntryPoints* cuda = cuda_backend_entry()) return cuda->make_fold_group();
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
        train(encode_rows(data, net, stdz, values, split.train, split.train_weight)),
        validation(encode_rows(data, net, stdz, values, split.validation, split.validation_weight)),
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

// The lockstep run of every fold: the group, the folds' host state and the epoch loop.
class LockstepTrainer {
 public:
  LockstepTrainer(const dataset::Dataset& data, const TrainingOptions& options,
                  const std::vector<int>& folds)
      : data_(data),
        options_(options),
        folds_(folds),
        net_(options.network_spec(data.num_sites, data.system.num_species())),
        heads_(net_.num_heads()),
        k_(static_cast<int>(folds.size())),
        schedule_(options.learning_rate_schedule()),
        interval_(options.curve_interval > 0 ? options.curve_interval
                                             : std::max(1L, options.epochs / 200)),
        rows_(k_),
        adam_steps_(k_),
        batch_(k_),
        active_(new bool[k_]),
        orders_(k_),
        validation_(heads_),
        running_(k_) {
    state_.reserve(folds.size());
    for (int f : folds) state_.push_back(std::make_unique<FoldState>(data, options, net_, f));
    start_group();
    alpha_.assign(options.alpha.begin(), options.alpha.end());
    if (alpha_.empty()) alpha_.assign(heads_, 1.0f);
    for (int f = 0; f < k_; ++f) {
      rows_[f] = static_cast<long>(state_[f]->train.rows);
      batch_[f] = state_[f]->batch;
      orders_[f].resize(state_[f]->train.rows);
      std::iota(orders_[f].begin(), orders_[f].end(), 0);
    }
    shuffle_orders();
  }

  std::vector<Model> run(const std::string& deck_text) {
    Progress progress(
        fmt::format("{} folds {}..{} together", options_.label(), folds_.front(), folds_.back()),
        options_.epochs, "epochs", options_.progress);
    for (long epoch = 1; epoch <= options_.epochs && running_ > 0; ++epoch) {
      const double lr = schedule_.at(epoch);
      run_epoch(epoch, lr);
      record_epoch(epoch, lr);
      progress.advance(1, status_);
    }
    progress.finish(status_);
    return finish(deck_text);
  }

 private:
  void start_group() {
    int max_batch = 1;
    for (const auto& s : state_) max_batch = std::max(max_batch, s->batch);
    group_ = make_fold_group(options_.backend, options_.threads);
    group_->setup(net_, k_, max_batch, options_.precision, FoldGroupUse::training);
    // Initialization draws from each fold's generator first, as in the one-fold trainer.
    for (int f = 0; f < k_; ++f) initialize_parameters(group_->params(f), net_, state_[f]->rng);
    group_->upload_params();
    for (int f = 0; f < k_; ++f) {
      group_->set_training_rows(f, state_[f]->train);
      group_->set_validation_rows(f, state_[f]->validation);
    }
  }

  // Each fold's next row order, from its own generator (as the one-fold trainer draws it). The
  // folds are independent, so they shuffle in parallel; for a device group this runs while the
  // device works through the previous epoch. A fold that stops early may draw once more than
  // it needs: its generator is not used again.
  void shuffle_orders() {
    const int k = k_;
#pragma omp parallel for schedule(dynamic) if (k >= 4)
    for (int f = 0; f < k; ++f)
      if (state_[f]->active) shuffle(orders_[f], state_[f]->rng);
  }

  // Every batch of the epoch for every active fold, then the next epoch's orders.
  void run_epoch(long epoch, double lr) {
    for (int f = 0; f < k_; ++f) {
      active_[f] = state_[f]->active;
      adam_steps_[f] = state_[f]->adam_steps;
    }
    const EpochPlan plan = plan_epoch(rows_, batch_, {active_.get(), std::size_t(k_)}, adam_steps_);
    group_->start_epoch(orders_, lr);
    for (int step = 0; step < plan.steps; ++step) group_->step(plan.step(step), alpha_.data());
    if (epoch < options_.epochs) shuffle_orders();
    group_->take_epoch_loss(epoch_loss_);
  }

  // The folds' step counters and, on sampled epochs, their curves and early stopping.
  void record_epoch(long epoch, double lr) {
    const bool sampled = epoch % interval_ == 0 || epoch == options_.epochs || epoch == 1;
    bool downloaded = false;
    double train_sum = 0, validation_sum = 0;
    for (int f = 0; f < k_; ++f) {
      FoldState& s = *state_[f];
      if (!s.active) continue;
      s.adam_steps = adam_steps_[f];
      s.epochs_run = epoch;
      if (!sampled) continue;
      const auto [train_total, validation_total] = sample_fold(f, epoch, lr);
      train_sum += train_total;
      validation_sum += validation_total;
      if (!s.stopping.tracking()) continue;
      if (!downloaded) group_->download_params();
      downloaded = true;
      if (s.stopping.update(epoch, validation_total, group_->params(f))) {
        s.active = false;
        --running_;
      }
    }
    if (sampled)
      status_ = fmt::format("mean train {:.3e}  val {:.3e}  running {}/{}", train_sum / k_,
                            validation_sum / k_, running_, k_);
  }

  // Fold f's learning-curve sample; returns its alpha-weighted training and validation loss.
  std::pair<double, double> sample_fold(int f, long epoch, double lr) {
    FoldState& s = *state_[f];
    group_->set_loss(f, s.validation, s.batch, validation_);
    s.curve.epoch.push_back(epoch);
    s.curve.learning_rate.push_back(lr);
    const double n = double(s.train.rows);
    double train_total = 0, validation_total = 0;
    for (int h = 0; h < heads_; ++h) {
      s.curve.train.push_back(epoch_loss_[f * heads_ + h] / n);
      s.curve.validation.push_back(validation_[h]);
      train_total += alpha_[h] * epoch_loss_[f * heads_ + h] / n;
      validation_total += alpha_[h] * validation_[h];
    }
    return {train_total, validation_total};
  }

  std::vector<Model> finish(const std::string& deck_text) {
    group_->download_params();
    std::vector<Model> models;
    models.reserve(folds_.size());
    for (int f = 0; f < k_; ++f) {
      FoldState& s = *state_[f];
      auto impl = std::make_unique<ModelData>(data_.system);
      impl->net = net_;
      const auto p = group_->params(f);
      impl->params.assign(p.begin(), p.end());
      if (s.stopping.has_best()) impl->params = s.stopping.best();
      impl->stdz = s.stdz;
      impl->fold = s.fold;
      impl->dataset_hash = data_.fingerprint();
      impl->training_deck = deck_text;
      impl->trained_backend = group_->name();
      impl->software_version = kVersion;
      impl->created = now_iso();
      impl->epochs_run = s.epochs_run;
      impl->seed = static_cast<std::int64_t>(options_.seed);
      impl->curve = std::move(s.curve);
      impl->prepare(options_.backend);
      models.push_back(ModelAccess::make(std::move(impl)));
    }
    return models;
  }

  const dataset::Dataset& data_;
  const TrainingOptions& options_;
  const std::vector<int>& folds_;
  const Network net_;
  const int heads_, k_;
  const LearningRate schedule_;
  const long interval_;  // epochs between learning-curve samples
  std::vector<std::unique_ptr<FoldState>> state_;
  std::unique_ptr<FoldGroup> group_;
  std::vector<float> alpha_;
  std::vector<long> rows_, adam_steps_;
  std::vector<int> batch_;
  std::unique_ptr<bool[]> active_;
  std::vector<std::vector<std::size_t>> orders_;
  std::vector<double> epoch_loss_, validation_;
  int running_;
  std::string status_;
};

}  // namespace

std::vector<Model> train_folds_together(const dataset::Dataset& data,
                                        const TrainingOptions& options,
                                        const std::vector<int>& folds,
                                        const std::string& deck_text) {
  if (folds.empty()) return {};
  return LockstepTrainer(data, options, folds).run(deck_text);
}

}  // namespace lsmss::nn
