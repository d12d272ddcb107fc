#include "core/lattice.hpp"

#include <algorithm>
#include <cmath>
#include <map>

#include <fmt/format.h>

#include "core/error.hpp"

namespace lsmss {

LatticeKind lattice_kind_from_name(std::string_view name) {
  if (name == "sc") return LatticeKind::sc;
  if (name == "bcc") return LatticeKind::bcc;
  if (name == "fcc") return LatticeKind::fcc;
  if (name == "bct") return LatticeKind::bct;
  fail("unknown lattice '{}' (expected one of: sc, bcc, fcc, bct)", name);
}

std::string lattice_kind_name(LatticeKind kind) {
  switch (kind) {
    case LatticeKind::sc:
      return "sc";
    case LatticeKind::bcc:
      return "bcc";
    case LatticeKind::fcc:
      return "fcc";
    case LatticeKind::bct:
      return "bct";
  }
  return "?";
}

Lattice::Lattice(LatticeKind kind, double a, double c, std::array<int, 3> supercell)
    : kind_(kind), a_(a), c_(kind == LatticeKind::bct ? c : a), reps_(supercell) {
  if (!(a >= kMinLatticeConstant && a <= kMaxLatticeConstant))
    fail("lattice constant a must lie in [{}, {}] Bohr, got {}", kMinLatticeConstant,
         kMaxLatticeConstant, a);
  if (kind == LatticeKind::bct && !(c >= kMinLatticeConstant && c <= kMaxLatticeConstant))
    fail("lattice constant c must lie in [{}, {}] Bohr, got {}", kMinLatticeConstant,
         kMaxLatticeConstant, c);
  for (int r : reps_)
    if (r < 1)
      fail("supercell repetitions must be >= 1, got {}x{}x{}", reps_[0], reps_[1], reps_[2]);
  cell_ = {a_, a_, c_};
  const double h = 0.5;
  switch (kind_) {
    case LatticeKind::sc:
      basis_ = {{0, 0, 0}};
      break;
    case LatticeKind::bcc:
    case LatticeKind::bct:
      basis_ = {{0, 0, 0}, {h * a_, h * a_, h * c_}};
      break;
    case LatticeKind::fcc:
      basis_ = {{0, 0, 0}, {h * a_, h * a_, 0}, {h * a_, 0, h * a_}, {0, h * a_, h * a_}};
      break;
  }
  box_ = {reps_[0] * cell_[0], reps_[1] * cell_[1], reps_[2] * cell_[2]};
  for (int z = 0; z < reps_[2]; ++z)
    for (int y = 0; y < reps_[1]; ++y)
      for (int x = 0; x < reps_[0]; ++x)
        for (const Vec3& b : basis_)
          positions_.push_back(Vec3{x * cell_[0], y * cell_[1], z * cell_[2]} + b);
}

Vec3 Lattice::wrap(Vec3 r) const {
  for (int k = 0; k < 3; ++k) {
    r[k] -= box_[k] * std::floor(r[k] / box_[k]);
    if (r[k] >= box_[k]) r[k] -= box_[k];
  }
  return r;
}

Vec3 Lattice::minimum_image(Vec3 d) const {
  for (int k = 0; k < 3; ++k) d[k] -= box_[k] * std::round(d[k] / box_[k]);
  return d;
}

std::vector<PeriodicNeighbor> Lattice::neighbors_within(double cutoff) const {
  std::vector<PeriodicNeighbor> out;
  std::array<int, 3> n{};
  for (int k = 0; k < 3; ++k) n[k] = static_cast<int>(std::ceil(cutoff / box_[k])) + 1;
  const double eps = 1e-9 * std::max(1.0, cutoff);
  for (int i = 0; i < num_sites(); ++i)
    for (int j = 0; j < num_sites(); ++j) {
      const Vec3 base = positions_[j] - positions_[i];
      for (int ix = -n[0]; ix <= n[0]; ++ix)
        for (int iy = -n[1]; iy <= n[1]; ++iy)
          for (int iz = -n[2]; iz <= n[2]; ++iz) {
            const Vec3 d = base + Vec3{ix * box_[0], iy * box_[1], iz * box_[2]};
            const double r = norm(d);
            if (r > eps && r <= cutoff + eps) out.push_back({i, j, d, r});
          }
    }
  return out;
}

NeighborShells Lattice::shells(int count, double tol) const {
  if (count < 1) fail("number of neighbour shells must be >= 1, got {}", count);
  // Distances around site 0 suffice: every site of these Bravais lattices is equivalent.
  std::vector<double> dist;
  double cutoff = std::max({cell_[0], cell_[1], cell_[2]});
  for (;;) {
    dist.clear();
    for (const auto& nb : neighbors_within(cutoff))
      if (nb.i == 0) dist.push_back(nb.r);
    std::sort(dist.begin(), dist.end());
    dist.erase(std::unique(dist.begin(), dist.end(),
                           [tol](double x, double y) { return std::abs(x - y) <= tol; }),
               dist.end());
    if (static_cast<int>(dist.size()) > count) break;
    cutoff *= 1.5;
  }
  dist.resize(count);
  NeighborShells sh;
  sh.distance = dist;
  sh.sites.assign(count, std::vector<std::vector<int>>(num_sites()));
  for (const auto& nb : neighbors_within(dist.back() + tol))
    for (int s = 0; s < count; ++s)
      if (std::abs(nb.r - dist[s]) <= tol) sh.sites[s][nb.i].push_back(nb.j);
  return sh;
}

std::vector<int> Lattice::match_positions(const std::vector<Vec3>& pos, double tol) const {
  if (static_cast<int>(pos.size()) != num_sites())
    fail("{} positions given but the lattice {} has {} sites", pos.size(), describe(), num_sites());
  std::vector<int> result(pos.size(), -1);
  std::vector<int> owner(num_sites(), -1);
  for (std::size_t k = 0; k < pos.size(); ++k) {
    int best = -1;
    double best_r = tol;
    for (int s = 0; s < num_sites(); ++s) {
      const double r = norm(minimum_image(pos[k] - positions_[s]));
      if (r <= best_r) best = s, best_r = r;
    }
    if (best < 0)
      fail("position {} ({:.6f}, {:.6f}, {:.6f}) Bohr is not within {} Bohr of any site of {}", k,
           pos[k][0], pos[k][1], pos[k][2], tol, describe());
    if (owner[best] >= 0)
      fail("positions {} and {} both map onto lattice site {} of {}", owner[best], k, best,
           describe());
    owner[best] = static_cast<int>(k);
    result[k] = best;
  }
  return result;
}

std::vector<std::vector<int>> Lattice::translations() const {
  std::vector<std::vector<int>> perms;
  perms.reserve(num_sites());
  for (int t = 0; t < num_sites(); ++t) {
    std::vector<Vec3> moved(positions_.size());
    for (int i = 0; i < num_sites(); ++i) moved[i] = positions_[i] + positions_[t];
    perms.push_back(match_positions(moved, 1e-6 * a_));
  }
  return perms;
}

std::string Lattice::describe() const {
  std::string s = fmt::format("{} a={:g}", lattice_kind_name(kind_), a_);
  if (kind_ == LatticeKind::bct) s += fmt::format(" c={:g}", c_);
  return s + fmt::format(" Bohr {}x{}x{} ({} sites)", reps_[0], reps_[1], reps_[2], num_sites());
}

}  // namespace lsmss
