#pragma once
// Crystal lattices built from orthorhombic conventional cells (sc, bcc, fcc, bct) repeated
// into a periodic supercell. All lengths are in Bohr.
#include <array>
#include <string>
#include <string_view>
#include <vector>

#include "core/vec3.hpp"

namespace lsmss {

enum class LatticeKind { sc, bcc, fcc, bct };

// Accepted lattice constants, Bohr: every element's lies between 4 and 15 Bohr; outside this
// range the neighbour searches would run for ever (huge) or divide by almost nothing (tiny).
inline constexpr double kMinLatticeConstant = 1.0;
inline constexpr double kMaxLatticeConstant = 100.0;

LatticeKind lattice_kind_from_name(std::string_view name);  // "sc", "bcc", "fcc", "bct"
std::string lattice_kind_name(LatticeKind kind);

// One periodic neighbour of site i: site j seen through the periodic image at i + d.
struct PeriodicNeighbor {
  int i = 0;
  int j = 0;
  Vec3 d{};        // Cartesian displacement r_j + R - r_i (Bohr)
  double r = 0.0;  // |d|
};

// Neighbour shells: shell s (0 = nearest) has distance `distance[s]`; `sites[s][i]` lists the
// neighbours of site i in that shell, one entry per periodic image, so a site reached through
// two images appears twice (as on small boxes like 2x2x2) and every site has the bulk
// coordination number.
struct NeighborShells {
  std::vector<double> distance;
  std::vector<std::vector<std::vector<int>>> sites;
};

class Lattice {
 public:
  // `c` is used only by bct (other kinds have c = a); `supercell` repeats the conventional
  // cell along x, y, z.
  Lattice(LatticeKind kind, double a, double c, std::array<int, 3> supercell);

  LatticeKind kind() const { return kind_; }
  double a() const { return a_; }
  double c() const { return c_; }
  std::array<int, 3> supercell() const { return reps_; }
  int basis_size() const { return static_cast<int>(basis_.size()); }
  int num_cells() const { return reps_[0] * reps_[1] * reps_[2]; }
  int num_sites() const { return static_cast<int>(positions_.size()); }
  // Site order: unit cells traversed x first, then y, then z; inside each cell the local basis
  // order (fcc: 0, (a/2,a/2,0), (a/2,0,a/2), (0,a/2,a/2); bcc/bct: 0, body centre).
  const std::vector<Vec3>& positions() const { return positions_; }
  const Vec3& position(int site) const { return positions_.at(site); }
  Vec3 box() const { return box_; }  // supercell edge lengths (Bohr)

  Vec3 wrap(Vec3 r) const;           // into [0, box)
  Vec3 minimum_image(Vec3 d) const;  // shortest periodic copy of a displacement

  // Every (i, j, image) with 0 < |d| <= cutoff, all periodic images included: correct also
  // when the cutoff exceeds half the box, as for 4x2x2 cells.
  std::vector<PeriodicNeighbor> neighbors_within(double cutoff) const;
  // The first `count` distinct neighbour distances and the neighbour lists of each shell.
  NeighborShells shells(int count, double tol = 1e-6) const;

  // Maps externally given positions (e.g. from LSMS output) onto this lattice's sites:
  // result[k] is the site index of pos[k]. Positions are wrapped periodically; each must lie
  // within `tol` Bohr of a site and no site may be hit twice. Throws lsmss::Error otherwise.
  std::vector<int> match_positions(const std::vector<Vec3>& pos, double tol = 1e-3) const;

  // All lattice translations of the supercell as site permutations: perm[t][i] is the site
  // that site i moves to under translation t (t = 0 is the identity). There are num_sites()
  // of them for a Bravais lattice with a one-site primitive cell.
  std::vector<std::vector<int>> translations() const;

  std::string describe() const;  // e.g. "fcc a=7.2377 Bohr 2x2x2 (32 sites)"

 private:
  LatticeKind kind_;
  double a_, c_;
  std::array<int, 3> reps_;
  std::vector<Vec3> basis_;  // in Cartesian Bohr, inside one conventional cell
  std::vector<Vec3> positions_;
  Vec3 cell_{};
  Vec3 box_{};
};

}  // namespace lsmss
