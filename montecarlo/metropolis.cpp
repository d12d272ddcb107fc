// Metropolis over temperatures (independent chains or annealing), with checkpoints.
#include <chrono>
#include <cmath>
#include <filesystem>
#include <limits>
#include <type_traits>

#include <mpi.h>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "core/hdf5.hpp"
#include "core/mpi.hpp"
#include "core/progress.hpp"
#include "montecarlo/checkpoint.hpp"
#include "montecarlo/sampler.hpp"
#include "montecarlo/sampler_common.hpp"
#include "montecarlo/sro.hpp"

namespace lsmss::mc {

namespace {

// Per-chain counters of the current temperature.
enum Counter { kAttempts = 0, kAccepted, kFailed, kFallbacks, kAcquired, kNumCounters };

struct State : WalkerState {
  int stage = 0;
  long sweep = 0;  // sweeps done in this stage (equilibration + measurement)
  bool complete = false;
  double e_ref = 0;            // energy shift of the stage's sums (keeps var(E) accurate)
  std::vector<double> blocks;  // chains x blocks x columns: n, sum dE, sum dE^2, sum alpha...
  std::vector<std::int64_t> counters;  // chains x kNumCounters
  std::vector<TemperatureResult> done;
};

constexpr const char* kKind = "lsms-surrogate montecarlo checkpoint (metropolis)";

void save(const std::filesystem::path& path, const Settings& s, const State& st, int sro_values) {
  CheckpointWriter w(path, kKind, s.fingerprint());
  hid_t f = w.file();
  h5::write_attr(f, "stage", static_cast<std::int64_t>(st.stage));
  h5::write_attr(f, "sweep", static_cast<std::int64_t>(st.sweep));
  h5::write_attr(f, "complete", static_cast<std::int64_t>(st.complete));
  h5::write_attr(f, "e_ref", st.e_ref);
  st.write(f);
  h5::write(f, "blocks", st.blocks);
  h5::write(f, "counters", st.counters);
  write_rows(f, "results", st.done, sro_values);
  w.commit();
}

State load(const std::filesystem::path& path, const Settings& s, int chains, int sro_values) {
  CheckpointReader r(path, kKind, s.fingerprint());
  hid_t f = r.file();
  State st;
  st.stage = static_cast<int>(h5::read_attr_int(f, "stage"));
  st.sweep = h5::read_attr_int(f, "sweep");
  st.complete = h5::read_attr_int(f, "complete") != 0;
  st.e_ref = h5::read_attr_double(f, "e_ref");
  st.read(f, s.num_sites(), chains);
  st.blocks = h5::read<double>(f, "blocks");
  st.counters = h5::read<std::int64_t>(f, "counters");
  st.done = read_rows(f, "results", sro_values);
  const std::size_t ncol = 3 + sro_values;
  if (st.blocks.size() != static_cast<std::size_t>(chains) * s.blocks * ncol ||
      st.counters.size() != static_cast<std::size_t>(chains) * kNumCounters)
    throw FileError(
        fmt::format("checkpoint '{}': accumulators have the wrong size", path.string()));
  return st;
}

// Rank 0 receives every rank's per-chain records (`width` values per chain) in the serial
// chain order (rank r holds chains r, r + P, ...); other ranks get an empty vector.
template <class T>
std::vector<T> gather_chains(const std::vector<T>& local, std::size_t width, int all_chains,
                             MPI_Comm comm) {
  const int rank = mpi::rank_of(comm), nranks = mpi::size_of(comm);
  if (nranks == 1) return local;
  const MPI_Datatype type = std::is_same_v<T, double> ? MPI_DOUBLE : MPI_INT64_T;
  std::vector<int> counts(nranks), displs(nranks);
  for (int r = 0, at = 0; r < nranks; ++r) {
    counts[r] = static_cast<int>((all_chains - r + nranks - 1) / nranks * width);
    displs[r] = at;
    at += counts[r];
  }
  std::vector<T> packed(rank == 0 ? static_cast<std::size_t>(all_chains) * width : 0);
  MPI_Gatherv(local.data(), static_cast<int>(local.size()), type, packed.data(), counts.data(),
              displs.data(), type, 0, comm);
  if (rank != 0) return {};
  std::vector<T> out(packed.size());
  for (int r = 0; r < nranks; ++r)
    for (int j = 0; r + j * nranks < all_chains; ++j)
      std::copy_n(packed.begin() + displs[r] + static_cast<std::ptrdiff_t>(j * width), width,
                  out.begin() + static_cast<std::ptrdiff_t>((r + j * nranks) * width));
  return out;
}

// Run-wide totals over the ranks: lowest configuration, steps, evaluations, longest wall time.
void combine_ranks(McResult& res, const State& st, int num_sites, MPI_Comm comm) {
  struct {
    double energy;
    int rank;
  } mine{st.lowest_energy, mpi::rank_of(comm)}, best{};
  MPI_Allreduce(&mine, &best, 1, MPI_DOUBLE_INT, MPI_MINLOC, comm);
  std::vector<std::uint8_t> occ(num_sites, 0);
  if (mine.rank == best.rank && st.lowest.num_sites() == num_sites)
    occ.assign(st.lowest.occupation().begin(), st.lowest.occupation().end());
  MPI_Bcast(occ.data(), num_sites, MPI_UINT8_T, best.rank, comm);
  if (std::isfinite(best.energy)) {
    res.lowest_energy = best.energy;
    res.lowest = Configuration(std::move(occ));
  }
  MPI_Allreduce(MPI_IN_PLACE, &res.steps, 1, MPI_LONG, MPI_SUM, comm);
  MPI_Allreduce(MPI_IN_PLACE, &res.evaluations, 1, MPI_LONG, MPI_SUM, comm);
  MPI_Allreduce(MPI_IN_PLACE, &res.seconds, 1, MPI_DOUBLE, MPI_MAX, comm);
}

std::string format_row(const TemperatureResult& r, const std::vector<std::string>& names,
                       bool fallback) {
  std::string s = fmt::format(
      "T = {:8.2f} K  <E> = {:.8f} +- {:.2e} Ry  C = {:.4f} +- {:.4f} kB/site  acc = {:.3f}",
      r.temperature, r.energy, r.energy_err, r.heat_capacity, r.heat_capacity_err, r.acceptance);
  for (std::size_t k = 0; k < names.size() && k < r.sro.size(); ++k)
    s += fmt::format("  {} = {:+.4f}", names[k], r.sro[k]);
  if (fallback) s += fmt::format("  fallbacks = {} (new DFT {})", r.fallbacks, r.acquired);
  if (r.failed) s += fmt::format("  failed = {}", r.failed);
  return s;
}

// The temperatures of one stage, from the accumulators of every chain (gathered on rank 0):
// block estimates, acceptance and fallback counts; a temperature without chains is left out.
std::vector<TemperatureResult> stage_results(const Settings& s, int stage, int all_chains, int ncol,
                                             double e_ref, int num_sites,
                                             const std::vector<double>& blocks,
                                             const std::vector<std::int64_t>& counters) {
  std::vector<TemperatureResult> results;
  const int nt = static_cast<int>(s.temperatures.size());
  for (int t = 0; t < nt; ++t) {
    std::vector<std::vector<const double*>> blks;
    TemperatureResult r;
    r.temperature = s.temperatures[t];
    std::int64_t tot[kNumCounters] = {};
    for (int g = 0; g < all_chains; ++g) {
      if ((s.anneal ? stage : g / s.walkers) != t) continue;  // the temperature of chain g
      ++r.chains;
      blks.emplace_back();
      for (int b = 0; b < s.blocks; ++b)
        blks.back().push_back(blocks.data() + (static_cast<std::size_t>(g) * s.blocks + b) * ncol);
      for (int k = 0; k < kNumCounters; ++k)
        tot[k] += counters[static_cast<std::size_t>(g) * kNumCounters + k];
    }
    if (r.chains == 0) continue;
    block_estimates(blks, ncol, e_ref, r.temperature, num_sites, r);
    r.acceptance = tot[kAttempts] ? static_cast<double>(tot[kAccepted]) / tot[kAttempts] : NAN;
    r.failed = tot[kFailed];
    r.fallbacks = tot[kFallbacks];
    r.acquired = tot[kAcquired];
    results.push_back(r);
  }
  return results;
}

// Whether to resume from the checkpoint: under MPI every rank must find its file, or none.
bool resume_on_every_rank(bool may_resume, const std::filesystem::path& ckpt, MPI_Comm comm) {
  const int nranks = mpi::size_of(comm);
  const int resume = may_resume && std::filesystem::exists(ckpt) ? 1 : 0;
  if (nranks > 1) {
    int lo = resume, hi = resume;
    MPI_Allreduce(MPI_IN_PLACE, &lo, 1, MPI_INT, MPI_MIN, comm);
    MPI_Allreduce(MPI_IN_PLACE, &hi, 1, MPI_INT, MPI_MAX, comm);
    if (lo != hi)
      fail("checkpoint files '{}' exist for some of the {} ranks only: rerun with --restart",
           ckpt.string(), nranks);
  }
  return resume != 0;
}

// The Metropolis decision of every chain on its proposed move (energies in `prop`); counts
// attempts and acceptances while `measuring`, fallbacks and failures always.
void accept_or_reject(State& st, Walkers& walkers, Evaluator& ev,
                      const std::vector<EnergyResult>& prop, const std::vector<double>& beta,
                      std::vector<double>& energy, bool measuring) {
  const int chains = static_cast<int>(energy.size());
  for (int c = 0; c < chains; ++c) {
    std::int64_t* cnt = st.counters.data() + static_cast<std::size_t>(c) * kNumCounters;
    cnt[kAttempts] += measuring;
    const EnergyResult& p = prop[c];
    cnt[kFallbacks] += p.dft;
    cnt[kAcquired] += p.acquired;
    if (!p.ok) {
      ++cnt[kFailed];
      continue;
    }
    const double de = p.energy - energy[c];
    if (de <= 0 || walkers.rng(c).uniform() < std::exp(-beta[c] * de)) {
      ev.accept(c);
      walkers.apply(c);
      energy[c] = p.energy;
      cnt[kAccepted] += measuring;
      if (p.energy < st.lowest_energy) {
        st.lowest_energy = p.energy;
        st.lowest = walkers.config(c);
      }
    }
  }
}

// One sweep: n proposals per chain, each accepted or rejected at the chain's inverse
// temperature beta.
void metropolis_sweep(State& st, Walkers& walkers, Evaluator& ev, std::vector<EnergyResult>& prop,
                      const std::vector<double>& beta, std::vector<double>& energy, int n,
                      bool measuring) {
  for (int k = 0; k < n; ++k) {
    walkers.propose();
    ev.propose(walkers, prop);
    accept_or_reject(st, walkers, ev, prop, beta, energy, measuring);
  }
  st.steps += static_cast<long>(n) * static_cast<long>(energy.size());
}

// Adds the chains' energies (relative to e_ref), their squares and SRO parameters to the block
// of the current sweep.
void measure(State& st, const Settings& s, const WarrenCowley& wc, const Walkers& walkers,
             const std::vector<double>& energy, std::vector<double>& alpha) {
  const int chains = static_cast<int>(energy.size());
  const int nsro = static_cast<int>(alpha.size());
  const int ncol = 3 + nsro;
  const long m = st.sweep - s.equilibration;
  const int b = static_cast<int>(m * s.blocks / s.sweeps);
  for (int c = 0; c < chains; ++c) {
    double* blk = st.blocks.data() + (static_cast<std::size_t>(c) * s.blocks + b) * ncol;
    const double d = energy[c] - st.e_ref;
    blk[0] += 1;
    blk[1] += d;
    blk[2] += d * d;
    wc.compute(walkers.config(c), alpha.data());
    for (int k = 0; k < nsro; ++k) blk[3 + k] += alpha[k];
  }
}

// The serial indices of the chains this rank runs: under MPI (P ranks in `comm`) rank r runs
// the chains r, r + P, r + 2P, ... of the serial run with the same random streams.
std::vector<int> rank_chains(int all_chains, Evaluator& ev, MPI_Comm comm) {
  const int rank = mpi::rank_of(comm), nranks = mpi::size_of(comm);
  if (nranks > all_chains)
    fail("{} MPI ranks for {} Monte Carlo chains: use at most {} ranks (or more walkers)", nranks,
         all_chains, all_chains);
  if (nranks > 1 && ev.fallback())
    fail(
        "the DFT fallback appends to one dataset file from one process: run `mc` with "
        "montecarlo.fallback on a single rank (without mpirun)");
  std::vector<int> global;
  for (int g = rank; g < all_chains; g += nranks) global.push_back(g);
  return global;
}

// A fresh state of the chains `global` (serial indices) out of all_chains.
State fresh_state(const System& system, const Settings& s, const std::vector<int>& global,
                  int all_chains, int ncol) {
  State st;
  Walkers init = make_walkers(system, s, all_chains);
  for (int g : global) {
    st.configs.push_back(init.configs()[g]);
    st.rngs.push_back(init.rngs()[g]);
  }
  const std::size_t chains = global.size();
  st.blocks.assign(chains * s.blocks * ncol, 0.0);
  st.counters.assign(chains * kNumCounters, 0);
  return st;
}

// A stage's start: one energy reference for all ranks (their block sums are added on rank 0),
// accumulators zeroed.
void begin_stage(State& st, const std::vector<double>& energy, int all_chains, MPI_Comm comm) {
  double sum = 0;
  for (double e : energy) sum += e;
  if (mpi::size_of(comm) > 1) MPI_Allreduce(MPI_IN_PLACE, &sum, 1, MPI_DOUBLE, MPI_SUM, comm);
  st.e_ref = sum / all_chains;
  std::fill(st.blocks.begin(), st.blocks.end(), 0.0);
  std::fill(st.counters.begin(), st.counters.end(), 0);
}

// The temperature(s) of a finished stage from every rank's accumulators: on rank 0, empty on
// the other ranks.
std::vector<TemperatureResult> finished_stage(const State& st, const Settings& s, int all_chains,
                                              int ncol, int num_sites, MPI_Comm comm) {
  const std::vector<double> blocks =
      gather_chains(st.blocks, static_cast<std::size_t>(s.blocks) * ncol, all_chains, comm);
  const std::vector<std::int64_t> counters =
      gather_chains(st.counters, kNumCounters, all_chains, comm);
  if (mpi::rank_of(comm) != 0) return {};
  return stage_results(s, st.stage, all_chains, ncol, st.e_ref, num_sites, blocks, counters);
}

// One Metropolis run on this rank: under MPI each rank runs some of the serial run's chains
// (rank_chains), and rank 0 gathers the accumulators and reports. A stage is one temperature of
// every chain (annealing) or all temperatures at once (independent chains).
class MetropolisRun {
 public:
  MetropolisRun(const System& system, const Settings& s, Evaluator& ev, const RunOptions& opt)
      : system_(system),
        s_(s),
        ev_(ev),
        opt_(opt),
        rank_(mpi::rank_of(opt.comm)),
        nranks_(mpi::size_of(opt.comm)),
        all_chains_(s.anneal ? s.walkers : static_cast<int>(s.temperatures.size()) * s.walkers),
        global_(rank_chains(all_chains_, ev, opt.comm)),
        stages_(s.anneal ? static_cast<int>(s.temperatures.size()) : 1),
        per_stage_(s.equilibration + s.sweeps),
        wc_(system.lattice, system.num_species(), s.shells),
        nsro_(wc_.values_per_config()),
        ncol_(3 + nsro_),
        use_ckpt_(opt.checkpoints && !s.checkpoint.empty()),
        // One checkpoint file per rank; the rank count is part of the name.
        ckpt_(rank_checkpoint(s.checkpoint, rank_, nranks_)),
        alpha_(nsro_) {}

