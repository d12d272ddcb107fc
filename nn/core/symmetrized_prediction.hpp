#pragma once
// Prediction symmetrization (docs/nn.md, "Symmetry of the network"): a network's predictions
// averaged over symmetry-equivalent images of each configuration.
#include <vector>

#include "core/configuration.hpp"
#include "core/lattice.hpp"
#include "nn/model.hpp"

namespace lsmss::nn {

// The mean of the model's predictions over the images of every configuration under `perms`
// (new[perm[i]] = old[i]), per-site values taken back to their own sites: with the whole group,
// predictions invariant under it (energies) or moving with the sites (charges, moments).
// Costs |perms| predictions per configuration.
Predictions symmetrized_predictions(const Model& model, const std::vector<Configuration>& configs,
                                    const std::vector<std::vector<int>>& perms);

// The operations to average over: the lattice's whole space group (`count` <= 0 or at least the
// group's size), else the identity and count - 1 others drawn without repetition from a fixed
// seed, so a rerun averages over the same operations.
std::vector<std::vector<int>> chosen_symmetry_operations(const Lattice& lattice, int count);

}  // namespace lsmss::nn
