#pragma once
// Walkers at fixed composition moved by site swaps, and the batched evaluation of their
// proposals (energy source + optional DFT fallback) shared by Metropolis and Wang-Landau.
#include <span>
#include <vector>

#include "core/configuration.hpp"
#include "montecarlo/energy.hpp"
#include "montecarlo/fallback.hpp"
#include "montecarlo/rng.hpp"

namespace lsmss::mc {

class Walkers {
 public:
  Walkers() = default;
  Walkers(int num_species, std::vector<Configuration> configs, std::vector<Rng> rngs);

  int size() const { return static_cast<int>(configs_.size()); }
  std::span<const Configuration> configs() const { return configs_; }
  const Configuration& config(int w) const { return configs_[w]; }
  Rng& rng(int w) { return rngs_[w]; }
  const std::vector<Rng>& rngs() const { return rngs_; }
  std::span<const Swap> swaps() const { return swaps_; }

  // Draws one swap per walker: site i uniform, site j uniform among the sites holding another
  // species. The unordered pair {i, j} then has probability (1/N)(1/(N-n_ci) + 1/(N-n_cj)),
  // unchanged by the swap (counts are conserved), so the proposal is symmetric.
  void propose();
  // Applies walker w's proposed swap to its configuration.
  void apply(int w);
  // Whether a swap move exists (at least two species present).
  bool movable() const;
  // The per-walker order of sites inside the species blocks, which the proposals depend on
  // (walkers x sites): saved in checkpoints so a resumed run draws the same moves.
  std::vector<std::int32_t> site_order() const;
  void set_site_order(const std::vector<std::int32_t>& order);  // checks it fits the configs

 private:
  int ns_ = 2, n_ = 0;
  std::vector<Configuration> configs_;
  std::vector<Rng> rngs_;
  std::vector<Swap> swaps_;
  std::vector<int> counts_;  // atoms per species (same for every walker)
  // Per walker: sites grouped by species (species blocks of `counts_` sizes, concatenated)
  // and the position of each site in that array.
  std::vector<std::vector<int>> sites_, pos_;
  std::vector<int> offset_;  // start of each species block
};

// Energy source + fallback: one batched evaluation per step.
class Evaluator {
 public:
  Evaluator(WalkerEnergy& energy, Fallback* fallback) : energy_(energy), fallback_(fallback) {}
  WalkerEnergy& energy() { return energy_; }
  Fallback* fallback() { return fallback_; }
  void reset(const Walkers& walkers, std::span<EnergyResult> out);
  void propose(const Walkers& walkers, std::span<EnergyResult> out);
  void accept(int w) { energy_.accept(w); }
  // New DFT calculations the fallback made for this evaluator (walker starts, refreshes, window
  // scans and proposals alike); a resumed run restores its count from the checkpoint.
  long acquired() const { return acquired_; }
  void set_acquired(long n) { acquired_ = n; }

 private:
  void apply_fallback(const Walkers& walkers, std::span<EnergyResult> out, bool proposed);
  WalkerEnergy& energy_;
  Fallback* fallback_;
  std::vector<Configuration> fb_configs_;
  std::vector<EnergyResult*> fb_results_;
  long acquired_ = 0;
};

// Random configuration with the given atoms per species.
Configuration random_configuration(std::span<const int> counts, Rng& rng);

}  // namespace lsmss::mc
