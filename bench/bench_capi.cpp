// The C API's cost: configurations/s of lsms_surrogate_evaluate against nn::Ensemble::predict,
// and Monte Carlo swaps/s of lsms_surrogate_mc_propose/accept against mc::FirstLayerEnergy,
// on the same model files and inputs, measured side by side (interleaved, best of 3) in one run.
// The C API goes through liblsms_surrogate.so; the C++ path is the in-process library.
//
// Usage: bench_capi [--seconds S] model.h5 [more model files]
//   (models from `lsms-surrogate train`; docs/plugin.md says how the reported ones were made)
// Run with OMP_NUM_THREADS=1: rates are then per CPU second of the calling thread (what a loaded,
// shared machine does not distort); the wall-clock ratio is printed next to it.
#include <time.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "bench/bench_args.hpp"
#include "lsms_surrogate.h"
#include "montecarlo/energy.hpp"
#include "nn/first_layer.hpp"
#include "nn/model.hpp"

using namespace lsmss;

namespace {

constexpr int kReps = 3;

double now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

double thread_cpu() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

// Items per CPU second of this thread and per wall second, best of the repetitions so far.
struct Rate {
  double cpu = 0, wall = 0;
};

// f() handles `items` items; runs it for at least `seconds` of CPU time.
template <class F>
void measure(Rate& best, long items, double seconds, F&& f) {
  f();
  long done = 0;
  const double c0 = thread_cpu(), w0 = now();
  double c = 0;
  do {
    f();
    done += items;
    c = thread_cpu() - c0;
  } while (c < seconds);
  best.cpu = std::max(best.cpu, static_cast<double>(done) / c);
  best.wall = std::max(best.wall, static_cast<double>(done) / (now() - w0));
}

void print_row(const std::string& what, const Rate& cpp, const Rate& capi) {
  fmt::print("{:>20} {:>14.0f} {:>14.0f} {:>9.3f} {:>9.3f}\n", what, cpp.cpu, capi.cpu,
             capi.cpu / cpp.cpu, capi.wall / cpp.wall);
}

struct Lcg {
  unsigned long long s = 7;
  unsigned next() {
    s = s * 6364136223846793005ULL + 1442695040888963407ULL;
    return static_cast<unsigned>(s >> 33);
  }
};

void check(int status, lsms_surrogate* h, const char* what) {
  if (status != LSMS_SURROGATE_OK)
    throw std::runtime_error(
        fmt::format("{}: {}", what, h ? lsms_surrogate_error(h) : lsms_surrogate_open_error()));
}

// Half-filled random configurations, as ints (C API) and Configurations (C++).
void random_configs(int count, int sites, Lcg& rng, std::vector<int>& occ,
                    std::vector<Configuration>& configs) {
  occ.assign(static_cast<std::size_t>(count) * sites, 0);
  configs.clear();
  for (int k = 0; k < count; ++k) {
    std::vector<std::uint8_t> c(sites);
    for (int i = 0; i < sites; ++i) c[i] = i % 2;
    for (int i = sites - 1; i > 0; --i) std::swap(c[i], c[rng.next() % (i + 1)]);
    for (int i = 0; i < sites; ++i) occ[static_cast<std::size_t>(k) * sites + i] = c[i];
    configs.emplace_back(std::move(c));
  }
}

}  // namespace

