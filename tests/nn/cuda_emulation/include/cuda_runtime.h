#pragma once
// A host emulation of the part of the CUDA runtime that nn/cuda/cuda_backend.cu uses, so that
// the CPU tests compile that very source with the host compiler and run it (the test program
// test_cuda_emulation; see emulation.cpp for what it checks and what it cannot). Not a general
// CUDA emulator: only the calls, flags and error codes the backend uses exist here.
//
// Kernels: __global__ functions are plain functions; a launch (cuda_emulation::launch, which
// the backend calls where nvcc is not the compiler) runs every block in turn, its threads one
// after another, or, for a kernel that synchronizes its block, as fibers meeting at each barrier.
#include <cstddef>
#include <functional>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

// CUDA's own names, reserved identifiers by necessity (NOLINTs below).
#define __global__  // NOLINT(bugprone-reserved-identifier)
#define __host__    // NOLINT(bugprone-reserved-identifier)
#define __device__  // NOLINT(bugprone-reserved-identifier)
// A block's threads share it; blocks run one after another, so one instance serves them all.
#define __shared__ static  // NOLINT(bugprone-reserved-identifier)

struct dim3 {
  unsigned x = 1, y = 1, z = 1;
};
// The running emulated thread's indices (set per thread by the launch).
extern thread_local dim3 threadIdx, blockIdx, blockDim, gridDim;
// The block's barrier; a fault in a kernel launched without block synchronization.
void __syncthreads();  // NOLINT(bugprone-reserved-identifier)

enum cudaError_t {
  cudaSuccess = 0,
  cudaErrorInvalidValue = 1,
  cudaErrorMemoryAllocation = 2,
  cudaErrorInvalidConfiguration = 9,
  cudaErrorInvalidDevicePointer = 17,
  cudaErrorInvalidMemcpyDirection = 21,
  cudaErrorNoDevice = 100,
  cudaErrorInvalidResourceHandle = 400,
  cudaErrorIllegalAddress = 700,
  cudaErrorLaunchFailure = 719,
  cudaErrorStreamCaptureUnsupported = 900,
  cudaErrorStreamCaptureInvalidated = 901,
};

enum cudaMemcpyKind {
  cudaMemcpyHostToHost = 0,
  cudaMemcpyHostToDevice = 1,
  cudaMemcpyDeviceToHost = 2,
  cudaMemcpyDeviceToDevice = 3,
};

enum cudaStreamCaptureMode {
  cudaStreamCaptureModeGlobal = 0,
  cudaStreamCaptureModeThreadLocal = 1,
  cudaStreamCaptureModeRelaxed = 2,
};

constexpr unsigned cudaStreamNonBlocking = 0x1;
constexpr unsigned cudaEventDisableTiming = 0x2;

namespace cuda_emulation {
struct Stream;
struct Event;
struct Graph;
struct GraphExec;
}  // namespace cuda_emulation

using cudaStream_t = cuda_emulation::Stream*;
using cudaEvent_t = cuda_emulation::Event*;
using cudaGraph_t = cuda_emulation::Graph*;
using cudaGraphExec_t = cuda_emulation::GraphExec*;

struct cudaDeviceProp {
  char name[256];
  std::size_t totalGlobalMem;
  int major;
  int minor;
};

const char* cudaGetErrorName(cudaError_t error);
const char* cudaGetErrorString(cudaError_t error);
cudaError_t cudaGetLastError();
cudaError_t cudaGetDeviceCount(int* count);
cudaError_t cudaGetDevice(int* device);
cudaError_t cudaGetDeviceProperties(cudaDeviceProp* properties, int device);

cudaError_t cudaMalloc(void** pointer, std::size_t bytes);
cudaError_t cudaFree(void* pointer);
cudaError_t cudaMallocHost(void** pointer, std::size_t bytes);
cudaError_t cudaFreeHost(void* pointer);

cudaError_t cudaStreamCreateWithFlags(cudaStream_t* stream, unsigned flags);
cudaError_t cudaStreamDestroy(cudaStream_t stream);
cudaError_t cudaStreamSynchronize(cudaStream_t stream);

cudaError_t cudaMemcpyAsync(void* dst, const void* src, std::size_t bytes, cudaMemcpyKind kind,
                            cudaStream_t stream);
cudaError_t cudaMemcpy2DAsync(void* dst, std::size_t dst_pitch, const void* src,
                              std::size_t src_pitch, std::size_t width, std::size_t height,
                              cudaMemcpyKind kind, cudaStream_t stream);
cudaError_t cudaMemsetAsync(void* dst, int value, std::size_t bytes, cudaStream_t stream);

cudaError_t cudaEventCreateWithFlags(cudaEvent_t* event, unsigned flags);
cudaError_t cudaEventDestroy(cudaEvent_t event);
cudaError_t cudaEventRecord(cudaEvent_t event, cudaStream_t stream);
cudaError_t cudaEventSynchronize(cudaEvent_t event);

cudaError_t cudaStreamBeginCapture(cudaStream_t stream, cudaStreamCaptureMode mode);
cudaError_t cudaStreamEndCapture(cudaStream_t stream, cudaGraph_t* graph);
cudaError_t cudaGraphDestroy(cudaGraph_t graph);
cudaError_t cudaGraphInstantiate(cudaGraphExec_t* exec, cudaGraph_t graph,
                                 unsigned long long flags);
cudaError_t cudaGraphExecDestroy(cudaGraphExec_t exec);
cudaError_t cudaGraphLaunch(cudaGraphExec_t exec, cudaStream_t stream);

namespace cuda_emulation {

// Queues a kernel on `stream` (or records it into the stream's capture): `body` runs the kernel
// with its copied arguments; `pointers` are its pointer arguments (1-based position, value),
// which must point into device memory when the kernel runs.
void enqueue_kernel(const char* what, unsigned blocks, unsigned threads, bool block_sync,
                    cudaStream_t stream, std::vector<std::pair<int, const void*>> pointers,
                    std::function<void()> body);

// kernel<<<blocks, threads, 0, stream>>>(args...): the arguments are converted to the kernel's
// parameter types and copied now, as a real launch copies them. block_sync: the kernel calls
// __syncthreads (its block's threads then run as fibers that meet at each barrier).
template <class... Params, class... Args>
void launch(const char* what, unsigned blocks, unsigned threads, bool block_sync,
            cudaStream_t stream, void (*kernel)(Params...), Args&&... args) {
  std::tuple<std::decay_t<Params>...> copied(static_cast<Params>(std::forward<Args>(args))...);
  std::vector<std::pair<int, const void*>> pointers;
  int position = 0;
  auto note_pointer = [&](const auto& value) {
    ++position;
    if constexpr (std::is_pointer_v<std::decay_t<decltype(value)>>)
      pointers.emplace_back(position, static_cast<const void*>(value));
  };
  std::apply([&](const auto&... p) { (note_pointer(p), ...); }, copied);
  enqueue_kernel(what, blocks, threads, block_sync, stream, std::move(pointers),
                 [kernel, copied] { std::apply(kernel, copied); });
}

}  // namespace cuda_emulation
