// The CUDA host emulation behind include/cuda_runtime.h and include/cublas_v2.h. It runs the cuda
// backend's own source (nn/cuda/cuda_backend.cu, compiled by the host compiler) on the CPU and
// is strict where a real device would be silent or would fail only sometimes:
//
// - Work runs as late as CUDA allows: each stream queues it and runs it at a synchronization
//   (stream or event synchronize, cudaFree, cudaFreeHost, stream destroy). A copy from
//   page-locked memory reads it when it runs (a host buffer rewritten before its copy ran shows
//   in the results); a copy from pageable memory reads it at the call (the runtime stages it);
//   a copy to host memory writes it when it runs.
// - Device and page-locked memory start as NaN bytes (neither cudaMalloc nor cudaMallocHost
//   clears): a value read before it was written shows.
// - When work runs, every pointer argument of a kernel and every GEMM operand, over its whole
//   strided extent, must lie in one live device allocation, and copies in live allocations: a
//   host pointer, a freed buffer (a graph replayed after the buffers it captured were
//   reallocated) or a product past its buffer is a device fault, cudaErrorIllegalAddress, with
//   the detail in cudaGetErrorString; as after a real fault, every later call returns it.
// - Stream capture records instead of running (kernels, GEMMs with alpha and beta read at the
//   call, copies, memsets, event records); while this thread captures, the calls CUDA forbids
//   then (synchronize, cudaMalloc, cudaFree, a copy from or to pageable memory on the captured
//   stream) fail with cudaErrorStreamCaptureUnsupported and invalidate the capture.
// - cuBLAS's argument rules (leading dimensions, data and compute types); the TF32 and BF16
//   compute types round the products' inputs to 10 and 7 mantissa bits; sums use fmaf.
// What it cannot show: concurrency (one operation runs at a time, in stream order), the device's
// memory limit and speed, and nvcc's code itself.
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <exception>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>

#include <ucontext.h>

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/common_interface_defs.h>
#endif

#include <cublas_v2.h>
#include <cuda_runtime.h>

#include "emulation_control.hpp"

thread_local dim3 threadIdx, blockIdx, blockDim, gridDim;

