#pragma once
// Energies of many walkers' proposed site swaps, one batch per Monte Carlo step.
//  - DriverEnergy: any Driver (tb, lsms, pair, surrogate): the proposed configurations of all
//    walkers go to one evaluate() call; results may be memoized by configuration.
//  - FirstLayerEnergy: the surrogate fast path. With one-hot inputs the first pre-activation is
//    z1 = b + sum_i W[i*S + c_i]; a swap of sites i and j changes it by two row differences, so
//    each walker keeps z1 and updates it in O(width); the rest of the network runs once per
//    step on the whole batch (one matrix product per layer). Ensembles keep one z1 per member;
//    their networks run one member after the other, or all in one call through the members'
//    group (nn::FirstLayerGroup) where the source offers one.
#include <cmath>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/configuration.hpp"
#include "core/driver.hpp"
#include "nn/first_layer.hpp"

namespace lsmss::mc {

struct Swap {
  int i = 0, j = 0;  // sites whose species are exchanged
};

struct EnergyResult {
  double energy = NAN;    // Ry, total energy of the cell (ensemble mean for ensembles)
  double std = NAN;       // Ry, ensemble standard deviation; NaN when there is none
  bool ok = false;        // false: the evaluation failed (the move is rejected)
  bool dft = false;       // replaced by a DFT fallback evaluation
  bool acquired = false;  // ... by a new DFT calculation (not a memoized one)
};

class WalkerEnergy {
 public:
  virtual ~WalkerEnergy() = default;
  virtual std::string describe() const = 0;
  // Whether results carry an ensemble standard deviation (needed by the DFT fallback).
  virtual bool has_uncertainty() const = 0;
  // (Re)starts the walkers at `configs` (full evaluation); out[w] is configs[w]'s energy.
  virtual void reset(std::span<const Configuration> configs, std::span<EnergyResult> out) = 0;
  // out[w]: energy of configs[w] with swaps[w] applied (not committed; configs unchanged).
  virtual void propose(std::span<const Configuration> configs, std::span<const Swap> swaps,
                       std::span<EnergyResult> out) = 0;
  // Walker w takes its last proposal (called before the caller applies the swap to configs[w]).
  virtual void accept(int w) = 0;
  // Whether incremental updates accumulate rounding, so the caller should reset() the walkers
  // now and then (the fast path does; exact drivers do not).
  virtual bool drifts() const { return false; }
  // Model/driver evaluations performed (configurations), for rate reports.
  long evaluations() const { return evaluations_; }

 protected:
  long evaluations_ = 0;
};

class DriverEnergy : public WalkerEnergy {
 public:
  // `cache`: memoize ok results by configuration (up to `cache_limit` entries), so revisited
  // configurations are not recomputed; exact for deterministic drivers.
  explicit DriverEnergy(Driver& driver, bool cache = true, std::size_t cache_limit = 1'000'000);
  std::string describe() const override;
  bool has_uncertainty() const override { return saw_std_; }
  void reset(std::span<const Configuration> configs, std::span<EnergyResult> out) override;
  void propose(std::span<const Configuration> configs, std::span<const Swap> swaps,
               std::span<EnergyResult> out) override;
  void accept(int) override {}
  long cache_hits() const { return hits_; }

 private:
  void evaluate(std::span<const Configuration> configs, std::span<EnergyResult> out);
  Driver& driver_;
  bool cache_;
  std::size_t cache_limit_;
  bool saw_std_ = false;
  long hits_ = 0;
  std::unordered_map<Configuration, EnergyResult, ConfigurationHash> memo_;
  std::vector<Configuration> proposals_, batch_;
  std::vector<int> batch_owner_;
};

// The fast path's view of a network and of an ensemble's networks (nn/first_layer.hpp).
using FirstLayerModel = nn::FirstLayerModel;
using FirstLayerGroup = nn::FirstLayerGroup;

class FirstLayerEnergy : public WalkerEnergy {
 public:
  // One or more members (an ensemble: mean and standard deviation across members, the sample
  // standard deviation with k - 1 like nn::Ensemble). `group` (optional): the same members'
  // networks in one call, used instead of the members' energy_from_z1. Members and group must
  // outlive this object.
  FirstLayerEnergy(std::vector<FirstLayerModel*> members, int num_species,
                   FirstLayerGroup* group = nullptr);
  std::string describe() const override;
  bool has_uncertainty() const override { return members_.size() > 1; }
  void reset(std::span<const Configuration> configs, std::span<EnergyResult> out) override;
  void propose(std::span<const Configuration> configs, std::span<const Swap> swaps,
               std::span<EnergyResult> out) override;
  void accept(int w) override;
  bool drifts() const override { return true; }
  // Batches of fewer multiply-adds than this run the network on one thread: an OpenMP region
  // costs microseconds on an idle machine and milliseconds on a loaded one, more than the work.
  static constexpr double kParallelMacs = 1 << 20;

 private:
  void resize(int walkers);
  void energies(int walkers, const std::vector<std::vector<float>>& z);
  void combine(int walkers, std::span<EnergyResult> out);
  std::vector<FirstLayerModel*> members_;
  FirstLayerGroup* group_ = nullptr;
  int ns_ = 2;
  int walkers_ = 0;
  std::vector<std::vector<float>> z_, zp_;  // per member: walkers x width (current, proposed)
  std::vector<std::vector<double>> e_;      // per member: walkers
};

}  // namespace lsmss::mc
