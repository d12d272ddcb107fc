#include "drivers/tb/tb_model.hpp"

#include <algorithm>
#include <cmath>
#include <complex>
#include <cstddef>
#include <deque>
#include <limits>
#include <map>
#include <mutex>
#include <numbers>
#include <string>

#include "core/error.hpp"

extern "C" {
void dgemm_(const char* ta, const char* tb, const int* m, const int* n, const int* k,
            const double* alpha, const double* a, const int* lda, const double* b, const int* ldb,
            const double* beta, double* c, const int* ldc, std::size_t, std::size_t);
void dsyrk_(const char* uplo, const char* trans, const int* n, const int* k, const double* alpha,
            const double* a, const int* lda, const double* beta, double* c, const int* ldc,
            std::size_t, std::size_t);
void zgemm_(const char* ta, const char* tb, const int* m, const int* n, const int* k,
            const std::complex<double>* alpha, const std::complex<double>* a, const int* lda,
            const std::complex<double>* b, const int* ldb, const std::complex<double>* beta,
            std::complex<double>* c, const int* ldc, std::size_t, std::size_t);
void zherk_(const char* uplo, const char* trans, const int* n, const int* k, const double* alpha,
            const std::complex<double>* a, const int* lda, const double* beta,
            std::complex<double>* c, const int* ldc, std::size_t, std::size_t);
}

