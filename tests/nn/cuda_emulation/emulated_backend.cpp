// The cuda backend's own source, compiled by the host compiler against the CUDA host emulation
// (include/ comes first on this library's include path), its one entry point renamed so that it
// can sit beside a compiled device backend (emulated_backend.hpp).
#define cuda_entry_points emulated_cuda_entry_points
#include "nn/cuda/cuda_backend.cu"
#undef cuda_entry_points
