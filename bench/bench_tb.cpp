// Embedded tight-binding engine benchmark (issue 4 cost target: a 32-site configuration in
// <= 50 ms per core, i.e. 32,000 configurations in <= 15 minutes on 2 cores).
// For the CuAu and FePt cells of the real data, default deck settings (`tb = {}`):
//  1. single thread, cold start (every configuration from neutral atoms);
//  2. single thread, warm start on a stream of unrelated random configurations (what the
//     dataset builder feeds one rank) and on a chain of neighbouring configurations (one swap
//     apart, as in Monte Carlo), side by side with cold starts of the same configurations;
//  3. throughput of 2 processes (the driver is sequential with one BLAS thread; the dataset
//     builder runs one MPI rank per core), and the projected time of a 32,000-configuration
//     dataset on 2 cores.
// Usage: bench_tb [configurations per measurement, default 40]
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "bench/bench_args.hpp"
#include "bench/bench_tb_util.hpp"
#include "core/blas_runtime.hpp"
#include "core/deck.hpp"
#include "core/rng.hpp"
#include "core/system.hpp"
#include "drivers/tb/tb_driver.hpp"

using namespace lsmss;

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// Random configurations with a uniformly drawn composition 1..sites-1 (as the sampler does).
std::vector<Configuration> random_stream(int sites, int n, unsigned seed) {
  Rng rng(seed);
  std::vector<Configuration> out;
  for (int k = 0; k < n; ++k) {
    std::vector<std::uint8_t> occ(sites, 1);
    const int a = 1 + static_cast<int>(rng.below(sites - 1));
    std::fill(occ.begin(), occ.begin() + a, 0);
    shuffle(occ, rng);
    out.emplace_back(occ);
  }
  return out;
}

// A chain of configurations, each one A-B swap away from the previous (equiatomic start).
std::vector<Configuration> swap_chain(int sites, int n, unsigned seed) {
  Rng rng(seed);
  std::vector<std::uint8_t> occ(sites, 1);
  std::fill(occ.begin(), occ.begin() + sites / 2, 0);
  shuffle(occ, rng);
  auto pick = [sites](Rng& r) { return static_cast<int>(r.below(sites)); };
  std::vector<Configuration> out;
  for (int k = 0; k < n; ++k) {
    int i = pick(rng), j = pick(rng);
    while (occ[j] == occ[i]) j = pick(rng);
    std::swap(occ[i], occ[j]);
    out.emplace_back(occ);
  }
  return out;
}

struct Timing {
  double seconds = 0.0;     // wall time of the whole batch
  double cpu = 0.0;         // CPU time of the whole batch
  double iterations = 0.0;  // mean SCF iterations
  int failed = 0;           // not ok
  int n = 0;
  double ms() const { return 1e3 * seconds / n; }
  double cpu_ms() const { return 1e3 * cpu / n; }
};

// Evaluates one configuration per call (as the dataset builder does).
Timing run(tb::TbDriver& d, const std::vector<Configuration>& configs) {
  Timing t;
  t.n = static_cast<int>(configs.size());
  const auto t0 = Clock::now();
  const double c0 = bench::thread_cpu();
  for (const auto& c : configs) {
    const std::vector<Configuration> one{c};
    const Properties p = d.evaluate(one).at(0);
    t.iterations += p.iterations;
    if (!p.ok()) ++t.failed;
  }
  t.seconds = seconds_since(t0);
  t.cpu = bench::thread_cpu() - c0;
  t.iterations /= std::max(1, t.n);
  return t;
}

