#include "nn/core/trainer.hpp"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <ctime>
#include <limits>
#include <numeric>
#include <random>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "core/error.hpp"
#include "core/progress.hpp"
#include "core/version.hpp"
#include "nn/core/model_impl.hpp"

namespace lsmss::nn {

namespace {
Activation activation_key(const DeckTable& t, std::string_view key, Activation def) {
  const std::string s = t.choice(key, activation_name(def), {"relu", "tanh", "sigmoid", "linear"});
  return activation_from_name(s);
}
}  // namespace

TrainingOptions TrainingOptions::from_deck(const DeckTable& t) {
  TrainingOptions o;
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
  const DeckTable a = t.table("architecture");
  o.shared.clear();
  for (long w : a.integers("shared", {200, 200})) {
    if (w < 1 || w > 100000) a.error("shared", fmt::format("width {} outside 1..100000", w));
    o.shared.push_back(static_cast<int>(w));
  }
  if (o.shared.empty()) a.error("shared", "needs at least one shared layer width");
  {
    // Refused up front instead of an allocation failure later: every weight between shared
    // layers is held about 6 times while training (weights, gradients, two Adam moments, the
    // best copy, the backend's copy), 4 bytes each.
    double weights = 0;
    for (std::size_t i = 1; i < o.shared.size(); ++i)
      weights += static_cast<double>(o.shared[i - 1]) * o.shared[i];
    const double bytes = 24.0 * weights;
    const double memory =
        static_cast<double>(sysconf(_SC_PHYS_PAGES)) * static_cast<double>(sysconf(_SC_PAGE_SIZE));
    if (memory > 0 && bytes > 0.8 * memory)
      a.error("shared", fmt::format("{:.3g} weights between the shared layers need about {:.1f} "
                                    "GiB to train, more than this machine's {:.1f} GiB",
                                    weights, bytes / (1 << 30), memory / (1 << 30)));
  }
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

  o.alpha = t.numbers("alpha", std::vector<double>(o.tasks.size(), 1.0));
  if (o.alpha.size() != o.tasks.size())
    t.error("alpha", fmt::format("needs one weight per task ({})", o.tasks.size()));
  for (double x : o.alpha)
    if (!(x >= 0)) t.error("alpha", "weights must be >= 0");
  o.learning_rate = t.number_in("learning_rate", 1e-4, 1e-12, 10.0);
  o.epochs = t.integer("epochs", 30000, 1, 100000000);
  o.batch_fraction = t.number_in("batch_fraction", 0.1, 1e-9, 1.0);
  o.batch_size = t.integer("batch_size", 0, 0, 1000000000);
  t.allow({"folds"});  // listed among the valid keys even when absent
  if (t.has("folds")) {
    bool is_all = false;
    try {
      const std::string s = t.string("folds");
      if (s != "all") t.error("folds", "expected \"all\" or a list of fold numbers");
      is_all = true;
    } catch (const DeckError& e) {
      if (std::string(e.what()).find("\"all\"") != std::string::npos) throw;
    }
    if (!is_all)
      for (long f : t.integers("folds", {})) {
        if (f < 0 || f > 100000) t.error("folds", fmt::format("fold {} is negative or absurd", f));
        o.folds.push_back(static_cast<int>(f));
      }
  }
  o.seed = static_cast<std::uint64_t>(t.integer("seed", 1, 0, std::numeric_limits<long>::max()));
  o.backend = t.choice("backend", "auto", {"auto", "reference", "onednn", "cuda"});
  o.threads = static_cast<int>(t.integer("threads", 0, 0, 4096));
  o.energy_target =
      energy_target_from_name(t.choice("energy_target", "mixing", {"mixing", "standardized"}));
  o.charge_target =
      charge_target_from_name(t.choice("charge_target", "transfer", {"transfer", "total"}));
  const DeckTable es = t.table("early_stopping");
  o.patience = es.integer("patience", 0, 0, 100000000);
  o.min_delta = es.number_in("min_delta", 0.0, 0.0, 1e30);
  es.finish();
  const DeckTable ls = t.table("lr_schedule");
  o.lr_schedule = ls.choice("kind", "constant", {"constant", "step", "cosine"});
  o.lr_factor = ls.number_in("factor", 0.5, 1e-9, 1.0);
  o.lr_every = ls.integer("every", 1000, 1, 100000000);
  o.lr_min = ls.number_in("min", 0.0, 0.0, 10.0);
  ls.finish();
  o.model = t.string("model", "model.h5");
  o.curve_interval = t.integer("curve_interval", 0, 0, 100000000);
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

std::string dataset_fingerprint(const dataset::Dataset& d) {
  std::uint64_t h = 1469598103934665603ull;
  auto mix = [&h](const void* p, std::size_t n) {
    const auto* b = static_cast<const unsigned char*>(p);
    for (std::size_t i = 0; i < n; ++i) h = (h ^ b[i]) * 1099511628211ull;
  };
  mix(d.occupation.data(), d.occupation.size());
  mix(d.fold.data(), d.fold.size() * sizeof(std::int32_t));
  mix(d.energy.data(), d.energy.size() * sizeof(double));
  mix(d.charge.data(), d.charge.size() * sizeof(double));
  mix(d.moment.data(), d.moment.size() * sizeof(double));
  return fmt::format("{:016x}", h);
}

namespace {

const std::vector<double>& values_of(const dataset::Dataset& d, Task t) {
  const auto& v = t == Task::energy ? d.energy : t == Task::charge ? d.charge : d.moment;
  const std::size_t per = t == Task::energy ? 1 : static_cast<std::size_t>(d.num_sites);
  if (v.size() != d.rows() * per || !(d.available & task_bit(t)))
    fail("the dataset has no {} data (it carries {})", task_name(t),
         property_mask_name(d.available));
  return v;
}

std::string now_iso() {
  const std::time_t t = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buf;
}

}  // namespace

Model train_model(const dataset::Dataset& d, const TrainingOptions& o, int fold,
                  const std::string& deck_text) {
  const int N = d.num_sites, S = d.system.num_species(), F = N * S;
  if (N != d.system.num_sites())
    fail("dataset: {} sites per row but its lattice has {}", N, d.system.num_sites());
  const FoldSplit split = split_for_fold(d, fold);
  const Network net(o.network_spec(N, S));
  const int H = net.num_heads();
  std::vector<const std::vector<double>*> values;
  for (const auto& h : net.spec().heads) values.push_back(&values_of(d, h.task));
  const Standardization stdz =
      Standardization::fit(d.occupation, N, d.system, net.spec().heads, values, split.train,
                           o.energy_target, o.charge_target);

  // Network inputs/targets of every training and validation row, encoded once.
  auto encode = [&](const std::vector<std::size_t>& rows, std::vector<float>& X,
                    std::vector<std::vector<float>>& T) {
    X.assign(rows.size() * F, 0.0f);
    T.assign(H, {});
    for (int h = 0; h < H; ++h) T[h].assign(rows.size() * net.spec().heads[h].outputs, 0.0f);
    for (std::size_t k = 0; k < rows.size(); ++k) {
      const std::uint8_t* occ = &d.occupation[rows[k] * N];
      stdz.encode_input(occ, &X[k * F]);
      for (int h = 0; h < H; ++h) {
        const int O = net.spec().heads[h].outputs;
        stdz.encode_target(h, occ, &(*values[h])[rows[k] * O], &T[h][k * O]);
      }
    }
  };
  std::vector<float> Xtr, Xva;
  std::vector<std::vector<float>> Ttr, Tva;
  encode(split.train, Xtr, Ttr);
  encode(split.validation, Xva, Tva);

  const long ntr = static_cast<long>(split.train.size());
  const int B = static_cast<int>(std::clamp<long>(
      o.batch_size > 0 ? o.batch_size : std::lround(o.batch_fraction * double(ntr)), 1L, ntr));
  auto backend = make_backend(o.backend, o.threads);
  backend->setup(net, B);

  // PyTorch's default initialization of nn.Linear: U(-1/sqrt(in), 1/sqrt(in)) for W and b.
  std::mt19937_64 rng(o.seed * 1000003ull + static_cast<std::uint64_t>(fold));
  {
    auto p = backend->params();
    for (const auto& l : net.layers()) {
      std::uniform_real_distribution<float> u(-1.0f / std::sqrt(float(l.in)),
                                              1.0f / std::sqrt(float(l.in)));
      for (std::size_t k = l.w; k < l.b + l.out; ++k) p[k] = u(rng);
    }
  }

  std::vector<float> alpha(o.alpha.begin(), o.alpha.end());
  if (alpha.empty()) alpha.assign(H, 1.0f);
  // Batch buffers and everything the epoch loop touches: allocated here, once.
  std::vector<float> xb(static_cast<std::size_t>(B) * F);
  std::vector<std::vector<float>> tb(H);
  std::vector<const float*> tptr(H), vptr(H);
  for (int h = 0; h < H; ++h)
    tb[h].assign(static_cast<std::size_t>(B) * net.spec().heads[h].outputs, 0.0f);
  for (int h = 0; h < H; ++h) tptr[h] = tb[h].data();
  std::vector<std::size_t> perm(ntr);
  std::iota(perm.begin(), perm.end(), 0);
  std::vector<double> mse(H), epoch_mse(H), val_mse(H);
  std::vector<float> best(o.patience > 0 ? net.num_params() : 0);
  double best_val = std::numeric_limits<double>::infinity();
  long best_epoch = 0;

  const long interval = o.curve_interval > 0 ? o.curve_interval : std::max(1L, o.epochs / 200);
  LearningCurve curve;
  auto validation_loss = [&](std::vector<double>& out) {
    std::fill(out.begin(), out.end(), 0.0);
    const long nva = static_cast<long>(split.validation.size());
    if (nva == 0) {
      std::fill(out.begin(), out.end(), std::numeric_limits<double>::quiet_NaN());
      return;
    }
    for (long first = 0; first < nva; first += B) {
      const int n = static_cast<int>(std::min<long>(B, nva - first));
      backend->forward(&Xva[first * F], n);
      for (int h = 0; h < H; ++h) {
        const int O = net.spec().heads[h].outputs;
        const float* y = backend->output(h);
        const float* t = &Tva[h][first * O];
        double s = 0;
        for (long k = 0; k < static_cast<long>(n) * O; ++k)
          s += double(y[k] - t[k]) * (y[k] - t[k]);
        out[h] += s;
      }
    }
    for (int h = 0; h < H; ++h) out[h] /= double(nva) * net.spec().heads[h].outputs;
  };

  Progress progress(fmt::format("{} fold {}", o.label(), fold), o.epochs, "epochs", o.progress);
  std::string status;
  AdamSettings adam;
  long step = 0, epoch = 0;
  for (epoch = 1; epoch <= o.epochs; ++epoch) {
    double lr = o.learning_rate;
    if (o.lr_schedule == "step") {
      // Step decay: the exponent is the number of whole lr_every-epoch periods completed, so
      // the integer (truncating) division is intended.
      const long periods = (epoch - 1) / o.lr_every;
      lr *= std::pow(o.lr_factor, static_cast<double>(periods));
    } else if (o.lr_schedule == "cosine") {
      lr = o.lr_min + 0.5 * (o.learning_rate - o.lr_min) *
                          (1 + std::cos(M_PI * double(epoch - 1) / double(o.epochs)));
    }
    adam.lr = static_cast<float>(lr);
    std::shuffle(perm.begin(), perm.end(), rng);
    std::fill(epoch_mse.begin(), epoch_mse.end(), 0.0);
    for (long first = 0; first < ntr; first += B) {
      const int n = static_cast<int>(std::min<long>(B, ntr - first));
      for (int k = 0; k < n; ++k) {
        const std::size_t r = perm[first + k];
        std::copy_n(&Xtr[r * F], F, &xb[static_cast<std::size_t>(k) * F]);
        for (int h = 0; h < H; ++h) {
          const int O = net.spec().heads[h].outputs;
          std::copy_n(&Ttr[h][r * O], O, &tb[h][static_cast<std::size_t>(k) * O]);
        }
      }
      backend->gradient(xb.data(), tptr.data(), n, alpha.data(), mse.data());
      backend->adam(adam, ++step);
      for (int h = 0; h < H; ++h) epoch_mse[h] += mse[h] * n;
    }
    const bool sample = epoch % interval == 0 || epoch == o.epochs || epoch == 1;
    bool stop = false;
    if (sample) {
      validation_loss(val_mse);
      curve.epoch.push_back(epoch);
      curve.learning_rate.push_back(lr);
      double tr = 0, va = 0;
      for (int h = 0; h < H; ++h) {
        curve.train.push_back(epoch_mse[h] / double(ntr));
        curve.validation.push_back(val_mse[h]);
        tr += alpha[h] * epoch_mse[h] / double(ntr);
        va += alpha[h] * val_mse[h];
      }
      status = fmt::format("train {:.3e}  val {:.3e}", tr, va);
      if (o.patience > 0 && std::isfinite(va)) {
        if (va < best_val - o.min_delta) {
          best_val = va;
          best_epoch = epoch;
          std::copy(backend->params().begin(), backend->params().end(), best.begin());
        } else if (epoch - best_epoch >= o.patience) {
          stop = true;
        }
      }
    }
    progress.advance(1, status);
    if (stop) break;
  }
  const long epochs_run = std::min(epoch, o.epochs);
  progress.finish(status);

  auto impl = std::make_unique<Model::Impl>(d.system);
  impl->net = net;
  impl->params.assign(backend->params().begin(), backend->params().end());
  if (o.patience > 0 && best_epoch > 0) impl->params = best;  // weights of the best validation loss
  impl->stdz = stdz;
  impl->fold = fold;
  impl->dataset_hash = dataset_fingerprint(d);
  impl->training_deck = deck_text;
  impl->trained_backend = backend->name();
  impl->software_version = kVersion;
  impl->created = now_iso();
  impl->epochs_run = epochs_run;
  impl->seed = static_cast<std::int64_t>(o.seed);
  impl->curve = std::move(curve);
  backend.reset();
  impl->prepare(o.backend);
  return Model(std::move(impl));
}

Evaluation evaluate_model(const Model& model, const dataset::Dataset& d,
                          const std::vector<std::size_t>& rows, bool parity) {
  model.check_matches(d.system);
  const int N = d.num_sites;
  std::vector<Configuration> configs;
  configs.reserve(rows.size());
  for (std::size_t r : rows)
    configs.emplace_back(std::vector<std::uint8_t>(d.occupation.begin() + r * N,
                                                   d.occupation.begin() + (r + 1) * N));
  const Predictions p = model.predict(configs);
  Evaluation ev;
  ev.fold = model.fold();
  const auto& heads = model.network().spec().heads;
  const auto& stdz = model.standardization();
  for (std::size_t h = 0; h < heads.size(); ++h) {
    const Task t = heads[h].task;
    const int O = heads[h].outputs;
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
        const double z = (b - a) / stdz.heads[h].paper_std[o];
        s2std += z * z;
        sa += std::abs(b - a);
        if (parity) ev.parity.back().push_back({rows[k], t == Task::energy ? -1 : o, a, b});
      }
    e.count = rows.size() * O;
    const double n = std::max<double>(1.0, double(e.count));
    e.rmse = std::sqrt(s2 / n);
    e.rmse_standardized = std::sqrt(s2std / n);
    e.mae = sa / n;
    e.rmse_mev_per_atom =
        t == Task::energy ? e.rmse / N * kRydbergMeV : std::numeric_limits<double>::quiet_NaN();
    ev.tasks.push_back(e);
  }
  return ev;
}

}  // namespace lsmss::nn