namespace lsmss::tb {
namespace {

// Iterations at whose end the Jacobian is rebuilt from the linear response (then Anderson
// carries on with it): the SCF is far from linear on the first steps of a cold start.
constexpr int kJacobianIterations = 2;
// Occupations within this of 0 or 1 count as empty or full in the response: the Jacobian
// only needs a few digits.
constexpr double kResponseThreshold = 1e-3;
// Single pass: states with (e - mu) / kT below minus this (1 - f < 1e-14) count as full.
constexpr double kFullStateX = 32.2;

// Fermi-Dirac occupation of x = (e - mu) / kT, overflow-safe.
double fermi(double x) {
  if (x > 0) {
    const double e = std::exp(-x);
    return e / (1.0 + e);
  }
  return 1.0 / (1.0 + std::exp(x));
}

// -[f ln f + (1-f) ln(1-f)] at x = (e - mu) / kT, written without 0 * log(0).
double entropy(double x) {
  const double ax = std::abs(x);
  return fermi(ax) * ax + std::log1p(std::exp(-ax));
}

// V(r) = V(r1) (r1 / r)^n: canonical distance scaling from the first-neighbour value.
double scaled(double v1, double r1, double r, double n) {
  return v1 * std::pow(r1 / r, n);
}

// Heteronuclear combination of two integrals of the same kind: Harrison's geometric mean when
// they have the same sign, the arithmetic mean otherwise.
double combine(double a, double b) {
  if (a * b > 0) return std::copysign(std::sqrt(a * b), a);
  return 0.5 * (a + b);
}

BondIntegrals pair_integrals(const ElementParameters& A, const ElementParameters& B, double r,
                             const TbParameters& p) {
  auto both = [&](double ElementParameters::*key, double n) {
    return combine(scaled(A.*key, A.r1, r, n), scaled(B.*key, B.r1, r, n));
  };
  BondIntegrals v;
  v.ss_sigma = both(&ElementParameters::ss_sigma, p.exponent_ss);
  v.sp_sigma_ab = v.sp_sigma_ba = both(&ElementParameters::sp_sigma, p.exponent_sp);
  v.pp_sigma = both(&ElementParameters::pp_sigma, p.exponent_pp);
  v.pp_pi = both(&ElementParameters::pp_pi, p.exponent_pp);
  // A coupling to a d orbital is set by the d atom's orbital radius (Harrison), i.e. by that
  // atom's own parameter.
  v.sd_sigma_ab = scaled(B.sd_sigma, B.r1, r, p.exponent_sd);
  v.sd_sigma_ba = scaled(A.sd_sigma, A.r1, r, p.exponent_sd);
  v.pd_sigma_ab = scaled(B.pd_sigma, B.r1, r, p.exponent_pd);
  v.pd_pi_ab = scaled(B.pd_pi, B.r1, r, p.exponent_pd);
  v.pd_sigma_ba = scaled(A.pd_sigma, A.r1, r, p.exponent_pd);
  v.pd_pi_ba = scaled(A.pd_pi, A.r1, r, p.exponent_pd);
  v.dd_sigma = both(&ElementParameters::dd_sigma, p.exponent_dd);
  v.dd_pi = both(&ElementParameters::dd_pi, p.exponent_dd);
  v.dd_delta = both(&ElementParameters::dd_delta, p.exponent_dd);
  return v;
}

// Solves the small dense system A x = b in place (Gaussian elimination with partial pivoting);
// false if A is singular.
bool solve_small(std::vector<double> A, std::vector<double>& b, int n) {
  for (int c = 0; c < n; ++c) {
    int piv = c;
    for (int r = c + 1; r < n; ++r)
      if (std::abs(A[r * n + c]) > std::abs(A[piv * n + c])) piv = r;
    if (std::abs(A[piv * n + c]) < 1e-300) return false;
    if (piv != c) {
      for (int k = 0; k < n; ++k) std::swap(A[c * n + k], A[piv * n + k]);
      std::swap(b[c], b[piv]);
    }
    for (int r = c + 1; r < n; ++r) {
      const double f = A[r * n + c] / A[c * n + c];
      for (int k = c; k < n; ++k) A[r * n + k] -= f * A[c * n + k];
      b[r] -= f * b[c];
    }
  }
  for (int r = n - 1; r >= 0; --r) {
    double s = b[r];
    for (int k = r + 1; k < n; ++k) s -= A[r * n + k] * b[k];
    b[r] = s / A[r * n + r];
  }
  return true;
}

// Real and complex BLAS behind one name, for the response sums below.
void gemm_cn(int m, int n, int k, const double* a, int lda, const double* b, int ldb, double* c,
             int ldc) {
  const double one = 1.0, zero = 0.0;
  dgemm_("T", "N", &m, &n, &k, &one, a, &lda, b, &ldb, &zero, c, &ldc, 1, 1);
}
void gemm_cn(int m, int n, int k, const std::complex<double>* a, int lda,
             const std::complex<double>* b, int ldb, std::complex<double>* c, int ldc) {
  const std::complex<double> one = 1.0, zero = 0.0;
  zgemm_("C", "N", &m, &n, &k, &one, a, &lda, b, &ldb, &zero, c, &ldc, 1, 1);
}
// c = -Re(a^H a) (upper triangle) for a k x n; `work` holds the complex product.
void minus_gram(int n, int k, const double* a, double* c,
                std::vector<std::complex<double>>& /*work*/) {
  const double minus = -1.0, zero = 0.0;
  dsyrk_("U", "T", &n, &k, &minus, a, &k, &zero, c, &n, 1, 1);
}
void minus_gram(int n, int k, const std::complex<double>* a, double* c,
                std::vector<std::complex<double>>& work) {
  const double minus = -1.0, zero = 0.0;
  work.resize(static_cast<std::size_t>(n) * n);
  zherk_("U", "C", &n, &k, &minus, a, &k, &zero, work.data(), &n, 1, 1);
  for (std::size_t p = 0; p < work.size(); ++p) c[p] = work[p].real();
}
double re_conj(double a, double b) {
  return a * b;
}
double re_conj(std::complex<double> a, std::complex<double> b) {
  return a.real() * b.real() + a.imag() * b.imag();
}

// Adds one k point's and spin's contribution to the static response
//   chi_ij += sum_ab wg F_ab Re(W^i_ab conj(W^j_ab)),  W^i_ab = sum_{r in site i} conj(C_ra) C_rb,
// with F_ab = (f_a - f_b) / (e_a - e_b). Only pairs with one state not full (index <= hi) and
// the other not empty (index >= lo) contribute; the summand is symmetric in (a, b), so the sum
// is twice the (not full) x (not empty) block minus the partial x partial block [lo, hi]^2 that
// this counts twice. The big block is a rank-k update (syrk / herk) of the W's scaled by
// sqrt(-2 wg F) (F <= 0).
template <typename T, typename FF>
void add_response(const T* C, int lo, int hi, double wg, const FF& F, std::vector<T>& zbuf,
                  std::vector<double>& X, int n, int N, int no,
                  std::vector<std::complex<double>>& work) {
  const int nO = hi + 1, nE = n - lo;
  const std::size_t pp = static_cast<std::size_t>(nO) * nE;
  zbuf.resize(pp * N);
  for (int i = 0; i < N; ++i)
    gemm_cn(nO, nE, no, C + static_cast<std::size_t>(no) * i, n,
            C + static_cast<std::size_t>(no) * i + static_cast<std::size_t>(lo) * n, n,
            zbuf.data() + pp * i, nO);
  for (int a = lo; a <= hi; ++a)
    for (int b = lo; b <= hi; ++b) {
      const double w = wg * F(a, b);
      const std::size_t p = static_cast<std::size_t>(b - lo) * nO + a;
      for (int i = 0; i < N; ++i)
        for (int j = 0; j < N; ++j)
          X[static_cast<std::size_t>(i) * N + j] -= w * re_conj(zbuf[pp * i + p], zbuf[pp * j + p]);
    }
  for (int b = 0; b < nE; ++b)
    for (int a = 0; a < nO; ++a) {
      const double wsq = std::sqrt(std::max(0.0, -2.0 * wg * F(a, lo + b)));
      for (int i = 0; i < N; ++i) zbuf[pp * i + static_cast<std::size_t>(b) * nO + a] *= wsq;
    }
  std::vector<double> tmp(static_cast<std::size_t>(N) * N, 0.0);
  minus_gram(N, static_cast<int>(pp), zbuf.data(), tmp.data(), work);
  for (int i = 0; i < N; ++i)
    for (int j = i; j < N; ++j) {
      const double t = tmp[static_cast<std::size_t>(j) * N + i];
      X[static_cast<std::size_t>(i) * N + j] += t;
      if (j != i) X[static_cast<std::size_t>(j) * N + i] += t;
    }
}

// The SCF mixer: the next input vector from the current one and its residual. Anderson mixing
// over the last `history` steps (or plain linear mixing); the step is then a Newton step through
// (1 - J) once such a matrix is set and solvable, else the residual times a diagonal
// preconditioner.
class ScfMixer {
 public:
  ScfMixer(Mixing kind, int history, double beta) : kind_(kind), history_(history), beta_(beta) {}

  // (1 - J), row-major L x L, for the following steps.
  void set_newton_matrix(std::vector<double> one_minus_jacobian) {
    jac_ = std::move(one_minus_jacobian);
    have_jac_ = true;
  }

