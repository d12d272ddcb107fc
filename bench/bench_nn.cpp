// Training and inference throughput of the nn backends, side by side in one run with
//  - the bare oneDNN inner products of the same shapes (ratio: whole training steps / bare), and
//  - PyTorch (bench/pytorch_reference.py, same shapes, threads, batch), when importable.
// Usage: bench_nn [--threads N] [--epochs E] [--python /usr/bin/python3] [--no-pytorch]
// Every time is the fastest of several repetitions (here and in the PyTorch script), so other
// processes on a shared machine disturb the ratios as little as possible.
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <map>
#include <string>

#include <fmt/format.h>
#include <oneapi/dnnl/dnnl.hpp>

#include "bench/bench_args.hpp"
#include "core/rng.hpp"
#include "core/species.hpp"
#include "fixtures.hpp"
#include "nn/core/backend.hpp"
#include "nn/core/trainer.hpp"

using namespace lsmss;
using namespace lsmss::nn;
using Clock = std::chrono::steady_clock;

namespace {

constexpr int kRows = 25920, kBatch = 2592, kSites = 32, kSpecies = 2;

struct Config {
  const char* name;
  std::vector<int> shared;
  std::vector<Task> tasks;
  int task_width;
};

NetworkSpec make_spec(const Config& c) {
  TrainingOptions o;
  o.tasks = c.tasks;
  o.shared = c.shared;
  o.task_width = c.task_width;
  return o.network_spec(kSites, kSpecies);
}

double seconds(Clock::time_point a) {
  return std::chrono::duration<double>(Clock::now() - a).count();
}

// FLOPs of one training step: forward, backward weights, backward data (not for the input layer).
double step_flops(const Network& net, int batch) {
  double f = 0;
  for (const auto& l : net.layers()) f += 2.0 * batch * l.in * l.out * (l.input < 0 ? 2 : 3);
  return f;
}

// The same inner products as one training step, as bare oneDNN primitives on plain layouts.
double bare_inner_products_seconds(const Network& net, int batch, int reps) {
  using namespace dnnl;
  engine eng(engine::kind::cpu, 0);
  stream s(eng);
  struct P {
    primitive p;
    std::unordered_map<int, memory> args;
  };
  std::vector<P> prims;
  std::vector<std::vector<float>> bufs;
  auto buf = [&](std::size_t n) {
    bufs.emplace_back(n, 0.01f);
    return bufs.back().data();
  };
  using tag = memory::format_tag;
  using dt = memory::data_type;
  for (const auto& l : net.layers()) {
    memory::desc src({batch, l.in}, dt::f32, tag::ab), w({l.out, l.in}, dt::f32, tag::ab),
        b({l.out}, dt::f32, tag::a), dst({batch, l.out}, dt::f32, tag::ab);
    inner_product_forward::primitive_desc fpd(
        inner_product_forward::desc(prop_kind::forward_training, src, w, b, dst), eng);
    memory msrc(src, eng, buf(std::size_t(batch) * l.in)),
        mw(w, eng, buf(std::size_t(l.out) * l.in)), mb(b, eng, buf(l.out)),
        mdst(dst, eng, buf(std::size_t(batch) * l.out));
    prims.push_back({inner_product_forward(fpd),
                     {{DNNL_ARG_SRC, msrc},
                      {DNNL_ARG_WEIGHTS, mw},
                      {DNNL_ARG_BIAS, mb},
                      {DNNL_ARG_DST, mdst}}});
    inner_product_backward_weights::primitive_desc wpd(
        inner_product_backward_weights::desc(src, w, b, dst), eng, fpd);
    memory mdw(w, eng, buf(std::size_t(l.out) * l.in)), mdb(b, eng, buf(l.out));
    prims.push_back({inner_product_backward_weights(wpd),
                     {{DNNL_ARG_SRC, msrc},
                      {DNNL_ARG_DIFF_DST, mdst},
                      {DNNL_ARG_DIFF_WEIGHTS, mdw},
                      {DNNL_ARG_DIFF_BIAS, mdb}}});
    if (l.input >= 0) {
      inner_product_backward_data::primitive_desc dpd(
          inner_product_backward_data::desc(src, w, dst), eng, fpd);
      memory mds(src, eng, buf(std::size_t(batch) * l.in));
      prims.push_back(
          {inner_product_backward_data(dpd),
           {{DNNL_ARG_DIFF_DST, mdst}, {DNNL_ARG_WEIGHTS, mw}, {DNNL_ARG_DIFF_SRC, mds}}});
    }
  }
  for (auto& p : prims) p.p.execute(s, p.args);  // warm-up
  s.wait();
  // Fastest of `reps` steps: other processes on a shared machine only ever slow a step down.
  double best = 1e30;
  for (int r = 0; r < reps; ++r) {
    const auto t0 = Clock::now();
    for (auto& p : prims) p.p.execute(s, p.args);
    s.wait();
    best = std::min(best, seconds(t0));
  }
  return best;
}

dataset::Dataset random_dataset(int rows) {
  dataset::Dataset d{
      .system = System{Lattice(LatticeKind::fcc, fixtures::kCuAuA, fixtures::kCuAuA, {2, 2, 2}),
                       {species_from_symbol("Cu"), species_from_symbol("Au")}},
      .num_sites = kSites,
      .num_folds = 10,
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
  for (int r = 0; r < rows; ++r) {
    int nA = 0;
    for (int i = 0; i < kSites; ++i) {
      const auto s = static_cast<std::uint8_t>(rng.below(2));
      d.occupation.push_back(s);
      nA += s == 0;
    }
    d.composition.push_back(nA);
    d.fold.push_back(r % 10 == 9 ? dataset::kTestFold : r % 9);
    d.origin.push_back(0);
    d.energy.push_back(-3309.5 * nA + g(rng));
    for (int i = 0; i < kSites; ++i) {
      d.charge.push_back(29 + g(rng));
      d.moment.push_back(g(rng));
    }
  }
  return d;
}

// Runs bench/pytorch_reference.py; returns "key value" pairs it prints (empty if skipped).
std::map<std::string, double> run_pytorch(const std::string& python, const std::string& script,
                                          int threads, int epochs) {
  std::map<std::string, double> r;
  const std::string cmd =
      fmt::format("{} {} --threads {} --epochs {} 2>&1", python, script, threads, epochs);
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return r;
  char line[512];
  while (fgets(line, sizeof line, p)) {
    char key[128];
    double v;
    if (std::sscanf(line, "RESULT %127s %lf", key, &v) == 2)
      r[key] = v;
    else
      fmt::print("  [pytorch] {}", line);
  }
  pclose(p);
  return r;
}

int run(int argc, char** argv) {
  int threads = 1, epochs = 3;
  bool pytorch = true;
  std::string python = "/usr/bin/python3", script = LSMSS_BENCH_DIR "/pytorch_reference.py";
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--threads" && i + 1 < argc)
      threads = std::atoi(argv[++i]);
    else if (a == "--epochs" && i + 1 < argc)
      epochs = std::atoi(argv[++i]);
    else if (a == "--python" && i + 1 < argc)
      python = argv[++i];
    else if (a == "--no-pytorch")
      pytorch = false;
    else if (a == "-h" || a == "--help") {
      fmt::print(
          "usage: bench_nn [--threads N] [--epochs E] [--python PATH] [--no-pytorch]\n"
          "  Training epochs/s and inference configs/s of the paper's STL and MTL models with\n"
          "  the oneDNN backend, next to PyTorch (if PATH has torch) and the bare GEMM rate.\n");
      return 0;
    } else {
      fmt::print(stderr,
                 "usage: bench_nn [--threads N] [--epochs E] [--python PATH] [--no-pytorch]\n");
      return 2;
    }
  }
  omp_set_num_threads(threads);
  fmt::print(
      "bench_nn: {} training rows, batch {}, {} thread(s), {} timed epochs per model, oneDNN "
      "{}.{}.{}\n",
      kRows, kBatch, threads, epochs, dnnl_version()->major, dnnl_version()->minor,
      dnnl_version()->patch);
  const std::vector<Config> configs = {
      {"STL-E", {200, 200}, {Task::energy}, 0},
      {"MTL-EC", {200, 200}, {Task::energy, Task::charge}, 200},
      {"MTL-ECM", {300, 300}, {Task::energy, Task::charge, Task::moment}, 300},
  };
  std::map<std::string, double> torch;
  if (pytorch) torch = run_pytorch(python, script, threads, epochs);
  if (torch.empty())
    fmt::print("PyTorch: not measured (see the message above); ratios against it are skipped\n");

  fmt::print("\n{:<8} {:<30} {:>10} {:>10} {:>11} {:>11} {:>9} {:>10} {:>9}\n", "model", "network",
             "epochs/s", "GFLOP/s", "bare IP", "step/bare", "torch e/s", "x PyTorch", "goal");
  Rng rng(5);
  auto u = [](Rng& r) { return static_cast<float>(r.uniform(-1, 1)); };
  for (const auto& c : configs) {
    const Network net(make_spec(c));
    auto b = make_backend("onednn", threads);
    b->setup(net, kBatch);
    for (auto& p : b->params()) p = 0.05f * u(rng);
    std::vector<float> X(std::size_t(kRows) * net.inputs());
    for (auto& x : X) x = u(rng);
    std::vector<std::vector<float>> T(net.num_heads());
    std::vector<const float*> tp(net.num_heads());
    std::vector<float> alpha(net.num_heads(), 1.0f);
    std::vector<double> mse(net.num_heads());
    for (int h = 0; h < net.num_heads(); ++h) {
      T[h].resize(std::size_t(kRows) * net.spec().heads[h].outputs);
      for (auto& t : T[h]) t = u(rng);
    }
    const MseLoss loss;
    Adam adam;
    adam.reset(net.num_params());
    long step = 0;
    auto epoch = [&] {
      for (int first = 0; first < kRows; first += kBatch) {
        for (int h = 0; h < net.num_heads(); ++h)
          tp[h] = T[h].data() + std::size_t(first) * net.spec().heads[h].outputs;
        b->gradient(loss, X.data() + std::size_t(first) * net.inputs(), tp.data(), kBatch,
                    alpha.data(), mse.data());
        b->apply_optimizer(adam, ++step);
      }
    };
    epoch();                // warm-up: primitive creation and first touch of every buffer
    double t_epoch = 1e30;  // fastest epoch (as in pytorch_reference.py)
    for (int e = 0; e < epochs; ++e) {
      const auto t0 = Clock::now();
      epoch();
      t_epoch = std::min(t_epoch, seconds(t0));
    }
    const double steps = double(kRows) / kBatch;
    const double flops = step_flops(net, kBatch);
    const double t_bare = bare_inner_products_seconds(net, kBatch, 20);
    const double ratio_bare = t_bare * steps / t_epoch;
    const double torch_eps = torch.count(std::string(c.name) + ".epochs_per_s")
                                 ? torch[std::string(c.name) + ".epochs_per_s"]
                                 : 0;
    fmt::print("{:<8} {:<30} {:>10.2f} {:>10.1f} {:>8.1f} GF {:>10.0f}% {:>9} {:>10} {:>9}\n",
               c.name, net.describe(), 1 / t_epoch, flops * steps / t_epoch * 1e-9,
               flops / t_bare * 1e-9, 100 * ratio_bare,
               torch_eps > 0 ? fmt::format("{:.2f}", torch_eps) : "-",
               torch_eps > 0 ? fmt::format("{:.2f}x", 1 / t_epoch / torch_eps) : "-", ">=70%,>=2x");
  }

  // Inference through nn::Model (one-hot first layer, standardization, reference energies).
  fmt::print(
      "\ninference (nn::ModelWorkspace::predict, configurations per second)\n{:<8} {:>7} {:>14} "
      "{:>14} "
      "{:>10}\n",
      "model", "batch", "lsms-surrogate", "PyTorch", "ratio");
  const auto data = random_dataset(2000);
  for (const auto& c : configs) {
    TrainingOptions o;
    o.tasks = c.tasks;
    o.shared = c.shared;
    o.task_width = c.task_width;
    o.epochs = 1;
    o.progress = false;
    o.threads = threads;
    const Model model = train_model(data, o, 0);
    ModelWorkspace m(model);  // one per caller: reused across calls like a driver's
    std::vector<Configuration> cfg;
    for (int k = 0; k < 4096; ++k) {
      std::vector<std::uint8_t> occ(kSites);
      for (auto& x : occ) x = static_cast<std::uint8_t>(rng.below(2));
      cfg.emplace_back(std::move(occ));
    }
    for (int batch : {1, 64, 4096}) {
      const std::span<const Configuration> all(cfg);
      m.predict(all.first(batch));  // warm-up (primitive plan for this batch size)
      const int calls = std::max(3, 20000 / batch);
      double best = 1e30;
      for (int round = 0; round < 3; ++round) {  // fastest of 3 rounds, as for PyTorch
        const auto t0 = Clock::now();
        for (int k = 0; k < calls; ++k)
          m.predict(all.subspan((std::size_t(k) * batch) % (4096 - batch + 1), batch));
        best = std::min(best, seconds(t0));
      }
      const double rate = double(calls) * batch / best;
      const std::string key = fmt::format("{}.infer{}", c.name, batch);
      const double tr = torch.count(key) ? torch[key] : 0;
      fmt::print("{:<8} {:>7} {:>14.0f} {:>14} {:>10}\n", c.name, batch, rate,
                 tr > 0 ? fmt::format("{:.0f}", tr) : "-",
                 tr > 0 ? fmt::format("{:.2f}x", rate / tr) : "-");
    }
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return lsmss::bench::guarded_main(argc, argv, "bench_nn", run);
}
