#pragma once
// Training-row augmentation with the supercell's symmetry operations (training.augment;
// docs/nn.md, "Symmetry"): the one-hot MLP is not invariant under the cell's translations and
// point operations, so it is shown symmetry-equivalent copies of its training rows (same
// energy; per-site charges and moments move with their sites).
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "dataset_builder/dataset.hpp"

namespace lsmss::nn {

// Which operations training.augment.group draws from.
enum class SymmetryGroup {
  translations,  // the lattice translations of the supercell (Lattice::translations)
  space_group,   // translations combined with the point operations (space_group_permutations)
};
std::string symmetry_group_name(SymmetryGroup group);           // "translations", "space_group"
SymmetryGroup symmetry_group_from_name(std::string_view name);  // throws lsmss::Error

struct SymmetryAugmentation {
  SymmetryGroup group = SymmetryGroup::space_group;
  int copies = 0;  // distinct random non-identity operations per training row; 0 = off
};

// The site permutations of `group` on the dataset's lattice, the identity first.
std::vector<std::vector<int>> symmetry_permutations(const dataset::Dataset& data,
                                                    SymmetryGroup group);

// The dataset with, for each row of `rows` in turn, min(copies, |perms| - 1) distinct random
// non-identity permutations of `perms` (perms[0] = identity) applied to it appended: same
// energy, composition, fold and origin; charges and moments permuted with the occupation
// (copy[perm[i]] = row[i]). Deterministic in `seed`.
dataset::Dataset append_permuted_rows(const dataset::Dataset& data,
                                      const std::vector<std::vector<int>>& perms,
                                      const std::vector<std::size_t>& rows, int copies,
                                      std::uint64_t seed);

}  // namespace lsmss::nn
