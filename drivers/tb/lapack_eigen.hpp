#pragma once
// Dense symmetric / Hermitian eigensolvers (LAPACK divide and conquer, dsyevd / zheevd) that
// keep their workspace between calls: the SCF loop solves matrices of one size many times.
#include <complex>
#include <vector>

namespace lsmss::tb {

class SymmetricEigen {
 public:
  explicit SymmetricEigen(int n);
  // a: n x n column-major (upper triangle read), overwritten by the orthonormal eigenvectors;
  // w: the n eigenvalues in ascending order. Throws lsmss::Error if LAPACK fails.
  void solve(double* a, double* w);

 private:
  int n_;
  std::vector<double> work_;
  std::vector<int> iwork_;
};

class HermitianEigen {
 public:
  explicit HermitianEigen(int n);
  void solve(std::complex<double>* a, double* w);

 private:
  int n_;
  std::vector<std::complex<double>> work_;
  std::vector<double> rwork_;
  std::vector<int> iwork_;
};

// Limits OpenBLAS to `n` threads when the process uses OpenBLAS (found at run time, so other
// BLAS builds link too); returns false if no such control exists. The dataset builder runs one
// process per core, so the engine asks for one thread.
bool set_blas_threads(int n);

}  // namespace lsmss::tb
