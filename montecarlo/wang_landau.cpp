// Wang-Landau sampling of the configurational density of states at fixed composition.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <limits>
#include <numeric>

#include <fmt/format.h>

#include "core/hdf5.hpp"
#include "core/mpi.hpp"
#include "core/progress.hpp"
#include "montecarlo/checkpoint.hpp"
#include "montecarlo/sampler.hpp"
#include "montecarlo/sampler_common.hpp"
#include "montecarlo/sro.hpp"

namespace lsmss::mc {

double ln_multinomial(const std::vector<int>& counts) {
  int n = 0;
  double r = 0;
  for (int c : counts) {
    n += c;
    r -= std::lgamma(c + 1.0);
  }
  return r + std::lgamma(n + 1.0);
}

TemperatureResult thermodynamics_from_dos(const std::vector<DosBin>& dos, double T, int n,
                                          const std::vector<double>* e2) {
  TemperatureResult r;
  r.temperature = T;
  const double kT = kBoltzmannRyPerK * T;
  auto bin_energy = [&](const DosBin& b) {
    return std::isfinite(b.mean) ? b.mean : 0.5 * (b.lo + b.hi);
  };
  // log-sum-exp over the bins with a density of states, shifted by the largest term.
  double mx = -std::numeric_limits<double>::infinity();
  for (const auto& b : dos)
    if (std::isfinite(b.ln_g)) mx = std::max(mx, b.ln_g - bin_energy(b) / kT);
  if (!std::isfinite(mx)) return r;
  double z = 0, u = 0, u2 = 0;
  const std::size_t nsro = dos.empty() ? 0 : dos.front().sro.size();
  std::vector<double> a(nsro, 0.0), aw(nsro, 0.0);
  for (std::size_t k = 0; k < dos.size(); ++k) {
    const DosBin& b = dos[k];
    if (!std::isfinite(b.ln_g)) continue;
    const double e = bin_energy(b);
    const double w = std::exp(b.ln_g - e / kT - mx);
    z += w;
    u += w * e;
    u2 += w * (e2 && std::isfinite((*e2)[k]) ? (*e2)[k] : e * e);
    for (std::size_t s = 0; s < nsro && s < b.sro.size(); ++s)
      if (std::isfinite(b.sro[s])) a[s] += w * b.sro[s], aw[s] += w;
  }
  u /= z;
  u2 /= z;
  r.energy = u;
  r.heat_capacity = std::max(0.0, u2 - u * u) / (n * kT * kT);
  const double lnz = mx + std::log(z);
  r.free_energy = -kT * lnz;
  r.entropy = (u - r.free_energy) / (n * kT);
  for (std::size_t s = 0; s < nsro; ++s) r.sro.push_back(aw[s] > 0 ? a[s] / aw[s] : NAN);
  r.sro_err.assign(nsro, NAN);
  return r;
}

namespace {

enum Counter { kAttempts = 0, kAccepted, kFailed, kFallbacks, kAcquired, kNumCounters };

struct State : WalkerState {
  double emin = 0, emax = 0, width = 0;
  int nbins = 0;
  double ln_f = 1;
  long iterations = 0;  // ln f reductions so far
  long sweeps = 0;      // Wang-Landau sweeps so far
  long sweeps_in_iteration = 0;
  bool one_over_t = false;  // in the 1/t phase (ln f = bins / attempted moves)
  bool complete = false;
  std::vector<double> ln_g;
  std::vector<std::int64_t> hist;
  std::vector<std::uint8_t> visited;
  std::vector<double> acc;  // bins x (3 + nsro): samples, sum (E-emin), sum (E-emin)^2, sum alpha
  std::vector<std::int64_t> counters = std::vector<std::int64_t>(kNumCounters, 0);
};

constexpr const char* kKind = "lsms-surrogate montecarlo checkpoint (wang_landau)";

void save(const std::filesystem::path& path, const Settings& s, const State& st) {
  CheckpointWriter w(path, kKind, s.fingerprint());
  hid_t f = w.file();
  h5::write_attr(f, "window", std::vector<double>{st.emin, st.emax, st.width});
  h5::write_attr(f, "bins", static_cast<std::int64_t>(st.nbins));
  h5::write_attr(f, "ln_f", st.ln_f);
  h5::write_attr(f, "iterations", static_cast<std::int64_t>(st.iterations));
  h5::write_attr(f, "sweeps", static_cast<std::int64_t>(st.sweeps));
  h5::write_attr(f, "sweeps_in_iteration", static_cast<std::int64_t>(st.sweeps_in_iteration));
  h5::write_attr(f, "complete", static_cast<std::int64_t>(st.complete));
  h5::write_attr(f, "one_over_t", static_cast<std::int64_t>(st.one_over_t));
  st.write(f);
  h5::write(f, "ln_g", st.ln_g);
  h5::write(f, "histogram", st.hist);
  h5::write(f, "visited", st.visited);
  h5::write(f, "accumulators", st.acc);
  h5::write(f, "counters", st.counters);
  w.commit();
}

State load(const std::filesystem::path& path, const Settings& s, int nsro) {
  CheckpointReader r(path, kKind, s.fingerprint());
  hid_t f = r.file();
  State st;
  const auto win = h5::read_attr_doubles(f, "window");
  if (win.size() != 3) throw FileError(fmt::format("checkpoint '{}': bad window", path.string()));
  st.emin = win[0], st.emax = win[1], st.width = win[2];
  st.nbins = static_cast<int>(h5::read_attr_int(f, "bins"));
  st.ln_f = h5::read_attr_double(f, "ln_f");
  st.iterations = h5::read_attr_int(f, "iterations");
  st.sweeps = h5::read_attr_int(f, "sweeps");
  st.sweeps_in_iteration = h5::read_attr_int(f, "sweeps_in_iteration");
  st.complete = h5::read_attr_int(f, "complete") != 0;
  st.one_over_t = h5::read_attr_int(f, "one_over_t") != 0;
  st.read(f, s.num_sites(), s.walkers);
  st.ln_g = h5::read<double>(f, "ln_g");
  st.hist = h5::read<std::int64_t>(f, "histogram");
  st.visited = h5::read<std::uint8_t>(f, "visited");
  st.acc = h5::read<double>(f, "accumulators");
  st.counters = h5::read<std::int64_t>(f, "counters");
  const std::size_t nb = st.nbins;
  if (st.ln_g.size() != nb || st.hist.size() != nb || st.visited.size() != nb ||
      st.acc.size() != nb * (3 + nsro) || st.counters.size() != kNumCounters)
    throw FileError(fmt::format("checkpoint '{}': arrays have the wrong size", path.string()));
  return st;
}

// Finds the energy range by short runs from random starts: first at infinite temperature (to
// learn the energy scale sigma), then half of the walkers anneal towards low energy and half
// towards high energy (negative temperature) with |beta| from 0.1/sigma to 30/sigma.
std::pair<double, double> scan_window(const System& system, const Settings& s, Evaluator& ev,
                                      const RunOptions& opt, long& steps) {
  Settings scan = s;
  scan.initial.reset();
  scan.seed = s.seed ^ 0x5CA9'5CA9'5CA9'5CA9ull;
  const int count = std::max(2, s.walkers + s.walkers % 2);
  Walkers walkers = make_walkers(system, scan, count);
  if (!walkers.movable()) fail("the composition has a single species: no swap move exists");
  std::vector<EnergyResult> cur(count), prop(count);
  ev.reset(walkers, cur);
  std::vector<double> e(count);
  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  for (int w = 0; w < count; ++w) {
    if (!cur[w].ok) fail("the energy of a scan configuration could not be evaluated");
    e[w] = cur[w].energy;
    lo = std::min(lo, e[w]);
    hi = std::max(hi, e[w]);
  }
  const int n = system.num_sites();
  const int random_sweeps = std::max(1, s.wl.scan_sweeps / 10);
  double m1 = 0, m2 = 0, ns = 0;
  Progress progress("wl scan", s.wl.scan_sweeps, "sweeps", opt.progress);
  for (int sweep = 0; sweep < s.wl.scan_sweeps; ++sweep) {
    double beta = 0;
    if (sweep >= random_sweeps) {
      const double sigma = ns > 1 ? std::sqrt(std::max(0.0, m2 / ns - (m1 / ns) * (m1 / ns))) : 0;
      if (!(sigma > 0))
        fail("the energy does not change with the configuration: no window to sample");
      const double x = s.wl.scan_sweeps - random_sweeps > 1
                           ? double(sweep - random_sweeps) / (s.wl.scan_sweeps - random_sweeps - 1)
                           : 1.0;
      beta = 0.1 / sigma * std::pow(300.0, x);
    }
    for (int k = 0; k < n; ++k) {
      walkers.propose();
      ev.propose(walkers, prop);
      for (int w = 0; w < count; ++w) {
        if (!prop[w].ok) continue;
        const double b = w % 2 == 0 ? beta : -beta;
        const double de = prop[w].energy - e[w];
        if (b * de <= 0 || walkers.rng(w).uniform() < std::exp(-b * de)) {
          ev.accept(w);
          walkers.apply(w);
          e[w] = prop[w].energy;
          lo = std::min(lo, e[w]);
          hi = std::max(hi, e[w]);
        }
      }
    }
    steps += static_cast<long>(n) * count;
    if (sweep < random_sweeps)
      for (double x : e) m1 += x, m2 += x * x, ns += 1;
    if (ev.energy().drifts()) {
      ev.reset(walkers, cur);
      for (int w = 0; w < count; ++w) e[w] = cur[w].energy;
    }
    progress.advance(1);
  }
  progress.finish();
  return {lo, hi};
}

// A new run: the energy window (given, or found by a scan), the bins, flat ln g and histograms,
// and the walkers' first configurations.
void start_state(State& st, const System& system, const Settings& s, Evaluator& ev,
                 const RunOptions& opt, int ncol) {
  if (s.wl.energy_min) {
    st.emin = *s.wl.energy_min;
    st.emax = *s.wl.energy_max;
  } else {
    auto [lo, hi] = scan_window(system, s, ev, opt, st.steps);
    const double span = hi - lo;
    if (!(span > 0)) fail("the window scan found a single energy ({} Ry): nothing to sample", lo);
    st.emin = lo - s.wl.margin * span;
    st.emax = hi + s.wl.margin * span;
    if (opt.log)
      opt.log(
          fmt::format("window scan: energies {:.8f} .. {:.8f} Ry seen; window {:.8f} .. {:.8f} Ry",
                      lo, hi, st.emin, st.emax));
  }
  if (s.wl.bin_width > 0) {
    st.nbins = static_cast<int>(std::ceil((st.emax - st.emin) / s.wl.bin_width - 1e-9));
    st.width = s.wl.bin_width;
    st.emax = st.emin + st.nbins * st.width;
  } else {
    st.nbins = s.wl.bins;
    st.width = (st.emax - st.emin) / st.nbins;
  }
  st.ln_f = s.wl.ln_f_initial;
  st.ln_g.assign(st.nbins, 0.0);
  st.hist.assign(st.nbins, 0);
  st.visited.assign(st.nbins, 0);
  st.acc.assign(static_cast<std::size_t>(st.nbins) * ncol, 0.0);
  Walkers init = make_walkers(system, s, s.walkers);
  st.configs.assign(init.configs().begin(), init.configs().end());
  st.rngs = init.rngs();
}

// The modification factor after a sweep: halved when the histogram is flat, then (optionally)
// the 1/t schedule; marks the run complete below ln_f_final. True when ln f changed.
template <class Log>
bool update_ln_f(State& st, const Settings& s, const Log& log) {
  int nv = 0;
  for (int b = 0; b < st.nbins; ++b) nv += st.visited[b];
  // 1/t phase (Belardinelli and Pereyra, J. Chem. Phys. 127, 184105 (2007)): ln f follows
  // bins / moves, which removes the saturation error of the halving schedule.
  const double one_over_t = static_cast<double>(nv) / static_cast<double>(st.counters[kAttempts]);
  if (st.one_over_t) {
    st.ln_f = one_over_t;
    if (st.ln_f < s.wl.ln_f_final) st.complete = true;
    return true;
  }
  if (st.sweeps_in_iteration % s.wl.check_interval != 0) return false;
  double sum = 0, mn = std::numeric_limits<double>::infinity();
  for (int b = 0; b < st.nbins; ++b)
    if (st.visited[b]) {
      sum += static_cast<double>(st.hist[b]);
      mn = std::min(mn, static_cast<double>(st.hist[b]));
    }
  if (!(nv > 0 && mn >= s.wl.flatness * sum / nv)) return false;
  log(
      fmt::format("wang-landau: ln f = {:.3e} flat after {} sweeps ({} of {} bins visited, "
                  "min/mean histogram {:.3f})",
                  st.ln_f, st.sweeps_in_iteration, nv, st.nbins, mn / (sum / nv)));
  st.ln_f *= 0.5;
  ++st.iterations;
  st.sweeps_in_iteration = 0;
  std::fill(st.hist.begin(), st.hist.end(), 0);
  if (s.wl.one_over_t && st.ln_f <= one_over_t) {
    st.one_over_t = true;
    st.ln_f = one_over_t;
    log(fmt::format("wang-landau: switching to the 1/t schedule at ln f = {:.3e}", st.ln_f));
  }
  if (st.ln_f < s.wl.ln_f_final) st.complete = true;
  return true;
}

// The density of states per bin, normalized so that the sum over visited bins of g is the
// number of configurations at this composition, with the bins' samples; `e2`: <E^2> per bin.
std::vector<DosBin> density_of_states(const State& st, const Settings& s, int ncol,
                                      std::vector<double>& e2) {
  const int nsro = ncol - 3;
  const double ln_total = ln_multinomial(s.counts);
  double mx = -std::numeric_limits<double>::infinity();
  for (int b = 0; b < st.nbins; ++b)
    if (st.visited[b]) mx = std::max(mx, st.ln_g[b]);
  double z = 0;
  for (int b = 0; b < st.nbins; ++b)
    if (st.visited[b]) z += std::exp(st.ln_g[b] - mx);
  const double shift = ln_total - (mx + std::log(z));
  e2.assign(st.nbins, NAN);
  std::vector<DosBin> dos;
  for (int b = 0; b < st.nbins; ++b) {
    DosBin d;
    d.lo = st.emin + b * st.width;
    d.hi = d.lo + st.width;
    d.visited = st.visited[b] != 0;
    d.ln_g = d.visited ? st.ln_g[b] + shift : NAN;
    const double* a = st.acc.data() + static_cast<std::size_t>(b) * ncol;
    d.samples = static_cast<long>(a[0]);
    if (a[0] > 0) {
      d.mean = st.emin + a[1] / a[0];
      e2[b] = (a[2] / a[0]) + 2 * st.emin * (a[1] / a[0]) + st.emin * st.emin;
      for (int k = 0; k < nsro; ++k) d.sro.push_back(a[3 + k] / a[0]);
    } else {
      d.sro.assign(nsro, NAN);
    }
    dos.push_back(d);
  }
  return dos;
}

// Bin of an energy, -1 outside the window.
int energy_bin(const State& st, double e) {
  if (!(e >= st.emin && e < st.emax)) return -1;
  return std::min(st.nbins - 1, static_cast<int>((e - st.emin) / st.width));
}

// Walkers outside the window walk in: a move is taken when it does not increase the distance to
// the window. `refresh` re-evaluates the walkers' energies (drifting energy sources).
template <class Refresh>
void walk_into_window(State& st, Walkers& walkers, Evaluator& ev, std::vector<EnergyResult>& prop,
                      std::vector<double>& energy, int n, const Refresh& refresh) {
  const int walkers_count = static_cast<int>(energy.size());
  auto distance = [&](double e) {
    return e < st.emin ? st.emin - e : (e >= st.emax ? e - st.emax : 0.0);
  };
  for (long sweep = 0;; ++sweep) {
    bool all_in = true;
    for (double e : energy) all_in = all_in && energy_bin(st, e) >= 0;
    if (all_in) break;
    if (sweep >= 10000)
      fail(
          "Wang-Landau walkers did not reach the energy window [{}, {}] Ry in 10000 sweeps "
          "(lowest distance {:.3g} Ry): check montecarlo.wang_landau.energy_min/energy_max",
          st.emin, st.emax,
          distance(*std::min_element(energy.begin(), energy.end(), [&](double a, double b) {
            return distance(a) < distance(b);
          })));
    for (int k = 0; k < n; ++k) {
      walkers.propose();
      ev.propose(walkers, prop);
      for (int w = 0; w < walkers_count; ++w)
        if (prop[w].ok && distance(energy[w]) > 0 &&
            distance(prop[w].energy) <= distance(energy[w])) {
          ev.accept(w);
          walkers.apply(w);
          energy[w] = prop[w].energy;
        }
    }
    st.steps += static_cast<long>(n) * walkers_count;
    if (ev.energy().drifts()) refresh();
  }
}

// Bin of a walker's current energy: inside the window, up to the rounding of a fast-path
// refresh at the window's edge.
int current_bin(const State& st, double e) {
  return static_cast<int>(std::clamp(std::floor((e - st.emin) / st.width), 0.0, st.nbins - 1.0));
}

// One sweep (n proposals per walker) of Wang-Landau moves: a move into bin bn is taken with
// probability min(1, g(b) / g(bn)); the walker's bin then gains ln f and a histogram count.
void wang_landau_sweep(State& st, Walkers& walkers, Evaluator& ev, std::vector<EnergyResult>& prop,
                       std::vector<double>& energy, int n) {
  const int walkers_count = static_cast<int>(energy.size());
  for (int k = 0; k < n; ++k) {
    walkers.propose();
    ev.propose(walkers, prop);
    for (int w = 0; w < walkers_count; ++w) {
      const EnergyResult& p = prop[w];
      ++st.counters[kAttempts];
      st.counters[kFallbacks] += p.dft;
      st.counters[kAcquired] += p.acquired;
      int b = current_bin(st, energy[w]);
      if (!p.ok) {
        ++st.counters[kFailed];
      } else if (const int bn = energy_bin(st, p.energy); bn >= 0) {
        const double d = st.ln_g[b] - st.ln_g[bn];
        if (d >= 0 || walkers.rng(w).uniform() < std::exp(d)) {
          ev.accept(w);
          walkers.apply(w);
          energy[w] = p.energy;
          b = bn;
          ++st.counters[kAccepted];
          if (p.energy < st.lowest_energy) {
            st.lowest_energy = p.energy;
            st.lowest = walkers.config(w);
          }
        }
      }
      st.ln_g[b] += st.ln_f;
      ++st.hist[b];
      st.visited[b] = 1;
    }
  }
  st.steps += static_cast<long>(n) * walkers_count;
}

// Adds every walker's energy (relative to the window's bottom), its square and its SRO values
// to the accumulators of its bin.
void accumulate(State& st, const Walkers& walkers, const std::vector<double>& energy,
                const WarrenCowley& wc, std::vector<double>& alpha, int ncol) {
  const int nsro = static_cast<int>(alpha.size());
  for (std::size_t w = 0; w < energy.size(); ++w) {
    const int b = current_bin(st, energy[w]);
    double* a = st.acc.data() + static_cast<std::size_t>(b) * ncol;
    const double d = energy[w] - st.emin;
    a[0] += 1;
    a[1] += d;
    a[2] += d * d;
    wc.compute(walkers.config(static_cast<int>(w)), alpha.data());
    for (int k = 0; k < nsro; ++k) a[3 + k] += alpha[k];
  }
}

// The density of states and the thermodynamics it gives at every temperature.
void fill_results(McResult& res, const State& st, const Settings& s, int n, int ncol) {
  std::vector<double> e2;  // per bin: <E^2> (NaN where no samples)
  res.dos = density_of_states(st, s, ncol, e2);
  const double acceptance =
      st.counters[kAttempts] ? double(st.counters[kAccepted]) / st.counters[kAttempts] : NAN;
  for (double T : s.temperatures) {
    TemperatureResult r = thermodynamics_from_dos(res.dos, T, n, &e2);
    r.acceptance = acceptance;
    r.chains = s.walkers;
    res.rows.push_back(r);
  }
  res.ln_f = st.ln_f;
  res.wl_iterations = st.iterations;
  res.fallbacks = st.counters[kFallbacks];
  res.failed = st.counters[kFailed];
}

// One Wang-Landau run: the walkers share ln g(E) and the histogram, sweep after sweep until
// ln f falls below ln_f_final.
class WangLandauRun {
 public:
  WangLandauRun(const System& system, const Settings& s, Evaluator& ev, const RunOptions& opt)
      : system_(system),
        s_(s),
        ev_(ev),
        opt_(opt),
        wc_(system.lattice, system.num_species(), s.shells),
        nsro_(wc_.values_per_config()),
        ncol_(3 + nsro_),
        use_ckpt_(opt.checkpoints && !s.checkpoint.empty()),
        // Progress in halvings of ln f (log scale from ln_f_initial to ln_f_final).
        total_halvings_(std::max(
            1L, static_cast<long>(std::ceil(std::log2(s.wl.ln_f_initial / s.wl.ln_f_final))))),
        alpha_(nsro_) {}

