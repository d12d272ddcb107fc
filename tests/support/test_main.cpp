// main() of every test program: gtest_main's, after loading OpenBLAS with the kernels this CPU
// supports (core/blas_runtime.hpp), as the lsms-surrogate CLI does.
#include <gtest/gtest.h>

#include "core/blas_runtime.hpp"

int main(int argc, char** argv) {
  lsmss::blas::reexec_with_native_kernels(argv);
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