namespace cuda_emulation {

using Op = std::function<void()>;

struct Stream {
  std::deque<Op> pending;
  std::unique_ptr<Graph> capture;  // set while the stream is being captured
  std::thread::id capture_thread;
  bool capture_invalidated = false;
};
struct Event {
  std::shared_ptr<bool> reached = std::make_shared<bool>(true);  // its recorded point has run
  Stream* stream = nullptr;
};
struct Graph {
  std::vector<Op> ops;
};
struct GraphExec {
  std::shared_ptr<const std::vector<Op>> ops;
};
struct BlasHandle {
  Stream* stream = nullptr;
};

namespace {

// A device fault raised by work while it runs.
struct Fault : std::runtime_error {
  Fault(cudaError_t c, const std::string& what) : std::runtime_error(what), code(c) {}
  cudaError_t code;
};

struct Allocation {
  std::size_t bytes = 0;
  bool device = false;  // else page-locked host memory
};

struct Device {
  std::recursive_mutex mutex;
  std::map<std::uintptr_t, Allocation> allocations;  // by start address
  std::set<Stream*> streams;
  Stream default_stream;  // the null stream
  std::set<Event*> events;
  std::set<Graph*> graphs;
  std::set<GraphExec*> execs;
  std::set<BlasHandle*> handles;
  cudaError_t fault = cudaSuccess;
  std::string fault_text;
  int device_count = 1;
};

Device& device() {
  static Device d;
  return d;
}

thread_local cudaError_t last_error = cudaSuccess;

cudaError_t note(cudaError_t e) {
  if (e != cudaSuccess) last_error = e;
  return e;
}

std::string hex(const void* p) {
  char text[32];
  std::snprintf(text, sizeof text, "%p", p);
  return text;
}

// The allocation holding [p, p + bytes), or nullptr.
const Allocation* allocation_of(const void* p, std::size_t bytes, bool device_memory) {
  const auto& all = device().allocations;
  const auto a = reinterpret_cast<std::uintptr_t>(p);
  auto it = all.upper_bound(a);
  if (it == all.begin()) return nullptr;
  --it;
  const Allocation& found = it->second;
  if (found.device != device_memory || a >= it->first + std::max<std::size_t>(found.bytes, 1))
    return nullptr;
  return a + bytes <= it->first + found.bytes ? &found : nullptr;
}

bool in_device_memory(const void* p) {
  return allocation_of(p, 0, true) != nullptr;
}
bool in_pinned_memory(const void* p, std::size_t bytes) {
  return allocation_of(p, bytes, false) != nullptr;
}

void require_device_range(const void* p, std::size_t bytes, const std::string& what) {
  if (!allocation_of(p, bytes, true))
    throw Fault(cudaErrorIllegalAddress, what + ": " + std::to_string(bytes) + " bytes at " +
                                             hex(p) + " are not inside one live device allocation");
}

void fail_device(cudaError_t code, const std::string& text) {
  Device& d = device();
  d.fault = code;
  d.fault_text = std::string(cudaGetErrorName(code)) + " [host emulation: " + text + "]";
  for (Stream* s : d.streams) s->pending.clear();
  d.default_stream.pending.clear();
}

void run(const Op& op) {
  try {
    op();
  } catch (const Fault& f) {
    fail_device(f.code, f.what());
  }
}

// Runs the stream's queued work in order, up to `until` becoming true (nullptr: all of it).
void drain(Stream* s, const bool* until = nullptr) {
  while (!s->pending.empty() && !device().fault && !(until && *until)) {
    const Op op = std::move(s->pending.front());
    s->pending.pop_front();
    run(op);
  }
}

void drain_all() {
  Device& d = device();
  for (Stream* s : d.streams) drain(s);
  drain(&d.default_stream);
}

Stream* stream_of(cudaStream_t s) {
  Device& d = device();
  if (s == nullptr) return &d.default_stream;
  return d.streams.count(s) ? s : nullptr;
}

void submit(Stream* s, Op op) {
  if (s->capture)
    s->capture->ops.push_back(std::move(op));
  else
    s->pending.push_back(std::move(op));
}

// While this thread captures (mode thread-local or global), CUDA refuses the calls that might
// synchronize and invalidates the capture.
bool refuse_while_capturing() {
  bool refused = false;
  for (Stream* s : device().streams)
    if (s->capture && s->capture_thread == std::this_thread::get_id()) {
      s->capture_invalidated = true;
      refused = true;
    }
  return refused;
}

void* allocate(std::size_t bytes, bool device_memory) {
  const std::size_t rounded = (bytes + 255) / 256 * 256;  // cudaMalloc aligns to 256 bytes
  void* p = std::aligned_alloc(256, rounded);
  if (!p) return nullptr;
  std::memset(p, 0xff, rounded);  // NaN as float and double
  device().allocations[reinterpret_cast<std::uintptr_t>(p)] = {bytes, device_memory};
  return p;
}

// cudaMalloc and cudaMallocHost.
cudaError_t allocate_call(void** pointer, std::size_t bytes, bool device_memory) {
  Device& d = device();
  const std::lock_guard lock(d.mutex);
  if (d.fault) return d.fault;
  if (!pointer) return note(cudaErrorInvalidValue);
  if (refuse_while_capturing()) return note(cudaErrorStreamCaptureUnsupported);
  *pointer = bytes == 0 ? nullptr : allocate(bytes, device_memory);
  return bytes == 0 || *pointer ? cudaSuccess : note(cudaErrorMemoryAllocation);
}

// A new stream, event (its `live` set) and the like.
template <class Handle>
cudaError_t create_handle(Handle** out, std::set<Handle*>& live) {
  if (device().fault) return device().fault;
  if (!out) return note(cudaErrorInvalidValue);
  *out = new Handle;
  live.insert(*out);
  return cudaSuccess;
}

// Deletes a handle of `live`; false for one it does not hold.
template <class Handle>
bool destroy_handle(Handle* handle, std::set<Handle*>& live) {
  if (!live.erase(handle)) return false;
  delete handle;
  return true;
}

cudaError_t release(void* p, bool device_memory) {
  if (p == nullptr) return cudaSuccess;
  if (refuse_while_capturing()) return note(cudaErrorStreamCaptureUnsupported);
  drain_all();  // both free calls synchronize the device
  auto& all = device().allocations;
  const auto it = all.find(reinterpret_cast<std::uintptr_t>(p));
  if (it == all.end() || it->second.device != device_memory) return note(cudaErrorInvalidValue);
  all.erase(it);
  std::free(p);
  return device().fault;
}

// A copy of `rows` rows of `width` bytes (one row: a plain copy); `to_device` / `from_device`
// say which side is device memory.
cudaError_t enqueue_copy(void* dst, std::size_t dst_pitch, const void* src, std::size_t src_pitch,
                         std::size_t width, std::size_t rows, cudaMemcpyKind kind,
                         cudaStream_t stream) {
  Device& d = device();
  if (d.fault) return d.fault;
  Stream* s = stream_of(stream);
  if (!s) return note(cudaErrorInvalidResourceHandle);
  if (width > dst_pitch || width > src_pitch) return note(cudaErrorInvalidValue);
  if (width == 0 || rows == 0) return cudaSuccess;
  const bool to_device = kind == cudaMemcpyHostToDevice || kind == cudaMemcpyDeviceToDevice;
  const bool from_device = kind == cudaMemcpyDeviceToHost || kind == cudaMemcpyDeviceToDevice;
  if (kind == cudaMemcpyHostToHost) return note(cudaErrorInvalidMemcpyDirection);
  const std::size_t dst_extent = (rows - 1) * dst_pitch + width;
  const std::size_t src_extent = (rows - 1) * src_pitch + width;
  // The device side must lie in one allocation now; the host side must not be device memory.
  if (to_device ? !allocation_of(dst, dst_extent, true) : in_device_memory(dst))
    return note(to_device ? cudaErrorInvalidValue : cudaErrorInvalidMemcpyDirection);
  if (from_device ? !allocation_of(src, src_extent, true) : in_device_memory(src))
    return note(from_device ? cudaErrorInvalidValue : cudaErrorInvalidMemcpyDirection);
  const bool src_pinned = !from_device && in_pinned_memory(src, src_extent);
  const bool dst_pinned = !to_device && in_pinned_memory(dst, dst_extent);
  const bool pageable = (!from_device && !src_pinned) || (!to_device && !dst_pinned);
  if (pageable && s->capture) {
    s->capture_invalidated = true;
    return note(cudaErrorStreamCaptureUnsupported);
  }
  std::shared_ptr<std::vector<unsigned char>> staged;
  if (!from_device && !src_pinned) {  // pageable source: staged now
    staged = std::make_shared<std::vector<unsigned char>>(src_extent);
    std::memcpy(staged->data(), src, src_extent);
  }
  submit(s, [=] {
    if (to_device) require_device_range(dst, dst_extent, "copy destination");
    if (from_device) require_device_range(src, src_extent, "copy source");
    if (src_pinned && !in_pinned_memory(src, src_extent))
      throw Fault(cudaErrorIllegalAddress, "copy source: page-locked memory freed before the copy");
    if (dst_pinned && !in_pinned_memory(dst, dst_extent))
      throw Fault(cudaErrorIllegalAddress,
                  "copy destination: page-locked memory freed before the copy");
    const auto* from = staged ? staged->data() : static_cast<const unsigned char*>(src);
    auto* to = static_cast<unsigned char*>(dst);
    for (std::size_t r = 0; r < rows; ++r)
      std::memcpy(to + r * dst_pitch, from + r * src_pitch, width);
  });
  return cudaSuccess;
}

// A block whose kernel synchronizes (__syncthreads) runs its threads as fibers on this thread:
// each runs up to its next barrier, then the next thread; a round over all of them is one phase.
// (OS threads, one per emulated thread and block, cost 100 times more.)
class FiberBlock {
  // AddressSanitizer must be told of each switch between stacks (a no-op without it).
  static void start_switch(void** fake_stack, const void* bottom, std::size_t size) {
#if defined(__SANITIZE_ADDRESS__)
    __sanitizer_start_switch_fiber(fake_stack, bottom, size);
#else
    (void)fake_stack, (void)bottom, (void)size;
#endif
  }
  static void finish_switch(void* fake_stack, const void** bottom, std::size_t* size) {
#if defined(__SANITIZE_ADDRESS__)
    __sanitizer_finish_switch_fiber(fake_stack, bottom, size);
#else
    (void)fake_stack, (void)bottom, (void)size;
#endif
  }