  // Replaces `xin` by the next input; `R` = x_out - x_in, `P` the diagonal preconditioner.
  void next_input(std::vector<double>& xin, const std::vector<double>& R,
                  const std::vector<double>& P) {
    const int L = static_cast<int>(xin.size());
    std::vector<double> xbar = xin, Rbar = R;
    if (kind_ == Mixing::anderson && !xprev_.empty()) {
      std::vector<double> dx(L), df(L);
      for (int l = 0; l < L; ++l) dx[l] = xin[l] - xprev_[l], df[l] = R[l] - Rprev_[l];
      hist_dx_.push_back(std::move(dx));
      hist_df_.push_back(std::move(df));
      if (static_cast<int>(hist_df_.size()) > history_) hist_dx_.pop_front(), hist_df_.pop_front();
      const int m = static_cast<int>(hist_df_.size());
      std::vector<double> A(static_cast<std::size_t>(m) * m), rhs(m);
      for (int p = 0; p < m; ++p) {
        for (int q = 0; q < m; ++q) {
          double sum = 0.0;
          for (int l = 0; l < L; ++l) sum += hist_df_[p][l] * hist_df_[q][l];
          A[p * m + q] = sum;
        }
        double sum = 0.0;
        for (int l = 0; l < L; ++l) sum += hist_df_[p][l] * R[l];
        rhs[p] = sum;
      }
      double tr = 0.0;
      for (int p = 0; p < m; ++p) tr += A[p * m + p];
      for (int p = 0; p < m; ++p) A[p * m + p] += 1e-12 * tr / m;
      if (solve_small(A, rhs, m))
        for (int p = 0; p < m; ++p)
          for (int l = 0; l < L; ++l) {
            xbar[l] -= rhs[p] * hist_dx_[p][l];
            Rbar[l] -= rhs[p] * hist_df_[p][l];
          }
    }
    xprev_ = xin;
    Rprev_ = R;
    std::vector<double> step = Rbar;
    if (have_jac_ && kind_ == Mixing::anderson && solve_small(jac_, step, L)) {
      for (int l = 0; l < L; ++l) xin[l] = xbar[l] + beta_ * step[l];
    } else {
      for (int l = 0; l < L; ++l) xin[l] = xbar[l] + beta_ * P[l] * Rbar[l];
    }
  }

 private:
  Mixing kind_;
  int history_;
  double beta_;
  std::deque<std::vector<double>> hist_dx_, hist_df_;
  std::vector<double> xprev_, Rprev_, jac_;
  bool have_jac_ = false;
};

}  // namespace

TbModel::TbModel(const Lattice& lattice, std::vector<ElementParameters> species,
                 std::vector<double> valence, std::vector<double> onsite_shift,
                 const TbParameters& params, const TbOptions& options)
    : opt_(options),
      nsites_(lattice.num_sites()),
      nspecies_(static_cast<int>(species.size())),
      no_(options.basis == Basis::spd ? 9 : 6),
      norb_(no_ * lattice.num_sites()),
      nspin_(options.spin_polarized ? 2 : 1),
      species_(std::move(species)),
      valence_(std::move(valence)),
      shift_(std::move(onsite_shift)),
      real_solver_(norb_),
      cplx_solver_(norb_) {
  if (nspecies_ < 1 || valence_.size() != species_.size() || shift_.size() != species_.size())
    fail("tight-binding model: inconsistent species lists");
  for (std::size_t s = 0; s < species_.size(); ++s)
    if (!(valence_[s] > 0 && valence_[s] < 2.0 * no_))
      fail("tight-binding model: species {} puts {} electrons into {} orbitals per spin",
           species_[s].symbol, valence_[s], no_);
  for (int q : opt_.kpoints)
    if (q < 1) fail("k-point grid must be >= 1 in every direction");
  sk_index_ =
      no_ == 9 ? std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7, 8} : std::vector<int>{0, 4, 5, 6, 7, 8};

  set_up_bonds(lattice, params);
  set_up_kpoints(lattice);
  allocate_kpoint_storage();
}

void TbModel::set_up_bonds(const Lattice& lattice, const TbParameters& params) {
  dnn_ = lattice.shells(1).distance.at(0);
  for (const auto& nb : lattice.neighbors_within(opt_.cutoff * dnn_))
    bonds_.push_back({nb.i, nb.j, nb.d});
  const std::size_t bs = static_cast<std::size_t>(no_) * no_;
  blocks_.resize(bonds_.size() * nspecies_ * nspecies_ * bs);
  pair_rep_.resize(bonds_.size() * nspecies_ * nspecies_);
  const double mrep = params.exponent_repulsion;
  for (std::size_t b = 0; b < bonds_.size(); ++b) {
    const double r = norm(bonds_[b].d);
    for (int A = 0; A < nspecies_; ++A)
      for (int B = 0; B < nspecies_; ++B) {
        const SkBlock full =
            slater_koster_block(bonds_[b].d, pair_integrals(species_[A], species_[B], r, params));
        // Wills-Harrison overlap repulsion, geometric mean between elements.
        pair_rep_[(b * nspecies_ + A) * nspecies_ + B] =
            std::sqrt(std::max(0.0, scaled(species_[A].repulsion, species_[A].r1, r, mrep) *
                                        scaled(species_[B].repulsion, species_[B].r1, r, mrep)));
        double* dst = blocks_.data() + ((b * nspecies_ + A) * nspecies_ + B) * bs;
        for (int a = 0; a < no_; ++a)
          for (int c = 0; c < no_; ++c)
            dst[a * no_ + c] = full[sk_index_[a] * kSpdOrbitals + sk_index_[c]];
      }
  }
}

