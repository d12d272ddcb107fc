#pragma once
// A small synthetic binary-alloy dataset with a known answer: a nearest-neighbour pair model for
// the energy on top of a large composition-linear term (like all-electron LSMS totals), charge
// transfer from unlike neighbours, and moments on species 0. Folds assigned per composition.
// Drawn with the project's generator (core/rng.hpp): the same rows with every standard library.
#include <gtest/gtest.h>
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <string>

#include "core/error.hpp"
#include "core/rng.hpp"
#include "core/species.hpp"
#include "dataset_builder/dataset.hpp"
#include "fixtures.hpp"
#include "nn/core/network.hpp"

namespace lsmss::test {

// Tiny networks on a shared 2-core machine: one OpenMP thread (spinning barriers between busy
// processes cost ten times the work), set once per test program. The thread setting itself:
// test_backends.cpp.
inline const int kOneThread = [] {
  omp_set_num_threads(1);
  return 1;
}();

inline System synthetic_system(std::array<int, 3> cells = {2, 1, 1}) {
  return System{Lattice(LatticeKind::fcc, fixtures::kCuAuA, fixtures::kCuAuA, cells),
                {species_from_symbol("Cu"), species_from_symbol("Au")}};
}

inline dataset::Dataset synthetic_dataset(int rows, int folds, std::uint64_t seed,
                                          std::array<int, 3> cells = {2, 1, 1}) {
  dataset::Dataset d{.system = synthetic_system(cells),
                     .num_sites = 0,
                     .num_folds = 0,
                     .driver = {},
                     .available = 0,
                     .occupation = {},
                     .composition = {},
                     .fold = {},
                     .origin = {},
                     .energy = {},
                     .charge = {},
                     .moment = {}};
  const int N = d.system.num_sites();
  d.num_sites = N;
  d.num_folds = folds;
  d.driver = "synthetic";
  d.available = kEnergy | kCharge | kMoment;
  const auto shells = d.system.lattice.shells(1);
  Rng rng(seed);
  for (int r = 0; r < rows; ++r) {
    const int nA = static_cast<int>(rng.below(N + 1));
    std::vector<std::uint8_t> occ(N, 1);
    std::fill(occ.begin(), occ.begin() + nA, 0);
    lsmss::shuffle(occ, rng);
    double pair = 0;
    std::vector<double> unlike(N, 0);
    for (int i = 0; i < N; ++i)
      for (int j : shells.sites[0][i]) {
        const double u = occ[i] != occ[j] ? 1 : 0;
        pair += 0.5 * (u * -0.004 + (occ[i] == 0 && occ[j] == 0 ? 0.001 : 0.0));
        unlike[i] += u;
      }
    d.occupation.insert(d.occupation.end(), occ.begin(), occ.end());
    d.composition.push_back(nA);
    d.origin.push_back(0);
    d.energy.push_back(-3309.5 * nA - 39000.25 * (N - nA) + pair);
    for (int i = 0; i < N; ++i) {
      const double sign = occ[i] == 0 ? 1 : -1;
      d.charge.push_back(d.system.species[occ[i]].Z + sign * 0.01 * unlike[i]);
      d.moment.push_back(occ[i] == 0 ? 0.5 + 0.02 * unlike[i] : 0.0);
    }
  }
  // Per composition: ~10% test, the rest round-robin into folds (like the dataset builder).
  std::vector<int> seen(N + 1, 0);
  d.fold.resize(rows);
  for (int r = 0; r < rows; ++r) {
    const int k = seen[d.composition[r]]++;
    d.fold[r] = k % 10 == 9 ? dataset::kTestFold : (k - k / 10) % folds;
  }
  return d;
}

// Uniform noise in [-amplitude, amplitude] on every energy, charge and moment: data that no
// model fits exactly, and no two rows of a composition with one value, as in real data.
inline void add_noise(dataset::Dataset& d, double amplitude, std::uint64_t seed) {
  Rng noise(seed);
  for (auto* values : {&d.energy, &d.charge, &d.moment})
    for (double& v : *values) v += noise.uniform(-amplitude, amplitude);
}

// An energy outlier by construction for training.outlier_z, which judges each row by its
// composition's median and robust scale (1.4826 MAD) over the training rows and sees none where
// that scale is 0. The pair model alone gives each composition a few discrete energies within
// 0.25 Ry, often one shared by most rows (scale 0). So the rows of `train` first get offsets of
// -2, -1, 0, 1, 2 Ry in turn per composition: every robust scale is then about 1 Ry and no row
// (validation rows, at offset 0, included) lies beyond 3 of them. Then one training row of the
// middle composition goes 50 Ry up, more than 15 scales out: the only outlier at z = 6.
// Returns that row.
inline std::size_t add_energy_outlier(dataset::Dataset& d, const std::vector<std::size_t>& train) {
  std::vector<int> seen(d.num_sites + 1, 0);
  for (std::size_t r : train) {
    const int k = seen[d.composition[r]]++;
    d.energy[r] += k % 5 - 2;  // Ry
  }
  const int middle = d.num_sites / 2;
  if (seen[middle] < 5)
    fail("add_energy_outlier: {} training rows of composition {} (needs 5)", seen[middle], middle);
  std::size_t bad = 0;
  for (std::size_t r : train)
    if (d.composition[r] == middle) bad = r;
  d.energy[bad] += 50.0;
  return bad;
}

// For tests that need the pure pair model (an exact linear fit once the outlier is out): a
// training row (of `train`) whose composition's training energies have a robust scale
// (1.4826 MAD) of 1 mRy or more, so that moving it 100 Ry makes it an outlier at z = 6 (a
// composition's pair energies span well under 1 Ry, so its scale does too). Many compositions
// have scale 0 (most or all arrangements share one energy); of the others, the one with most
// training rows. Throws if there is none.
inline std::size_t row_of_a_spread_composition(const dataset::Dataset& d,
                                               const std::vector<std::size_t>& train) {
  auto median = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return 0.5 * (v[(v.size() - 1) / 2] + v[v.size() / 2]);
  };
  std::vector<std::vector<double>> energies(d.num_sites + 1);
  for (std::size_t r : train) energies[d.composition[r]].push_back(d.energy[r]);
  int chosen = -1;
  for (int c = 0; c <= d.num_sites; ++c) {
    std::vector<double>& e = energies[c];
    if (e.empty() || (chosen >= 0 && e.size() <= energies[chosen].size())) continue;
    const double m = median(e);
    std::vector<double> deviation(e.size());
    for (std::size_t k = 0; k < e.size(); ++k) deviation[k] = std::abs(e[k] - m);
    if (1.4826 * median(deviation) >= 1e-3) chosen = c;
  }
  if (chosen < 0) fail("row_of_a_spread_composition: no composition with a robust energy scale");
  std::size_t row = 0;
  for (std::size_t r : train)
    if (d.composition[r] == chosen) row = r;
  return row;
}

// Expects f() to throw an lsmss::Error whose message contains `text`.
template <class F>
void expect_error_containing(F&& f, const std::string& text) {
  try {
    f();
    ADD_FAILURE() << "no error (expected one mentioning '" << text << "')";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(text), std::string::npos) << e.what();
  }
}

// inputs -> `hidden` tanh -> one energy output: the smallest network a backend test needs.
inline nn::Network tanh_energy_network(int inputs, int hidden) {
  nn::NetworkSpec spec;
  spec.inputs = inputs;
  spec.shared = {hidden};
  spec.shared_act = {nn::Activation::tanh};
  spec.heads = {{nn::Task::energy, 1, 0}};
  return nn::Network(spec);
}

}  // namespace lsmss::test