 public:
  explicit FiberBlock(unsigned threads) : contexts_(threads), done_(threads, false) {
    const std::size_t need = std::size_t(threads) * kStackBytes;
    if (stacks().size() < need) stacks().resize(need);
  }

  // Runs `body` as every thread of block b of the launch.
  void run(const dim3& grid, const dim3& block, unsigned b, const std::function<void()>& body) {
    body_ = &body;
    error_ = nullptr;
    const unsigned threads = static_cast<unsigned>(contexts_.size());
    ucontext_t model;
    getcontext(&model);  // one system call: the contexts below are copies
    for (unsigned t = 0; t < threads; ++t) {
      contexts_[t] = model;
      contexts_[t].uc_stack.ss_sp = stacks().data() + std::size_t(t) * kStackBytes;
      contexts_[t].uc_stack.ss_size = kStackBytes;
      contexts_[t].uc_link = &scheduler_;
      makecontext(&contexts_[t], &FiberBlock::entry, 0);
      done_[t] = false;
    }
    FiberBlock* outer = std::exchange(current_, this);
    gridDim = grid;
    blockDim = block;
    blockIdx = dim3{b};
    for (unsigned left = threads; left > 0;) {  // one phase per round
      for (unsigned t = 0; t < threads; ++t) {
        if (done_[t]) continue;
        running_ = t;
        threadIdx = dim3{t};
        void* fake_stack = nullptr;
        start_switch(&fake_stack, contexts_[t].uc_stack.ss_sp, kStackBytes);
        swapcontext(&scheduler_, &contexts_[t]);
        finish_switch(fake_stack, nullptr, nullptr);
        if (finished_) {
          done_[t] = true;
          finished_ = false;
          --left;
        }
      }
    }
    current_ = outer;
    if (error_) std::rethrow_exception(error_);
  }

  // __syncthreads() of the running thread: back to the scheduler until the next phase.
  static bool synchronize() {
    if (!current_) return false;
    FiberBlock& block = *current_;
    void* fake_stack = nullptr;
    start_switch(&fake_stack, block.scheduler_bottom_, block.scheduler_size_);
    swapcontext(&block.contexts_[block.running_], &block.scheduler_);
    finish_switch(fake_stack, &block.scheduler_bottom_, &block.scheduler_size_);
    return true;
  }

 private:
  static constexpr std::size_t kStackBytes = std::size_t(256) * 1024;

