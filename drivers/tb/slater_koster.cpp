#include "drivers/tb/slater_koster.hpp"

#include <cmath>

namespace lsmss::tb {
namespace {

// p(a) - d(b) element of Slater-Koster Table I for direction cosines (l, m, n): rows x, y, z;
// columns xy, yz, zx, x^2-y^2, 3z^2-r^2.
void pd_table(double l, double m, double n, double S, double P, double out[3][5]) {
  const double s3 = std::sqrt(3.0);
  const double l2 = l * l, m2 = m * m, n2 = n * n;
  const double z = n2 - 0.5 * (l2 + m2);
  out[0][0] = s3 * l2 * m * S + m * (1 - 2 * l2) * P;
  out[0][1] = s3 * l * m * n * S - 2 * l * m * n * P;
  out[0][2] = s3 * l2 * n * S + n * (1 - 2 * l2) * P;
  out[0][3] = 0.5 * s3 * l * (l2 - m2) * S + l * (1 - l2 + m2) * P;
  out[0][4] = l * z * S - s3 * l * n2 * P;
  out[1][0] = s3 * m2 * l * S + l * (1 - 2 * m2) * P;
  out[1][1] = s3 * m2 * n * S + n * (1 - 2 * m2) * P;
  out[1][2] = s3 * l * m * n * S - 2 * l * m * n * P;
  out[1][3] = 0.5 * s3 * m * (l2 - m2) * S - m * (1 + l2 - m2) * P;
  out[1][4] = m * z * S - s3 * m * n2 * P;
  out[2][0] = s3 * l * m * n * S - 2 * l * m * n * P;
  out[2][1] = s3 * n2 * m * S + m * (1 - 2 * n2) * P;
  out[2][2] = s3 * n2 * l * S + l * (1 - 2 * n2) * P;
  out[2][3] = 0.5 * s3 * n * (l2 - m2) * S - n * (l2 - m2) * P;
  out[2][4] = n * z * S + s3 * n * (l2 + m2) * P;
}

}  // namespace

SkBlock slater_koster_block(const Vec3& d, const BondIntegrals& v) {
  const double r = norm(d);
  const double l = d[0] / r, m = d[1] / r, n = d[2] / r;
  const double l2 = l * l, m2 = m * m, n2 = n * n;
  const double s3 = std::sqrt(3.0);
  const double S = v.dd_sigma, P = v.dd_pi, D = v.dd_delta;
  const double dir[3] = {l, m, n};

  // s-d angular factors: the d orbital's projection on the bond axis.
  const double g[5] = {s3 * l * m, s3 * m * n, s3 * n * l, 0.5 * s3 * (l2 - m2),
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
  dd[1][4] =
      s3 * m * n * z * S + s3 * m * n * (l2 + m2 - n2) * P - 0.5 * s3 * m * n * (l2 + m2) * D;
  dd[2][4] =
      s3 * l * n * z * S + s3 * l * n * (l2 + m2 - n2) * P - 0.5 * s3 * l * n * (l2 + m2) * D;
  dd[3][3] = 0.75 * lm * lm * S + (l2 + m2 - lm * lm) * P + (n2 + 0.25 * lm * lm) * D;
  dd[3][4] = 0.5 * s3 * lm * z * S + s3 * n2 * (m2 - l2) * P + 0.25 * s3 * (1 + n2) * lm * D;
  dd[4][4] = z * z * S + 3 * n2 * (l2 + m2) * P + 0.75 * (l2 + m2) * (l2 + m2) * D;
  // d orbitals are even: E_ba(d) = E_ab(-d) = E_ab(d), the d-d block is symmetric.
  for (int a = 0; a < 5; ++a)
    for (int b = 0; b < a; ++b) dd[a][b] = dd[b][a];

  double pd_ab[3][5], pd_ba[3][5];
  pd_table(l, m, n, v.pd_sigma_ab, v.pd_pi_ab, pd_ab);
  pd_table(l, m, n, v.pd_sigma_ba, v.pd_pi_ba, pd_ba);

  SkBlock out{};
  constexpr int N = kSpdOrbitals;
  auto at = [&](int a, int b) -> double& { return out[a * N + b]; };
  at(0, 0) = v.ss_sigma;
  for (int x = 0; x < 3; ++x) {
    // p is odd: E_{p,s}(d) = E_{s,p}(-d) = -E_{s,p}(d).
    at(0, 1 + x) = dir[x] * v.sp_sigma_ab;
    at(1 + x, 0) = -dir[x] * v.sp_sigma_ba;
    for (int y = 0; y < 3; ++y)
      at(1 + x, 1 + y) = dir[x] * dir[y] * (v.pp_sigma - v.pp_pi) + (x == y ? v.pp_pi : 0.0);
    for (int a = 0; a < 5; ++a) {
      at(1 + x, 4 + a) = pd_ab[x][a];
      at(4 + a, 1 + x) = -pd_ba[x][a];  // E_{d,p}(d) = E_{p,d}(-d) = -E_{p,d}(d)
    }
  }
  for (int a = 0; a < 5; ++a) {
    at(0, 4 + a) = g[a] * v.sd_sigma_ab;
    at(4 + a, 0) = g[a] * v.sd_sigma_ba;
    for (int b = 0; b < 5; ++b) at(4 + a, 4 + b) = dd[a][b];
  }
  return out;
}

}  // namespace lsmss::tb
