#pragma once
// Dense symmetric / Hermitian eigensolvers (LAPACK divide and conquer, dsyevd / zheevd; for the
// tb final pass also a two-phase Hermitian solve with selected eigenvectors) that keep their
// workspace between calls: the SCF loop solves matrices of one size many times.
#include <complex>
#include <cstddef>
#include <vector>

namespace lsmss::tb {

// Debian 12's OpenBLAS 0.3.21 gemv kernels (reached from zhetrd/zheevd) read up to about one
// column past the end of their operands (OpenBLAS issue #4013): a matrix or workspace ending at
// a page boundary then crashes the program now and then (seen on Cooperlake and Haswell
// kernels). Every n x n matrix and workspace handed to LAPACK here has this many spare elements
// behind it (measured: n suffices for n = 8..640; tests/drivers/tb/test_lapack_eigen.cpp
// checks it at a guard page).
inline std::size_t lapack_overread_pad(int n) {
  return static_cast<std::size_t>(n) + 16;
}

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

  // Two-phase solve for when only the eigenvectors of the highest eigenvalues are needed
  // (the states that are not full; the full ones follow from completeness):
  // reduce() overwrites `a` (upper triangle read) with its Householder reduction to real
  // tridiagonal form (zhetrd), keeps the tridiagonal in `t` and returns all n eigenvalues in
  // `w` (ascending, dsterf); false if the tridiagonal splits into blocks (then use solve()).
  struct Reduced {
    std::vector<double> d, e;               // diagonal, off-diagonal of the tridiagonal
    std::vector<std::complex<double>> tau;  // Householder scalars
  };
  bool reduce(std::complex<double>* a, double* w, Reduced& t);
  // The orthonormal eigenvectors of the m highest eigenvalues w[n-m..n) of the reduced matrix
  // `a` into z (n x m, column-major), by inverse iteration on the tridiagonal (dstein) and the
  // Householder back-transformation (zunmtr); false if inverse iteration fails (then use
  // solve()).
  bool top_vectors(const std::complex<double>* a, const Reduced& t, const double* w, int m,
                   std::complex<double>* z);

 private:
  int n_;
  std::vector<std::complex<double>> work_;
  std::vector<double> rwork_;
  std::vector<int> iwork_;
  // Work space of the two-phase solve.
  std::vector<std::complex<double>> trd_work_;
  std::vector<double> zreal_, stein_work_, d_copy_, e_copy_;
  std::vector<int> stein_iwork_, ifail_, iblock_, isplit_;
};

}  // namespace lsmss::tb