  McResult run() {
    McResult res = start_result("metropolis", system_, s_, ev_, wc_);
    res.resumed = resume_or_start();
    Chains ch(system_.num_species(), st_, res.resumed);
    if (!ch.walkers.movable())
      fail("composition {} has a single species: no swap move exists",
           fmt::format("{}", fmt::join(s_.counts, "/")));
    if (!st_.complete) ch.start(ev_, res.resumed, st_.energy);

    Progress progress("mc", stages_ * per_stage_, "sweeps", opt_.progress && rank_ == 0);
    progress.set(st_.stage * per_stage_ + st_.sweep);
    SessionClock session(s_, opt_, st_.seconds);
    while (!st_.complete && st_.stage < stages_) {
      if (!sweep_stage(ch, session, progress)) {
        res.interrupted = true;
        break;
      }
      finish_stage(ch, session, res);
    }
    progress.finish();
    sync_state(ch, session);
    if (ev_.fallback()) ev_.fallback()->flush();
    return collect(std::move(res));
  }

 private:
  int chains() const { return static_cast<int>(global_.size()); }
  // The temperature index of this rank's chain c in the current stage.
  int temperature_index(int c) const { return s_.anneal ? st_.stage : global_[c] / s_.walkers; }
  void log(const std::string& line) const {
    if (opt_.log && rank_ == 0) opt_.log(line);
  }

