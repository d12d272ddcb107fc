#pragma once
// Test support for the Monte Carlo tests: a small dense network implementing the fast-path
// interface (with an independent plain forward pass to check it), exact canonical averages by
// full enumeration, and small systems.
#include <algorithm>
#include <cmath>
#include <functional>

#include <omp.h>

#include "core/rng.hpp"
#include "core/species.hpp"
#include "core/system.hpp"
#include "fixtures.hpp"
#include "montecarlo/energy.hpp"
#include "montecarlo/settings.hpp"
#include "montecarlo/sro.hpp"

namespace lsmss::test {

inline System small_system(LatticeKind kind, std::array<int, 3> cells,
                           const std::vector<std::string>& species = {"Cu", "Au"}) {
  System s{Lattice(kind, fixtures::kCuAuA, fixtures::kCuAuA, cells), {}};
  for (const auto& x : species) s.species.push_back(species_from_symbol(x));
  return s;
}

// Energy = scale * (w2 . relu(W1 x + b1) + b2) + offset, x the one-hot input. Weights random.
class ToyMlp : public mc::FirstLayerModel {
 public:
  ToyMlp(int features, int hidden, std::uint64_t seed, double scale = 0.01, double offset = -100.0)
      : f_(features), h_(hidden), scale_(scale), offset_(offset) {
    // Standard normal weights from the project's generator: the same network everywhere.
    Rng rng(seed);
    auto n = [&rng] { return static_cast<float>(rng.normal()); };
    w1_.resize(static_cast<std::size_t>(f_) * h_);
    for (auto& x : w1_) x = n() * 0.5f;
    b1_.resize(h_);
    for (auto& x : b1_) x = n() * 0.5f;
    w2_.resize(h_);
    for (auto& x : w2_) x = n() / std::sqrt(static_cast<float>(h_));
    b2_ = n();
  }
  int num_features() const override { return f_; }
  int width() const override { return h_; }
  std::span<const float> row(int feature) const override {
    return {w1_.data() + static_cast<std::size_t>(feature) * h_, static_cast<std::size_t>(h_)};
  }
  std::span<const float> bias() const override { return b1_; }
  void energy_from_z1(std::span<const float> z1, int batch, std::span<double> out) override {
    ++calls;
    threads_seen = omp_get_max_threads();
    for (int b = 0; b < batch; ++b) {
      double y = b2_;
      for (int o = 0; o < h_; ++o)
        y += w2_[o] * std::max(0.0f, z1[static_cast<std::size_t>(b) * h_ + o]);
      out[b] = offset_ + scale_ * y;
    }
  }
  // Plain forward pass in double from the configuration (independent of the z1 bookkeeping).
  double energy(const Configuration& c, int ns) const {
    double y = b2_;
    for (int o = 0; o < h_; ++o) {
      double z = b1_[o];
      for (int i = 0; i < c.num_sites(); ++i)
        z += w1_[static_cast<std::size_t>(i * ns + c[i]) * h_ + o];
      y += w2_[o] * std::max(0.0, z);
    }
    return offset_ + scale_ * y;
  }
  long calls = 0;
  int threads_seen = 0;  // OpenMP threads available to the last energy_from_z1 call

 private:
  int f_, h_;
  double scale_, offset_;
  std::vector<float> w1_, b1_, w2_;
  float b2_;
};

// Every configuration with the given atoms per species.
inline std::vector<Configuration> enumerate(const std::vector<int>& counts) {
  std::vector<std::uint8_t> occ;
  for (std::size_t s = 0; s < counts.size(); ++s)
    occ.insert(occ.end(), counts[s], static_cast<std::uint8_t>(s));
  std::vector<Configuration> all;
  do all.emplace_back(occ);
  while (std::next_permutation(occ.begin(), occ.end()));
  return all;
}

struct ExactAverages {
  double energy = 0, heat_capacity = 0;  // Ry; k_B per site
  std::vector<double> sro;
};

// Exact canonical averages over all configurations (energies given in the same order).
inline ExactAverages exact_averages(const System& sys, const std::vector<Configuration>& configs,
                                    const std::vector<double>& energies, double T, int shells) {
  const mc::WarrenCowley wc(sys.lattice, sys.num_species(), shells);
  const double kT = mc::kBoltzmannRyPerK * T;
  const double emin = *std::min_element(energies.begin(), energies.end());
  double z = 0, e1 = 0, e2 = 0;
  std::vector<double> a(wc.values_per_config(), 0.0);
  for (std::size_t k = 0; k < configs.size(); ++k) {
    const double d = energies[k] - emin;
    const double w = std::exp(-d / kT);
    z += w;
    e1 += w * d;
    e2 += w * d * d;
    const auto al = wc.compute(configs[k]);
    for (std::size_t s = 0; s < a.size(); ++s) a[s] += w * al[s];
  }
  ExactAverages r;
  e1 /= z;
  e2 /= z;
  r.energy = emin + e1;
  r.heat_capacity = (e2 - e1 * e1) / (sys.num_sites() * kT * kT);
  for (auto& x : a) r.sro.push_back(x / z);
  return r;
}

// Settings for tests (no checkpoint, no plot, outputs into `prefix`).
inline mc::Settings test_settings(const System& sys, int n_a, std::vector<double> temperatures,
                                  std::string prefix = "") {
  mc::Settings s;
  s.counts = {n_a, sys.num_sites() - n_a};
  s.temperatures = std::move(temperatures);
  s.output = std::move(prefix);
  s.checkpoint = "";
  s.plot = false;
  return s;
}

}  // namespace lsmss::test
