// k-point sampling of the embedded tight-binding engine: fidelity against a dense reference grid
// vs cost per 32-site configuration, side by side in one run (docs/tb.md, "k-point sampling").
// For each sampling of the CuAu and FePt cells of the real data:
//  - CPU ms per configuration (warm start on a stream of random configurations);
//  - ordering energies (L1_0, and L1_2 for CuAu) against the mean of random configurations of
//    the same composition, eV/atom;
//  - the error that matters to a surrogate: RMS over random configurations of
//    (E - E_ref) after removing the mean offset of each composition, meV/atom, next to the
//    spread of E_ref itself over those configurations (the signal);
//  - correlation of the site charge transfer with the number of unlike nearest neighbours, and
//    the RMS error of the site charges (e) and moments (muB) against the reference.
// Usage: bench_tb_kpoints [random configurations per composition, default 6]

#include <cmath>
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
#include "drivers/tb/tb_parameters.hpp"

using namespace lsmss;

namespace {

Configuration random_config(int sites, int count0, Rng& rng) {
  std::vector<std::uint8_t> occ(sites, 1);
  for (int i = 0; i < count0; ++i) occ[i] = 0;
  shuffle(occ, rng);
  return Configuration(occ);
}

struct Cell {
  std::string name;
  System sys;
  std::vector<std::pair<std::string, Configuration>> ordered;  // name, configuration
  std::vector<int> ordered_count0;
  std::vector<int> compositions;  // species-0 counts of the random sets
  std::vector<std::pair<std::string, std::string>> samplings;  // label, deck settings
};

struct Result {
  std::vector<double> energy;  // Ry, per configuration
  std::vector<std::vector<double>> charge, moment;
  double cpu_ms = 0.0, iterations = 0.0;
};

Result run(tb::TbDriver& d, const std::vector<Configuration>& configs) {
  Result r;
  double cpu = 0.0;
  for (const auto& c : configs) {
    const std::vector<Configuration> one{c};
    const double t0 = bench::thread_cpu();
    const Properties p = d.evaluate(one).at(0);
    cpu += bench::thread_cpu() - t0;
    if (!p.ok()) throw std::runtime_error("tb failed: " + p.message);
    r.energy.push_back(*p.energy);
    r.charge.push_back(p.charge);
    r.moment.push_back(p.moment);
    r.iterations += p.iterations;
  }
  r.cpu_ms = 1e3 * cpu / configs.size();
  r.iterations /= configs.size();
  return r;
}

double correlation(const std::vector<double>& x, const std::vector<double>& y) {
  const double n = static_cast<double>(x.size());
  double mx = 0, my = 0;
  for (std::size_t k = 0; k < x.size(); ++k) mx += x[k] / n, my += y[k] / n;
  double sxy = 0, sxx = 0, syy = 0;
  for (std::size_t k = 0; k < x.size(); ++k) {
    sxy += (x[k] - mx) * (y[k] - my);
    sxx += (x[k] - mx) * (x[k] - mx);
    syy += (y[k] - my) * (y[k] - my);
  }
  return sxy / std::sqrt(sxx * syy);
}

constexpr const char* kUsage =
    "usage: bench_tb_kpoints [random configurations per composition, default 6]\n"
    "Fidelity of k-point samplings of the tb driver against a 4x4x4 shifted grid, and their "
    "cost.\n";

int run_benchmark(int argc, char** argv) {
  if (bench::wants_help(argc, argv, kUsage)) return 0;
  const int per_comp = static_cast<int>(bench::positional_number(argc, argv, 6, kUsage));
  blas::set_threads(1);
  fmt::print("bench_tb_kpoints: BLAS {}, one thread\n\n", blas::description());

  std::vector<Cell> cells;
  {
    Cell c{"CuAu fcc 2x2x2", bench::cuau_cell(), {}, {}, {8, 16, 24}, {}};
    std::vector<std::uint8_t> l10(32), l12(32);
    for (int i = 0; i < 32; ++i) l10[i] = (i % 4 < 2) ? 0 : 1, l12[i] = (i % 4 == 0) ? 1 : 0;
    c.ordered = {{"L1_0", Configuration(l10)}, {"L1_2 Cu3Au", Configuration(l12)}};
    c.ordered_count0 = {16, 24};
    c.samplings = {{"Gamma SCF + 2x2x2 shifted final pass (default)", ""},
                   {"Gamma only", "final_kpoints = 'none'"},
                   {"zone corner R only", "kpoints = {1, 1, 1}, kshift = {1, 1, 1}"},
                   {"2x2x2 shifted SCF", "kpoints = {2, 2, 2}, kshift = {1, 1, 1}"}};
    cells.push_back(std::move(c));
  }
  {
    Cell c{"FePt bct 4x2x2", bench::fept_cell(), {}, {}, {8, 16, 24}, {}};
    std::vector<std::uint8_t> l10(32);
    for (int i = 0; i < 32; ++i) l10[i] = i % 2;
    c.ordered = {{"L1_0", Configuration(l10)}};
    c.ordered_count0 = {16};
    c.samplings = {{"Gamma only (default)", ""},
                   {"Gamma SCF + {1,2,2} shifted final pass", "final_kpoints = {1, 2, 2}"},
                   {"Gamma SCF + 2x2x2 shifted final pass", "final_kpoints = {2, 2, 2}"},
                   {"zone corner R only", "kpoints = {1, 1, 1}, kshift = {1, 1, 1}"},
                   {"{1,2,2} shifted SCF", "kpoints = {1, 2, 2}, kshift = {1, 1, 1}"},
                   {"2x2x2 shifted SCF", "kpoints = {2, 2, 2}, kshift = {1, 1, 1}"}};
    cells.push_back(std::move(c));
  }
  const std::string reference = "kpoints = {4, 4, 4}, kshift = {1, 1, 1}";

  for (const Cell& cell : cells) {
    Rng rng(7);
    std::vector<Configuration> configs;
    std::vector<int> comp_of;
    for (std::size_t k = 0; k < cell.compositions.size(); ++k)
      for (int r = 0; r < per_comp; ++r) {
        configs.push_back(random_config(32, cell.compositions[k], rng));
        comp_of.push_back(static_cast<int>(k));
      }
    const std::size_t nrandom = configs.size();
    for (const auto& o : cell.ordered) configs.push_back(o.second);

    const auto shells =
        cell.sys.lattice.shells(cell.sys.lattice.kind() == LatticeKind::bct ? 2 : 1);
    auto unlike_neighbours = [&](const Configuration& c, int i) {
      int n = 0;
      for (std::size_t s = 0; s < shells.sites.size(); ++s)
        for (int j : shells.sites[s][i]) n += c[j] != c[i] ? 1 : 0;
      return n;
    };

    auto ref_driver = bench::make_tb_driver(cell.sys, reference);
    const Result ref = run(*ref_driver, configs);
    fmt::print("{}: {} random configurations ({} per composition) + {} ordered; reference {}\n",
               cell.name, nrandom, per_comp, cell.ordered.size(), reference);
    fmt::print("  {:<48} {:>8} {:>5}", "sampling", "ms/conf", "iter");
    for (const auto& o : cell.ordered) fmt::print(" {:>11}", o.first + "-rnd");
    fmt::print(" {:>10} {:>10} {:>8} {:>9} {:>9}\n", "err meV/at", "sig meV/at", "r(dq,nb)",
               "dq err e", "m err muB");

    auto report = [&](const std::string& name, const Result& r) {
      fmt::print("  {:<48} {:8.1f} {:5.1f}", name, r.cpu_ms, r.iterations);
      for (std::size_t o = 0; o < cell.ordered.size(); ++o) {
        double mean = 0.0;
        int n = 0;
        for (std::size_t k = 0; k < nrandom; ++k)
          if (cell.compositions[comp_of[k]] == cell.ordered_count0[o]) mean += r.energy[k], ++n;
        mean /= n;
        fmt::print(" {:11.4f}", (r.energy[nrandom + o] - mean) / 32 * tb::kRydbergEV);
      }
      // Error after removing each composition's mean offset, and the signal (spread of E_ref).
      double err2 = 0.0, sig2 = 0.0;
      for (std::size_t k = 0; k < cell.compositions.size(); ++k) {
        double md = 0.0, mr = 0.0;
        int n = 0;
        for (std::size_t j = 0; j < nrandom; ++j)
          if (comp_of[j] == static_cast<int>(k))
            md += r.energy[j] - ref.energy[j], mr += ref.energy[j], ++n;
        md /= n, mr /= n;
        for (std::size_t j = 0; j < nrandom; ++j)
          if (comp_of[j] == static_cast<int>(k)) {
            const double e = r.energy[j] - ref.energy[j] - md, s = ref.energy[j] - mr;
            err2 += e * e, sig2 += s * s;
          }
      }
      const double to_mev = 1e3 * tb::kRydbergEV / 32;
      std::vector<double> dq, nb;
      for (std::size_t j = 0; j < nrandom; ++j)
        for (int i = 0; i < 32; ++i)
          if (configs[j][i] == 0) {
            dq.push_back(r.charge[j][i] - cell.sys.species[0].Z);
            nb.push_back(unlike_neighbours(configs[j], i));
          }
      // Site charges and moments against the reference, RMS over all sites.
      double q2 = 0.0, m2 = 0.0;
      for (std::size_t j = 0; j < nrandom; ++j)
        for (int i = 0; i < 32; ++i) {
          q2 += std::pow(r.charge[j][i] - ref.charge[j][i], 2);
          m2 += std::pow(r.moment[j][i] - ref.moment[j][i], 2);
        }
      fmt::print(" {:10.2f} {:10.2f} {:8.2f} {:9.4f} {:9.4f}\n", to_mev * std::sqrt(err2 / nrandom),
                 to_mev * std::sqrt(sig2 / nrandom), correlation(dq, nb),
                 std::sqrt(q2 / (32.0 * nrandom)), std::sqrt(m2 / (32.0 * nrandom)));
    };
    for (const auto& [label, settings] : cell.samplings) {
      auto d = bench::make_tb_driver(cell.sys, settings);
      report(label, run(*d, configs));
    }
    report("4x4x4 shifted SCF (reference)", ref);
    fmt::print("\n");
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return lsmss::bench::guarded_main(argc, argv, "bench_tb_kpoints", run_benchmark);
}