  // The checkpoint's state (every rank finds its file), else a fresh one; true when resumed.
  bool resume_or_start() {
    if (!resume_on_every_rank(use_ckpt_ && !opt_.restart, ckpt_, opt_.comm)) {
      st_ = fresh_state(system_, s_, global_, all_chains_, ncol_);
      return false;
    }
    st_ = load(ckpt_, s_, chains(), nsro_);
    ev_.set_acquired(st_.acquired);
    log(fmt::format("resuming from checkpoint '{}' (temperature {} of {}, sweep {} of {}{})",
                    ckpt_.string(), st_.stage + 1, stages_, st_.sweep, per_stage_,
                    st_.complete ? ", run complete" : ""));
    return true;
  }

  // The sweeps left in the current stage, measuring after the equilibration sweeps; false when
  // the session stops early (RunOptions::stop_after), after a checkpoint.
  bool sweep_stage(Chains& ch, SessionClock& session, Progress& progress) {
    std::vector<double> beta(chains());
    for (int c = 0; c < chains(); ++c)
      beta[c] = 1.0 / (kBoltzmannRyPerK * s_.temperatures[temperature_index(c)]);
    if (st_.sweep == 0) begin_stage(st_, ch.energy, all_chains_, opt_.comm);
    while (st_.sweep < per_stage_) {
      const bool measuring = st_.sweep >= s_.equilibration;
      metropolis_sweep(st_, ch.walkers, ev_, ch.prop, beta, ch.energy, system_.num_sites(),
                       measuring);
      if (ev_.energy().drifts()) ch.refresh(ev_);
      if (measuring) measure(st_, s_, wc_, ch.walkers, ch.energy, alpha_);
      ++st_.sweep;
      progress.advance(1, fmt::format("T {:.0f} K", s_.temperatures[temperature_index(0)]));
      if (session.checkpoint_due()) checkpoint(ch, session);
      if (session.stop_due() && st_.sweep < per_stage_) {
        checkpoint(ch, session);
        return false;
      }
    }
    return true;
  }

