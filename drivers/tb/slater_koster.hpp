#pragma once
// Slater-Koster two-centre matrix elements for an s, p, d basis (J. C. Slater and G. F. Koster,
// Phys. Rev. 94, 1498 (1954), Table I). Orbital order of a site:
//   0 s, 1 px, 2 py, 3 pz, 4 xy, 5 yz, 6 zx, 7 x^2-y^2, 8 3z^2-r^2.
// The s+d basis uses the orbitals {0, 4, 5, 6, 7, 8} of this list.
#include <array>
#include <cstddef>

#include "core/vec3.hpp"

namespace lsmss::tb {

inline constexpr int kSpdOrbitals = 9;
using SkBlock =
    std::array<double, static_cast<std::size_t>(kSpdOrbitals) * kSpdOrbitals>;  // row-major [a][b]

// Two-centre integrals of one bond A -> B (Ry). Integrals between an l and an l' orbital with
// l != l' are given for both orders, as the two atoms may differ.
struct BondIntegrals {
  double ss_sigma = 0.0;
  double sp_sigma_ab = 0.0, sp_sigma_ba = 0.0;  // s on A with p on B; p on A with s on B
  double sd_sigma_ab = 0.0, sd_sigma_ba = 0.0;
  double pp_sigma = 0.0, pp_pi = 0.0;
  double pd_sigma_ab = 0.0, pd_pi_ab = 0.0;  // p on A with d on B
  double pd_sigma_ba = 0.0, pd_pi_ba = 0.0;  // d on A with p on B
  double dd_sigma = 0.0, dd_pi = 0.0, dd_delta = 0.0;
};

// <a on A at the origin| H |b on B at d> for all orbital pairs; d need not be normalised.
SkBlock slater_koster_block(const Vec3& d, const BondIntegrals& v);

}  // namespace lsmss::tb