void TbModel::set_up_kpoints(const Lattice& lattice) {
  // k = 2 pi u / box with fractional u = (i + shift / 2) / q folded into (-1/2, 1/2]: with
  // shift 0 a grid through Gamma, with shift 1 the Monkhorst-Pack grid of even q (for q = 1 the
  // zone corner). k and -k give complex-conjugate Hamiltonians (time reversal, collinear spins),
  // so one of each pair is kept with both weights. Points with 2u integer (Gamma and the zone
  // boundary points) are their own partners and have real Hamiltonians.
  const Vec3 box = lattice.box();
  const auto& q = opt_.kpoints;
  const double total = static_cast<double>(q[0]) * q[1] * q[2];
  auto fold = [](double u) {
    u -= std::floor(u + 0.5);
    if (u <= -0.5) u += 1.0;
    return u;
  };
  std::vector<std::array<double, 3>> seen;
  for (int i0 = 0; i0 < q[0]; ++i0)
    for (int i1 = 0; i1 < q[1]; ++i1)
      for (int i2 = 0; i2 < q[2]; ++i2) {
        const std::array<int, 3> idx{i0, i1, i2};
        std::array<double, 3> u{}, minus{};
        bool real = true;
        for (int a = 0; a < 3; ++a) {
          u[a] = fold((idx[a] + 0.5 * opt_.kshift[a]) / q[a]);
          minus[a] = fold(-u[a]);
          const double twice = 2.0 * u[a];
          real = real && std::abs(twice - std::round(twice)) < 1e-12;
        }
        auto same = [](const std::array<double, 3>& x, const std::array<double, 3>& y) {
          return std::abs(x[0] - y[0]) < 1e-12 && std::abs(x[1] - y[1]) < 1e-12 &&
                 std::abs(x[2] - y[2]) < 1e-12;
        };
        bool merged = false;
        for (std::size_t k = 0; k < seen.size() && !merged; ++k)
          if (same(seen[k], minus)) {
            kpoints_[k].weight += 1.0 / total;
            merged = true;
          }
        if (merged) continue;
        KPoint kp;
        kp.real = real;
        kp.weight = 1.0 / total;
        for (int a = 0; a < 3; ++a) kp.k[a] = 2.0 * std::numbers::pi * u[a] / box[a];
        kpoints_.push_back(kp);
        seen.push_back(u);
      }
}

void TbModel::allocate_kpoint_storage() {
  phases_.resize(kpoints_.size());
  h0_real_.resize(kpoints_.size());
  h0_cplx_.resize(kpoints_.size());
  evec_real_.resize(kpoints_.size() * nspin_);
  evec_cplx_.resize(kpoints_.size() * nspin_);
  evals_.resize(kpoints_.size() * nspin_);
  reduced_.resize(kpoints_.size() * nspin_);
  partial_.assign(kpoints_.size() * nspin_, 0);
  const std::size_t n2 = static_cast<std::size_t>(norb_) * norb_;
  for (std::size_t k = 0; k < kpoints_.size(); ++k) {
    phases_[k].reserve(bonds_.size());
    for (const auto& b : bonds_) {
      const double ph = dot(kpoints_[k].k, b.d);
      phases_[k].emplace_back(std::cos(ph), std::sin(ph));
    }
    if (kpoints_[k].real) {
      h0_real_[k].resize(n2);
      for (int s = 0; s < nspin_; ++s)  // spare tail: see lapack_overread_pad
        evec_real_[k * nspin_ + s].resize(n2 + lapack_overread_pad(norb_));
    } else {
      h0_cplx_[k].resize(n2);
      for (int s = 0; s < nspin_; ++s)  // spare tail: see lapack_overread_pad
        evec_cplx_[k * nspin_ + s].resize(n2 + lapack_overread_pad(norb_));
    }
    for (int s = 0; s < nspin_; ++s) evals_[k * nspin_ + s].resize(norb_);
  }
}

ScfState TbModel::cold_start(const Configuration& c) const {
  ScfState x;
  x.valence.resize(nsites_);
  if (opt_.spin_polarized) x.dmoment.resize(nsites_);
  for (int i = 0; i < nsites_; ++i) {
    x.valence[i] = valence_[c[i]];
    if (opt_.spin_polarized) x.dmoment[i] = species_[c[i]].initial_moment;
  }
  return x;
}

void TbModel::assemble(const Configuration& c) {
  const std::size_t n = static_cast<std::size_t>(norb_);
  const std::size_t bs = static_cast<std::size_t>(no_) * no_;
  for (std::size_t k = 0; k < kpoints_.size(); ++k) {
    const bool real = kpoints_[k].real;
    if (real)
      std::fill(h0_real_[k].begin(), h0_real_[k].end(), 0.0);
    else
      std::fill(h0_cplx_[k].begin(), h0_cplx_[k].end(), 0.0);
    for (std::size_t b = 0; b < bonds_.size(); ++b) {
      const Bond& bd = bonds_[b];
      const double* blk = blocks_.data() + ((b * nspecies_ + c[bd.i]) * nspecies_ + c[bd.j]) * bs;
      // Column-major H(row = no i + a, col = no j + c).
      for (int cc = 0; cc < no_; ++cc) {
        const std::size_t col =
            (static_cast<std::size_t>(no_) * bd.j + cc) * n + static_cast<std::size_t>(no_) * bd.i;
        if (real) {
          double* h = h0_real_[k].data() + col;
          const double ph = phases_[k][b].real();  // +-1 at these k
          for (int a = 0; a < no_; ++a) h[a] += blk[a * no_ + cc] * ph;
        } else {
          std::complex<double>* h = h0_cplx_[k].data() + col;
          const std::complex<double> ph = phases_[k][b];
          for (int a = 0; a < no_; ++a) h[a] += blk[a * no_ + cc] * ph;
        }
      }
    }
    for (int i = 0; i < nsites_; ++i) {
      const ElementParameters& e = species_[c[i]];
      const double sh = shift_[c[i]];
      for (int a = 0; a < no_; ++a) {
        const int o = sk_index_[a];
        const double level = o == 0 ? e.e_s : o < 4 ? e.e_p : o < 7 ? e.e_t2g : e.e_eg;
        const std::size_t r = static_cast<std::size_t>(no_) * i + a;
        if (real)
          h0_real_[k][r * n + r] += level + sh;
        else
          h0_cplx_[k][r * n + r] += level + sh;
      }
    }
  }
}