// `procs` forked processes, each with its own driver, evaluate the same number of configurations
// from their own stream; the returned wall time runs from the moment all are set up (a pipe
// barrier) to the end of the slowest; `cpu` receives the largest CPU time of one process.
double run_processes(const System& sys, int procs, int per_proc, double& cpu) {
  int ready[2], go[2], result[2];
  if (pipe(ready) != 0 || pipe(go) != 0 || pipe(result) != 0) return -1.0;
  std::vector<pid_t> kids;
  for (int p = 0; p < procs; ++p) {
    const pid_t pid = fork();
    if (pid == 0) {
      auto d = bench::make_tb_driver(sys, "");
      const auto configs = random_stream(sys.num_sites(), per_proc, 100 + p);
      char b = 'r';
      if (write(ready[1], &b, 1) != 1) _exit(2);
      if (read(go[0], &b, 1) != 1) _exit(2);
      const Timing t = run(*d, configs);
      if (write(result[1], &t.cpu, sizeof t.cpu) != sizeof t.cpu) _exit(2);
      _exit(t.failed == 0 ? 0 : 1);
    }
    kids.push_back(pid);
  }
  char b;
  for (int p = 0; p < procs; ++p)
    if (read(ready[0], &b, 1) != 1) return -1.0;
  const auto t0 = Clock::now();
  for (int p = 0; p < procs; ++p)
    if (write(go[1], "g", 1) != 1) return -1.0;
  bool ok = true;
  for (pid_t pid : kids) {
    int st = 0;
    waitpid(pid, &st, 0);
    ok = ok && WIFEXITED(st) && WEXITSTATUS(st) == 0;
  }
  const double s = seconds_since(t0);
  cpu = 0.0;
  for (int p = 0; p < procs; ++p) {
    double c = 0.0;
    if (read(result[0], &c, sizeof c) != sizeof c) ok = false;
    cpu = std::max(cpu, c);
  }
  for (int fd : {ready[0], ready[1], go[0], go[1], result[0], result[1]}) close(fd);
  return ok ? s : -1.0;
}

std::string loadavg() {
  std::ifstream in("/proc/loadavg");
  std::string a, b, c;
  in >> a >> b >> c;
  return a.empty() ? "n/a" : a + " " + b + " " + c;
}

}  // namespace

