// Serves backend "cuda" from the host emulation from the start of the program (linked into the
// emulated benchmark, bench_cuda_emulated, whose main() knows nothing of it).
#include "emulated_backend.hpp"

namespace {

const lsmss::nn::CudaEntryPoints kEntry = lsmss::nn::emulated_cuda_entry_points();

[[maybe_unused]] const bool kInstalled = [] {
  lsmss::nn::install_cuda_entry_points(&kEntry);
  return true;
}();

}  // namespace