void TbModel::fill_hamiltonian(std::size_t k, int s, const std::vector<double>& v,
                               const std::vector<double>& b) {
  const std::size_t n = static_cast<std::size_t>(norb_);
  const std::size_t slot = k * nspin_ + s;
  const double sgn = s == 0 ? 1.0 : -1.0;
  // The charge potential acts on every orbital, the exchange field on the d shell only.
  auto add_shifts = [&](auto* h) {
    for (int i = 0; i < nsites_; ++i) {
      const std::size_t r0 = static_cast<std::size_t>(no_) * i;
      const double dshift = v[i] + (nspin_ == 2 ? sgn * b[i] : 0.0);
      for (int a = 0; a < no_; ++a) h[(r0 + a) * n + r0 + a] += a < no_ - 5 ? v[i] : dshift;
    }
  };
  if (kpoints_[k].real) {
    std::copy(h0_real_[k].begin(), h0_real_[k].end(), evec_real_[slot].begin());
    add_shifts(evec_real_[slot].data());
  } else {
    std::copy(h0_cplx_[k].begin(), h0_cplx_[k].end(), evec_cplx_[slot].begin());
    add_shifts(evec_cplx_[slot].data());
  }
}

void TbModel::diagonalize(const std::vector<double>& v, const std::vector<double>& b,
                          const Configuration& c) {
  (void)c;
  for (std::size_t k = 0; k < kpoints_.size(); ++k)
    for (int s = 0; s < nspin_; ++s) {
      const std::size_t slot = k * nspin_ + s;
      fill_hamiltonian(k, s, v, b);
      partial_[slot] = 0;
      if (kpoints_[k].real) {
        real_solver_.solve(evec_real_[slot].data(), evals_[slot].data());
      } else if (opt_.single_pass && cplx_solver_.reduce(evec_cplx_[slot].data(),
                                                         evals_[slot].data(), reduced_[slot])) {
        partial_[slot] = 1;  // eigenvectors follow once the Fermi level is known
      } else {
        if (opt_.single_pass) fill_hamiltonian(k, s, v, b);  // the reduction split: start over
        cplx_solver_.solve(evec_cplx_[slot].data(), evals_[slot].data());
      }
    }
}

void TbModel::add_slot_density(std::size_t slot, double mu, double* d,
                               std::vector<double>& ldos) const {
  const std::size_t n = static_cast<std::size_t>(norb_);
  const std::size_t k = slot / nspin_;
  const double kT = opt_.temperature;
  const double wg = kpoints_[k].weight * (nspin_ == 2 ? 1.0 : 2.0);
  for (std::size_t m = 0; m < n; ++m) {
    const double f = fermi((evals_[slot][m] - mu) / kT);
    const double occ = wg * f;
    const double dos = wg * f * (1.0 - f) / kT;
    if (occ < 1e-18 && dos < 1e-18) continue;
    if (kpoints_[k].real) {
      const double* col = evec_real_[slot].data() + m * n;
      for (std::size_t r = 0; r < n; ++r) d[r] += occ * col[r] * col[r];
      if (dos >= 1e-18)
        for (std::size_t r = 0; r < n; ++r) ldos[r / no_] += dos * col[r] * col[r];
    } else {
      const std::complex<double>* col = evec_cplx_[slot].data() + m * n;
      for (std::size_t r = 0; r < n; ++r) d[r] += occ * std::norm(col[r]);
      if (dos >= 1e-18)
        for (std::size_t r = 0; r < n; ++r) ldos[r / no_] += dos * std::norm(col[r]);
    }
  }
}

void TbModel::add_top_state_densities(double mu, const std::vector<double>& v,
                                      const std::vector<double>& b, std::vector<double>& dens,
                                      std::vector<double>& ldos) {
  const std::size_t n = static_cast<std::size_t>(norb_);
  const double kT = opt_.temperature;
  for (std::size_t k = 0; k < kpoints_.size(); ++k)
    for (int s = 0; s < nspin_; ++s) {
      const std::size_t slot = k * nspin_ + s;
      if (!partial_[slot]) continue;
      double* d = dens.data() + s * n;
      const double wg = kpoints_[k].weight * (nspin_ == 2 ? 1.0 : 2.0);
      // States with 1 - f > 1e-14 (x > -32.2); the rest count as full.
      int m = 0;
      while (m < norb_ && (evals_[slot][n - 1 - m] - mu) / kT > -kFullStateX) ++m;
      ztop_.resize(n * static_cast<std::size_t>(std::max(m, 1)));
      if (!cplx_solver_.top_vectors(evec_cplx_[slot].data(), reduced_[slot], evals_[slot].data(), m,
                                    ztop_.data())) {
        // Inverse iteration failed: the whole eigenproblem of this slot after all.
        fill_hamiltonian(k, s, v, b);
        cplx_solver_.solve(evec_cplx_[slot].data(), evals_[slot].data());
        partial_[slot] = 0;
        add_slot_density(slot, mu, d, ldos);
        continue;
      }
      for (std::size_t r = 0; r < n; ++r) d[r] += wg;
      for (int j = 0; j < m; ++j) {
        const std::size_t state = n - m + j;
        const double f = fermi((evals_[slot][state] - mu) / kT);
        const double hole = wg * (1.0 - f), dos = wg * f * (1.0 - f) / kT;
        const std::complex<double>* col = ztop_.data() + static_cast<std::size_t>(j) * n;
        for (std::size_t r = 0; r < n; ++r) d[r] -= hole * std::norm(col[r]);
        if (dos >= 1e-18)
          for (std::size_t r = 0; r < n; ++r) ldos[r / no_] += dos * std::norm(col[r]);
      }
    }
}