  // Temperature(s) of this stage done: rank 0 reports from every rank's accumulators.
  void finish_stage(Chains& ch, const SessionClock& session, const McResult& res) {
    for (const TemperatureResult& r :
         finished_stage(st_, s_, all_chains_, ncol_, system_.num_sites(), opt_.comm)) {
      log(format_row(r, res.sro_names, res.fallback_enabled));
      st_.done.push_back(r);
    }
    ++st_.stage;
    st_.sweep = 0;
    if (st_.stage == stages_) st_.complete = true;
    checkpoint(ch, session);
  }

  void sync_state(const Chains& ch, const SessionClock& session) {
    st_.sync(ch.walkers, ch.energy, session.run_seconds(), ev_.acquired());
  }

  void checkpoint(const Chains& ch, const SessionClock& session) {
    if (!use_ckpt_) return;
    if (ev_.fallback()) ev_.fallback()->flush();
    sync_state(ch, session);
    save(ckpt_, s_, st_, nsro_);
  }

  // The rows done, the run's totals, and (under MPI) the totals over the ranks.
  McResult collect(McResult res) const {
    res.rows = st_.done;
    for (const auto& r : res.rows) {
      res.fallbacks += r.fallbacks;
      res.failed += r.failed;
    }
    finish_result(res, st_, ev_);
    if (nranks_ > 1) combine_ranks(res, st_, system_.num_sites(), opt_.comm);
    return res;
  }

