#include "nn/core/symmetry_augmentation.hpp"

#include <algorithm>
#include <numeric>

#include "core/error.hpp"
#include "core/rng.hpp"
#include "core/symmetry.hpp"

namespace lsmss::nn {

std::string symmetry_group_name(SymmetryGroup group) {
  return group == SymmetryGroup::translations ? "translations" : "space_group";
}

SymmetryGroup symmetry_group_from_name(std::string_view name) {
  if (name == "translations") return SymmetryGroup::translations;
  if (name == "space_group") return SymmetryGroup::space_group;
  fail("unknown symmetry group '{}' (expected translations or space_group)", name);
}

std::vector<std::vector<int>> symmetry_permutations(const dataset::Dataset& data,
                                                    SymmetryGroup group) {
  return group == SymmetryGroup::translations ? data.system.lattice.translations()
                                              : space_group_permutations(data.system.lattice);
}

dataset::Dataset append_permuted_rows(const dataset::Dataset& d,
                                      const std::vector<std::vector<int>>& perms,
                                      const std::vector<std::size_t>& rows, int copies,
                                      std::uint64_t seed) {
  const int N = d.num_sites, G = static_cast<int>(perms.size());
  dataset::Dataset a = d;
  const bool q = d.charge.size() == d.rows() * N, m = d.moment.size() == d.rows() * N;
  Rng rng(seed, 0xA06u);
  std::vector<int> others(std::max(G - 1, 0));
  std::iota(others.begin(), others.end(), 1);  // permutation 0 is the identity
  const int k = std::min(copies, G - 1);
  const std::size_t added = rows.size() * static_cast<std::size_t>(std::max(k, 0));
  a.occupation.reserve(a.occupation.size() + added * N);
  a.energy.reserve(a.energy.size() + added);
  for (std::size_t r : rows) {
    for (int c = 0; c < k; ++c) {  // k distinct operations (partial Fisher-Yates)
      const auto j = c + static_cast<int>(rng.below(static_cast<std::uint64_t>(G - 1 - c)));
      std::swap(others[c], others[j]);
      const auto& perm = perms[others[c]];
      const std::size_t base = a.occupation.size();
      a.occupation.resize(base + N);
      for (int i = 0; i < N; ++i) a.occupation[base + perm[i]] = d.occupation[r * N + i];
      auto move_values = [&](std::vector<double>& to, const std::vector<double>& from) {
        const std::size_t b = to.size();
        to.resize(b + N);
        for (int i = 0; i < N; ++i) to[b + perm[i]] = from[r * N + i];
      };
      if (q) move_values(a.charge, d.charge);
      if (m) move_values(a.moment, d.moment);
      a.energy.push_back(d.energy[r]);
      a.composition.push_back(d.composition[r]);
      a.fold.push_back(d.fold[r]);
      if (!d.origin.empty()) a.origin.push_back(d.origin[r]);
    }
  }
  return a;
}

}  // namespace lsmss::nn
