// Training throughput of the cuda backend on FePt-sized data (32 sites x 2 species one-hot,
// 25,920 training rows per fold, batch 2,592): epochs/s of STL-E, MTL-EC and MTL-ECM for one
// model and for all folds trained together, and the time of the full protocol (60 folds x
// 30,000 epochs) EXTRAPOLATED from the measured epochs/s.
// Usage: bench_cuda [--backend cuda] [--folds 60] [--epochs 20] [--precision fp32|tf32|bf16]
//                   [--rows 25920] [--batch 2592]
// (--rows and --batch other than FePt's: a smoke run, as the CPU tests do on the emulated device.)
// Epochs/s are differences of two runs (E and E/4 epochs), so setup, the upload of the data and
// the capture of the CUDA graph are not counted.
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <string>

#include <fmt/format.h>

#include "bench/bench_args.hpp"
#include "core/rng.hpp"
#include "core/species.hpp"
#include "nn/core/backend.hpp"
#include "nn/core/multi_fold.hpp"

using namespace lsmss;
using namespace lsmss::nn;
using Clock = std::chrono::steady_clock;

namespace {

constexpr int kTrainRows = 25920, kBatch = 2592, kSites = 32, kProtocolEpochs = 30000;

// Random FePt-shaped rows: every fold trains on ~train_rows rows (the others of its k folds).
dataset::Dataset fept_sized_dataset(int folds, int train_rows) {
  const int nontest = static_cast<int>(std::ceil(double(train_rows) * folds / (folds - 1)));
  const int rows = nontest + nontest / 9;
  dataset::Dataset d{.system = System{Lattice(LatticeKind::fcc, 7.2, 7.2, {2, 2, 2}),
                                      {species_from_symbol("Fe"), species_from_symbol("Pt")}},
                     .num_sites = kSites,
                     .num_folds = folds,
                     .driver = "random",
                     .available = kEnergy | kCharge | kMoment,
                     .occupation = {},
                     .composition = {},
                     .fold = {},
                     .origin = {},
                     .energy = {},
                     .charge = {},
                     .moment = {}};
  Rng rng(1);
  auto g = [](Rng& r) { return r.normal(); };
  int seen = 0;
  for (int r = 0; r < rows; ++r) {
    int n0 = 0;
    for (int i = 0; i < kSites; ++i) {
      const auto s = static_cast<std::uint8_t>(rng.below(2));
      d.occupation.push_back(s);
      n0 += s == 0;
    }
    d.composition.push_back(n0);
    const bool test = r % 10 == 9;
    d.fold.push_back(test ? dataset::kTestFold : seen++ % folds);
    d.origin.push_back(0);
    d.energy.push_back(-2540.0 * n0 - 36900.0 * (kSites - n0) + g(rng));
    for (int i = 0; i < kSites; ++i) {
      d.charge.push_back(26 + g(rng));
      d.moment.push_back(2.8 + g(rng));
    }
  }
  return d;
}

struct Config {
  const char* name;
  std::vector<int> shared;
  std::vector<Task> tasks;
  int task_width;
};

double train_seconds(const dataset::Dataset& d, TrainingOptions o, const std::vector<int>& folds,
                     long epochs) {
  o.epochs = epochs;
  o.curve_interval = epochs;  // samples at the first and the last epoch only
  const auto start = Clock::now();
  const auto models = train_folds_together(d, o, folds);
  if (models.size() != folds.size()) throw std::runtime_error("wrong number of models");
  return std::chrono::duration<double>(Clock::now() - start).count();
}

int run(int argc, char** argv) {
  std::string backend = "cuda", precision = "fp32";
  int folds = 60, rows = kTrainRows, batch = kBatch;
  long epochs = 20;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--backend" && i + 1 < argc)
      backend = argv[++i];
    else if (a == "--folds" && i + 1 < argc)
      folds = std::atoi(argv[++i]);
    else if (a == "--epochs" && i + 1 < argc)
      epochs = std::atol(argv[++i]);
    else if (a == "--precision" && i + 1 < argc)
      precision = argv[++i];
    else if (a == "--rows" && i + 1 < argc)
      rows = std::atoi(argv[++i]);
    else if (a == "--batch" && i + 1 < argc)
      batch = std::atoi(argv[++i]);
    else {
      fmt::print(
          "usage: bench_cuda [--backend cuda] [--folds 60] [--epochs 20] "
          "[--precision fp32|tf32|bf16] [--rows {}] [--batch {}]\n"
          "  Training epochs/s of STL-E, MTL-EC, MTL-ECM (FePt-sized: {} training rows per fold x "
          "64 inputs, batch {}), one model and all folds together; the full protocol time is "
          "extrapolated. Other --rows and --batch: a smoke run.\n",
          kTrainRows, kBatch, kTrainRows, kBatch);
      return a == "-h" || a == "--help" ? 0 : 2;
    }
  }
  if (folds < 2 || epochs < 4) throw std::runtime_error("need --folds >= 2 and --epochs >= 4");
  if (rows < 1 || batch < 1) throw std::runtime_error("need --rows >= 1 and --batch >= 1");
  fmt::print("bench_cuda: backend {} ({}), precision {}, cuda: {}\n", backend,
             backend == "auto" ? auto_backend_name() : backend, precision, cuda_backend_status());
  const dataset::Dataset d = fept_sized_dataset(folds, rows);
  if (rows != kTrainRows || batch != kBatch)
    fmt::print("smoke run: {} training rows per fold, batch {} (FePt: {} and {})\n", rows, batch,
               kTrainRows, kBatch);
  std::vector<int> all(folds);
  for (int f = 0; f < folds; ++f) all[f] = f;
  const std::vector<Config> configs = {
      {"STL-E", {300, 300}, {Task::energy}, 0},
      {"MTL-EC", {300, 300}, {Task::energy, Task::charge}, 200},
      {"MTL-ECM", {300, 300}, {Task::energy, Task::charge, Task::moment}, 300},
  };
  const long short_run = std::max(1L, epochs / 4);
  fmt::print("{:<8} {:>8} {:>14} {:>16} {:>26}\n", "model", "folds", "epochs/s", "fold-epochs/s",
             "60 x 30,000 epochs (extrap.)");
  for (const auto& c : configs) {
    TrainingOptions o;
    o.tasks = c.tasks;
    o.shared = c.shared;
    o.task_width = c.task_width;
    o.batch_size = batch;
    o.backend = backend;
    o.precision = precision_from_name(precision);
    o.progress = false;
    o.threads = 1;
    for (const std::vector<int>& set : {std::vector<int>{0}, all}) {
      const double t_short = train_seconds(d, o, set, short_run);
      const double t_long = train_seconds(d, o, set, epochs);
      const double eps = double(epochs - short_run) / std::max(1e-9, t_long - t_short);
      const double fold_eps = eps * double(set.size());
      const double protocol_s = 60.0 * kProtocolEpochs / fold_eps;
      fmt::print("{:<8} {:>8} {:>14.2f} {:>16.1f} {:>20.0f} s ({:.1f} min)\n", c.name, set.size(),
                 eps, fold_eps, protocol_s, protocol_s / 60);
      std::fflush(stdout);
    }
  }
  fmt::print(
      "epochs/s measured over {} - {} epochs; the protocol column is EXTRAPOLATED from them "
      "(60 x {} fold-epochs / fold-epochs/s), not measured\n",
      epochs, short_run, kProtocolEpochs);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return bench::guarded_main(argc, argv, "bench_cuda", run);
}
