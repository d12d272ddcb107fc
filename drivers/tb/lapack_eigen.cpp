#include "drivers/tb/lapack_eigen.hpp"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>

#include "core/error.hpp"

// Fortran LAPACK entry points; the trailing size_t arguments are the hidden lengths of the
// character arguments (gfortran calling convention).
extern "C" {
void dsyevd_(const char* jobz, const char* uplo, const int* n, double* a, const int* lda, double* w,
             double* work, const int* lwork, int* iwork, const int* liwork, int* info, std::size_t,
             std::size_t);
void zhetrd_(const char* uplo, const int* n, std::complex<double>* a, const int* lda, double* d,
             double* e, std::complex<double>* tau, std::complex<double>* work, const int* lwork,
             int* info, std::size_t);
void dsterf_(const int* n, double* d, double* e, int* info);
void dstein_(const int* n, const double* d, const double* e, const int* m, const double* w,
             const int* iblock, const int* isplit, double* z, const int* ldz, double* work,
             int* iwork, int* ifail, int* info);
void zunmtr_(const char* side, const char* uplo, const char* trans, const int* m, const int* n,
             const std::complex<double>* a, const int* lda, const std::complex<double>* tau,
             std::complex<double>* c, const int* ldc, std::complex<double>* work, const int* lwork,
             int* info, std::size_t, std::size_t, std::size_t);
void zheevd_(const char* jobz, const char* uplo, const int* n, std::complex<double>* a,
             const int* lda, double* w, std::complex<double>* work, const int* lwork, double* rwork,
             const int* lrwork, int* iwork, const int* liwork, int* info, std::size_t, std::size_t);
}

namespace lsmss::tb {

SymmetricEigen::SymmetricEigen(int n) : n_(n) {
  // Workspace query, then allocate once.
  double wq = 0.0;
  int iwq = 0, info = 0, lw = -1, liw = -1;
  dsyevd_("V", "U", &n_, nullptr, &n_, nullptr, &wq, &lw, &iwq, &liw, &info, 1, 1);
  if (info != 0) fail("LAPACK dsyevd workspace query failed (info = {})", info);
  work_.assign(static_cast<std::size_t>(wq) + 1 + lapack_overread_pad(n_), 0.0);
  iwork_.assign(static_cast<std::size_t>(iwq) + 1, 0);
}

void SymmetricEigen::solve(double* a, double* w) {
  const int lw = static_cast<int>(work_.size() - lapack_overread_pad(n_));
  const int liw = static_cast<int>(iwork_.size());
  int info = 0;
  dsyevd_("V", "U", &n_, a, &n_, w, work_.data(), &lw, iwork_.data(), &liw, &info, 1, 1);
  if (info != 0) fail("LAPACK dsyevd failed for a {}x{} Hamiltonian (info = {})", n_, n_, info);
}

HermitianEigen::HermitianEigen(int n) : n_(n) {
  std::complex<double> wq = 0.0;
  double rwq = 0.0;
  int iwq = 0, info = 0, lw = -1, lrw = -1, liw = -1;
  zheevd_("V", "U", &n_, nullptr, &n_, nullptr, &wq, &lw, &rwq, &lrw, &iwq, &liw, &info, 1, 1);
  if (info != 0) fail("LAPACK zheevd workspace query failed (info = {})", info);
  work_.assign(static_cast<std::size_t>(wq.real()) + 1 + lapack_overread_pad(n_), 0.0);
  rwork_.assign(static_cast<std::size_t>(rwq) + 1, 0.0);
  iwork_.assign(static_cast<std::size_t>(iwq) + 1, 0);
}

bool HermitianEigen::reduce(std::complex<double>* a, double* w, Reduced& t) {
  const std::size_t n = static_cast<std::size_t>(n_);
  t.d.resize(n);
  t.e.resize(n);
  t.tau.resize(n);
  int info = 0;
  if (trd_work_.empty()) {
    // Workspace query (the larger of zhetrd's and zunmtr's for n vectors), once.
    std::complex<double> q1 = 0.0, q2 = 0.0;
    int lw = -1;
    zhetrd_("U", &n_, a, &n_, t.d.data(), t.e.data(), t.tau.data(), &q1, &lw, &info, 1);
    zunmtr_("L", "U", "N", &n_, &n_, a, &n_, t.tau.data(), a, &n_, &q2, &lw, &info, 1, 1, 1);
    trd_work_.assign(
        lapack_overread_pad(n_) + static_cast<std::size_t>(std::max(q1.real(), q2.real())) + 1,
        0.0);
    zreal_.resize(n * n);
    stein_work_.resize(5 * n);
    stein_iwork_.resize(n);
    ifail_.resize(n);
    iblock_.assign(n, 1);
    isplit_.assign(n, n_);
  }
  const int lw = static_cast<int>(trd_work_.size() - lapack_overread_pad(n_));
  zhetrd_("U", &n_, a, &n_, t.d.data(), t.e.data(), t.tau.data(), trd_work_.data(), &lw, &info, 1);
  if (info != 0) fail("LAPACK zhetrd failed for a {}x{} Hamiltonian (info = {})", n_, n_, info);
  // dstein below treats the tridiagonal as one block: refuse one that splits (a zero
  // off-diagonal, as LAPACK's own splitting test would find).
  for (std::size_t i = 0; i + 1 < n; ++i)
    if (std::abs(t.e[i]) <= std::numeric_limits<double>::epsilon() * std::sqrt(std::abs(t.d[i])) *
                                std::sqrt(std::abs(t.d[i + 1])))
      return false;
  d_copy_ = t.d;
  e_copy_ = t.e;
  dsterf_(&n_, d_copy_.data(), e_copy_.data(), &info);
  if (info != 0) return false;
  std::copy(d_copy_.begin(), d_copy_.end(), w);
  return true;
}

bool HermitianEigen::top_vectors(const std::complex<double>* a, const Reduced& t, const double* w,
                                 int m, std::complex<double>* z) {
  if (m <= 0) return true;
  const std::size_t n = static_cast<std::size_t>(n_);
  int info = 0;
  dstein_(&n_, t.d.data(), t.e.data(), &m, w + (n_ - m), iblock_.data(), isplit_.data(),
          zreal_.data(), &n_, stein_work_.data(), stein_iwork_.data(), ifail_.data(), &info);
  if (info != 0) return false;
  for (std::size_t p = 0; p < n * static_cast<std::size_t>(m); ++p) z[p] = zreal_[p];
  const int lw = static_cast<int>(trd_work_.size() - lapack_overread_pad(n_));
  zunmtr_("L", "U", "N", &n_, &m, a, &n_, t.tau.data(), z, &n_, trd_work_.data(), &lw, &info, 1, 1,
          1);
  if (info != 0) fail("LAPACK zunmtr failed for a {}x{} Hamiltonian (info = {})", n_, n_, info);
  return true;
}

void HermitianEigen::solve(std::complex<double>* a, double* w) {
  const int lw = static_cast<int>(work_.size() - lapack_overread_pad(n_)),
            lrw = static_cast<int>(rwork_.size()), liw = static_cast<int>(iwork_.size());
  int info = 0;
  zheevd_("V", "U", &n_, a, &n_, w, work_.data(), &lw, rwork_.data(), &lrw, iwork_.data(), &liw,
          &info, 1, 1);
  if (info != 0) fail("LAPACK zheevd failed for a {}x{} Hamiltonian (info = {})", n_, n_, info);
}

}  // namespace lsmss::tb
