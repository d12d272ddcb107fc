#pragma once
// What the tests ask the CUDA host emulation (include/cuda_runtime.h, emulation.cpp) besides the
// runtime calls: the fault that stopped the emulated device, and what is still allocated.
#include <cstddef>
#include <string>

namespace cuda_emulation {

// The fault that made the emulated device unusable (every runtime call then returns its error,
// as after a real device fault), "" when none.
std::string fault();
// Forgets a fault and the work still queued: the emulator's own tests provoke faults on purpose.
void clear_fault();
// Live cudaMalloc and cudaMallocHost allocations (an RAII check).
std::size_t device_allocations();
std::size_t pinned_allocations();
// Bytes of the live cudaMalloc allocations.
std::size_t device_bytes();
// How many devices cudaGetDeviceCount reports (1; 0: as a machine without a GPU, whose count
// call fails with cudaErrorNoDevice).
void set_device_count(int count);

}  // namespace cuda_emulation
