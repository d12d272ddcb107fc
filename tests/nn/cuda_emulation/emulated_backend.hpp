#pragma once
// The cuda backend compiled against the CUDA host emulation (emulated_backend.cpp). A program
// serves backend "cuda" from it with nn::install_cuda_entry_points: the test program through a
// test environment (emulation_environment.cpp), the emulated benchmark from its start
// (install_at_startup.cpp).
#include "nn/core/cuda_entry.hpp"

namespace lsmss::nn {

CudaEntryPoints emulated_cuda_entry_points();

}  // namespace lsmss::nn
