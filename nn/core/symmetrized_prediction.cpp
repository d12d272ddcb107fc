#include "nn/core/symmetrized_prediction.hpp"

#include <algorithm>

#include "core/error.hpp"
#include "core/rng.hpp"
#include "core/symmetry.hpp"

namespace lsmss::nn {

Predictions symmetrized_predictions(const Model& model, const std::vector<Configuration>& configs,
                                    const std::vector<std::vector<int>>& perms) {
  if (perms.empty()) fail("symmetrized_predictions: no operations");
  const std::size_t n = configs.size();
  const double w = 1.0 / static_cast<double>(perms.size());
  Predictions mean;
  std::vector<Configuration> images;
  images.reserve(n);
  bool first = true;
  for (const auto& perm : perms) {
    images.clear();
    for (const auto& c : configs) images.push_back(c.permuted(perm));
    const Predictions p = model.predict(images);
    if (first)
      mean = {std::vector<double>(p.energy.size()), std::vector<double>(p.charge.size()),
              std::vector<double>(p.moment.size())};
    first = false;
    for (std::size_t k = 0; k < p.energy.size(); ++k) mean.energy[k] += w * p.energy[k];
    auto add_sites = [&](std::vector<double>& to, const std::vector<double>& from) {
      const std::size_t N = perm.size();
      for (std::size_t k = 0; k < from.size() / std::max<std::size_t>(N, 1); ++k)
        for (std::size_t i = 0; i < N; ++i) to[k * N + i] += w * from[k * N + perm[i]];
    };
    add_sites(mean.charge, p.charge);
    add_sites(mean.moment, p.moment);
  }
  return mean;
}

std::vector<std::vector<int>> chosen_symmetry_operations(const Lattice& lattice, int count) {
  auto perms = space_group_permutations(lattice);  // identity first
  if (count <= 0 || count >= static_cast<int>(perms.size())) return perms;
  Rng rng(1, 0x5E1u);
  for (int c = 1; c < count; ++c) {  // partial Fisher-Yates over the non-identity operations
    const auto j = c + static_cast<int>(rng.below(perms.size() - c));
    std::swap(perms[c], perms[j]);
  }
  perms.resize(count);
  return perms;
}

}  // namespace lsmss::nn
