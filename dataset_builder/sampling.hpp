#pragma once
// Which configurations a dataset holds: every composition of a binary alloy on the supercell,
// at most `cap` distinct configurations each (all of them, enumerated exactly, where fewer
// exist), and the paper's split per composition (a test fraction, the rest in k folds).
// Everything here depends only on (system, sampling settings, seed): never on rank counts,
// timing or the platform's standard-library random distributions.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/configuration.hpp"
#include "core/rng.hpp"
#include "core/system.hpp"
#include "dataset_builder/settings.hpp"

namespace lsmss::dataset {

// Exact binomial coefficient C(n, k); nullopt when it exceeds 2^64 - 1.
std::optional<std::uint64_t> binomial(int n, int k);
// Number of orbits of k-subsets of n points under a permutation group (Burnside's lemma: the
// mean over group elements of the subsets each one fixes). Exact; nullopt when C(n, k) itself
// does not fit 64 bits. `group` must be a group (it contains the identity).
std::optional<std::uint64_t> count_orbits(int n, int k, const std::vector<std::vector<int>>& group);
// "601080390", or "~1.2e+30" (from log-gamma) when the exact count does not fit.
std::string format_count(std::optional<std::uint64_t> exact, double approx_log10);
double log10_binomial(int n, int k);

// The project's portable generator (xoshiro256**, core/rng.hpp).
using lsmss::Rng;

// Derives an independent seed for one purpose (stream tag) and one item (e.g. composition).
std::uint64_t derive_seed(std::uint64_t seed, std::uint64_t tag, std::uint64_t item);

struct CompositionPlan {
  int composition = 0;                    // atoms of species 0
  std::optional<std::uint64_t> distinct;  // distinct configurations (or translation classes)
  double log10_distinct = 0.0;            // for display when `distinct` does not fit
  bool all = false;                       // every distinct configuration is taken
  std::size_t first = 0, count = 0;       // the composition's rows in Plan::configs
};

struct Plan {
  std::vector<Configuration> configs;
  std::vector<std::int32_t> composition;
  std::vector<std::int32_t> fold;  // kTestFold (-1) or 0..folds-1
  std::vector<CompositionPlan> compositions;
};

// Samples one composition (n_a atoms of species 0 on num_sites sites): all distinct
// configurations when there are at most `cap`, otherwise `cap` distinct ones drawn uniformly
// at random without replacement. With `translations` non-empty, configurations equal under
// a lattice translation count as one (the canonical representative is stored).
std::vector<Configuration> sample_composition(int num_sites, int n_a, long cap,
                                              const std::vector<std::vector<int>>& translations,
                                              std::uint64_t seed, CompositionPlan* info = nullptr);

// The whole plan of a dataset (binary systems only).
Plan make_plan(const System& sys, const SamplingSettings& s);

// Fold ids for the n rows of one composition: llround(test_fraction * n) of them are test rows
// (kTestFold), the others are dealt round-robin into `folds` folds (so fold sizes differ by at
// most one), in an order shuffled by (seed, composition).
std::vector<std::int32_t> assign_folds(std::size_t n, int composition, int folds,
                                       double test_fraction, std::uint64_t seed);
// The fold of a single row added later (e.g. acquired during Monte Carlo), decided by the
// configuration's hash alone so that it does not depend on the order rows arrive in.
std::int32_t fold_for_hash(std::uint64_t config_hash, int folds, double test_fraction,
                           std::uint64_t seed);

}  // namespace lsmss::dataset