double TbModel::find_fermi_level(double electrons) const {
  const double kT = opt_.temperature;
  const double g = nspin_ == 2 ? 1.0 : 2.0;
  double lo = std::numeric_limits<double>::max(), hi = -lo;
  for (const auto& ev : evals_) {
    lo = std::min(lo, ev.front());
    hi = std::max(hi, ev.back());
  }
  lo -= 60 * kT;
  hi += 60 * kT;
  auto count = [&](double mu, double& deriv) {
    double nsum = 0.0;
    deriv = 0.0;
    for (std::size_t k = 0; k < kpoints_.size(); ++k)
      for (int s = 0; s < nspin_; ++s) {
        const double wg = kpoints_[k].weight * g;
        for (double e : evals_[k * nspin_ + s]) {
          const double f = fermi((e - mu) / kT);
          nsum += wg * f;
          deriv += wg * f * (1.0 - f) / kT;
        }
      }
    return nsum;
  };
  // Newton's method safeguarded by bisection: the electron count is monotonic in mu.
  double mu = 0.5 * (lo + hi);
  for (int it = 0; it < 300; ++it) {
    double dn = 0.0;
    const double err = count(mu, dn) - electrons;
    if (std::abs(err) < 1e-12 * std::max(1.0, electrons)) break;
    (err > 0 ? hi : lo) = mu;
    if (hi - lo < 1e-15 * std::max(1.0, std::abs(mu))) break;
    double next = dn > 0 ? mu - err / dn : 0.5 * (lo + hi);
    if (!(next > lo && next < hi)) next = 0.5 * (lo + hi);
    mu = next;
  }
  return mu;
}

void TbModel::response(double mu, std::vector<std::vector<double>>& chi) {
  const double kT = opt_.temperature;
  const double g = nspin_ == 2 ? 1.0 : 2.0;
  const int n = norb_, N = nsites_;
  chi.assign(nspin_, std::vector<double>(static_cast<std::size_t>(N) * N, 0.0));
  std::vector<double> f(n);
  for (std::size_t k = 0; k < kpoints_.size(); ++k)
    for (int s = 0; s < nspin_; ++s) {
      const std::size_t slot = k * nspin_ + s;
      const std::vector<double>& e = evals_[slot];
      const double wg = kpoints_[k].weight * g;
      for (int m = 0; m < n; ++m) f[m] = fermi((e[m] - mu) / kT);
      // (f_a - f_b) / (e_a - e_b), with its limit -f(1-f)/kT for degenerate levels.
      auto F = [&](int a, int b) {
        const double de = e[a] - e[b];
        if (std::abs(de) < 1e-9 * kT) {
          const double fm = fermi((0.5 * (e[a] + e[b]) - mu) / kT);
          return -fm * (1.0 - fm) / kT;
        }
        return (f[a] - f[b]) / de;
      };
      int hi = -1, lo = n;
      for (int m = 0; m < n; ++m) {
        if (f[m] > kResponseThreshold) hi = m;
        if (f[m] < 1.0 - kResponseThreshold && lo == n) lo = m;
      }
      if (hi < 0 || lo >= n) continue;
      if (kpoints_[k].real)
        add_response(evec_real_[slot].data(), lo, hi, wg, F, zbuf_, chi[s], n, N, no_, gram_);
      else
        add_response(evec_cplx_[slot].data(), lo, hi, wg, F, zbuf_cplx_, chi[s], n, N, no_, gram_);
    }
}

std::vector<double> TbModel::newton_matrix(double mu, const std::vector<double>& U,
                                           const std::vector<double>& I) {
  const bool pol = nspin_ == 2;
  const int N = nsites_;
  const int L = pol ? 2 * N : N;
  std::vector<std::vector<double>> chi;
  response(mu, chi);
  // d n_i^s = sum_j chi^s_ij (dV^s_j - d mu) with d mu fixed by charge conservation.
  std::vector<std::vector<double>> a(nspin_, std::vector<double>(N, 0.0));
  double S = 0.0;
  for (int s = 0; s < nspin_; ++s)
    for (int i = 0; i < N; ++i) {
      for (int j = 0; j < N; ++j) a[s][i] += chi[s][static_cast<std::size_t>(i) * N + j];
      S += a[s][i];
    }
  std::vector<double> jac(static_cast<std::size_t>(L) * L, 0.0);
  for (int l = 0; l < L; ++l) {
    // Input unit change l: dV^s_j of each spin channel (only site l % N moves).
    const int j = l % N;
    double dV[2] = {0.0, 0.0};
    for (int s = 0; s < nspin_; ++s) {
      const double sg = pol ? (s == 0 ? 1.0 : -1.0) : 0.0;
      dV[s] = l < N ? U[j] : -sg * 0.5 * I[j];
    }
    double dmu = 0.0;
    for (int s = 0; s < nspin_; ++s) dmu += a[s][j] * dV[s];
    dmu = S != 0.0 ? dmu / S : 0.0;
    for (int s = 0; s < nspin_; ++s) {
      const double sg = s == 0 ? 1.0 : -1.0;
      for (int i = 0; i < N; ++i) {
        const double dn = chi[s][static_cast<std::size_t>(i) * N + j] * dV[s] - a[s][i] * dmu;
        jac[static_cast<std::size_t>(i) * L + l] -= dn;
        if (pol) jac[static_cast<std::size_t>(N + i) * L + l] -= sg * dn;
      }
    }
  }
  for (int l = 0; l < L; ++l) jac[static_cast<std::size_t>(l) * L + l] += 1.0;  // 1 - J
  return jac;
}

TbModel::SiteTerms TbModel::site_terms(const Configuration& c) const {
  const int N = nsites_;
  SiteTerms t{std::vector<double>(N), std::vector<double>(N), std::vector<double>(N), 0.0};
  for (int i = 0; i < N; ++i) {
    t.n0[i] = valence_[c[i]];
    t.U[i] = species_[c[i]].hubbard_u;
    t.I[i] = species_[c[i]].stoner_i;
    t.electrons += t.n0[i];
  }
  return t;
}

