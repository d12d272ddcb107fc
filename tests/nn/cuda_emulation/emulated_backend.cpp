// The cuda backend's own source, compiled by the host compiler against the CUDA host emulation
// (include/ comes first on this program's include path), its one entry point renamed so that it
// can sit beside a compiled device backend; and the test environment that serves backend "cuda"
// from it for the whole program.
#define cuda_entry_points emulated_cuda_entry_points
#include "nn/cuda/cuda_backend.cu"
#undef cuda_entry_points

#include <gtest/gtest.h>

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
