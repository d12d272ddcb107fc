// The test environment that serves backend "cuda" from the host emulation for the whole test
// program (test_cuda_emulation).
#include <gtest/gtest.h>

#include "emulated_backend.hpp"

namespace {

class CudaHostEmulation : public ::testing::Environment {
 public:
  void SetUp() override { lsmss::nn::install_cuda_entry_points(&entry_); }
  void TearDown() override { lsmss::nn::install_cuda_entry_points(nullptr); }

 private:
  const lsmss::nn::CudaEntryPoints entry_ = lsmss::nn::emulated_cuda_entry_points();
};

[[maybe_unused]] ::testing::Environment* const kEnvironment =
    ::testing::AddGlobalTestEnvironment(new CudaHostEmulation);

}  // namespace
