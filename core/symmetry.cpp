#include "core/symmetry.hpp"

#include <algorithm>
#include <cmath>
#include <set>

#include "core/error.hpp"

namespace lsmss {

Vec3 PointOperation::apply(const Vec3& r) const {
  Vec3 out{};
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) out[i] += matrix[i][j] * r[j];
  return out;
}

bool PointOperation::is_identity() const {
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j)
      if (matrix[i][j] != (i == j ? 1 : 0)) return false;
  return true;
}

std::vector<PointOperation> cubic_point_operations() {
  std::vector<PointOperation> ops;
  std::array<int, 3> axes{0, 1, 2};  // sorted, so the first permutation is the identity
  do {
    for (int signs = 0; signs < 8; ++signs) {
      PointOperation op;
      for (int i = 0; i < 3; ++i) op.matrix[i][axes[i]] = (signs >> i & 1) != 0 ? -1 : 1;
      ops.push_back(op);
    }
  } while (std::next_permutation(axes.begin(), axes.end()));
  return ops;
}

namespace {

double tolerance(const Lattice& lattice) {
  return 1e-6 * lattice.a();
}

// The site at r (periodically wrapped), or -1 when r is no site.
int site_at(const Lattice& lattice, const Vec3& r, double tol) {
  for (int s = 0; s < lattice.num_sites(); ++s)
    if (norm(lattice.minimum_image(r - lattice.position(s))) <= tol) return s;
  return -1;
}

// R maps supercell edge k onto a supercell lattice vector: R e_k = +-e_m, so the edge length
// along k must be a whole multiple of the one along m.
bool keeps_supercell(const Lattice& lattice, const PointOperation& op) {
  const Vec3 box = lattice.box();
  for (int k = 0; k < 3; ++k)
    for (int m = 0; m < 3; ++m) {
      if (op.matrix[m][k] == 0) continue;
      const double ratio = box[k] / box[m];
      if (std::abs(ratio - std::round(ratio)) > 1e-9 || std::round(ratio) < 1) return false;
    }
  return true;
}

}  // namespace

std::vector<PointOperation> supercell_point_operations(const Lattice& lattice) {
  std::vector<PointOperation> kept;
  const double tol = tolerance(lattice);
  for (const PointOperation& op : cubic_point_operations()) {
    if (!keeps_supercell(lattice, op)) continue;
    // The lattice is the sites plus supercell vectors; these are kept, so the sites decide.
    bool lattice_kept = true;
    for (int i = 0; i < lattice.num_sites() && lattice_kept; ++i)
      lattice_kept = site_at(lattice, op.apply(lattice.position(i)), tol) >= 0;
    if (lattice_kept) kept.push_back(op);
  }
  return kept;
}

std::vector<std::vector<int>> space_group_permutations(const Lattice& lattice) {
  const int n = lattice.num_sites();
  const double tol = tolerance(lattice);
  std::vector<std::vector<int>> perms;
  std::set<std::vector<int>> seen;
  for (const PointOperation& op : supercell_point_operations(lattice))
    for (int t = 0; t < n; ++t) {  // every site position is a lattice translation
      std::vector<int> perm(n);
      for (int i = 0; i < n; ++i) {
        perm[i] = site_at(lattice, op.apply(lattice.position(i)) + lattice.position(t), tol);
        if (perm[i] < 0)  // supercell_point_operations checked every site
          fail("internal: a point operation of {} moved site {} off the lattice",
               lattice.describe(), i);
      }
      if (seen.insert(perm).second) perms.push_back(std::move(perm));
    }
  return perms;
}

}  // namespace lsmss
