#include "drivers/tb/lapack_eigen.hpp"

#include <dlfcn.h>

#include <cstddef>

#include "core/error.hpp"

// Fortran LAPACK entry points; the trailing size_t arguments are the hidden lengths of the
// character arguments (gfortran calling convention).
extern "C" {
void dsyevd_(const char* jobz, const char* uplo, const int* n, double* a, const int* lda, double* w,
             double* work, const int* lwork, int* iwork, const int* liwork, int* info, std::size_t,
             std::size_t);
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
  work_.assign(static_cast<std::size_t>(wq) + 1, 0.0);
  iwork_.assign(static_cast<std::size_t>(iwq) + 1, 0);
}

void SymmetricEigen::solve(double* a, double* w) {
  const int lw = static_cast<int>(work_.size()), liw = static_cast<int>(iwork_.size());
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
  work_.assign(static_cast<std::size_t>(wq.real()) + 1, 0.0);
  rwork_.assign(static_cast<std::size_t>(rwq) + 1, 0.0);
  iwork_.assign(static_cast<std::size_t>(iwq) + 1, 0);
}

void HermitianEigen::solve(std::complex<double>* a, double* w) {
  const int lw = static_cast<int>(work_.size()), lrw = static_cast<int>(rwork_.size()),
            liw = static_cast<int>(iwork_.size());
  int info = 0;
  zheevd_("V", "U", &n_, a, &n_, w, work_.data(), &lw, rwork_.data(), &lrw, iwork_.data(), &liw,
          &info, 1, 1);
  if (info != 0) fail("LAPACK zheevd failed for a {}x{} Hamiltonian (info = {})", n_, n_, info);
}

bool set_blas_threads(int n) {
  using Fn = void (*)(int);
  static Fn fn = reinterpret_cast<Fn>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads"));
  if (!fn) return false;
  fn(n);
  return true;
}

}  // namespace lsmss::tb