  McResult run() {
    McResult res = start_result("wang_landau", system_, s_, ev_, wc_);
    res.resumed = resume_or_start();
    Chains ch(system_.num_species(), st_, res.resumed);
    if (!ch.walkers.movable()) fail("the composition has a single species: no swap move exists");
    if (!st_.complete) {
      ch.start(ev_, res.resumed, st_.energy);
      walk_into_window(st_, ch.walkers, ev_, ch.prop, ch.energy, system_.num_sites(),
                       [&] { ch.refresh(ev_); });
    }
    Progress progress("wang-landau", total_halvings_, "halvings of ln f", opt_.progress);
    show(progress);
    SessionClock session(s_, opt_, st_.seconds);
    res.interrupted = !sweep_until_converged(ch, session, progress);
    progress.finish();
    sync_state(ch, session);
    if (ev_.fallback()) ev_.fallback()->flush();

    fill_results(res, st_, s_, system_.num_sites(), ncol_);
    finish_result(res, st_, ev_);
    return res;
  }

 private:
  void log(const std::string& line) const {
    if (opt_.log) opt_.log(line);
  }

  // The checkpoint's state, else a new run (window, bins, first walkers); true when resumed.
  bool resume_or_start() {
    if (!(use_ckpt_ && !opt_.restart && std::filesystem::exists(s_.checkpoint))) {
      start_state(st_, system_, s_, ev_, opt_, ncol_);
      return false;
    }
    st_ = load(s_.checkpoint, s_, nsro_);
    ev_.set_acquired(st_.acquired);
    log(fmt::format("resuming from checkpoint '{}' (ln f = {:.3g}, {} sweeps{})", s_.checkpoint,
                    st_.ln_f, st_.sweeps, st_.complete ? ", run complete" : ""));
    return true;
  }