  static void entry() {
    FiberBlock& block = *current_;
    finish_switch(nullptr, &block.scheduler_bottom_, &block.scheduler_size_);
    try {
      (*block.body_)();
    } catch (...) {
      if (!block.error_) block.error_ = std::current_exception();
    }
    block.finished_ = true;
    start_switch(nullptr, block.scheduler_bottom_, block.scheduler_size_);  // this fiber ends
  }  // returns to uc_link: the scheduler

  static std::vector<unsigned char>& stacks() {  // reused: fresh memory is slow to touch
    thread_local std::vector<unsigned char> s;
    return s;
  }

  static thread_local FiberBlock* current_;
  ucontext_t scheduler_{};
  std::vector<ucontext_t> contexts_;
  std::vector<bool> done_;
  const std::function<void()>* body_ = nullptr;
  std::exception_ptr error_;
  unsigned running_ = 0;
  bool finished_ = false;
  const void* scheduler_bottom_ = nullptr;  // the scheduler's stack (AddressSanitizer)
  std::size_t scheduler_size_ = 0;
};

thread_local FiberBlock* FiberBlock::current_ = nullptr;

// One launch: blocks in turn; a block's threads in turn, or as fibers that meet at each barrier
// when the kernel synchronizes its block.
void execute(unsigned blocks, unsigned threads, bool block_sync,
             const std::function<void()>& body) {
  const dim3 grid{blocks}, block{threads};
  if (block_sync) {
    FiberBlock fibers(threads);
    for (unsigned b = 0; b < blocks; ++b) fibers.run(grid, block, b, body);
    return;
  }
  gridDim = grid;
  blockDim = block;
  for (unsigned b = 0; b < blocks; ++b) {
    blockIdx = dim3{b};
    for (unsigned t = 0; t < threads; ++t) {
      threadIdx = dim3{t};
      body();
    }
  }
}

float round_mantissa(float x, int dropped_bits) {
  if (!std::isfinite(x)) return x;
  std::uint32_t u = 0;
  std::memcpy(&u, &x, sizeof u);
  const std::uint32_t lsb = (u >> dropped_bits) & 1u;
  u += (1u << (dropped_bits - 1)) - 1u + lsb;  // to nearest, ties to even
  u &= ~((1u << dropped_bits) - 1u);
  std::memcpy(&x, &u, sizeof x);
  return x;
}

}  // namespace

void enqueue_kernel(const char* what, unsigned blocks, unsigned threads, bool block_sync,
                    cudaStream_t stream, std::vector<std::pair<int, const void*>> pointers,
                    std::function<void()> body) {
  Device& d = device();
  const std::lock_guard lock(d.mutex);
  if (d.fault) {
    last_error = d.fault;
    return;
  }
  Stream* s = stream_of(stream);
  if (!s) {
    last_error = cudaErrorInvalidResourceHandle;
    return;
  }
  if (blocks == 0 || blocks > 2147483647u || threads == 0 || threads > 1024) {
    last_error = cudaErrorInvalidConfiguration;
    return;
  }
  submit(s, [name = std::string(what), blocks, threads, block_sync, pointers = std::move(pointers),
             body = std::move(body)] {
    for (const auto& [position, p] : pointers)
      if (p && !in_device_memory(p))
        throw Fault(cudaErrorIllegalAddress, "kernel '" + name + "': argument " +
                                                 std::to_string(position) + " (" + hex(p) +
                                                 ") is not in a live device allocation");
    try {
      execute(blocks, threads, block_sync, body);
    } catch (const Fault& f) {
      throw Fault(f.code, "kernel '" + name + "': " + f.what());
    }
  });
}

std::string fault() {
  const std::lock_guard lock(device().mutex);
  return device().fault ? device().fault_text : std::string();
}

void clear_fault() {
  Device& d = device();
  const std::lock_guard lock(d.mutex);
  d.fault = cudaSuccess;
  d.fault_text.clear();
  for (Stream* s : d.streams) s->pending.clear();
  last_error = cudaSuccess;
}

std::size_t device_allocations() {
  const std::lock_guard lock(device().mutex);
  std::size_t n = 0;
  for (const auto& [start, a] : device().allocations) n += a.device ? 1 : 0;
  return n;
}

std::size_t device_bytes() {
  const std::lock_guard lock(device().mutex);
  std::size_t n = 0;
  for (const auto& [start, a] : device().allocations) n += a.device ? a.bytes : 0;
  return n;
}

void set_device_count(int count) {
  const std::lock_guard lock(device().mutex);
  device().device_count = count;
}

std::size_t pinned_allocations() {
  const std::lock_guard lock(device().mutex);
  return device().allocations.size() - device_allocations();
}

}  // namespace cuda_emulation

using cuda_emulation::Device;
using cuda_emulation::device;
using cuda_emulation::note;

// ---------------------------------------------------------------- runtime API

void __syncthreads() {
  if (!cuda_emulation::FiberBlock::synchronize())
    throw cuda_emulation::Fault(cudaErrorLaunchFailure,
                                "__syncthreads() in a kernel launched without block_sync");
}