  const System& system_;
  const Settings& s_;
  Evaluator& ev_;
  const RunOptions& opt_;
  const int rank_, nranks_;
  const int all_chains_;           // chains of the serial run
  const std::vector<int> global_;  // serial indices of this rank's chains
  const int stages_;
  const long per_stage_;  // sweeps per stage: equilibration + measurement
  const WarrenCowley wc_;
  const int nsro_, ncol_;
  const bool use_ckpt_;
  const std::filesystem::path ckpt_;
  std::vector<double> alpha_;  // SRO values of one configuration (scratch)
  State st_;
};

}  // namespace

// Jackknife over blocks: estimates [<E>, C/(N kB), alpha...] and their errors from the
// blocks of the chains at one temperature (chain_blocks[c] = that chain's blocks).
// <E> and alpha pool all samples. C is the mean of the per-chain variances: pooling would add
// the spread between chain means, which at low temperature (chains frozen in different
// orderings) shows up as a spurious heat-capacity peak.
void block_estimates(const std::vector<std::vector<const double*>>& chain_blocks, int ncol,
                     double e_ref, double T, int n, TemperatureResult& r) {
  const int nsro = ncol - 3;
  const std::size_t nc = chain_blocks.size();
  std::vector<double> sums(nc * ncol, 0.0);  // per chain
  for (std::size_t c = 0; c < nc; ++c)
    for (const double* b : chain_blocks[c])
      for (int k = 0; k < ncol; ++k) sums[c * ncol + k] += b[k];
  const double kT = kBoltzmannRyPerK * T;
  auto estimate = [&](const std::vector<double>& s) {
    std::vector<double> e(2 + nsro, 0.0);
    double samples = 0, weighted_var = 0, var_weight = 0;
    for (std::size_t c = 0; c < nc; ++c) {
      const double* sc = s.data() + c * ncol;
      if (sc[0] <= 0) continue;
      samples += sc[0];
      e[0] += sc[1];
      for (int k = 0; k < nsro; ++k) e[2 + k] += sc[3 + k];
      const double m1 = sc[1] / sc[0], m2 = sc[2] / sc[0];
      weighted_var += sc[0] * (m2 - m1 * m1);
      var_weight += sc[0];
    }
    e[0] = e_ref + e[0] / samples;
    e[1] = weighted_var / var_weight / (n * kT * kT);
    for (int k = 0; k < nsro; ++k) e[2 + k] /= samples;
    return e;
  };
  const std::vector<double> full = estimate(sums);
  std::vector<std::vector<double>> loo;
  for (std::size_t c = 0; c < nc; ++c)
    for (const double* b : chain_blocks[c]) {
      std::vector<double> s = sums;
      for (int k = 0; k < ncol; ++k) s[c * ncol + k] -= b[k];
      loo.push_back(estimate(s));
    }
  const double nb = static_cast<double>(loo.size());
  std::vector<double> mean(full.size(), 0.0), err(full.size(), 0.0);
  for (const auto& l : loo)
    for (std::size_t k = 0; k < full.size(); ++k) mean[k] += l[k] / nb;
  for (const auto& l : loo)
    for (std::size_t k = 0; k < full.size(); ++k) err[k] += (l[k] - mean[k]) * (l[k] - mean[k]);
  for (auto& e : err) e = std::sqrt(e * (nb - 1.0) / nb);
  double samples = 0;
  for (std::size_t c = 0; c < nc; ++c) samples += sums[c * ncol];
  r.samples = static_cast<long>(samples);
  r.energy = full[0];
  r.energy_err = err[0];
  r.heat_capacity = full[1];
  r.heat_capacity_err = err[1];
  r.sro.assign(full.begin() + 2, full.end());
  r.sro_err.assign(err.begin() + 2, err.end());
}

McResult run_metropolis(const System& system, const Settings& s, Evaluator& ev,
                        const RunOptions& opt) {
  return MetropolisRun(system, s, ev, opt).run();
}

}  // namespace lsmss::mc