  void show(Progress& progress) const {
    progress.set(std::clamp(static_cast<long>(std::log2(s_.wl.ln_f_initial / st_.ln_f)), 0L,
                            total_halvings_),
                 fmt::format("ln f {:.2e}{}", st_.ln_f, st_.one_over_t ? " (1/t)" : ""));
  }

  // Sweeps until ln f reaches ln_f_final (max_sweeps is an error); false when the session stops
  // early (RunOptions::stop_after), after a checkpoint.
  bool sweep_until_converged(Chains& ch, SessionClock& session, Progress& progress) {
    while (!st_.complete) {
      if (st_.sweeps >= s_.wl.max_sweeps)
        fail(
            "Wang-Landau did not reach ln f = {} within max_sweeps = {} (ln f = {:.3g} now): "
            "widen the bins, lower the flatness or raise montecarlo.wang_landau.max_sweeps",
            s_.wl.ln_f_final, s_.wl.max_sweeps, st_.ln_f);
      wang_landau_sweep(st_, ch.walkers, ev_, ch.prop, ch.energy, system_.num_sites());
      if (ev_.energy().drifts()) ch.refresh(ev_);
      accumulate(st_, ch.walkers, ch.energy, wc_, alpha_, ncol_);
      ++st_.sweeps;
      ++st_.sweeps_in_iteration;
      if (update_ln_f(st_, s_, [this](const std::string& line) { log(line); })) show(progress);
      if (st_.complete) {
        checkpoint(ch, session);
        break;
      }
      if (session.checkpoint_due()) checkpoint(ch, session);
      if (session.stop_due()) {
        checkpoint(ch, session);
        return false;
      }
    }
    return true;
  }

