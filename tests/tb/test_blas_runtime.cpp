// OpenBLAS kernel selection (core/blas_runtime.hpp); here because the tb engine is what links
// OpenBLAS (through LAPACK).
#include <gtest/gtest.h>

#include "core/blas_runtime.hpp"

using namespace lsmss;

// Generic fallbacks are upgraded to what the CPU supports; a deliberate or detected modern
// kernel set is left alone.
TEST(BlasRuntime, UpgradesOnlyGenericKernelSets) {
  EXPECT_EQ(blas::better_core("Prescott", true, true), "SkylakeX");
  EXPECT_EQ(blas::better_core("Prescott", true, false), "Haswell");
  EXPECT_EQ(blas::better_core("Prescott", false, false), "");
  EXPECT_EQ(blas::better_core("Sandybridge", true, false), "Haswell");
  EXPECT_EQ(blas::better_core("Haswell", true, true), "");
  EXPECT_EQ(blas::better_core("SkylakeX", true, true), "");
  EXPECT_EQ(blas::better_core("Zen", true, false), "");
  EXPECT_EQ(blas::better_core("", true, true), "");  // not OpenBLAS
}

// The test programs re-execute themselves like the CLI: this process must therefore run the
// best kernel set the CPU supports (on a CPU newer than the library, not the generic one).
TEST(BlasRuntime, ThisProcessRunsNativeKernels) {
  const std::string core = blas::core_name();
  if (core.empty()) GTEST_SKIP() << "the BLAS is not OpenBLAS";
  EXPECT_EQ(blas::better_core(), "") << "OpenBLAS runs its " << core << " kernels";
  EXPECT_EQ(blas::description(), "OpenBLAS, " + core + " kernels");
  EXPECT_TRUE(blas::set_threads(1));
  EXPECT_EQ(blas::threads(), 1);
}
