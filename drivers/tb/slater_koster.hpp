#pragma once
// Slater-Koster two-centre matrix elements for an s + d basis (J. C. Slater and G. F. Koster,
// Phys. Rev. 94, 1498 (1954), Table I). Orbital order on every site:
//   0 s, 1 xy, 2 yz, 3 zx, 4 x^2-y^2, 5 3z^2-r^2.
#include <array>

#include "core/vec3.hpp"

namespace lsmss::tb {

inline constexpr int kOrbitalsPerSite = 6;
using SkBlock = std::array<double, kOrbitalsPerSite * kOrbitalsPerSite>;  // row-major [a][b]

// Two-centre integrals of one bond A -> B (Ry).
struct BondIntegrals {
  double ss_sigma = 0.0;
  double sd_sigma_ab = 0.0;  // s on A with d on B
  double sd_sigma_ba = 0.0;  // d on A with s on B
  double dd_sigma = 0.0, dd_pi = 0.0, dd_delta = 0.0;
};

// <a on A at origin| H |b on B at d> for all orbital pairs; d need not be normalised.
SkBlock slater_koster_block(const Vec3& d, const BondIntegrals& v);

}  // namespace lsmss::tb