std::vector<double> TbModel::scf_input(const Configuration& c, const ScfState* start) const {
  // The mixed vector: electrons per site, then the d moment per site when spin polarized.
  const bool pol = nspin_ == 2;
  const int N = nsites_;
  std::vector<double> xin(pol ? 2 * N : N);
  const ScfState x0 = start ? *start : cold_start(c);
  if (static_cast<int>(x0.valence.size()) != N) fail("SCF starting guess has the wrong size");
  for (int i = 0; i < N; ++i) xin[i] = x0.valence[i];
  if (pol)
    for (int i = 0; i < N; ++i)
      xin[N + i] =
          static_cast<int>(x0.dmoment.size()) == N ? x0.dmoment[i] : species_[c[i]].initial_moment;
  return xin;
}

TbModel::ScfOutput TbModel::scf_output(double mu, const std::vector<double>& v,
                                       const std::vector<double>& b, std::vector<double>& dens) {
  const bool pol = nspin_ == 2;
  const double g = pol ? 1.0 : 2.0;
  const double kT = opt_.temperature;
  const std::size_t n = static_cast<std::size_t>(norb_);
  const int N = nsites_;
  ScfOutput out;
  out.x.assign(pol ? 2 * N : N, 0.0);
  out.ldos.assign(N, 0.0);
  // Mulliken populations (orthogonal basis: the diagonal of the density matrix), band
  // energy, entropy and the local density of states at mu.
  std::fill(dens.begin(), dens.end(), 0.0);
  double eband = 0.0, ent = 0.0;
  for (std::size_t k = 0; k < kpoints_.size(); ++k)
    for (int s = 0; s < nspin_; ++s) {
      const std::size_t slot = k * nspin_ + s;
      const double wg = kpoints_[k].weight * g;
      for (std::size_t m = 0; m < n; ++m) {
        const double x = (evals_[slot][m] - mu) / kT;
        eband += wg * fermi(x) * evals_[slot][m];
        ent += wg * entropy(x);
      }
      if (!partial_[slot]) add_slot_density(slot, mu, dens.data() + s * n, out.ldos);
    }
  add_top_state_densities(mu, v, b, dens, out.ldos);
  out.band_energy = eband;
  out.entropy = ent;

  out.moment.assign(N, 0.0);
  out.shells.assign(N, {0.0, 0.0, 0.0});
  for (int i = 0; i < N; ++i) {
    double ni = 0.0, md = 0.0, mt = 0.0;
    for (int a = 0; a < no_; ++a) {
      const std::size_t r = static_cast<std::size_t>(no_) * i + a;
      const double up = dens[r], dn = pol ? dens[n + r] : 0.0;
      const int o = sk_index_[a];
      out.shells[i][o == 0 ? 0 : o < 4 ? 1 : 2] += up + dn;
      ni += up + dn;
      mt += up - dn;
      if (a >= no_ - 5) md += up - dn;
    }
    out.x[i] = ni;
    out.moment[i] = pol ? mt : 0.0;
    if (pol) out.x[N + i] = md;
  }
  return out;
}

TbResult TbModel::scf_result(const Configuration& c, const SiteTerms& t,
                             const std::vector<double>& v, const std::vector<double>& b, double mu,
                             ScfOutput out) const {
  const bool pol = nspin_ == 2;
  const double kT = opt_.temperature;
  const int N = nsites_;
  const std::vector<double>& xout = out.x;
  // E[rho_out] = Tr(rho_out H0) + E_int[rho_out]: the band energy of H[x_in] minus the
  // input potentials times the output densities, plus the interaction energies of the
  // output densities. Variational: its error is second order in the residual.
  double edc = 0.0, eint = 0.0;
  for (int i = 0; i < N; ++i) {
    edc += v[i] * xout[i];
    eint += 0.5 * t.U[i] * (xout[i] - t.n0[i]) * (xout[i] - t.n0[i]);
    if (pol) {
      edc += b[i] * xout[N + i];
      eint -= 0.25 * t.I[i] * xout[N + i] * xout[N + i];
    }
  }
  // Every bond appears once from each end.
  double erep = 0.0;
  for (std::size_t bd = 0; bd < bonds_.size(); ++bd)
    erep += 0.5 * pair_rep_[(bd * nspecies_ + c[bonds_[bd].i]) * nspecies_ + c[bonds_[bd].j]];
  TbResult res;
  res.repulsive_energy = erep;
  res.band_energy = out.band_energy;
  res.entropy_term = -kT * out.entropy;
  res.free_energy = out.band_energy - edc + eint - kT * out.entropy + erep;
  res.fermi_energy = mu;
  res.valence.assign(xout.begin(), xout.begin() + N);
  res.moment = std::move(out.moment);
  res.shells = std::move(out.shells);
  res.state.valence = res.valence;
  if (pol) res.state.dmoment.assign(xout.begin() + N, xout.end());
  return res;
}