static int run_benchmark(int argc, char** argv) {
  constexpr const char* kUsage =
      "usage: bench_tb [CONFIGS]\n"
      "  Cost of the tb engine per 32-site configuration (CuAu fcc, FePt bct, default deck\n"
      "  settings): cold vs warm start on one thread, 2 processes, and the projected time of a\n"
      "  32,000-configuration dataset on 2 cores. CONFIGS per measurement (default 40, >= 4).\n";
  if (lsmss::bench::wants_help(argc, argv, kUsage)) return 0;
  const int n =
      std::max(4, static_cast<int>(lsmss::bench::positional_number(argc, argv, 40, kUsage)));
  fmt::print("bench_tb: {} configurations per measurement; load average at start {}; BLAS: {}\n", n,
             loadavg(), blas::description());
  fmt::print(
      "(shared machine: other processes compete for the 2 cores; the load average is "
      "printed with each block)\n\n");

  struct Cell {
    std::string label;
    System sys;
  };
  const std::vector<Cell> cells = {
      {"CuAu fcc a=7.2377 2x2x2", bench::cuau_cell()},
      {"FePt bct a=5.218 c=7.058 4x2x2", bench::fept_cell()},
  };
  double worst_ms_per_core = 0.0;
  for (const Cell& cell : cells) {
    const int sites = cell.sys.num_sites();
    auto t0 = Clock::now();
    auto cold = bench::make_tb_driver(cell.sys, "warm_start = false");
    const double setup = seconds_since(t0);
    const auto fk = cold->final_kpoints();
    fmt::print("== {} ({} sites), default settings (s+d basis, SCF at Gamma, {})\n", cell.label,
               sites,
               fk == std::array<int, 3>{1, 1, 1}
                   ? std::string("no final pass")
                   : fmt::format("final pass on the {}x{}x{} shifted grid", fk[0], fk[1], fk[2]));
    fmt::print("driver setup (element references, once per process): {:.2f} s\n", setup);
    auto warm = bench::make_tb_driver(cell.sys, "");
    const auto stream = random_stream(sites, n, 1);
    const auto chain = swap_chain(sites, n, 2);

    run(*cold, random_stream(sites, 3, 99));  // first touch of the buffers
    const Timing c_stream = run(*cold, stream);
    const Timing w_stream = run(*warm, stream);
    warm->reset_warm_start();
    const Timing c_chain = run(*cold, chain);
    const Timing w_chain = run(*warm, chain);
    auto row = [](const char* what, const Timing& c, const Timing& w) {
      fmt::print(
          "  {:<33} cold {:6.1f} ms cpu ({:6.1f} wall, {:4.1f} it) | warm {:6.1f} ms cpu"
          " ({:6.1f} wall, {:4.1f} it) | warm/cold cpu {:.2f}{}\n",
          what, c.cpu_ms(), c.ms(), c.iterations, w.cpu_ms(), w.ms(), w.iterations, w.cpu / c.cpu,
          c.failed + w.failed ? fmt::format("  ({} not ok)", c.failed + w.failed) : "");
    };
    fmt::print("single thread, load {}:\n", loadavg());
    row("random stream (all compositions)", c_stream, w_stream);
    row("swap chain (one swap apart)", c_chain, w_chain);

    const int per_proc = n;
    double cpu1 = 0.0, cpu2 = 0.0;
    const double s1 = run_processes(cell.sys, 1, per_proc, cpu1);
    const double s2 = run_processes(cell.sys, 2, per_proc, cpu2);
    if (s1 < 0 || s2 < 0) {
      fmt::print("  process run failed\n");
      return 1;
    }
    const double thr1 = per_proc / s1, thr2 = 2 * per_proc / s2;
    const double ms_per_core = 2e3 / thr2;        // 2 cores busy
    const double cpu_ms = 1e3 * cpu2 / per_proc;  // per configuration on a core of its own
    worst_ms_per_core = std::max(worst_ms_per_core, cpu_ms);
    const double minutes = 32000.0 / thr2 / 60.0;
    const double minutes_cpu = 32000.0 * cpu_ms * 1e-3 / 2.0 / 60.0;
    fmt::print("processes (default settings, warm start, random stream), load {}:\n", loadavg());
    fmt::print("  1 process : {:7.1f} configs/s ({:.1f} ms/config)\n", thr1, 1e3 / thr1);
    fmt::print(
        "  2 processes: {:7.1f} configs/s ({:.1f} ms wall per config per core, {:.1f} ms cpu)"
        "   speed-up {:.2f}\n",
        thr2, ms_per_core, cpu_ms, thr2 / thr1);
    fmt::print(
        "  projected 32,000 configurations on 2 cores at the measured wall-clock rate "
        "(this load): {:.1f} min\n",
        minutes);
    fmt::print(
        "  projected 32,000 configurations on 2 dedicated cores (cpu time): {:.1f} min  "
        "(goal <= 15 min: {}); {:.2f}x the 50 ms per-core target\n",
        minutes_cpu, minutes_cpu <= 15.0 ? "met" : "NOT met", cpu_ms / 50.0);

    // The higher-fidelity option for energetics (docs/tb.md): 2x2x2 shifted k grid.
    auto fine = bench::make_tb_driver(cell.sys, "kpoints = {2, 2, 2}, kshift = {1, 1, 1}");
    const auto few = random_stream(sites, std::max(2, n / 8), 3);
    const Timing tf = run(*fine, few);
    fmt::print(
        "  option kpoints = {{2,2,2}}, kshift = {{1,1,1}} (warm): {:.1f} ms cpu per config "
        "({:.1f} it) -> {:.1f} min for 32,000 on 2 cores\n\n",
        tf.cpu_ms(), tf.iterations, 32000.0 * tf.cpu / tf.n / 2.0 / 60.0);
  }
  fmt::print(
      "worst cell: {:.1f} ms cpu per configuration per core (target 50 ms); load at end {}\n",
      worst_ms_per_core, loadavg());
  return 0;
}

int main(int argc, char** argv) {
  return lsmss::bench::guarded_main(argc, argv, "bench_tb", run_benchmark);
}