  void sync_state(const Chains& ch, const SessionClock& session) {
    st_.sync(ch.walkers, ch.energy, session.run_seconds(), ev_.acquired());
  }

  void checkpoint(const Chains& ch, const SessionClock& session) {
    if (!use_ckpt_) return;
    if (ev_.fallback()) ev_.fallback()->flush();
    sync_state(ch, session);
    save(s_.checkpoint, s_, st_);
  }

  const System& system_;
  const Settings& s_;
  Evaluator& ev_;
  const RunOptions& opt_;
  const WarrenCowley wc_;
  const int nsro_, ncol_;
  const bool use_ckpt_;
  const long total_halvings_;
  std::vector<double> alpha_;  // SRO values of one configuration (scratch)
  State st_;
};

}  // namespace

McResult run_wang_landau(const System& system, const Settings& s, Evaluator& ev,
                         const RunOptions& opt) {
  if (mpi::size_of(opt.comm) > 1)
    fail(
        "Wang-Landau walkers share one ln g(E) in one process: run method = \"wang_landau\" "
        "on a single rank (without mpirun)");
  return WangLandauRun(system, s, ev, opt).run();
}

Walkers make_walkers(const System& system, const Settings& s, int count) {
  std::vector<Configuration> configs;
  std::vector<Rng> rngs;
  for (int w = 0; w < count; ++w) {
    rngs.emplace_back(s.seed, static_cast<std::uint64_t>(w));
    configs.push_back(s.initial ? *s.initial : random_configuration(s.counts, rngs.back()));
  }
  return Walkers(system.num_species(), std::move(configs), std::move(rngs));
}

McResult run(const System& system, const Settings& s, Evaluator& ev, const RunOptions& opt) {
  return s.method == Method::metropolis ? run_metropolis(system, s, ev, opt)
                                        : run_wang_landau(system, s, ev, opt);
}

}  // namespace lsmss::mc
