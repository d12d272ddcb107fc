// OpenBLAS kernel selection (core/blas_runtime.hpp).
#include <gtest/gtest.h>

#include <cstdio>

#include "core/blas_runtime.hpp"
#include "test_support.hpp"

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

TEST(BlasRuntime, ThreadControl) {
  if (blas::core_name().empty()) GTEST_SKIP() << "the BLAS is not OpenBLAS";
  EXPECT_EQ(blas::description(), "OpenBLAS, " + blas::core_name() + " kernels");
  EXPECT_TRUE(blas::set_threads(1));
  EXPECT_EQ(blas::threads(), 1);
}

namespace {
test::CommandResult cli_without_coretype(const std::string& args) {
  return test::run_command("env -u OPENBLAS_CORETYPE " + test::cli_path().string() + " " + args);
}
}  // namespace

// Only the CLI re-executes itself for the best kernel set the CPU supports (this test program
// does not): its version line names that set, not a generic one.
TEST(BlasRuntime, CliRunsNativeKernels) {
  const std::string core = blas::core_name();
  if (core.empty()) GTEST_SKIP() << "the BLAS is not OpenBLAS";
  const std::string better = blas::better_core();
  const auto r = cli_without_coretype("--version");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("OpenBLAS, " + (better.empty() ? core : better) + " kernels"),
            std::string::npos)
      << r.output;
}

// The CLI's re-execution must not hand OPENBLAS_CORETYPE to the programs it starts (a SkylakeX
// request crashes LSMS on a node without AVX-512). A deck with Lua's os sees the environment a
// child would inherit. A value the user set is the user's, and is inherited.
TEST(BlasRuntime, CliLeaksNoCoreTypeToChildren) {
  if (blas::better_core().empty())
    std::fprintf(stderr, "note: OpenBLAS needs no re-execution on this CPU\n");
  test::TempDir dir;
  const std::string system =
      "system = { lattice = 'fcc', a = 7.2, supercell = {1,1,1}, species = {'Cu','Au'} }\n"
      "driver = 'pair'\n";
  const auto leak = dir.write(
      "leak.lua", system +
                      "local t = os.getenv('OPENBLAS_CORETYPE')\n"
                      "if t then error('OPENBLAS_CORETYPE = ' .. t .. ' reached the deck') end\n"
                      "if os.getenv('LSMSS_SELF_SET_ENV') then error('marker left') end\n");
  auto r = cli_without_coretype("--allow-lua-io check " + leak.string());
  EXPECT_EQ(r.status, 0) << r.output;
  // The re-executed process itself (what a CPU newer than the library runs): it finds the
  // variable with the marker the re-execution sets, and removes both.
  r = test::run_command("env OPENBLAS_CORETYPE=Prescott LSMSS_SELF_SET_ENV=OPENBLAS_CORETYPE " +
                        test::cli_path().string() + " --allow-lua-io check " + leak.string());
  EXPECT_EQ(r.status, 0) << r.output;
  const auto kept =
      dir.write("kept.lua", system +
                                "local t = os.getenv('OPENBLAS_CORETYPE')\n"
                                "if t ~= 'Prescott' then error('the user value was lost') end\n");
  r = test::run_command("env OPENBLAS_CORETYPE=Prescott " + test::cli_path().string() +
                        " --allow-lua-io check " + kept.string());
  EXPECT_EQ(r.status, 0) << r.output;
}
