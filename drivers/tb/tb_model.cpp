#include "drivers/tb/tb_model.hpp"

#include <algorithm>
#include <cmath>
#include <deque>
#include <limits>
#include <numbers>
#include <cstdio>
#include <chrono>
#include <cstdlib>

#include "core/error.hpp"

extern "C" {
void dgemm_(const char* ta, const char* tb, const int* m, const int* n, const int* k,
            const double* alpha, const double* a, const int* lda, const double* b, const int* ldb,
            const double* beta, double* c, const int* ldc, std::size_t, std::size_t);
void dsyrk_(const char* uplo, const char* trans, const int* n, const int* k, const double* alpha,
            const double* a, const int* lda, const double* beta, double* c, const int* ldc,
            std::size_t, std::size_t);
}

namespace lsmss::tb {
namespace {

constexpr int kOrb = kOrbitalsPerSite;

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
double scaled(double v1, double r1, double r, double n) { return v1 * std::pow(r1 / r, n); }

// Heteronuclear combination of two like-signed integrals (Harrison's geometric mean).
double combine(double a, double b) {
  if (a * b > 0) return std::copysign(std::sqrt(a * b), a);
  return 0.5 * (a + b);
}

BondIntegrals pair_integrals(const ElementParameters& A, const ElementParameters& B, double r,
                             const TbParameters& p) {
  BondIntegrals v;
  v.ss_sigma = combine(scaled(A.ss_sigma, A.r1, r, p.exponent_ss),
                       scaled(B.ss_sigma, B.r1, r, p.exponent_ss));
  // An s-d coupling is set by the d atom's orbital radius (Harrison), i.e. its own parameter.
  v.sd_sigma_ab = scaled(B.sd_sigma, B.r1, r, p.exponent_sd);
  v.sd_sigma_ba = scaled(A.sd_sigma, A.r1, r, p.exponent_sd);
  v.dd_sigma = combine(scaled(A.dd_sigma, A.r1, r, p.exponent_dd),
                       scaled(B.dd_sigma, B.r1, r, p.exponent_dd));
  v.dd_pi = combine(scaled(A.dd_pi, A.r1, r, p.exponent_dd), scaled(B.dd_pi, B.r1, r, p.exponent_dd));
  v.dd_delta = combine(scaled(A.dd_delta, A.r1, r, p.exponent_dd),
                       scaled(B.dd_delta, B.r1, r, p.exponent_dd));
  return v;
}

// Solves the small dense system A x = b (Gaussian elimination, partial pivoting); false if
// singular.
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

}  // namespace

TbModel::TbModel(const Lattice& lattice, std::vector<ElementParameters> species,
                 std::vector<double> valence, std::vector<double> onsite_shift,
                 const TbParameters& params, const TbOptions& options)
    : opt_(options),
      nsites_(lattice.num_sites()),
      nspecies_(static_cast<int>(species.size())),
      norb_(kOrb * lattice.num_sites()),
      nspin_(options.spin_polarized ? 2 : 1),
      species_(std::move(species)),
      valence_(std::move(valence)),
      shift_(std::move(onsite_shift)),
      real_solver_(kOrb * lattice.num_sites()),
      cplx_solver_(kOrb * lattice.num_sites()) {
  if (nspecies_ < 1 || valence_.size() != species_.size() || shift_.size() != species_.size())
    fail("tight-binding model: inconsistent species lists");
  for (std::size_t s = 0; s < species_.size(); ++s)
    if (!(valence_[s] > 0 && valence_[s] <= 2.0 * kOrb))
      fail("tight-binding model: species {} has {} valence electrons; an s+d site holds 0..12",
           species_[s].symbol, valence_[s]);
  for (int q : opt_.kpoints)
    if (q < 1) fail("k-point grid must be >= 1 in every direction");

  dnn_ = lattice.shells(1).distance.at(0);
  for (const auto& nb : lattice.neighbors_within(opt_.cutoff * dnn_)) bonds_.push_back({nb.i, nb.j, nb.d});
  blocks_.resize(bonds_.size() * nspecies_ * nspecies_);
  for (std::size_t b = 0; b < bonds_.size(); ++b) {
    const double r = norm(bonds_[b].d);
    for (int A = 0; A < nspecies_; ++A)
      for (int B = 0; B < nspecies_; ++B)
        blocks_[(b * nspecies_ + A) * nspecies_ + B] =
            slater_koster_block(bonds_[b].d, pair_integrals(species_[A], species_[B], r, params));
  }

  // Monkhorst-Pack grid u = (2r - q - 1) / 2q of the supercell's reciprocal lattice; k and -k
  // give complex-conjugate Hamiltonians (time reversal, collinear spins), so only one of each
  // pair is kept with double weight.
  const Vec3 box = lattice.box();
  const auto& q = opt_.kpoints;
  const double total = static_cast<double>(q[0]) * q[1] * q[2];
  for (int i0 = 0; i0 < q[0]; ++i0)
    for (int i1 = 0; i1 < q[1]; ++i1)
      for (int i2 = 0; i2 < q[2]; ++i2) {
        const std::array<int, 3> idx{i0, i1, i2}, partner{q[0] - 1 - i0, q[1] - 1 - i1, q[2] - 1 - i2};
        if (idx > partner) continue;
        KPoint kp;
        kp.gamma = idx == partner;
        kp.weight = (kp.gamma ? 1.0 : 2.0) / total;
        for (int a = 0; a < 3; ++a) {
          const double u = (2.0 * idx[a] - q[a] + 1.0) / (2.0 * q[a]);
          kp.k[a] = 2.0 * std::numbers::pi * u / box[a];
        }
        kpoints_.push_back(kp);
      }
  phases_.resize(kpoints_.size());
  h0_real_.resize(kpoints_.size());
  h0_cplx_.resize(kpoints_.size());
  evec_real_.resize(kpoints_.size() * nspin_);
  evec_cplx_.resize(kpoints_.size() * nspin_);
  evals_.resize(kpoints_.size() * nspin_);
  const std::size_t n2 = static_cast<std::size_t>(norb_) * norb_;
  for (std::size_t k = 0; k < kpoints_.size(); ++k) {
    if (kpoints_[k].gamma) {
      h0_real_[k].resize(n2);
      for (int s = 0; s < nspin_; ++s) evec_real_[k * nspin_ + s].resize(n2);
    } else {
      phases_[k].reserve(bonds_.size());
      for (const auto& b : bonds_) {
        const double ph = dot(kpoints_[k].k, b.d);
        phases_[k].emplace_back(std::cos(ph), std::sin(ph));
      }
      h0_cplx_[k].resize(n2);
      for (int s = 0; s < nspin_; ++s) evec_cplx_[k * nspin_ + s].resize(n2);
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
  for (std::size_t k = 0; k < kpoints_.size(); ++k) {
    const bool real = kpoints_[k].gamma;
    if (real)
      std::fill(h0_real_[k].begin(), h0_real_[k].end(), 0.0);
    else
      std::fill(h0_cplx_[k].begin(), h0_cplx_[k].end(), 0.0);
    for (std::size_t b = 0; b < bonds_.size(); ++b) {
      const Bond& bd = bonds_[b];
      const SkBlock& blk = blocks_[(b * nspecies_ + c[bd.i]) * nspecies_ + c[bd.j]];
      // Column-major H(row = 6i + a, col = 6j + b).
      for (int bb = 0; bb < kOrb; ++bb) {
        const std::size_t col = (static_cast<std::size_t>(kOrb) * bd.j + bb) * n + kOrb * bd.i;
        if (real) {
          double* h = h0_real_[k].data() + col;
          for (int a = 0; a < kOrb; ++a) h[a] += blk[a * kOrb + bb];
        } else {
          std::complex<double>* h = h0_cplx_[k].data() + col;
          const std::complex<double> ph = phases_[k][b];
          for (int a = 0; a < kOrb; ++a) h[a] += blk[a * kOrb + bb] * ph;
        }
      }
    }
    for (int i = 0; i < nsites_; ++i) {
      const ElementParameters& e = species_[c[i]];
      const double sh = shift_[c[i]];
      const double lev[kOrb] = {e.e_s, e.e_t2g, e.e_t2g, e.e_t2g, e.e_eg, e.e_eg};
      for (int a = 0; a < kOrb; ++a) {
        const std::size_t r = static_cast<std::size_t>(kOrb) * i + a;
        if (real)
          h0_real_[k][r * n + r] += lev[a] + sh;
        else
          h0_cplx_[k][r * n + r] += lev[a] + sh;
      }
    }
  }
}

void TbModel::diagonalize(const std::vector<double>& v, const std::vector<double>& b,
                          const Configuration& c) {
  (void)c;
  const std::size_t n = static_cast<std::size_t>(norb_);
  for (std::size_t k = 0; k < kpoints_.size(); ++k)
    for (int s = 0; s < nspin_; ++s) {
      const double sgn = s == 0 ? 1.0 : -1.0;
      const std::size_t slot = k * nspin_ + s;
      auto add_shifts = [&](auto* h) {
        for (int i = 0; i < nsites_; ++i) {
          const std::size_t r0 = static_cast<std::size_t>(kOrb) * i;
          h[r0 * n + r0] += v[i];
          const double dshift = v[i] + (nspin_ == 2 ? sgn * b[i] : 0.0);
          for (int a = 1; a < kOrb; ++a) h[(r0 + a) * n + r0 + a] += dshift;
        }
      };
      if (kpoints_[k].gamma) {
        std::copy(h0_real_[k].begin(), h0_real_[k].end(), evec_real_[slot].begin());
        add_shifts(evec_real_[slot].data());
        real_solver_.solve(evec_real_[slot].data(), evals_[slot].data());
      } else {
        std::copy(h0_cplx_[k].begin(), h0_cplx_[k].end(), evec_cplx_[slot].begin());
        add_shifts(evec_cplx_[slot].data());
        cplx_solver_.solve(evec_cplx_[slot].data(), evals_[slot].data());
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
  // Newton's method safeguarded by bisection: the count is monotonic in mu.
  double mu = 0.5 * (lo + hi);
  for (int it = 0; it < 300; ++it) {
    double dn = 0.0;
    const double err = count(mu, dn) - electrons;
    if (std::abs(err) < 1e-12 * std::max(1.0, electrons)) break;
    (err > 0 ? hi : lo) = mu;
    double next = dn > 0 ? mu - err / dn : 0.5 * (lo + hi);
    if (!(next > lo && next < hi)) next = 0.5 * (lo + hi);
    if (hi - lo < 1e-15 * std::max(1.0, std::abs(mu))) break;
    mu = next;
  }
  return mu;
}

void TbModel::response(double mu, std::vector<std::vector<double>>& chi) {
  const double kT = opt_.temperature;
  const double g = nspin_ == 2 ? 1.0 : 2.0;
  const int n = norb_, N = nsites_;
  // States with f within `thr` of 0 or 1 are treated as empty or full: the response only needs
  // a few digits.
  constexpr double thr = 1e-6;
  chi.assign(nspin_, std::vector<double>(static_cast<std::size_t>(N) * N, 0.0));
  std::vector<double> f(n);
  for (std::size_t k = 0; k < kpoints_.size(); ++k)
    for (int s = 0; s < nspin_; ++s) {
      const std::size_t slot = k * nspin_ + s;
      const std::vector<double>& e = evals_[slot];
      const double wg = kpoints_[k].weight * g;
      for (int m = 0; m < n; ++m) f[m] = fermi((e[m] - mu) / kT);
      // (f_n - f_m) / (e_n - e_m), its limit -f(1-f)/kT for degenerate levels.
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
        if (f[m] > thr) hi = m;
        if (f[m] < 1.0 - thr && lo == n) lo = m;
      }
      if (hi < 0 || lo >= n) continue;
      // The sum over all state pairs is 2 x (occupied-ish O x empty-ish E) minus the
      // doubly counted partial x partial block (P = O and E).
      const int nO = hi + 1, nE = n - lo;
      std::vector<double>& X = chi[s];
      if (kpoints_[k].gamma) {
        const double* C = evec_real_[slot].data();
        const std::size_t pp = static_cast<std::size_t>(nO) * nE;
        zbuf_.resize(pp * N);
        // Z_i(p = (a, b)) = sum_{r in site i} C_ra C_rb for a in O, b in E.
        for (int i = 0; i < N; ++i) {
          const int six = kOrb;
          const double one = 1.0, zero = 0.0;
          dgemm_("T", "N", &nO, &nE, &six, &one, C + kOrb * i, &n, C + kOrb * i + std::size_t(lo) * n, &n,
                 &zero, zbuf_.data() + pp * i, &nO, 1, 1);
        }
        std::vector<double> wsq(pp);
        for (int b = 0; b < nE; ++b)
          for (int a = 0; a < nO; ++a) wsq[std::size_t(b) * nO + a] = std::sqrt(-2.0 * wg * F(a, lo + b));
        // Partial x partial block before scaling (it is counted twice in 2 x O x E).
        for (int a = lo; a <= hi; ++a)
          for (int b = lo; b <= hi; ++b) {
            const double w = wg * F(a, b);
            const std::size_t p = std::size_t(b - lo) * nO + a;
            for (int i = 0; i < N; ++i)
              for (int j = 0; j < N; ++j) X[std::size_t(i) * N + j] -= w * zbuf_[pp * i + p] * zbuf_[pp * j + p];
          }
        for (int i = 0; i < N; ++i)
          for (std::size_t p = 0; p < pp; ++p) zbuf_[pp * i + p] *= wsq[p];
        const int ipp = static_cast<int>(pp);
        const double minus = -1.0, one = 1.0;
        std::vector<double> tmp(static_cast<std::size_t>(N) * N, 0.0);
        dsyrk_("U", "T", &N, &ipp, &minus, zbuf_.data(), &ipp, &one, tmp.data(), &N, 1, 1);
        for (int i = 0; i < N; ++i)
          for (int j = i; j < N; ++j) {
            X[std::size_t(i) * N + j] += tmp[std::size_t(j) * N + i];
            if (j != i) X[std::size_t(j) * N + i] += tmp[std::size_t(j) * N + i];
          }
      } else {
        const std::complex<double>* C = evec_cplx_[slot].data();
        std::vector<std::complex<double>> W(N);
        for (int a = 0; a < n; ++a)
          for (int b = 0; b < n; ++b) {
            const bool full_a = f[a] >= 1.0 - thr, full_b = f[b] >= 1.0 - thr;
            const bool empty_a = f[a] <= thr, empty_b = f[b] <= thr;
            if ((full_a && full_b) || (empty_a && empty_b)) continue;
            const double w = wg * F(a, b);
            for (int i = 0; i < N; ++i) {
              std::complex<double> z = 0.0;
              for (int r = kOrb * i; r < kOrb * (i + 1); ++r)
                z += std::conj(C[std::size_t(a) * n + r]) * C[std::size_t(b) * n + r];
              W[i] = z;
            }
            for (int i = 0; i < N; ++i)
              for (int j = 0; j < N; ++j) X[std::size_t(i) * N + j] += w * std::real(W[i] * std::conj(W[j]));
          }
      }
    }
}

TbResult TbModel::solve(const Configuration& c, const ScfState* start) {
  if (c.num_sites() != nsites_)
    fail("configuration has {} sites but the tight-binding cell has {}", c.num_sites(), nsites_);
  for (int i = 0; i < nsites_; ++i)
    if (c[i] >= nspecies_) fail("site {} holds species index {} but the system has {} species", i, c[i], nspecies_);
  assemble(c);

  const bool pol = nspin_ == 2;
  const double g = pol ? 1.0 : 2.0;
  const double kT = opt_.temperature;
  const std::size_t n = static_cast<std::size_t>(norb_);
  std::vector<double> n0(nsites_), U(nsites_), I(nsites_);
  double electrons = 0.0;
  for (int i = 0; i < nsites_; ++i) {
    n0[i] = valence_[c[i]];
    U[i] = species_[c[i]].hubbard_u;
    I[i] = species_[c[i]].stoner_i;
    electrons += n0[i];
  }

  // The mixed vector: valence per site, then d moment per site when spin polarized.
  const int L = pol ? 2 * nsites_ : nsites_;
  std::vector<double> xin(L);
  {
    const ScfState x0 = start ? *start : cold_start(c);
    if (static_cast<int>(x0.valence.size()) != nsites_) fail("SCF starting guess has the wrong size");
    for (int i = 0; i < nsites_; ++i) xin[i] = x0.valence[i];
    if (pol)
      for (int i = 0; i < nsites_; ++i)
        xin[nsites_ + i] = x0.dmoment.empty() ? species_[c[i]].initial_moment : x0.dmoment[i];
  }

  std::vector<double> v(nsites_), b(nsites_), xout(L), R(L), P(L, 1.0);
  std::vector<double> dens(n * nspin_), ldos(nsites_);
  std::deque<std::vector<double>> hist_dx, hist_df;
  std::vector<double> xprev, Rprev, jac;
  bool have_jac = false;
  TbResult res;

  for (int it = 1; it <= opt_.max_iterations; ++it) {
    for (int i = 0; i < nsites_; ++i) {
      v[i] = U[i] * (xin[i] - n0[i]);
      b[i] = pol ? -0.5 * I[i] * xin[nsites_ + i] : 0.0;
    }
    auto T0 = std::chrono::steady_clock::now();
    diagonalize(v, b, c);
    auto T1 = std::chrono::steady_clock::now();
    const double mu = find_fermi_level(electrons);
    auto T2 = std::chrono::steady_clock::now();
    if (std::getenv("TB_DEBUG")) fprintf(stderr, "  diag %.2f ms fermi %.2f ms\n", std::chrono::duration<double, std::milli>(T1 - T0).count(), std::chrono::duration<double, std::milli>(T2 - T1).count());

    // Mulliken populations (orthogonal basis: diagonal of the density matrix), band energy,
    // entropy and the local density of states at mu (for the mixing preconditioner).
    std::fill(dens.begin(), dens.end(), 0.0);
    std::fill(ldos.begin(), ldos.end(), 0.0);
    double eband = 0.0, ent = 0.0;
    for (std::size_t k = 0; k < kpoints_.size(); ++k)
      for (int s = 0; s < nspin_; ++s) {
        const std::size_t slot = k * nspin_ + s;
        const double wg = kpoints_[k].weight * g;
        double* d = dens.data() + s * n;
        for (std::size_t m = 0; m < n; ++m) {
          const double x = (evals_[slot][m] - mu) / kT;
          const double f = fermi(x);
          const double occ = wg * f;
          eband += occ * evals_[slot][m];
          ent += wg * entropy(x);
          const double dos = wg * f * (1.0 - f) / kT;
          if (occ < 1e-18 && dos < 1e-18) continue;
          if (kpoints_[k].gamma) {
            const double* col = evec_real_[slot].data() + m * n;
            for (std::size_t r = 0; r < n; ++r) d[r] += occ * col[r] * col[r];
            if (dos >= 1e-18)
              for (int i = 0; i < nsites_; ++i)
                for (int a = 0; a < kOrb; ++a) ldos[i] += dos * col[kOrb * i + a] * col[kOrb * i + a];
          } else {
            const std::complex<double>* col = evec_cplx_[slot].data() + m * n;
            for (std::size_t r = 0; r < n; ++r) d[r] += occ * std::norm(col[r]);
            if (dos >= 1e-18)
              for (int i = 0; i < nsites_; ++i)
                for (int a = 0; a < kOrb; ++a) ldos[i] += dos * std::norm(col[kOrb * i + a]);
          }
        }
      }

    std::vector<double> moment(nsites_, 0.0);
    double maxq = 0.0, maxm = 0.0;
    for (int i = 0; i < nsites_; ++i) {
      double ni = 0.0, md = 0.0, mt = 0.0;
      for (int a = 0; a < kOrb; ++a) {
        const std::size_t r = static_cast<std::size_t>(kOrb) * i + a;
        if (pol) {
          ni += dens[r] + dens[n + r];
          mt += dens[r] - dens[n + r];
          if (a > 0) md += dens[r] - dens[n + r];
        } else {
          ni += dens[r];
        }
      }
      xout[i] = ni;
      moment[i] = mt;
      if (pol) xout[nsites_ + i] = md;
    }
    for (int l = 0; l < L; ++l) {
      R[l] = xout[l] - xin[l];
      (l < nsites_ ? maxq : maxm) = std::max(l < nsites_ ? maxq : maxm, std::abs(R[l]));
    }
    const bool converged = maxq < opt_.charge_tolerance && maxm < opt_.moment_tolerance;
    if (std::getenv("TB_DEBUG")) fprintf(stderr, "it %d maxq %.3e maxm %.3e mu %.6f\n", it, maxq, maxm, mu);

    if (converged || it == opt_.max_iterations) {
      // E[rho_out] = Tr(rho_out H0) + E_int[rho_out]: the band energy of H[x_in] minus the
      // input potentials times the output densities, plus the interaction energies of the
      // output densities. Variational: its error is second order in the residual.
      double edc = 0.0, eint = 0.0;
      for (int i = 0; i < nsites_; ++i) {
        edc += v[i] * xout[i];
        eint += 0.5 * U[i] * (xout[i] - n0[i]) * (xout[i] - n0[i]);
        if (pol) {
          edc += b[i] * xout[nsites_ + i];
          eint -= 0.25 * I[i] * xout[nsites_ + i] * xout[nsites_ + i];
        }
      }
      res.converged = converged;
      res.iterations = it;
      res.residual = std::max(maxq, maxm);
      res.band_energy = eband;
      res.entropy_term = -kT * ent;
      res.free_energy = eband - edc + eint - kT * ent;
      res.fermi_energy = mu;
      res.valence.assign(xout.begin(), xout.begin() + nsites_);
      res.moment = moment;
      res.state.valence = res.valence;
      if (pol) res.state.dmoment.assign(xout.begin() + nsites_, xout.end());
      return res;
    }

    // Preconditioner: a site's charge responds to its own potential through its local density
    // of states, so 1 / (1 + U D_i) is the Newton step of the local (Thomas-Fermi-like) model.
    for (int i = 0; i < nsites_; ++i) P[i] = 1.0 / (1.0 + U[i] * ldos[i]);
    static int nmode = std::getenv("TB_NEWTON") ? atoi(std::getenv("TB_NEWTON")) : 0;
    const bool newton_now = nmode > 0 && (nmode >= 100 || it <= nmode);
    if (newton_now) {
      // Jacobian of the output densities with respect to the input densities from the static
      // response (exchange approximated as acting on the whole site in the Jacobian only).
      std::vector<std::vector<double>> chi;
      auto T3 = std::chrono::steady_clock::now();
      response(mu, chi);
      if (std::getenv("TB_DEBUG")) fprintf(stderr, "  chi %.2f ms\n", std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - T3).count());
      const int N = nsites_;
      std::vector<std::vector<double>> a(nspin_, std::vector<double>(N, 0.0));
      double S = 0.0;
      for (int s = 0; s < nspin_; ++s)
        for (int i = 0; i < N; ++i) {
          for (int j = 0; j < N; ++j) a[s][i] += chi[s][std::size_t(i) * N + j];
          S += a[s][i];
        }
      jac.assign(std::size_t(L) * L, 0.0);
      std::vector<std::vector<double>> dV(nspin_, std::vector<double>(N));
      for (int l = 0; l < L; ++l) {
        for (int s = 0; s < nspin_; ++s) {
          std::fill(dV[s].begin(), dV[s].end(), 0.0);
          const double sg = nspin_ == 2 ? (s == 0 ? 1.0 : -1.0) : 0.0;
          if (l < N) dV[s][l] = U[l];
          else dV[s][l - N] = -sg * 0.5 * I[l - N];
        }
        double dmu = 0.0;
        for (int s = 0; s < nspin_; ++s)
          for (int j = 0; j < N; ++j) dmu += a[s][j] * dV[s][j];
        dmu = S != 0.0 ? dmu / S : 0.0;
        for (int s = 0; s < nspin_; ++s) {
          const double sg = s == 0 ? 1.0 : -1.0;
          for (int i = 0; i < N; ++i) {
            double dn = -a[s][i] * dmu;
            for (int j = 0; j < N; ++j) dn += chi[s][std::size_t(i) * N + j] * dV[s][j];
            jac[std::size_t(i) * L + l] += dn;
            if (pol) jac[std::size_t(N + i) * L + l] += sg * dn;
          }
        }
      }
      // 1 - J
      for (std::size_t q = 0; q < jac.size(); ++q) jac[q] = -jac[q];
      for (int l = 0; l < L; ++l) jac[std::size_t(l) * L + l] += 1.0;
      have_jac = true;
    }
    const double beta = opt_.mixing_beta;
    std::vector<double> xbar = xin, Rbar = R;
    if (opt_.mixing == Mixing::anderson && !xprev.empty()) {
      std::vector<double> dx(L), df(L);
      for (int l = 0; l < L; ++l) dx[l] = xin[l] - xprev[l], df[l] = R[l] - Rprev[l];
      hist_dx.push_back(std::move(dx));
      hist_df.push_back(std::move(df));
      if (static_cast<int>(hist_df.size()) > opt_.mixing_history) hist_dx.pop_front(), hist_df.pop_front();
      const int m = static_cast<int>(hist_df.size());
      std::vector<double> A(m * m), rhs(m);
      for (int p = 0; p < m; ++p) {
        for (int q = 0; q < m; ++q) {
          double s = 0.0;
          for (int l = 0; l < L; ++l) s += hist_df[p][l] * hist_df[q][l];
          A[p * m + q] = s;
        }
        double s = 0.0;
        for (int l = 0; l < L; ++l) s += hist_df[p][l] * R[l];
        rhs[p] = s;
      }
      double tr = 0.0;
      for (int p = 0; p < m; ++p) tr += A[p * m + p];
      for (int p = 0; p < m; ++p) A[p * m + p] += 1e-12 * tr / m;
      if (solve_small(A, rhs, m))
        for (int p = 0; p < m; ++p)
          for (int l = 0; l < L; ++l) {
            xbar[l] -= rhs[p] * hist_dx[p][l];
            Rbar[l] -= rhs[p] * hist_df[p][l];
          }
    }
    xprev = xin;
    Rprev = R;
    if (have_jac) {
      std::vector<double> step = Rbar;
      if (!solve_small(jac, step, L)) step = Rbar;
      for (int l = 0; l < L; ++l) xin[l] = xbar[l] + beta * step[l];
    } else {
      for (int l = 0; l < L; ++l) xin[l] = xbar[l] + beta * P[l] * Rbar[l];
    }
    // Keep the input charges summing to the electron count (the outputs always do).
    double sum = 0.0;
    for (int i = 0; i < nsites_; ++i) sum += xin[i];
    const double corr = (sum - electrons) / nsites_;
    for (int i = 0; i < nsites_; ++i) xin[i] -= corr;
  }
  return res;  // not reached: the last iteration returns
}

double reference_fermi_level(const ElementParameters& e, double valence, const TbParameters& params,
                             const TbOptions& options) {
  const Lattice lat(e.structure, e.a, e.a, {1, 1, 1});
  TbOptions o = options;
  o.kpoints = {12, 12, 12};
  o.spin_polarized = false;
  o.max_iterations = 5;
  TbModel model(lat, {e}, {valence}, {0.0}, params, o);
  const Configuration c(std::vector<std::uint8_t>(lat.num_sites(), 0));
  // All sites of the pure crystal are equivalent, so the neutral start is self-consistent.
  return model.solve(c).fermi_energy;
}

}  // namespace lsmss::tb
