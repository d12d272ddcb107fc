#include "drivers/tb/slater_koster.hpp"

#include <cmath>

namespace lsmss::tb {

SkBlock slater_koster_block(const Vec3& d, const BondIntegrals& v) {
  const double r = norm(d);
  const double l = d[0] / r, m = d[1] / r, n = d[2] / r;
  const double l2 = l * l, m2 = m * m, n2 = n * n;
  const double s3 = std::sqrt(3.0);
  const double S = v.dd_sigma, P = v.dd_pi, D = v.dd_delta;

  // s-d angular factors: the d orbital's projection on the bond axis.
  const std::array<double, 5> g = {s3 * l * m, s3 * m * n, s3 * n * l, 0.5 * s3 * (l2 - m2),
                                   n2 - 0.5 * (l2 + m2)};

  double dd[5][5];
  dd[0][0] = 3 * l2 * m2 * S + (l2 + m2 - 4 * l2 * m2) * P + (n2 + l2 * m2) * D;
  dd[1][1] = 3 * m2 * n2 * S + (m2 + n2 - 4 * m2 * n2) * P + (l2 + m2 * n2) * D;
  dd[2][2] = 3 * n2 * l2 * S + (n2 + l2 - 4 * n2 * l2) * P + (m2 + n2 * l2) * D;
  dd[0][1] = 3 * l * m2 * n * S + l * n * (1 - 4 * m2) * P + l * n * (m2 - 1) * D;
  dd[0][2] = 3 * l2 * m * n * S + m * n * (1 - 4 * l2) * P + m * n * (l2 - 1) * D;
  dd[1][2] = 3 * l * m * n2 * S + l * m * (1 - 4 * n2) * P + l * m * (n2 - 1) * D;
  const double lm = l2 - m2;
  dd[0][3] = 1.5 * l * m * lm * S + 2 * l * m * (m2 - l2) * P + 0.5 * l * m * lm * D;
  dd[1][3] = 1.5 * m * n * lm * S - m * n * (1 + 2 * lm) * P + m * n * (1 + 0.5 * lm) * D;
  dd[2][3] = 1.5 * n * l * lm * S + n * l * (1 - 2 * lm) * P - n * l * (1 - 0.5 * lm) * D;
  const double z = n2 - 0.5 * (l2 + m2);
  dd[0][4] = s3 * l * m * z * S - 2 * s3 * l * m * n2 * P + 0.5 * s3 * l * m * (1 + n2) * D;
  dd[1][4] = s3 * m * n * z * S + s3 * m * n * (l2 + m2 - n2) * P - 0.5 * s3 * m * n * (l2 + m2) * D;
  dd[2][4] = s3 * l * n * z * S + s3 * l * n * (l2 + m2 - n2) * P - 0.5 * s3 * l * n * (l2 + m2) * D;
  dd[3][3] = 0.75 * lm * lm * S + (l2 + m2 - lm * lm) * P + (n2 + 0.25 * lm * lm) * D;
  dd[3][4] = 0.5 * s3 * lm * z * S + s3 * n2 * (m2 - l2) * P + 0.25 * s3 * (1 + n2) * lm * D;
  dd[4][4] = z * z * S + 3 * n2 * (l2 + m2) * P + 0.75 * (l2 + m2) * (l2 + m2) * D;
  // d orbitals are even, so E_ba(d) = E_ab(-d) = E_ab(d): the d-d block is symmetric.
  for (int a = 0; a < 5; ++a)
    for (int b = 0; b < a; ++b) dd[a][b] = dd[b][a];

  SkBlock out{};
  constexpr int N = kOrbitalsPerSite;
  out[0] = v.ss_sigma;
  for (int a = 0; a < 5; ++a) {
    out[0 * N + 1 + a] = g[a] * v.sd_sigma_ab;
    out[(1 + a) * N + 0] = g[a] * v.sd_sigma_ba;
    for (int b = 0; b < 5; ++b) out[(1 + a) * N + 1 + b] = dd[a][b];
  }
  return out;
}

}  // namespace lsmss::tb