namespace {

// Name and message of each code the emulation returns.
template <class Code>
struct Described {
  Code code;
  const char* name;
  const char* text;
};

constexpr Described<cudaError_t> kCudaErrors[] = {
    {cudaSuccess, "cudaSuccess", "no error"},
    {cudaErrorInvalidValue, "cudaErrorInvalidValue", "invalid argument"},
    {cudaErrorMemoryAllocation, "cudaErrorMemoryAllocation", "out of memory"},
    {cudaErrorInvalidConfiguration, "cudaErrorInvalidConfiguration",
     "invalid configuration argument"},
    {cudaErrorInvalidDevicePointer, "cudaErrorInvalidDevicePointer", "invalid device pointer"},
    {cudaErrorInvalidMemcpyDirection, "cudaErrorInvalidMemcpyDirection",
     "invalid copy direction for memcpy"},
    {cudaErrorNoDevice, "cudaErrorNoDevice", "no CUDA-capable device is detected"},
    {cudaErrorInvalidResourceHandle, "cudaErrorInvalidResourceHandle", "invalid resource handle"},
    {cudaErrorIllegalAddress, "cudaErrorIllegalAddress",
     "an illegal memory access was encountered"},
    {cudaErrorLaunchFailure, "cudaErrorLaunchFailure", "unspecified launch failure"},
    {cudaErrorStreamCaptureUnsupported, "cudaErrorStreamCaptureUnsupported",
     "operation not permitted when stream is capturing"},
    {cudaErrorStreamCaptureInvalidated, "cudaErrorStreamCaptureInvalidated",
     "operation failed due to a previous error during capture"},
};

constexpr Described<cublasStatus_t> kBlasStatuses[] = {
    {CUBLAS_STATUS_SUCCESS, "CUBLAS_STATUS_SUCCESS", "the operation completed successfully"},
    {CUBLAS_STATUS_NOT_INITIALIZED, "CUBLAS_STATUS_NOT_INITIALIZED",
     "the library was not initialized"},
    {CUBLAS_STATUS_ALLOC_FAILED, "CUBLAS_STATUS_ALLOC_FAILED", "the resource allocation failed"},
    {CUBLAS_STATUS_INVALID_VALUE, "CUBLAS_STATUS_INVALID_VALUE",
     "an invalid numeric value was used as an argument"},
    {CUBLAS_STATUS_EXECUTION_FAILED, "CUBLAS_STATUS_EXECUTION_FAILED",
     "the GPU program failed to execute"},
    {CUBLAS_STATUS_NOT_SUPPORTED, "CUBLAS_STATUS_NOT_SUPPORTED",
     "the functionality requested is not supported"},
};

template <class Code, std::size_t N>
const Described<Code>* describe(const Described<Code> (&table)[N], Code code) {
  for (const auto& d : table)
    if (d.code == code) return &d;
  return nullptr;
}

}  // namespace

const char* cudaGetErrorName(cudaError_t error) {
  const auto* d = describe(kCudaErrors, error);
  return d ? d->name : "cudaErrorUnknown";
}

const char* cudaGetErrorString(cudaError_t error) {
  Device& device_state = device();
  const std::lock_guard lock(device_state.mutex);
  if (device_state.fault && error == device_state.fault) return device_state.fault_text.c_str();
  const auto* d = describe(kCudaErrors, error);
  return d ? d->text : "unknown error";
}

cudaError_t cudaGetLastError() {
  const std::lock_guard lock(device().mutex);
  if (device().fault) return device().fault;
  return std::exchange(cuda_emulation::last_error, cudaSuccess);
}

cudaError_t cudaGetDeviceCount(int* count) {
  const std::lock_guard lock(device().mutex);
  if (!count) return note(cudaErrorInvalidValue);
  *count = device().device_count;
  return *count > 0 ? cudaSuccess : note(cudaErrorNoDevice);
}

cudaError_t cudaGetDevice(int* device_number) {
  if (!device_number) return note(cudaErrorInvalidValue);
  *device_number = 0;
  return cudaSuccess;
}

cudaError_t cudaGetDeviceProperties(cudaDeviceProp* p, int device_number) {
  if (!p || device_number != 0) return note(cudaErrorInvalidValue);
  *p = cudaDeviceProp{};
  std::snprintf(p->name, sizeof p->name, "CUDA host emulation");
  p->totalGlobalMem = std::size_t(80) << 30;
  p->major = 9;
  p->minor = 0;
  return cudaSuccess;
}

cudaError_t cudaMalloc(void** pointer, std::size_t bytes) {
  return cuda_emulation::allocate_call(pointer, bytes, true);
}

cudaError_t cudaMallocHost(void** pointer, std::size_t bytes) {
  return cuda_emulation::allocate_call(pointer, bytes, false);
}

// Freed even on a faulted device (destructors free after a fault), which then reports it.
cudaError_t cudaFree(void* pointer) {
  const std::lock_guard lock(device().mutex);
  return cuda_emulation::release(pointer, true);
}

cudaError_t cudaFreeHost(void* pointer) {
  const std::lock_guard lock(device().mutex);
  return cuda_emulation::release(pointer, false);
}

