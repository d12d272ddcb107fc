// Slater-Koster blocks: rotational invariants and the hermiticity of heteronuclear bonds.
#include <gtest/gtest.h>

#include <armadillo>

#include "core/rng.hpp"
#include "drivers/tb/lapack_eigen.hpp"
#include "drivers/tb/slater_koster.hpp"

using namespace lsmss;
using namespace lsmss::tb;

namespace {
constexpr int N = kSpdOrbitals;
arma::mat sub(const SkBlock& b, int r0, int nr, int c0, int nc) {
  arma::mat m(nr, nc);
  for (int r = 0; r < nr; ++r)
    for (int c = 0; c < nc; ++c) m(r, c) = b[(r0 + r) * N + c0 + c];
  return m;
}
BondIntegrals sample_integrals() {
  BondIntegrals v;
  v.ss_sigma = -0.07;
  v.sp_sigma_ab = 0.11, v.sp_sigma_ba = 0.09;
  v.sd_sigma_ab = -0.05, v.sd_sigma_ba = -0.03;
  v.pp_sigma = 0.19, v.pp_pi = 0.02;
  v.pd_sigma_ab = -0.08, v.pd_pi_ab = 0.025, v.pd_sigma_ba = -0.04, v.pd_pi_ba = 0.015;
  v.dd_sigma = -0.05, v.dd_pi = 0.03, v.dd_delta = -0.005;
  return v;
}
}  // namespace

// In the bond frame only sigma, pi, delta pairs couple, so for any direction the d-d block has
// eigenvalues {sigma, pi, pi, delta, delta}, the p-p block {sigma, pi, pi}, the p-d block
// singular values {|sigma|, |pi|, |pi|} and the s-l couplings have norm |sigma|.
TEST(SlaterKoster, RotationalInvariantsForRandomDirections) {
  const BondIntegrals v = sample_integrals();
  lsmss::Rng rng(3);
  for (int t = 0; t < 50; ++t) {
    const Vec3 d{rng.normal(), rng.normal(), rng.normal()};
    const SkBlock b = slater_koster_block(d, v);
    arma::vec e = arma::sort(arma::eig_sym(sub(b, 4, 5, 4, 5)));
    arma::vec want = arma::sort(arma::vec{v.dd_sigma, v.dd_pi, v.dd_pi, v.dd_delta, v.dd_delta});
    EXPECT_LT(arma::abs(e - want).max(), 1e-12);
    e = arma::sort(arma::eig_sym(sub(b, 1, 3, 1, 3)));
    want = arma::sort(arma::vec{v.pp_sigma, v.pp_pi, v.pp_pi});
    EXPECT_LT(arma::abs(e - want).max(), 1e-12);
    arma::vec sv = arma::sort(arma::svd(sub(b, 1, 3, 4, 5)));
    want =
        arma::sort(arma::vec{std::abs(v.pd_sigma_ab), std::abs(v.pd_pi_ab), std::abs(v.pd_pi_ab)});
    EXPECT_LT(arma::abs(sv - want).max(), 1e-12);
    EXPECT_NEAR(arma::norm(sub(b, 0, 1, 4, 5)), std::abs(v.sd_sigma_ab), 1e-12);
    EXPECT_NEAR(arma::norm(sub(b, 4, 5, 0, 1)), std::abs(v.sd_sigma_ba), 1e-12);
    EXPECT_NEAR(arma::norm(sub(b, 0, 1, 1, 3)), std::abs(v.sp_sigma_ab), 1e-12);
    EXPECT_DOUBLE_EQ(b[0], v.ss_sigma);
  }
}

// <a on A| H |b on B at d> must equal <b on B| H |a on A at -d> with the roles of A and B
// exchanged, or the Hamiltonian is not Hermitian.
TEST(SlaterKoster, HeteronuclearBlocksAreConsistent) {
  const BondIntegrals ab = sample_integrals();
  BondIntegrals ba = ab;
  std::swap(ba.sp_sigma_ab, ba.sp_sigma_ba);
  std::swap(ba.sd_sigma_ab, ba.sd_sigma_ba);
  std::swap(ba.pd_sigma_ab, ba.pd_sigma_ba);
  std::swap(ba.pd_pi_ab, ba.pd_pi_ba);
  const Vec3 d{1.3, -0.4, 2.1};
  const SkBlock x = slater_koster_block(d, ab);
  const SkBlock y = slater_koster_block(Vec3{-d[0], -d[1], -d[2]}, ba);
  for (int a = 0; a < N; ++a)
    for (int b = 0; b < N; ++b) EXPECT_NEAR(x[a * N + b], y[b * N + a], 1e-15) << a << " " << b;
}

// Axis-aligned bond along z: the textbook values.
TEST(SlaterKoster, BondAlongZ) {
  const BondIntegrals v = sample_integrals();
  const SkBlock b = slater_koster_block(Vec3{0, 0, 2.0}, v);
  EXPECT_DOUBLE_EQ(b[8 * N + 8], v.dd_sigma);  // 3z^2-r^2
  EXPECT_DOUBLE_EQ(b[5 * N + 5], v.dd_pi);     // yz
  EXPECT_DOUBLE_EQ(b[4 * N + 4], v.dd_delta);  // xy
  EXPECT_DOUBLE_EQ(b[3 * N + 3], v.pp_sigma);  // pz
  EXPECT_DOUBLE_EQ(b[0 * N + 3], v.sp_sigma_ab);
  EXPECT_DOUBLE_EQ(b[3 * N + 0], -v.sp_sigma_ba);
  EXPECT_DOUBLE_EQ(b[3 * N + 8], v.pd_sigma_ab);
}

// The LAPACK wrappers agree with Armadillo.
TEST(SlaterKoster, EigenSolversMatchArmadillo) {
  arma::arma_rng::set_seed(5);
  arma::mat A = arma::randu(40, 40);
  A = A + A.t();
  arma::vec ref = arma::eig_sym(A);
  arma::mat B = A;
  arma::vec w(40);
  SymmetricEigen(40).solve(B.memptr(), w.memptr());
  EXPECT_LT(arma::abs(w - ref).max(), 1e-12);
  EXPECT_LT(arma::abs(A * B - B * arma::diagmat(w)).max(), 1e-11);
  arma::cx_mat C(A, arma::randu(40, 40));
  C = C + C.t();
  arma::vec cref = arma::eig_sym(C);
  arma::cx_mat D = C;
  HermitianEigen(40).solve(D.memptr(), w.memptr());
  EXPECT_LT(arma::abs(w - cref).max(), 1e-12);
  EXPECT_LT(arma::abs(C * D - D * arma::diagmat(arma::cx_vec(w, arma::zeros(40)))).max(), 1e-11);
}
