// Dataset builder benchmark.
// 1. Overhead of the builder itself (planning excluded): a driver that does no work, so every
//    microsecond per configuration is the builder's (result checks, HDF5 append + flush, queue,
//    progress). Compared with a 50 ms calculation (target: < 1%), and checked directly with a
//    driver that sleeps 50 ms.
// 2. Throughput of `lsms-surrogate build` on 1 and 2 MPI ranks: with the `pair` driver and a
//    20 ms delay (pure scheduling), and with `tb` when it is registered.
// Usage: bench_builder [configs for the zero-work runs, default 2000]
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <regex>
#include <string>
#include <thread>

#include <fmt/format.h>

#include "bench/bench_args.hpp"
#include "core/driver.hpp"
#include "dataset_builder/builder.hpp"
#include "drivers/register.hpp"
#include "fixtures.hpp"

using namespace lsmss;
namespace fs = std::filesystem;

namespace {

class NullDriver : public Driver {
 public:
  NullDriver(int sites, double sleep_ms, double* busy)
      : sites_(sites), sleep_ms_(sleep_ms), busy_(busy) {}
  std::string name() const override { return "null"; }
  PropertyMask provides() const override { return kEnergy | kCharge | kMoment; }
  std::vector<Properties> evaluate(std::span<const Configuration> configs) override {
    const auto t0 = std::chrono::steady_clock::now();
    std::vector<Properties> out(configs.size());
    for (auto& p : out) {
      if (sleep_ms_ > 0)
        std::this_thread::sleep_for(std::chrono::duration<double, std::milli>(sleep_ms_));
      p.status = Status::ok;
      p.energy = -1.0;
      p.charge.assign(sites_, 29.0);
      p.moment.assign(sites_, 0.0);
      p.wall_time = sleep_ms_ * 1e-3;
    }
    *busy_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return out;
  }

 private:
  int sites_;
  double sleep_ms_;
  double* busy_;  // seconds spent inside evaluate(), over all calls
};

struct Result {
  std::size_t n = 0;
  double seconds = 0;
  double driver_seconds = 0;  // of them inside the driver
};

Result run_inprocess(const fs::path& dir, const std::string& name, int cap, const std::string& cell,
                     int batch, double sleep_ms) {
  DriverRegistry reg;
  double busy = 0;
  reg.add("null", "no work",
          [sleep_ms, &busy](const DriverContext& ctx) -> std::unique_ptr<Driver> {
            return std::make_unique<NullDriver>(ctx.system.num_sites(), sleep_ms, &busy);
          });
  const auto file = dir / (name + ".h5");
  fs::remove(file);
  const Deck deck = Deck::from_string(
      fixtures::cuau_system_lua(cell) + fmt::format("driver = 'null'\nsampling = {{ cap = {} "
                                                    "}}\ndataset = {{ file = '{}', batch = {} }}\n",
                                                    cap, file.string(), batch),
      name + ".lua");
  const System sys = System::from_deck(deck.root().table("system"));
  dataset::BuildOptions o;
  o.progress = false;
  o.verbose = false;
  const auto s = dataset::build_dataset(deck, sys, reg, o);
  return {s.calculated, s.seconds, busy};
}

// Runs the CLI and reads its "N calculations in T s" line (the calculation phase).
Result run_cli(const fs::path& dir, const std::string& name, const std::string& body, int np) {
  const auto deck = dir / (name + ".lua");
  fs::remove(dir / (name + ".h5"));
  std::FILE* f = std::fopen(deck.c_str(), "w");
  std::fputs(
      fmt::format("{}dataset = {{ file = '{}' }}\n", body, (dir / (name + ".h5")).string()).c_str(),
      f);
  std::fclose(f);
  const std::string cmd = fmt::format(
      "{}{} build -q {} 2>&1",
      np > 0 ? fmt::format("mpirun --oversubscribe --allow-run-as-root -np {} ", np) : "",
      LSMSS_CLI, deck.string());
  std::FILE* p = popen(cmd.c_str(), "r");
  std::string out;
  char buf[4096];
  while (p && std::fgets(buf, sizeof buf, p)) out += buf;
  if (p) pclose(p);
  std::smatch m;
  if (!std::regex_search(out, m, std::regex(R"((\d+) calculations in ([0-9.]+) s)"))) {
    fmt::print("  (run failed: {})\n", out.substr(0, 400));
    return {};
  }
  return {std::stoul(m[1]), std::stod(m[2])};
}

}  // namespace