cudaError_t cudaStreamCreateWithFlags(cudaStream_t* stream, unsigned /*flags*/) {
  const std::lock_guard lock(device().mutex);
  return cuda_emulation::create_handle(stream, device().streams);
}

cudaError_t cudaStreamDestroy(cudaStream_t stream) {
  Device& d = device();
  const std::lock_guard lock(d.mutex);
  if (!stream || !d.streams.count(stream)) return note(cudaErrorInvalidResourceHandle);
  cuda_emulation::drain(stream);  // queued work still completes
  cuda_emulation::destroy_handle(stream, d.streams);
  return d.fault;
}

cudaError_t cudaStreamSynchronize(cudaStream_t stream) {
  Device& d = device();
  const std::lock_guard lock(d.mutex);
  if (d.fault) return d.fault;
  cuda_emulation::Stream* s = cuda_emulation::stream_of(stream);
  if (!s) return note(cudaErrorInvalidResourceHandle);
  if (cuda_emulation::refuse_while_capturing() || s->capture) {
    if (s->capture) s->capture_invalidated = true;
    return note(cudaErrorStreamCaptureUnsupported);
  }
  cuda_emulation::drain(s);
  return d.fault;
}

cudaError_t cudaMemcpyAsync(void* dst, const void* src, std::size_t bytes, cudaMemcpyKind kind,
                            cudaStream_t stream) {
  const std::lock_guard lock(device().mutex);
  return cuda_emulation::enqueue_copy(dst, bytes, src, bytes, bytes, 1, kind, stream);
}

cudaError_t cudaMemcpy2DAsync(void* dst, std::size_t dst_pitch, const void* src,
                              std::size_t src_pitch, std::size_t width, std::size_t height,
                              cudaMemcpyKind kind, cudaStream_t stream) {
  const std::lock_guard lock(device().mutex);
  return cuda_emulation::enqueue_copy(dst, dst_pitch, src, src_pitch, width, height, kind, stream);
}

cudaError_t cudaMemsetAsync(void* dst, int value, std::size_t bytes, cudaStream_t stream) {
  Device& d = device();
  const std::lock_guard lock(d.mutex);
  if (d.fault) return d.fault;
  cuda_emulation::Stream* s = cuda_emulation::stream_of(stream);
  if (!s) return note(cudaErrorInvalidResourceHandle);
  if (bytes == 0) return cudaSuccess;
  if (!cuda_emulation::allocation_of(dst, bytes, true)) return note(cudaErrorInvalidValue);
  cuda_emulation::submit(s, [=] {
    cuda_emulation::require_device_range(dst, bytes, "memset");
    std::memset(dst, value, bytes);
  });
  return cudaSuccess;
}

cudaError_t cudaEventCreateWithFlags(cudaEvent_t* event, unsigned /*flags*/) {
  const std::lock_guard lock(device().mutex);
  return cuda_emulation::create_handle(event, device().events);
}

cudaError_t cudaEventDestroy(cudaEvent_t event) {
  const std::lock_guard lock(device().mutex);
  // A record still queued keeps its flag alive.
  if (!cuda_emulation::destroy_handle(event, device().events))
    return note(cudaErrorInvalidResourceHandle);
  return device().fault;
}

cudaError_t cudaEventRecord(cudaEvent_t event, cudaStream_t stream) {
  Device& d = device();
  const std::lock_guard lock(d.mutex);
  if (d.fault) return d.fault;
  cuda_emulation::Stream* s = cuda_emulation::stream_of(stream);
  if (!s || !d.events.count(event)) return note(cudaErrorInvalidResourceHandle);
  event->reached = std::make_shared<bool>(false);
  event->stream = s;
  cuda_emulation::submit(s, [reached = event->reached] { *reached = true; });
  return cudaSuccess;
}

cudaError_t cudaEventSynchronize(cudaEvent_t event) {
  Device& d = device();
  const std::lock_guard lock(d.mutex);
  if (d.fault) return d.fault;
  if (!d.events.count(event)) return note(cudaErrorInvalidResourceHandle);
  if (cuda_emulation::refuse_while_capturing()) return note(cudaErrorStreamCaptureUnsupported);
  if (event->stream && d.streams.count(event->stream))
    cuda_emulation::drain(event->stream, event->reached.get());
  return d.fault;
}

cudaError_t cudaStreamBeginCapture(cudaStream_t stream, cudaStreamCaptureMode /*mode*/) {
  Device& d = device();
  const std::lock_guard lock(d.mutex);
  if (d.fault) return d.fault;
  if (!stream || !d.streams.count(stream)) return note(cudaErrorInvalidResourceHandle);
  if (stream->capture) return note(cudaErrorInvalidValue);
  stream->capture = std::make_unique<cuda_emulation::Graph>();
  stream->capture_thread = std::this_thread::get_id();
  stream->capture_invalidated = false;
  return cudaSuccess;
}

