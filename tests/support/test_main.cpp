// main() of every test program: gtest_main's. It does not re-execute itself for OpenBLAS's
// native kernels as the CLI does (core/blas_runtime.hpp): the tests run the kernels OpenBLAS
// picks, or those OPENBLAS_CORETYPE names.
#include <gtest/gtest.h>

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