TbResult TbModel::solve(const Configuration& c, const ScfState* start) {
  if (c.num_sites() != nsites_)
    fail("configuration has {} sites but the tight-binding cell has {}", c.num_sites(), nsites_);
  for (int i = 0; i < nsites_; ++i)
    if (c[i] >= nspecies_)
      fail("site {} holds species index {} but the system has {} species", i, c[i], nspecies_);
  assemble(c);

  const bool pol = nspin_ == 2;
  const int N = nsites_;
  const int L = pol ? 2 * N : N;
  const SiteTerms t = site_terms(c);
  std::vector<double> xin = scf_input(c, start);
  std::vector<double> v(N), b(N), R(L), P(L, 1.0), dens(static_cast<std::size_t>(norb_) * nspin_);
  ScfMixer mixer(opt_.mixing, opt_.mixing_history, opt_.mixing_beta);

  for (int it = 1;; ++it) {
    for (int i = 0; i < N; ++i) {
      v[i] = t.U[i] * (xin[i] - t.n0[i]);
      b[i] = pol ? -0.5 * t.I[i] * xin[N + i] : 0.0;
    }
    diagonalize(v, b, c);
    const double mu = find_fermi_level(t.electrons);
    ScfOutput out = scf_output(mu, v, b, dens);

    double maxq = 0.0, maxm = 0.0;
    for (int l = 0; l < L; ++l) {
      R[l] = out.x[l] - xin[l];
      if (l < N)
        maxq = std::max(maxq, std::abs(R[l]));
      else
        maxm = std::max(maxm, std::abs(R[l]));
    }
    const bool converged =
        opt_.single_pass || (maxq < opt_.charge_tolerance && maxm < opt_.moment_tolerance);
    if (converged || it >= opt_.max_iterations) {
      TbResult res = scf_result(c, t, v, b, mu, std::move(out));
      res.converged = converged;
      res.iterations = it;
      res.residual = std::max(maxq, maxm);
      return res;
    }

    // Quasi-Newton step. On the first iterations the Jacobian of the output densities with
    // respect to the input densities is built from the static response chi of the current
    // eigenstates (the exchange field is taken on the whole site here, an approximation of
    // the Jacobian only); Anderson mixing then works on the Newton-preconditioned residual.
    if (it <= kJacobianIterations && opt_.mixing == Mixing::anderson)
      mixer.set_newton_matrix(newton_matrix(mu, t.U, t.I));
    // Fallback preconditioner (linear mixing): a site's charge responds to its own potential
    // through its local density of states, 1 / (1 + U D_i) is the local Newton step.
    for (int i = 0; i < N; ++i) P[i] = 1.0 / (1.0 + t.U[i] * out.ldos[i]);
    mixer.next_input(xin, R, P);
    // Keep the input charges summing to the electron count (the outputs always do).
    double sum = 0.0;
    for (int i = 0; i < N; ++i) sum += xin[i];
    const double corr = (sum - t.electrons) / N;
    for (int i = 0; i < N; ++i) xin[i] -= corr;
  }
}

ElementReference element_reference(const ElementParameters& e, double valence,
                                   const TbParameters& params, const TbOptions& options) {
  const bool magnetic = options.spin_polarized && e.initial_moment > 0;
  const std::string key = fmt::format(
      "{}|{}|{}|{:.17g}|{:.17g}|{:.17g}|{:d}|{:.17g}|{:.17g}|{:.17g}|{:.17g}|{:.17g}|{:.17g}",
      params.file, e.symbol, static_cast<int>(options.basis), valence, options.cutoff,
      options.temperature, magnetic, e.initial_moment, e.a, e.e_s, e.e_t2g, e.stoner_i,
      e.hubbard_u);
  static std::mutex mutex;
  static std::map<std::string, ElementReference> cache;
  {
    std::lock_guard<std::mutex> lock(mutex);
    auto it = cache.find(key);
    if (it != cache.end()) return it->second;
  }

  const Lattice lat(e.structure, e.a, e.a, {1, 1, 1});
  const Configuration c(std::vector<std::uint8_t>(lat.num_sites(), 0));
  TbOptions o = options;
  // Shifted 10x10x10 Monkhorst-Pack grid of the conventional cell (E_F to ~1 mRy).
  o.kpoints = {10, 10, 10};
  o.kshift = {1, 1, 1};
  o.spin_polarized = false;
  o.max_iterations = 3;
  ElementParameters bare = e;
  bare.repulsion = 0.0;
  // All sites of the pure crystal are equivalent, so the neutral start is self-consistent.
  ElementReference ref;
  {
    o.basis = Basis::spd;
    TbModel spd(lat, {bare}, {valence}, {0.0}, params, o);
    const TbResult r = spd.solve(c);
    ref.shells = r.shells[0];
    ref.fermi_level = r.fermi_energy;
  }
  o.basis = options.basis;
  const double electrons = valence - (options.basis == Basis::sd ? ref.shells[1] : 0.0);
  if (options.basis == Basis::sd) {
    ref.p_background = ref.shells[1];
    TbModel sd(lat, {bare}, {electrons}, {0.0}, params, o);
    ref.fermi_level = sd.solve(c).fermi_energy;
  }

  // Zero pressure at a: the repulsion balances the electronic pressure dE_el/da, computed by
  // central differences (a spin-polarized metal is evaluated magnetic, from its start moment).
  o.spin_polarized = magnetic;
  o.max_iterations = 200;
  o.charge_tolerance = o.moment_tolerance = 1e-9;
  const double h = 0.005;
  auto energy_at = [&](double a) {
    const Lattice l(e.structure, a, a, {1, 1, 1});
    TbModel m(l, {bare}, {electrons}, {0.0}, params, o);
    const TbResult r = m.solve(c);
    if (!r.converged) fail("pure {} reference at a = {} Bohr did not converge", e.symbol, a);
    return r.free_energy / l.num_sites();
  };
  const double dEda = (energy_at(e.a * (1 + h)) - energy_at(e.a * (1 - h))) / (2 * h * e.a);
  double sum = 0.0;  // sum_j (r1 / r_j)^m over the neighbours of one atom within the cutoff
  const double dnn = lat.shells(1).distance.at(0);
  for (const auto& nb : lat.neighbors_within(options.cutoff * dnn))
    if (nb.i == 0) sum += std::pow(e.r1 / nb.r, params.exponent_repulsion);
  // E_rep per atom = phi1 sum / 2 ~ a^-m, so dE_rep/da = -m E_rep / a.
  ref.pressure_derivative = dEda;
  ref.repulsion = dEda * e.a / (params.exponent_repulsion * 0.5 * sum);

  std::lock_guard<std::mutex> lock(mutex);
  cache.emplace(key, ref);
  return ref;
}

}  // namespace lsmss::tb