cudaError_t cudaStreamEndCapture(cudaStream_t stream, cudaGraph_t* graph) {
  Device& d = device();
  const std::lock_guard lock(d.mutex);
  if (!stream || !d.streams.count(stream)) return note(cudaErrorInvalidResourceHandle);
  if (!stream->capture || !graph) return note(cudaErrorInvalidValue);
  std::unique_ptr<cuda_emulation::Graph> captured = std::move(stream->capture);
  *graph = nullptr;
  if (stream->capture_invalidated) return note(cudaErrorStreamCaptureInvalidated);
  if (d.fault) return d.fault;
  *graph = captured.release();
  d.graphs.insert(*graph);
  return cudaSuccess;
}

cudaError_t cudaGraphDestroy(cudaGraph_t graph) {
  const std::lock_guard lock(device().mutex);
  return cuda_emulation::destroy_handle(graph, device().graphs)
             ? cudaSuccess
             : note(cudaErrorInvalidResourceHandle);
}

cudaError_t cudaGraphInstantiate(cudaGraphExec_t* exec, cudaGraph_t graph,
                                 unsigned long long /*flags*/) {
  Device& d = device();
  const std::lock_guard lock(d.mutex);
  if (d.fault) return d.fault;
  if (!exec || !d.graphs.count(graph)) return note(cudaErrorInvalidValue);
  *exec = new cuda_emulation::GraphExec{
      std::make_shared<const std::vector<cuda_emulation::Op>>(graph->ops)};
  d.execs.insert(*exec);
  return cudaSuccess;
}

cudaError_t cudaGraphExecDestroy(cudaGraphExec_t exec) {
  const std::lock_guard lock(device().mutex);
  // A launch still queued keeps its operations alive.
  return cuda_emulation::destroy_handle(exec, device().execs)
             ? cudaSuccess
             : note(cudaErrorInvalidResourceHandle);
}

cudaError_t cudaGraphLaunch(cudaGraphExec_t exec, cudaStream_t stream) {
  Device& d = device();
  const std::lock_guard lock(d.mutex);
  if (d.fault) return d.fault;
  cuda_emulation::Stream* s = cuda_emulation::stream_of(stream);
  if (!s || !d.execs.count(exec)) return note(cudaErrorInvalidResourceHandle);
  if (s->capture) return note(cudaErrorStreamCaptureUnsupported);  // not emulated
  cuda_emulation::submit(s, [ops = exec->ops] {
    for (const auto& op : *ops) op();
  });
  return cudaSuccess;
}

// ---------------------------------------------------------------- cuBLAS

const char* cublasGetStatusName(cublasStatus_t status) {
  const auto* d = describe(kBlasStatuses, status);
  return d ? d->name : "CUBLAS_STATUS_UNKNOWN";
}

const char* cublasGetStatusString(cublasStatus_t status) {
  const auto* d = describe(kBlasStatuses, status);
  return d ? d->text : "unknown status";
}

