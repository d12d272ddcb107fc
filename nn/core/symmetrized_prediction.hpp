#pragma once
// Prediction symmetrization (docs/nn.md, "Symmetry of the network"): a network's predictions
// averaged over symmetry-equivalent images of each configuration.
#include <vector>

#include "core/configuration.hpp"
#include "nn/model.hpp"

namespace lsmss::nn {

// The mean of the model's predictions over the images of every configuration under `perms`
// (new[perm[i]] = old[i]), per-site values taken back to their own sites: with the whole group,
// predictions invariant under it (energies) or moving with the sites (charges, moments).
// Costs |perms| predictions per configuration.
Predictions symmetrized_predictions(const Model& model, const std::vector<Configuration>& configs,
                                    const std::vector<std::vector<int>>& perms);

}  // namespace lsmss::nn
