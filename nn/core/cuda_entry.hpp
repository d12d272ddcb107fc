#pragma once
// The way into the cuda backend (nn/cuda/cuda_backend.cu): the registry (backend.cpp) and the
// fold groups (multi_fold.cpp) reach it only through these entry points. Where the CUDA Toolkit
// was found they are the device's; the CPU tests install the very same source compiled against
// a host emulation of the CUDA runtime and cuBLAS (tests/nn/cuda_emulation), so the backend's
// logic runs in CI without a GPU. Kept free of fmt: the nvcc translation unit includes it.
#ifndef LSMSS_NN_INTERNAL  // defined for lsmss_nn's own sources and its tests only
#error "a header private to nn/: use nn/model.hpp, nn/first_layer.hpp or the nn/core/ API headers"
#endif
#include <memory>
#include <string>

#include "nn/core/fold_group.hpp"

namespace lsmss::nn {

struct CudaEntryPoints {
  std::unique_ptr<Backend> (*make_backend)();
  std::unique_ptr<FoldGroup> (*make_fold_group)();
  bool (*device_present)();
  // "compiled for <architectures>; <devices visible, or why none>" (--version)
  std::string (*status)();
};

// The entry points of the cuda backend compiled into this build (defined by cuda_backend.cu).
CudaEntryPoints cuda_entry_points();

// The cuda backend in use: the installed entry points, else the compiled ones, else nullptr
// (not compiled into this build).
const CudaEntryPoints* cuda_backend_entry();

// Serves "cuda" from `entry` (which must outlive its use) from now on; nullptr: back to the
// compiled backend. For the CPU tests (the host emulation); call it before any backend lookup
// runs concurrently.
void install_cuda_entry_points(const CudaEntryPoints* entry);

}  // namespace lsmss::nn