cublasStatus_t cublasCreate(cublasHandle_t* handle) {
  Device& d = device();
  const std::lock_guard lock(d.mutex);
  if (d.fault || !handle || cuda_emulation::refuse_while_capturing())
    return CUBLAS_STATUS_NOT_INITIALIZED;
  *handle = new cuda_emulation::BlasHandle{&d.default_stream};
  d.handles.insert(*handle);
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasDestroy(cublasHandle_t handle) {
  const std::lock_guard lock(device().mutex);
  return cuda_emulation::destroy_handle(handle, device().handles) ? CUBLAS_STATUS_SUCCESS
                                                                  : CUBLAS_STATUS_NOT_INITIALIZED;
}

cublasStatus_t cublasSetStream(cublasHandle_t handle, cudaStream_t stream) {
  const std::lock_guard lock(device().mutex);
  if (!device().handles.count(handle)) return CUBLAS_STATUS_NOT_INITIALIZED;
  cuda_emulation::Stream* s = cuda_emulation::stream_of(stream);
  if (!s) return CUBLAS_STATUS_INVALID_VALUE;
  handle->stream = s;
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasSetWorkspace(cublasHandle_t handle, void* workspace, std::size_t bytes) {
  const std::lock_guard lock(device().mutex);
  if (!device().handles.count(handle)) return CUBLAS_STATUS_NOT_INITIALIZED;
  // cuBLAS: device memory, 256-byte aligned.
  if (bytes > 0 && (!cuda_emulation::allocation_of(workspace, bytes, true) ||
                    reinterpret_cast<std::uintptr_t>(workspace) % 256 != 0))
    return CUBLAS_STATUS_INVALID_VALUE;
  return CUBLAS_STATUS_SUCCESS;
}

namespace {

// One operand of a strided-batched product: `rows` x `cols` column-major with leading dimension
// ld, `batch` of them `stride` elements apart.
struct Operand {
  const char* name;
  const float* data;
  int rows, cols, ld;
  long long stride;
  std::size_t bytes(int batch) const {
    if (rows == 0 || cols == 0 || batch == 0) return 0;
    return ((std::size_t(batch) - 1) * std::size_t(stride) + std::size_t(cols - 1) * ld + rows) *
           sizeof(float);
  }
};

void require_operand(const Operand& o, int batch) {
  cuda_emulation::require_device_range(
      o.data, o.bytes(batch),
      std::string("cublasGemmStridedBatchedEx operand ") + o.name + " (" + std::to_string(o.rows) +
          " x " + std::to_string(o.cols) + ", ld " + std::to_string(o.ld) + ", stride " +
          std::to_string(o.stride) + ", batch " + std::to_string(batch) + ")");
}

void require_apart(const Operand& c, const Operand& other, int batch) {
  const auto* c0 = reinterpret_cast<const unsigned char*>(c.data);
  const auto* o0 = reinterpret_cast<const unsigned char*>(other.data);
  if (c0 < o0 + other.bytes(batch) && o0 < c0 + c.bytes(batch))
    throw cuda_emulation::Fault(
        cudaErrorIllegalAddress,
        std::string("cublasGemmStridedBatchedEx: C overlaps operand ") + other.name);
}

}  // namespace

cublasStatus_t cublasGemmStridedBatchedEx(
    cublasHandle_t handle, cublasOperation_t transa, cublasOperation_t transb, int m, int n, int k,
    const void* alpha, const void* A, cudaDataType Atype, int lda, long long strideA, const void* B,
    cudaDataType Btype, int ldb, long long strideB, const void* beta, void* C, cudaDataType Ctype,
    int ldc, long long strideC, int batchCount, cublasComputeType_t computeType,
    cublasGemmAlgo_t /*algo*/) {
  Device& d = device();
  const std::lock_guard lock(d.mutex);
  if (!d.handles.count(handle)) return CUBLAS_STATUS_NOT_INITIALIZED;
  if (d.fault) return CUBLAS_STATUS_EXECUTION_FAILED;
  const bool ta = transa == CUBLAS_OP_T, tb = transb == CUBLAS_OP_T;
  if ((transa != CUBLAS_OP_N && !ta) || (transb != CUBLAS_OP_N && !tb))
    return CUBLAS_STATUS_NOT_SUPPORTED;  // the conjugate of a real matrix: not used
  if (m < 0 || n < 0 || k < 0 || batchCount < 0 || !alpha || !beta)
    return CUBLAS_STATUS_INVALID_VALUE;
  // cuBLAS: lda >= max(1, rows of A as stored), likewise ldb; ldc >= max(1, m).
  if (lda < std::max(1, ta ? k : m) || ldb < std::max(1, tb ? n : k) || ldc < std::max(1, m))
    return CUBLAS_STATUS_INVALID_VALUE;
  if (Atype != CUDA_R_32F || Btype != CUDA_R_32F || Ctype != CUDA_R_32F)
    return CUBLAS_STATUS_NOT_SUPPORTED;
  int dropped = 0;
  if (computeType == CUBLAS_COMPUTE_32F_FAST_TF32)
    dropped = 13;
  else if (computeType == CUBLAS_COMPUTE_32F_FAST_16BF)
    dropped = 16;
  else if (computeType != CUBLAS_COMPUTE_32F)
    return CUBLAS_STATUS_NOT_SUPPORTED;
  if (m == 0 || n == 0 || batchCount == 0) return CUBLAS_STATUS_SUCCESS;
  const float a_scale = *static_cast<const float*>(alpha);
  const float b_scale = *static_cast<const float*>(beta);
  const Operand a{"A", static_cast<const float*>(A), ta ? k : m, ta ? m : k, lda, strideA};
  const Operand b{"B", static_cast<const float*>(B), tb ? n : k, tb ? k : n, ldb, strideB};
  const Operand c{"C", static_cast<float*>(C), m, n, ldc, strideC};
  cuda_emulation::submit(handle->stream, [=] {
    if (k > 0) {
      require_operand(a, batchCount);
      require_operand(b, batchCount);
    }
    require_operand(c, batchCount);
    if (k > 0) {
      require_apart(c, a, batchCount);
      require_apart(c, b, batchCount);
    }
    if (batchCount > 1 && strideC < static_cast<long long>(ldc) * (n - 1) + m)
      throw cuda_emulation::Fault(cudaErrorIllegalAddress,
                                  "cublasGemmStridedBatchedEx: the batches of C overlap");
    auto in = [dropped](float x) {
      return dropped ? cuda_emulation::round_mantissa(x, dropped) : x;
    };
    for (int batch = 0; batch < batchCount; ++batch) {
      const float* ab = a.data + batch * strideA;
      const float* bb = b.data + batch * strideB;
      float* cb = const_cast<float*>(c.data) + batch * strideC;
      for (int j = 0; j < n; ++j)
        for (int i = 0; i < m; ++i) {
          float sum = 0.0f;
          for (int p = 0; p < k; ++p) {
            const float x = ta ? ab[p + std::size_t(i) * lda] : ab[i + std::size_t(p) * lda];
            const float y = tb ? bb[j + std::size_t(p) * ldb] : bb[p + std::size_t(j) * ldb];
            sum = std::fma(in(x), in(y), sum);
          }
          float& out = cb[i + std::size_t(j) * ldc];
          // beta == 0: C is not read (it need not hold numbers).
          out = b_scale == 0.0f ? a_scale * sum : a_scale * sum + b_scale * out;
        }
    }
  });
  return CUBLAS_STATUS_SUCCESS;
}
