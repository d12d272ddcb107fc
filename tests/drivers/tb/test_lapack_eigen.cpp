// The eigensolvers' matrices carry lapack_overread_pad(n) spare elements because Debian 12's
// OpenBLAS gemv kernels read past their operands (OpenBLAS issue #4013; a tb build under
// `mpirun -np 2 study` crashed in zgemv_n_COOPERLAKE from zhetrd). Each matrix here ends, pad
// included, exactly at an inaccessible page: a pad that is too small crashes the test.
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <complex>
#include <cstddef>
#include <vector>

#include "core/rng.hpp"
#include "drivers/tb/lapack_eigen.hpp"

namespace {

// `count` elements of T followed by `pad` spare ones, the last of which touches a PROT_NONE page.
template <class T>
class GuardedBuffer {
 public:
  GuardedBuffer(std::size_t count, std::size_t pad) {
    const std::size_t page = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
    const std::size_t bytes = (count + pad) * sizeof(T);
    pages_ = (bytes + page - 1) / page + 1;
    void* p =
        mmap(nullptr, pages_ * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) throw std::runtime_error("mmap failed");
    base_ = static_cast<char*>(p);
    size_ = pages_ * page;
    if (mprotect(base_ + (pages_ - 1) * page, page, PROT_NONE) != 0)
      throw std::runtime_error("mprotect failed");
    data_ = reinterpret_cast<T*>(base_ + (pages_ - 1) * page - bytes);
  }
  ~GuardedBuffer() { munmap(base_, size_); }
  GuardedBuffer(const GuardedBuffer&) = delete;
  GuardedBuffer& operator=(const GuardedBuffer&) = delete;
  T* data() { return data_; }

 private:
  char* base_ = nullptr;
  std::size_t pages_ = 0, size_ = 0;
  T* data_ = nullptr;
};

// The tb sizes: 8 sites x 6 (sd) up to 32 sites x 9 (spd) orbitals.
constexpr int kSizes[] = {48, 96, 192, 288};

void fill_hermitian(std::complex<double>* a, int n, unsigned seed) {
  lsmss::Rng gen(seed);
  for (int j = 0; j < n; ++j)
    for (int i = 0; i <= j; ++i) {
      const double re = gen.uniform(-1.0, 1.0);
      const std::complex<double> v(re, i == j ? 0.0 : gen.uniform(-1.0, 1.0));
      a[i + j * n] = v;
      a[j + i * n] = std::conj(v);
    }
}

TEST(LapackEigen, HermitianSolversStayInsideThePaddedMatrix) {
  for (int n : kSizes) {
    lsmss::tb::HermitianEigen eig(n);
    const std::size_t n2 = static_cast<std::size_t>(n) * n;
    std::vector<double> w(n);
    GuardedBuffer<std::complex<double>> a(n2, lsmss::tb::lapack_overread_pad(n));
    fill_hermitian(a.data(), n, 1u + n);
    lsmss::tb::HermitianEigen::Reduced t;
    EXPECT_TRUE(eig.reduce(a.data(), w.data(), t)) << "n = " << n;
    fill_hermitian(a.data(), n, 2u + n);
    eig.solve(a.data(), w.data());
    for (int i = 1; i < n; ++i) EXPECT_LE(w[i - 1], w[i]) << "n = " << n;
  }
}

TEST(LapackEigen, SymmetricSolverStaysInsideThePaddedMatrix) {
  for (int n : kSizes) {
    lsmss::tb::SymmetricEigen eig(n);
    const std::size_t n2 = static_cast<std::size_t>(n) * n;
    std::vector<double> w(n);
    GuardedBuffer<double> a(n2, lsmss::tb::lapack_overread_pad(n));
    lsmss::Rng gen(7u + n);
    for (int j = 0; j < n; ++j)
      for (int i = 0; i <= j; ++i) a.data()[i + j * n] = a.data()[j + i * n] = gen.uniform(-1, 1);
    eig.solve(a.data(), w.data());
    for (int i = 1; i < n; ++i) EXPECT_LE(w[i - 1], w[i]) << "n = " << n;
  }
}

}  // namespace