static int run_benchmark(int argc, char** argv) {
  constexpr const char* kUsage =
      "usage: bench_builder [CONFIGS]\n"
      "  Dataset-builder overhead per configuration (zero-work driver: result checks, HDF5\n"
      "  append, progress) against a 50 ms calculation, and `lsms-surrogate build` throughput on\n"
      "  1 and 2 MPI ranks (pair and tb drivers). CONFIGS for the zero-work runs (default 2000).\n";
  if (lsmss::bench::wants_help(argc, argv, kUsage)) return 0;
  const int target = static_cast<int>(lsmss::bench::positional_number(argc, argv, 2000, kUsage));
  const fs::path dir = fs::temp_directory_path() / fmt::format("lsmss-bench-builder-{}", getpid());
  fs::create_directories(dir);
  // 32-site cell: compositions 0, 1, 31, 32 are whole, 29 others capped.
  const int cap = std::max(1, (target - 66) / 29);

  fmt::print("== builder overhead (zero-work driver, serial, HDF5 append + flush per batch)\n");
  for (int batch : {1, 16}) {
    const auto r = run_inprocess(dir, fmt::format("null_b{}", batch), cap, "{2,2,2}", batch, 0.0);
    const double us = 1e6 * r.seconds / static_cast<double>(r.n);
    fmt::print(
        "  batch {:>2}: {} configs in {:.3f} s = {:.1f} us/config = {:.3f}% of a 50 ms "
        "calculation\n",
        batch, r.n, r.seconds, us, 100.0 * us / 50e3);
  }
  {
    // 37 configurations of ~50 ms each: the wall time beyond the time spent inside the driver
    // is the builder's (a sleep overshoots on a loaded machine, so the driver's time is
    // measured rather than assumed to be 50 ms).
    const auto r = run_inprocess(dir, "sleep50", 5, "{2,1,1}", 1, 50.0);
    const double over = (r.seconds - r.driver_seconds) / r.n;
    fmt::print(
        "  50 ms driver: {} configs in {:.3f} s, {:.3f} s inside the driver; overhead {:.1f} "
        "us/config = "
        "{:.3f}% of the calculation\n",
        r.n, r.seconds, r.driver_seconds, 1e6 * over, 100.0 * over / (r.driver_seconds / r.n));
  }

  fmt::print(
      "\n== lsms-surrogate build on 1 and 2 MPI ranks (calculation phase; rank 0 computes too)\n");
  if (std::system("mpirun --version > /dev/null 2>&1") != 0) {
    fmt::print("  mpirun not found: skipped\n");
  } else {
    const std::string cuau = fixtures::cuau_system_lua();
    const std::string pair =
        cuau + "driver = 'pair'\npair = { delay_ms = 20 }\nsampling = { cap = 3 }\n";
    DriverRegistry reg;
    drivers::register_builtin_drivers(reg);
    std::vector<std::pair<std::string, std::string>> cases = {{"pair (20 ms delay)", pair}};
    if (reg.contains("tb"))
      cases.push_back({"tb", cuau + "driver = 'tb'\nsampling = { cap = 3 }\n"});
    else
      fmt::print("  driver tb is not registered in this build: tb skipped\n");
    for (const auto& [label, body] : cases) {
      double rate1 = 0;
      for (int np : {1, 2}) {
        const auto r = run_cli(dir, fmt::format("cli{}", np), body, np);
        if (r.n == 0) continue;
        const double rate = r.n / r.seconds;
        if (np == 1) rate1 = rate;
        fmt::print("  {:<20} np {}: {} configs in {:.2f} s = {:.1f} configs/s{}\n", label, np, r.n,
                   r.seconds, rate,
                   np == 2 && rate1 > 0 ? fmt::format(" (x{:.2f} vs np 1)", rate / rate1) : "");
      }
    }
  }
  std::error_code ec;
  fs::remove_all(dir, ec);
  return 0;
}

int main(int argc, char** argv) {
  return lsmss::bench::guarded_main(argc, argv, "bench_builder", run_benchmark);
}