int main(int argc, char** argv) {
  static const char* usage =
      "usage: bench_capi [--seconds S] model.h5 [more model files]\n"
      "configurations/s and swaps/s through the C API vs the in-process C++ path\n";
  if (bench::wants_help(argc, argv, usage)) return 0;
  return bench::guarded_main(argc, argv, "bench_capi", [](int argc, char** argv) {
    double seconds = 1.0;
    std::vector<std::string> files;
    for (int i = 1; i < argc; ++i) {
      const std::string a = argv[i];
      if (a == "--seconds" && i + 1 < argc)
        seconds = std::atof(argv[++i]);
      else
        files.push_back(a);
    }
    if (files.empty() || !(seconds > 0)) {
      std::fputs(usage, stderr);
      return 2;
    }
    std::vector<std::filesystem::path> paths(files.begin(), files.end());
    const nn::Ensemble ensemble = nn::Ensemble::load(paths);
    nn::EnsembleWorkspace workspace = ensemble.make_workspace();
    std::vector<const char*> cpaths;
    cpaths.reserve(files.size());
    for (const auto& f : files) cpaths.push_back(f.c_str());
    lsms_surrogate* h = nullptr;
    check(lsms_surrogate_open(cpaths.data(), static_cast<int>(cpaths.size()), "auto", 0, &h),
          nullptr, "open");
    const System& sys = ensemble.member(0).system();
    const int N = sys.num_sites();
    fmt::print("model: {} ({} sites), {} member(s), first-layer width {}; OpenMP threads {}\n",
               sys.name(), N, ensemble.size(), ensemble.member(0).first_layer_width(),
               std::getenv("OMP_NUM_THREADS") ? std::getenv("OMP_NUM_THREADS") : "(default)");
    Lcg rng;

    fmt::print("\n{:>20} {:>14} {:>14} {:>9} {:>9}\n", "configurations/s", "C++ predict", "C API",
               "C/C++", "(wall)");
    for (int batch : {1, 32, 1024}) {
      std::vector<int> occ;
      std::vector<Configuration> configs;
      random_configs(batch, N, rng, occ, configs);
      std::vector<double> e(batch), es(batch);
      Rate cpp, capi;
      for (int rep = 0; rep < kReps; ++rep) {
        measure(cpp, batch, seconds, [&] {
          const auto p = ensemble.predict(configs, workspace);
          e[0] = *p[0].energy;
        });
        measure(capi, batch, seconds, [&] {
          check(lsms_surrogate_evaluate(h, batch, N, occ.data(), e.data(), es.data(), nullptr,
                                        nullptr, nullptr, nullptr),
                h, "evaluate");
        });
      }
      print_row(fmt::format("batch {}", batch), cpp, capi);
    }

    fmt::print("\n{:>20} {:>14} {:>14} {:>9} {:>9}\n", "swaps/s (proposed)", "C++ fast path",
               "C API", "C/C++", "(wall)");
    std::vector<std::unique_ptr<nn::ModelFirstLayer>> members;
    std::vector<nn::FirstLayerModel*> member_ptrs;
    for (std::size_t m = 0; m < ensemble.size(); ++m) {
      members.push_back(std::make_unique<nn::ModelFirstLayer>(ensemble.member(m)));
      member_ptrs.push_back(members.back().get());
    }
    for (int walkers : {1, 64}) {
      std::vector<int> occ;
      std::vector<Configuration> configs;
      random_configs(walkers, N, rng, occ, configs);
      mc::FirstLayerEnergy fast(member_ptrs, sys.num_species());
      std::vector<mc::EnergyResult> cur(walkers), prop(walkers);
      fast.reset(configs, cur);
      check(lsms_surrogate_mc_set(h, walkers, N, occ.data(), nullptr, nullptr), h, "mc_set");
      std::vector<mc::Swap> swaps(walkers);
      std::vector<int> si(walkers), sj(walkers);
      std::vector<double> de(walkers), ep(walkers), esp(walkers);
      // Propose a random swap per walker, accept half: what a Metropolis step does around them.
      auto cpp_step = [&] {
        for (int w = 0; w < walkers; ++w) swaps[w] = {int(rng.next() % N), int(rng.next() % N)};
        fast.propose(configs, swaps, prop);
        for (int w = 0; w < walkers; ++w)
          if (rng.next() & 1) {
            fast.accept(w);
            std::swap(configs[w][swaps[w].i], configs[w][swaps[w].j]);
            cur[w] = prop[w];
          }
      };
      auto capi_step = [&] {
        for (int w = 0; w < walkers; ++w) si[w] = int(rng.next() % N), sj[w] = int(rng.next() % N);
        check(lsms_surrogate_mc_propose(h, si.data(), sj.data(), de.data(), ep.data(), esp.data()),
              h, "mc_propose");
        for (int w = 0; w < walkers; ++w)
          if (rng.next() & 1) check(lsms_surrogate_mc_accept(h, w), h, "mc_accept");
      };
      Rate cpp, capi;
      for (int rep = 0; rep < kReps; ++rep) {
        measure(cpp, walkers, seconds, cpp_step);
        measure(capi, walkers, seconds, capi_step);
      }
      print_row(fmt::format("{} walker(s)", walkers), cpp, capi);
    }
    lsms_surrogate_close(h);
    return 0;
  });
}
