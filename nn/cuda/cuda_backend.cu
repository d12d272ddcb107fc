// The cuda backend: k models of one network on one GPU in the same kernels. Parameters,
// gradients and Adam moments of fold f are slice f of fold-stacked flat buffers (stride
// num_params), activations slice f of batch x width blocks, so every dense layer is ONE
// strided-batched cuBLAS GEMM over the folds (forward, backward weights, backward data); bias +
// activation, the activation backward, the bias gradient, the loss and Adam are fused
// element-wise kernels over all folds that call the very functions of the host policies
// (nn/core/elementwise.hpp). Training rows are uploaded once per run; each epoch uploads the
// folds' row orders (drawn on the host from the same generators as the CPU trainer, so GPU and
// CPU see the same batches); a step uploads its small per-fold plan and replays one CUDA graph
// holding the whole launch sequence. Rows past a fold's batch are zero inputs with zero loss
// gradient, so one padded batch shape serves every fold and step.
//
// The single-model Backend interface (`make_backend("cuda")`) is the same engine with one fold,
// moving its host-side inputs and results across at each call (tests, inference), with the
// training buffers added at its first training call; training goes through the fold group
// (nn/core/multi_fold.hpp).
//
// NOTE: written without a GPU. CI runs this source on the CPU under a host emulation of the CUDA
// runtime and cuBLAS (tests/nn/cuda_emulation); it has not run on a GPU yet (docs/nn.md).
#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cstring>
#include <limits>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "nn/core/backend.hpp"
#include "nn/core/cuda_entry.hpp"
#include "nn/core/elementwise.hpp"
#include "nn/core/fold_group.hpp"
#include "nn/cuda/engine_buffers.hpp"
#include "nn/cuda/gemm_plan.hpp"
#include "nn/cuda/step_math.hpp"

namespace lsmss::nn {

// ---------------------------------------------------------------- errors

namespace {

void check(cudaError_t e, const char* call) {
  if (e != cudaSuccess)
    throw_error(std::string("cuda backend: ") + call + " failed: " + cudaGetErrorName(e) + " (" +
                cudaGetErrorString(e) + ")");
}

void check(cublasStatus_t s, const char* call) {
  if (s != CUBLAS_STATUS_SUCCESS)
    throw_error(std::string("cuda backend: ") + call + " failed: " + cublasGetStatusName(s) + " (" +
                cublasGetStatusString(s) + ")");
}

#define LSMSS_CHECK(call) check((call), #call)

// ---------------------------------------------------------------- RAII handles

template <class T>
class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  explicit DeviceBuffer(std::size_t n) { resize(n); }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  DeviceBuffer(DeviceBuffer&& o) noexcept : p_(std::exchange(o.p_, nullptr)), n_(o.n_) {}
  DeviceBuffer& operator=(DeviceBuffer&& o) noexcept {
    std::swap(p_, o.p_);
    std::swap(n_, o.n_);
    return *this;
  }
  ~DeviceBuffer() {
    if (p_) cudaFree(p_);
  }
  void resize(std::size_t n) {  // contents are not kept
    if (p_) LSMSS_CHECK(cudaFree(p_));
    p_ = nullptr;
    n_ = n;
    if (n > 0) LSMSS_CHECK(cudaMalloc(reinterpret_cast<void**>(&p_), n * sizeof(T)));
  }
  T* data() { return p_; }
  const T* data() const { return p_; }
  std::size_t size() const { return n_; }

 private:
  T* p_ = nullptr;
  std::size_t n_ = 0;
};

// Page-locked host memory: asynchronous copies from and to it overlap the host.
template <class T>
class PinnedBuffer {
 public:
  PinnedBuffer() = default;
  PinnedBuffer(const PinnedBuffer&) = delete;
  PinnedBuffer& operator=(const PinnedBuffer&) = delete;
  ~PinnedBuffer() {
    if (p_) cudaFreeHost(p_);
  }
  void resize(std::size_t n) {
    if (p_) LSMSS_CHECK(cudaFreeHost(p_));
    p_ = nullptr;
    n_ = n;
    if (n > 0) LSMSS_CHECK(cudaMallocHost(reinterpret_cast<void**>(&p_), n * sizeof(T)));
  }
  T* data() { return p_; }
  T& operator[](std::size_t i) { return p_[i]; }
  std::size_t size() const { return n_; }

 private:
  T* p_ = nullptr;
  std::size_t n_ = 0;
};

class Stream {
 public:
  Stream() { LSMSS_CHECK(cudaStreamCreateWithFlags(&s_, cudaStreamNonBlocking)); }
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;
  ~Stream() { cudaStreamDestroy(s_); }
  cudaStream_t get() const { return s_; }
  void synchronize() const { LSMSS_CHECK(cudaStreamSynchronize(s_)); }

 private:
  cudaStream_t s_ = nullptr;
};

class CublasHandle {
 public:
  CublasHandle() { LSMSS_CHECK(cublasCreate(&h_)); }
  CublasHandle(const CublasHandle&) = delete;
  CublasHandle& operator=(const CublasHandle&) = delete;
  ~CublasHandle() { cublasDestroy(h_); }
  cublasHandle_t get() const { return h_; }

 private:
  cublasHandle_t h_ = nullptr;
};

class Graph {
 public:
  Graph() = default;
  Graph(const Graph&) = delete;
  Graph& operator=(const Graph&) = delete;
  ~Graph() { reset(); }
  void reset() {
    if (g_) cudaGraphDestroy(g_);
    g_ = nullptr;
  }
  cudaGraph_t* out() {
    reset();
    return &g_;
  }
  cudaGraph_t get() const { return g_; }

 private:
  cudaGraph_t g_ = nullptr;
};

class GraphExec {
 public:
  GraphExec() = default;
  GraphExec(const GraphExec&) = delete;
  GraphExec& operator=(const GraphExec&) = delete;
  ~GraphExec() { reset(); }
  void reset() {
    if (e_) cudaGraphExecDestroy(e_);
    e_ = nullptr;
  }
  void instantiate(cudaGraph_t graph) {
    reset();
    LSMSS_CHECK(cudaGraphInstantiate(&e_, graph, 0));
  }
  bool ready() const { return e_ != nullptr; }
  void launch(cudaStream_t s) const { LSMSS_CHECK(cudaGraphLaunch(e_, s)); }

 private:
  cudaGraphExec_t e_ = nullptr;
};

// ---------------------------------------------------------------- kernels

using step_math::DeviceStep;

constexpr int kThreads = 256;

int blocks_for(std::size_t n) {
  return static_cast<int>(
      std::min<std::size_t>((n + kThreads - 1) / kThreads, std::size_t(65535) * 8));
}

// How a kernel is launched. block_sync: the kernel synchronizes its block (__syncthreads); the
// host emulation of the CPU tests must know it to run the block's threads side by side.
struct LaunchShape {
  const char* what;  // named in the error
  int blocks, threads;
  cudaStream_t stream;
  bool block_sync = false;
};

// kernel<<<blocks, threads, 0, stream>>>(args...), then the launch's own error (configuration),
// named. Compiled by the host compiler, the launch goes to the host emulation
// (tests/nn/cuda_emulation), which runs this file's kernels in the CPU tests.
template <class... Params, class... Args>
void launch(const LaunchShape& l, void (*kernel)(Params...), Args&&... args) {
#ifdef __CUDACC__
  kernel<<<l.blocks, l.threads, 0, l.stream>>>(std::forward<Args>(args)...);
#else
  cuda_emulation::launch(l.what, l.blocks, l.threads, l.block_sync, l.stream, kernel,
                         std::forward<Args>(args)...);
#endif
  check(cudaGetLastError(), l.what);
}

// dst (folds x rows x width) = the step's rows of every fold (step_math::gathered_value).
__global__ void gather_rows(int folds, int rows, int width, const float* src,
                            const long long* offsets, const int* order, const DeviceStep* steps,
                            float* dst) {
  const std::size_t total = std::size_t(folds) * rows * width;
  for (std::size_t i = blockIdx.x * std::size_t(blockDim.x) + threadIdx.x; i < total;
       i += std::size_t(gridDim.x) * blockDim.x) {
    dst[i] = step_math::gathered_value(i, rows, width, src, offsets, order, steps);
  }
}

// z (folds x batch_stride x out, `rows` used) = act(z + b_f); add_bias false: act(z) only
// (forward_from_first gets the pre-activations with their bias).
__global__ void bias_activation(int folds, int rows, int out, int batch_stride, Activation act,
                                const float* params, long long num_params, long long bias,
                                bool add_bias, float* z) {
  const std::size_t total = std::size_t(folds) * rows * out;
  for (std::size_t i = blockIdx.x * std::size_t(blockDim.x) + threadIdx.x; i < total;
       i += std::size_t(gridDim.x) * blockDim.x) {
    const int o = static_cast<int>(i % out);
    const int r = static_cast<int>((i / out) % rows);
    const int f = static_cast<int>(i / (std::size_t(out) * rows));
    float& v = z[(std::size_t(f) * batch_stride + r) * out + o];
    const float b = add_bias ? params[f * num_params + bias + o] : 0.0f;
    v = activate(act, v + b);
  }
}

// dy *= act'(y), through the activation's output.
__global__ void activation_backward(int folds, int rows, int out, int batch_stride, Activation act,
                                    const float* y, float* dy) {
  const std::size_t total = std::size_t(folds) * rows * out;
  for (std::size_t i = blockIdx.x * std::size_t(blockDim.x) + threadIdx.x; i < total;
       i += std::size_t(gridDim.x) * blockDim.x) {
    const int o = static_cast<int>(i % out);
    const int r = static_cast<int>((i / out) % rows);
    const int f = static_cast<int>(i / (std::size_t(out) * rows));
    const std::size_t k = (std::size_t(f) * batch_stride + r) * out + o;
    dy[k] *= activation_derivative_from_output(act, y[k]);
  }
}

// db_f[o] = sum over rows of dz_f[r][o] (double accumulation, like the oracle).
__global__ void bias_gradient(int folds, int rows, int out, int batch_stride, const float* dz,
                              float* grads, long long num_params, long long bias) {
  const int total = folds * out;
  for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < total; i += gridDim.x * blockDim.x) {
    const int o = i % out, f = i / out;
    double s = 0;
    for (int r = 0; r < rows; ++r) s += dz[(std::size_t(f) * batch_stride + r) * out + o];
    grads[f * num_params + bias + o] = static_cast<float>(s);
  }
}

// One block per fold: head h's (row-weighted) MSE over the fold's `count` rows
// (step_math::loss_element; row_weights: folds x batch_stride, nullptr for every row 1).
// Training (dy != nullptr): writes d(alpha_h * mse)/dy (zero on padded rows) and adds
// mse * count to sums[f][h] (the epoch's loss, as the host trainer sums it). Validation: adds
// the (row-weighted) squared errors.
__global__ void mse_loss(int rows, int outputs, int batch_stride, const float* y, const float* t,
                         const float* row_weights, float* dy, const DeviceStep* steps,
                         const float* alpha, int head, int heads, double* sums) {
  __shared__ double partial[kThreads];
  const int f = blockIdx.x;
  const int count = steps[f].count;
  const std::size_t base = std::size_t(f) * batch_stride * outputs;
  const float* w = row_weights ? row_weights + std::size_t(f) * batch_stride : nullptr;
  float* fold_dy = dy ? dy + base : nullptr;
  const int n = rows * outputs, used = count * outputs;
  // Validation does not weigh the heads (alpha is uploaded by the first training step).
  const float a = dy ? alpha[head] : 0.0f;
  double s = 0;
  for (int k = threadIdx.x; k < n; k += blockDim.x) {
    if (k < used)
      s += step_math::loss_element(k, outputs, count, y + base, t + base, w, a, fold_dy);
    else if (fold_dy)
      fold_dy[k] = 0.0f;
  }
  partial[threadIdx.x] = s;
  __syncthreads();
  for (unsigned half = blockDim.x / 2; half > 0; half /= 2) {
    if (threadIdx.x < half) partial[threadIdx.x] += partial[threadIdx.x + half];
    __syncthreads();
  }
  if (threadIdx.x == 0 && used > 0)
    sums[f * heads + head] += dy ? partial[0] / double(used) * count : partial[0];
}

// Adam over the fold-stacked buffers; idle folds keep their parameters and moments.
__global__ void adam_kernel(int folds, long long num_params, float* params, float* m, float* v,
                            const float* grads, const DeviceStep* steps) {
  const std::size_t total = std::size_t(folds) * num_params;
  for (std::size_t i = blockIdx.x * std::size_t(blockDim.x) + threadIdx.x; i < total;
       i += std::size_t(gridDim.x) * blockDim.x) {
    const DeviceStep& s = steps[i / num_params];
    if (s.active) adam_update(params[i], m[i], v[i], grads[i], s.adam);
  }
}

// ---------------------------------------------------------------- the engine

bool device_present(std::string* why) {
  int n = 0;
  const cudaError_t e = cudaGetDeviceCount(&n);
  if (e != cudaSuccess) {
    // No driver, an old driver or no device: all mean "not here", not a failure.
    if (why) *why = std::string(cudaGetErrorName(e)) + ": " + cudaGetErrorString(e);
    cudaGetLastError();
    return false;
  }
  if (n == 0 && why) *why = "no CUDA device";
  return n > 0;
}

// Throws the clear "no device" error (a CUDA call failing for lack of a driver would name the
// call instead).
bool require_device() {
  std::string why;
  if (!device_present(&why))
    throw_error("cuda backend: no CUDA device is visible (" + why +
                "); use backend = \"onednn\" or \"auto\"");
  return true;
}

// k models of one network: device buffers, cuBLAS handle, stream, and the step's launches.
class Engine {
 public:
  Engine() {
    LSMSS_CHECK(cublasSetStream(blas_.get(), stream_.get()));
    // A fixed workspace: cuBLAS must not allocate while a graph is being captured.
    workspace_.resize(32u << 20);
    LSMSS_CHECK(cublasSetWorkspace(blas_.get(), workspace_.data(), workspace_.size()));
  }

  // Allocates the buffers of `use` (nn/cuda/engine_buffers.hpp; those `use` does not need are
  // released) and forgets the captured step.
  void setup(const Network& net, int folds, int max_batch, Precision precision, FoldGroupUse use) {
    net_ = net;
    folds_ = folds;
    batch_ = max_batch;
    P_ = static_cast<long long>(net.num_params());
    compute_ = precision == Precision::tf32   ? CUBLAS_COMPUTE_32F_FAST_TF32
               : precision == Precision::bf16 ? CUBLAS_COMPUTE_32F_FAST_16BF
                                              : CUBLAS_COMPUTE_32F;
    graph_exec_.reset();
    graph_.reset();
    const engine_buffers::Sizes n =
        engine_buffers::sizes(net, folds, max_batch, FoldGroupUse::inference);
    params_.resize(n.params);
    x_.resize(n.input);
    act_.clear();
    for (std::size_t size : n.activation) act_.emplace_back(size);
    set_training_buffers(use);
  }

  // Allocates (training) or releases (inference) the buffers only training uses, keeping the
  // parameters and the forward pass's: a single model predicts without them until its first
  // training call, which keeps its last forward pass for the backward one.
  void set_training_buffers(FoldGroupUse use) {
    graph_exec_.reset();  // a captured step reads these buffers
    graph_.reset();
    const engine_buffers::Sizes n = engine_buffers::sizes(net_, folds_, batch_, use);
    grads_.resize(n.grads);
    m_.resize(n.first_moment);
    v_.resize(n.second_moment);
    row_weights_.resize(n.row_weights);
    alpha_.resize(n.alpha);
    diff_.clear();
    targets_.clear();
    for (std::size_t size : n.gradient) diff_.emplace_back(size);
    for (std::size_t size : n.target) targets_.emplace_back(size);
    steps_.resize(n.steps);
    host_steps_.resize(n.steps);
    for (auto& sums : sums_) sums.resize(n.sums);
    host_sums_.resize(n.sums);
    training_ = use == FoldGroupUse::training;
    if (!training_) return;
    LSMSS_CHECK(cudaMemsetAsync(m_.data(), 0, n.first_moment * sizeof(float), stream_.get()));
    LSMSS_CHECK(cudaMemsetAsync(v_.data(), 0, n.second_moment * sizeof(float), stream_.get()));
    clear_sums(kTrainingSums);
    clear_sums(kValidationSums);
  }
  bool training() const { return training_; }

  const Network& net() const { return net_; }
  int folds() const { return folds_; }
  int max_batch() const { return batch_; }
  cudaStream_t stream() const { return stream_.get(); }
  void synchronize() const { stream_.synchronize(); }

  float* params() { return params_.data(); }
  float* grads() { return grads_.data(); }
  float* first_moment() { return m_.data(); }
  float* second_moment() { return v_.data(); }
  float* input() { return x_.data(); }
  float* target(int h) { return targets_[h].data(); }
  float* row_weights() { return row_weights_.data(); }
  float* activation(int layer) { return act_[layer].data(); }
  float* gradient_of(int layer) { return diff_[layer].data(); }
  DeviceStep* host_steps() { return host_steps_.data(); }

  void copy_in(void* dst, const void* src, std::size_t bytes) {
    LSMSS_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyHostToDevice, stream_.get()));
  }
  void copy_out(void* dst, const void* src, std::size_t bytes) {
    LSMSS_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToHost, stream_.get()));
  }
  // One block of `count` floats per fold, blocks `src_stride` floats apart in src and
  // `dst_stride` apart in dst (between compact host blocks and the device's max_batch slices).
  void copy_blocks(float* dst, std::size_t dst_stride, const float* src, std::size_t src_stride,
                   std::size_t count, cudaMemcpyKind kind) {
    LSMSS_CHECK(cudaMemcpy2DAsync(dst, dst_stride * sizeof(float), src, src_stride * sizeof(float),
                                  count * sizeof(float), folds_, kind, stream_.get()));
  }
  void upload_steps() { upload_steps_from(host_steps_.data()); }
  // From page-locked memory that stays untouched until the copy has run.
  void upload_steps_from(const DeviceStep* pinned) {
    copy_in(steps_.data(), pinned, sizeof(DeviceStep) * folds_);
  }
  void upload_alpha(const float* alpha) {
    copy_in(alpha_.data(), alpha, sizeof(float) * net_.num_heads());
  }
  // Two accumulators of loss sums per fold and head: the epoch's training loss and a
  // validation pass (which may run in the middle of an epoch's accounting).
  static constexpr int kTrainingSums = 0, kValidationSums = 1;
  void clear_sums(int which) {
    LSMSS_CHECK(cudaMemsetAsync(sums_[which].data(), 0, sums_[which].size() * sizeof(double),
                                stream_.get()));
  }
  // The sums of accumulator `which` (synchronizes).
  const double* download_sums(int which) {
    copy_out(host_sums_.data(), sums_[which].data(), sums_[which].size() * sizeof(double));
    synchronize();
    return host_sums_.data();
  }

  // Inputs, targets and (w not nullptr) row weights of the step from a row set on the device
  // (see gather_rows).
  void gather(const float* x, const std::vector<const float*>& t, const float* w,
              const long long* offsets, const int* order) {
    const int B = batch_;
    launch({"gather_rows (inputs)", blocks_for(std::size_t(folds_) * B * net_.inputs()), kThreads,
            stream()},
           gather_rows, folds_, B, net_.inputs(), x, offsets, order, steps_.data(), x_.data());
    if (w)
      launch({"gather_rows (row weights)", blocks_for(std::size_t(folds_) * B), kThreads, stream()},
             gather_rows, folds_, B, 1, w, offsets, order, steps_.data(), row_weights_.data());
    for (int h = 0; h < net_.num_heads(); ++h) {
      const int O = net_.spec().heads[h].outputs;
      launch({"gather_rows (targets)", blocks_for(std::size_t(folds_) * B * O), kThreads, stream()},
             gather_rows, folds_, B, O, t[h], offsets, order, steps_.data(), targets_[h].data());
    }
  }

  // Forward pass of `rows` rows of every fold (input(): folds x max_batch x inputs; with
  // from_first, activation(0) holds the first layer's pre-activations).
  void forward(int rows, bool from_first) {
    const auto& L = net_.layers();
    for (std::size_t l = 0; l < L.size(); ++l) {
      const Layer& ly = L[l];
      const bool given = l == 0 && from_first;
      if (!given) run(gemm_plan::forward(net_, static_cast<int>(l), rows, batch_, P_));
      launch(
          {"bias_activation", blocks_for(std::size_t(folds_) * rows * ly.out), kThreads, stream()},
          bias_activation, folds_, rows, ly.out, batch_, ly.act, params_.data(), P_,
          static_cast<long long>(ly.b), !given, act_[l].data());
    }
  }

  // Training loss (dy into the output layers' gradients, sums += mse * count) or validation
  // loss (sums += squared errors) of the last forward pass against target(); weighted: rows
  // weighted by row_weights() (gathered or copied there), else every row 1.
  void loss(int rows, bool training, bool weighted) {
    double* sums = sums_[training ? kTrainingSums : kValidationSums].data();
    for (int h = 0; h < net_.num_heads(); ++h) {
      const int l = net_.output_layer(h);
      launch({"mse_loss", folds_, kThreads, stream(), /*block_sync=*/true}, mse_loss, rows,
             net_.spec().heads[h].outputs, batch_, act_[l].data(), targets_[h].data(),
             weighted ? row_weights_.data() : nullptr, training ? diff_[l].data() : nullptr,
             steps_.data(), alpha_.data(), h, net_.num_heads(), sums);
    }
  }

  // grads() = d(loss)/d(params) from the output layers' gradients.
  void backward(int rows) {
    const auto& L = net_.layers();
    const auto input_gradients = gemm_plan::input_gradients(net_, rows, batch_, P_);
    std::size_t next = 0;
    for (int l = static_cast<int>(L.size()) - 1; l >= 0; --l) {
      const Layer& ly = L[l];
      if (ly.act != Activation::linear) {
        launch({"activation_backward", blocks_for(std::size_t(folds_) * rows * ly.out), kThreads,
                stream()},
               activation_backward, folds_, rows, ly.out, batch_, ly.act, act_[l].data(),
               diff_[l].data());
      }
      run(gemm_plan::weight_gradient(net_, l, rows, batch_, P_));
      launch({"bias_gradient", blocks_for(std::size_t(folds_) * ly.out), kThreads, stream()},
             bias_gradient, folds_, rows, ly.out, batch_, diff_[l].data(), grads_.data(), P_,
             static_cast<long long>(ly.b));
      if (next < input_gradients.size() && input_gradients[next].first == l)
        run(input_gradients[next++].second);
    }
  }

  void adam() {
    launch({"adam_kernel", blocks_for(std::size_t(folds_) * P_), kThreads, stream()}, adam_kernel,
           folds_, P_, params_.data(), m_.data(), v_.data(), grads_.data(), steps_.data());
  }

  // The training step of the fold group, captured into a graph and replayed. The graph holds
  // the device addresses its kernels were launched with: the engine's own buffers (reallocated
  // only by setup(), which drops the graph) and the row sets the step reads, `inputs` (the
  // group's training rows, targets, row weights or nullptr, offsets and row order). Those are
  // reallocated when the training rows are set again, so the graph is captured again whenever
  // `inputs` differ from the ones it was captured with: replaying it would read freed memory.
  // (Equal addresses are safe: the kernels' launch parameters do not depend on how many rows
  // the sets hold; the offsets and orders they read are on the device.)
  template <class Record>
  void replay(const std::vector<const void*>& inputs, Record record) {
    if (!graph_exec_.ready() || inputs != graph_inputs_) {
      graph_exec_.reset();
      LSMSS_CHECK(cudaStreamBeginCapture(stream(), cudaStreamCaptureModeThreadLocal));
      try {
        record();
      } catch (...) {
        cudaGraph_t broken = nullptr;
        cudaStreamEndCapture(stream(), &broken);
        if (broken) cudaGraphDestroy(broken);
        throw;
      }
      LSMSS_CHECK(cudaStreamEndCapture(stream(), graph_.out()));
      graph_exec_.instantiate(graph_.get());
      graph_inputs_ = inputs;
    }
    graph_exec_.launch(stream());
  }

 private:
  float* resolve(const gemm_plan::Operand& o) {
    using gemm_plan::Buffer;
    float* base = o.buffer == Buffer::params       ? params_.data()
                  : o.buffer == Buffer::grads      ? grads_.data()
                  : o.buffer == Buffer::input      ? x_.data()
                  : o.buffer == Buffer::activation ? act_[o.layer].data()
                                                   : diff_[o.layer].data();
    return base + o.offset;
  }

  // One call of the plan as one strided-batched GEMM over the folds.
  void run(const gemm_plan::GemmCall& g) {
    auto op = [](gemm_plan::Op o) {
      return o == gemm_plan::Op::transpose ? CUBLAS_OP_T : CUBLAS_OP_N;
    };
    const float one = 1.0f;
    LSMSS_CHECK(cublasGemmStridedBatchedEx(
        blas_.get(), op(g.a_op), op(g.b_op), g.m, g.n, g.k, &one, resolve(g.a), CUDA_R_32F, g.a.ld,
        g.a.stride, resolve(g.b), CUDA_R_32F, g.b.ld, g.b.stride, &g.beta, resolve(g.c), CUDA_R_32F,
        g.c.ld, g.c.stride, folds_, compute_, CUBLAS_GEMM_DEFAULT));
  }

  // First: the stream and the cuBLAS handle below need a device.
  bool device_ = require_device();
  Stream stream_;
  CublasHandle blas_;
  DeviceBuffer<unsigned char> workspace_;
  Network net_;
  int folds_ = 0, batch_ = 0;
  long long P_ = 0;
  cublasComputeType_t compute_ = CUBLAS_COMPUTE_32F;
  bool training_ = false;
  DeviceBuffer<float> params_, grads_, m_, v_, x_, alpha_, row_weights_;
  std::vector<DeviceBuffer<float>> act_, diff_, targets_;
  DeviceBuffer<DeviceStep> steps_;
  PinnedBuffer<DeviceStep> host_steps_;
  DeviceBuffer<double> sums_[2];
  PinnedBuffer<double> host_sums_;
  Graph graph_;
  GraphExec graph_exec_;
  std::vector<const void*> graph_inputs_;  // what the captured step reads besides the engine's
};

// ---------------------------------------------------------------- single model (Backend)

class CudaBackend final : public Backend {
 public:
  std::string name() const override { return "cuda"; }

  void set_precision(Precision precision) override { precision_ = precision; }

  // Forward passes only until the first training call (training_buffers()).
  void setup(const Network& net, int max_batch) override {
    Backend::setup(net, max_batch);
    engine_.setup(net, 1, max_batch, precision_, FoldGroupUse::inference);
    outputs_.assign(net.num_heads(), {});
    dy_.assign(net.num_heads(), {});
    for (int h = 0; h < net.num_heads(); ++h) {
      outputs_[h].assign(std::size_t(max_batch) * net.spec().heads[h].outputs, 0.0f);
      dy_[h].assign(outputs_[h].size(), 0.0f);
    }
    upload_params();
  }

  void upload_params() override {
    engine_.copy_in(engine_.params(), params_.data(), params_.size() * sizeof(float));
    engine_.synchronize();
  }
  void download_params() override {
    engine_.copy_out(params_.data(), engine_.params(), params_.size() * sizeof(float));
    engine_.synchronize();
  }

  void forward(const float* x, int batch) override {
    check_batch(batch);
    engine_.copy_in(engine_.input(), x, sizeof(float) * batch * net_.inputs());
    engine_.forward(batch, false);
    fetch_outputs(batch);
  }

  void forward_from_first(const float* z1, int batch) override {
    check_batch(batch);
    engine_.copy_in(engine_.activation(0), z1, sizeof(float) * batch * net_.layers()[0].out);
    engine_.forward(batch, true);
    fetch_outputs(batch);
  }

  const float* output(int head) const override { return outputs_[head].data(); }
  float* output_gradient(int head) override { return dy_[head].data(); }

  // The loss on the device, rows weighted by row_weights (training.outlier_weight) when given;
  // the output gradients are copied back so that output_gradient() shows what backward() will
  // propagate. Other losses run the host policy on the fetched outputs.
  void apply_loss(const Loss& loss, const float* const* targets, int batch, const float* alpha,
                  double* loss_out, const float* row_weights) override {
    if (loss.name() != "mse") {  // the device runs the MSE only
      Backend::apply_loss(loss, targets, batch, alpha, loss_out, row_weights);
      return;
    }
    training_buffers();
    DeviceStep& s = engine_.host_steps()[0];
    s = DeviceStep{};
    s.count = batch;
    engine_.upload_steps();
    engine_.upload_alpha(alpha);
    for (int h = 0; h < net_.num_heads(); ++h)
      engine_.copy_in(engine_.target(h), targets[h],
                      sizeof(float) * batch * net_.spec().heads[h].outputs);
    if (row_weights) engine_.copy_in(engine_.row_weights(), row_weights, sizeof(float) * batch);
    engine_.clear_sums(Engine::kTrainingSums);
    engine_.loss(batch, true, row_weights != nullptr);
    for (int h = 0; h < net_.num_heads(); ++h)
      engine_.copy_out(dy_[h].data(), engine_.gradient_of(net_.output_layer(h)),
                       sizeof(float) * batch * net_.spec().heads[h].outputs);
    const double* sums = engine_.download_sums(Engine::kTrainingSums);
    // sums = mse * count: back to the batch's mse.
    for (int h = 0; h < net_.num_heads(); ++h) loss_out[h] = sums[h] / batch;
  }

  void backward(const float* /*x: kept on the device since forward()*/, int batch) override {
    check_batch(batch);
    training_buffers();
    for (int h = 0; h < net_.num_heads(); ++h)
      engine_.copy_in(engine_.gradient_of(net_.output_layer(h)), dy_[h].data(),
                      sizeof(float) * batch * net_.spec().heads[h].outputs);
    engine_.backward(batch);
    engine_.copy_out(grads_.data(), engine_.grads(), grads_.size() * sizeof(float));
    engine_.synchronize();
  }

  // Adam on the device with the caller's moments (copied there and back: the optimizer object
  // owns its state); other optimizers run on the host.
  void apply_optimizer(Optimizer& optimizer, long t) override {
    auto* adam = dynamic_cast<Adam*>(&optimizer);
    if (!adam || adam->first_moment().size() != params_.size()) {
      Backend::apply_optimizer(optimizer, t);
      upload_params();
      return;
    }
    const std::size_t bytes = params_.size() * sizeof(float);
    training_buffers();
    DeviceStep& s = engine_.host_steps()[0];
    s = DeviceStep{};
    s.active = 1;
    s.adam = AdamStep::at(adam->settings(), t);
    engine_.upload_steps();
    engine_.copy_in(engine_.first_moment(), adam->first_moment().data(), bytes);
    engine_.copy_in(engine_.second_moment(), adam->second_moment().data(), bytes);
    engine_.adam();
    engine_.copy_out(adam->first_moment().data(), engine_.first_moment(), bytes);
    engine_.copy_out(adam->second_moment().data(), engine_.second_moment(), bytes);
    download_params();
  }

 private:
  void check_batch(int batch) const {
    if (batch < 1 || batch > max_batch_)
      throw_error("cuda backend: batch " + std::to_string(batch) + " outside 1.." +
                  std::to_string(max_batch_));
  }
  // The training buffers, allocated at the first training call.
  void training_buffers() {
    if (!engine_.training()) engine_.set_training_buffers(FoldGroupUse::training);
  }
  void fetch_outputs(int batch) {
    for (int h = 0; h < net_.num_heads(); ++h)
      engine_.copy_out(outputs_[h].data(), engine_.activation(net_.output_layer(h)),
                       sizeof(float) * batch * net_.spec().heads[h].outputs);
    engine_.synchronize();
  }

  Precision precision_ = Precision::fp32;
  Engine engine_;
  std::vector<std::vector<float>> outputs_, dy_;
};

// ---------------------------------------------------------------- all folds at once

class CudaFoldGroup final : public FoldGroup {
 public:
  std::string name() const override { return "cuda"; }

  std::span<float> params(int fold) override {
    const std::size_t P = engine_.net().num_params();
    return {host_params_.data() + fold * P, P};
  }
  void upload_params() override {
    engine_.copy_in(engine_.params(), host_params_.data(), host_params_.size() * sizeof(float));
    engine_.synchronize();
    validation_loss_.clear();  // of the parameters before
  }
  void download_params() override {
    engine_.copy_out(host_params_.data(), engine_.params(), host_params_.size() * sizeof(float));
    engine_.synchronize();
  }

  void forward(const float* x, int rows) override { forward_rows(x, rows, false); }
  void forward_from_first(const float* z1, int rows) override { forward_rows(z1, rows, true); }
  const float* output(int fold, int head) const override {
    return outputs_[head].data() +
           std::size_t(fold) * rows_ * engine_.net().spec().heads[head].outputs;
  }

 private:
  void do_setup(const Network& net, int folds, int max_batch, Precision precision,
                FoldGroupUse use) override {
    engine_.setup(net, folds, max_batch, precision, use);
    host_params_.assign(std::size_t(folds) * net.num_params(), 0.0f);
    train_.assign(folds, nullptr);
    validation_.assign(folds, nullptr);
    validation_loss_.clear();
    // Row sets of an earlier training setup are released: they are sized for its folds.
    train_data_ = DeviceRows{};
    validation_data_ = DeviceRows{};
    order_.resize(0);
    host_order_.resize(0);
    uploaded_ = validation_uploaded_ = false;
    alpha_.clear();
    const bool training = use == FoldGroupUse::training;
    ring_.resize(training ? std::size_t(kRing) * folds : 0);
    ring_events_ = std::vector<Event>(training ? kRing : 0);
    ring_used_.assign(training ? kRing : 0, false);
    ring_next_ = 0;
    upload_params();  // zeros, as every group starts (device memory starts as garbage)
  }

  // Uploaded (all folds' sets again) at the next start_epoch; the next step then captures its
  // graph again (Engine::replay).
  void do_set_training_rows(int fold, const EncodedRows& rows) override {
    train_.at(fold) = &rows;
    uploaded_ = false;
  }

  void do_start_epoch(std::span<const std::vector<std::size_t>> orders, double lr) override {
    if (!uploaded_) upload(train_, train_data_);
    // The previous epoch's steps are done (take_epoch_loss synchronized), so the pinned order
    // buffer may be rewritten.
    for (int f = 0; f < engine_.folds(); ++f)
      for (std::size_t r = 0; r < orders[f].size(); ++r)
        host_order_[train_data_.host_offsets[f] + r] = static_cast<int>(orders[f][r]);
    engine_.copy_in(order_.data(), host_order_.data(), host_order_.size() * sizeof(int));
    lr_ = lr;
  }

  void do_step(const FoldBatch* batches, const float* alpha) override {
    // The loss weights per head go up when they change (the captured step reads the device
    // copy, an engine buffer, so the graph stays valid).
    const int heads = engine_.net().num_heads();
    if (alpha_.empty() || !std::equal(alpha, alpha + heads, alpha_.begin())) {
      alpha_.assign(alpha, alpha + heads);
      engine_.upload_alpha(alpha_.data());
    }
    AdamSettings settings;
    settings.lr = static_cast<float>(lr_);
    // A ring of pinned step records: the host runs up to kRing steps ahead of the device and
    // waits only when it would overwrite a record whose copy has not run yet.
    const int k = engine_.folds();
    const int slot = static_cast<int>(ring_next_++ % kRing);
    if (ring_used_[slot]) LSMSS_CHECK(cudaEventSynchronize(ring_events_[slot].get()));
    DeviceStep* s = ring_.data() + std::size_t(slot) * k;
    for (int f = 0; f < k; ++f) {
      s[f] = DeviceStep{};
      s[f].first = batches[f].first;
      s[f].count = batches[f].count;
      s[f].active = batches[f].count > 0;
      if (s[f].active) s[f].adam = AdamStep::at(settings, batches[f].adam_step);
    }
    engine_.upload_steps_from(s);
    LSMSS_CHECK(cudaEventRecord(ring_events_[slot].get(), engine_.stream()));
    ring_used_[slot] = true;
    const int B = engine_.max_batch();
    engine_.replay(step_inputs(), [&] {
      engine_.gather(train_data_.x.data(), train_data_.target_pointers(), train_data_.weights(),
                     train_data_.offsets.data(), order_.data());
      engine_.forward(B, false);
      engine_.loss(B, true, train_data_.weighted);
      engine_.backward(B);
      engine_.adam();
    });
    validation_loss_.clear();
  }

  void do_take_epoch_loss(std::vector<double>& out) override {
    const double* sums = engine_.download_sums(Engine::kTrainingSums);
    out.assign(sums, sums + std::size_t(engine_.folds()) * engine_.net().num_heads());
    engine_.clear_sums(Engine::kTrainingSums);
  }

  void do_set_validation_rows(int fold, const EncodedRows& rows) override {
    validation_.at(fold) = &rows;
    validation_uploaded_ = false;
    validation_loss_.clear();
  }

  // All folds' validation losses in one pass over the device copies of their sets (given by
  // set_validation_rows); the first call after a step computes them, the others read them.
  void do_set_loss(int fold, const EncodedRows& set, int /*chunk*/,
                   std::vector<double>& out) override {
    const int k = engine_.folds(), H = engine_.net().num_heads();
    if (validation_.at(fold) != &set) do_set_validation_rows(fold, set);
    out.assign(H, 0.0);
    if (set.rows == 0) {
      std::fill(out.begin(), out.end(), std::numeric_limits<double>::quiet_NaN());
      return;
    }
    if (validation_loss_.empty()) {
      if (!validation_uploaded_) {
        upload(validation_, validation_data_);
        validation_uploaded_ = true;
      }
      engine_.clear_sums(Engine::kValidationSums);
      const int B = engine_.max_batch();
      long long longest = 0;
      for (int f = 0; f < k; ++f) longest = std::max(longest, validation_data_.rows[f]);
      DeviceStep* s = engine_.host_steps();
      for (long long first = 0; first < longest; first += B) {
        for (int f = 0; f < k; ++f) {
          s[f] = DeviceStep{};
          s[f].first = first;
          s[f].count =
              static_cast<int>(std::clamp<long long>(validation_data_.rows[f] - first, 0, B));
        }
        engine_.upload_steps();
        engine_.synchronize();  // the step records are rewritten next round
        engine_.gather(validation_data_.x.data(), validation_data_.target_pointers(),
                       validation_data_.weights(), validation_data_.offsets.data(), nullptr);
        engine_.forward(B, false);
        engine_.loss(B, false, validation_data_.weighted);
      }
      const double* totals = engine_.download_sums(Engine::kValidationSums);
      validation_loss_.assign(totals, totals + std::size_t(k) * H);
      for (int f = 0; f < k; ++f)
        for (int h = 0; h < H; ++h)
          validation_loss_[f * H + h] /= double(std::max<long long>(validation_data_.rows[f], 1)) *
                                         engine_.net().spec().heads[h].outputs;
    }
    for (int h = 0; h < H; ++h) out[h] = validation_loss_[fold * H + h];
  }

  class Event {
   public:
    Event() { LSMSS_CHECK(cudaEventCreateWithFlags(&e_, cudaEventDisableTiming)); }
    Event(const Event&) = delete;
    Event& operator=(const Event&) = delete;
    ~Event() { cudaEventDestroy(e_); }
    cudaEvent_t get() const { return e_; }

   private:
    cudaEvent_t e_ = nullptr;
  };

  // All folds' forward pass from their compact blocks (folds x rows x width) into the device's
  // slices (stride max_batch rows), the outputs back into compact blocks: one strided copy
  // each way per buffer, one strided-batched product per layer.
  void forward_rows(const float* in, int rows, bool from_first) {
    const int B = engine_.max_batch();
    if (rows < 1 || rows > B)
      throw_error("cuda fold group: forward of " + std::to_string(rows) + " rows outside 1.." +
                  std::to_string(B));
    const Network& net = engine_.net();
    const std::size_t width = from_first ? net.layers()[0].out : net.inputs();
    engine_.copy_blocks(from_first ? engine_.activation(0) : engine_.input(), B * width, in,
                        rows * width, rows * width, cudaMemcpyHostToDevice);
    engine_.forward(rows, from_first);
    outputs_.resize(net.num_heads());
    for (int h = 0; h < net.num_heads(); ++h) {
      const std::size_t O = net.spec().heads[h].outputs;
      outputs_[h].resize(std::size_t(engine_.folds()) * B * O);
      engine_.copy_blocks(outputs_[h].data(), rows * O, engine_.activation(net.output_layer(h)),
                          B * O, rows * O, cudaMemcpyDeviceToHost);
    }
    engine_.synchronize();
    rows_ = rows;
  }

  // Row sets of every fold, concatenated on the device, with their loss weights where some set
  // carries weights (the others' rows weigh 1 there; 1 * x is exact, so such a fold trains as
  // without weights).
  struct DeviceRows {
    DeviceBuffer<float> x, w;
    std::vector<DeviceBuffer<float>> t;
    std::vector<const float*> t_pointers;
    DeviceBuffer<long long> offsets;
    std::vector<long long> host_offsets, rows;
    bool weighted = false;
    const float* weights() const { return weighted ? w.data() : nullptr; }
    const std::vector<const float*>& target_pointers() {
      t_pointers.clear();
      for (auto& b : t) t_pointers.push_back(b.data());
      return t_pointers;
    }
  };

  void upload(const std::vector<const EncodedRows*>& sets, DeviceRows& d) {
    const Network& net = engine_.net();
    const int k = engine_.folds(), F = net.inputs();
    d.host_offsets.assign(k, 0);
    d.rows.assign(k, 0);
    long long total = 0;
    for (int f = 0; f < k; ++f) {
      d.host_offsets[f] = total;
      d.rows[f] = sets[f] ? static_cast<long long>(sets[f]->rows) : 0;
      total += d.rows[f];
    }
    d.x.resize(std::max<long long>(total, 1) * F);
    d.t.clear();
    for (int h = 0; h < net.num_heads(); ++h)
      d.t.emplace_back(std::max<long long>(total, 1) * net.spec().heads[h].outputs);
    for (int f = 0; f < k; ++f) {
      if (!sets[f] || sets[f]->rows == 0) continue;
      engine_.copy_in(d.x.data() + d.host_offsets[f] * F, sets[f]->inputs.data(),
                      sets[f]->inputs.size() * sizeof(float));
      for (int h = 0; h < net.num_heads(); ++h)
        engine_.copy_in(d.t[h].data() + d.host_offsets[f] * net.spec().heads[h].outputs,
                        sets[f]->targets[h].data(), sets[f]->targets[h].size() * sizeof(float));
    }
    upload_weights(sets, d, total);
    d.offsets.resize(k);
    engine_.copy_in(d.offsets.data(), d.host_offsets.data(), k * sizeof(long long));
    if (&d == &train_data_) {
      order_.resize(std::max<long long>(total, 1));
      host_order_.resize(std::max<long long>(total, 1));
      uploaded_ = true;
    }
    engine_.synchronize();  // the host sets may change after this call
  }

  // Per-row loss weights of every set (1 for a set without weights), where some set has them.
  void upload_weights(const std::vector<const EncodedRows*>& sets, DeviceRows& d, long long total) {
    d.weighted = std::any_of(sets.begin(), sets.end(),
                             [](const EncodedRows* s) { return s && !s->weights.empty(); });
    if (!d.weighted) return;
    std::vector<float> all(static_cast<std::size_t>(total), 1.0f);
    for (std::size_t f = 0; f < sets.size(); ++f)
      if (sets[f] && !sets[f]->weights.empty())
        std::copy(sets[f]->weights.begin(), sets[f]->weights.end(),
                  all.begin() + d.host_offsets[f]);
    d.w.resize(std::max<long long>(total, 1));
    engine_.copy_in(d.w.data(), all.data(), all.size() * sizeof(float));
    engine_.synchronize();  // `all` goes out of scope
  }

  // The device addresses the captured training step reads outside the engine (see
  // Engine::replay): uploading the training rows again reallocates them.
  std::vector<const void*> step_inputs() {
    std::vector<const void*> in = {train_data_.x.data(), train_data_.weights(),
                                   train_data_.offsets.data(), order_.data()};
    for (const float* t : train_data_.target_pointers()) in.push_back(t);
    return in;
  }

  Engine engine_;
  std::vector<float> host_params_;
  std::vector<const EncodedRows*> train_, validation_;
  DeviceRows train_data_, validation_data_;
  DeviceBuffer<int> order_;
  PinnedBuffer<int> host_order_;
  std::vector<double> validation_loss_;
  std::vector<std::vector<float>> outputs_;  // per head: folds x rows_ x outputs (inference)
  int rows_ = 0;
  static constexpr int kRing = 64;
  PinnedBuffer<DeviceStep> ring_;
  std::vector<Event> ring_events_;
  std::vector<bool> ring_used_;
  unsigned long long ring_next_ = 0;
  double lr_ = 1e-4;
  std::vector<float> alpha_;  // the loss weights per head on the device
  bool uploaded_ = false, validation_uploaded_ = false;
};

}  // namespace

// ---------------------------------------------------------------- entry points

namespace {

bool cuda_device_present() {
  return device_present(nullptr);
}

std::string cuda_device_description() {
  std::string why;
  if (!device_present(&why)) return "no device visible (" + why + ")";
  int n = 0, device = 0;
  cudaGetDeviceCount(&n);
  cudaGetDevice(&device);
  cudaDeviceProp p{};
  if (cudaGetDeviceProperties(&p, device) != cudaSuccess) {
    cudaGetLastError();
    return std::to_string(n) + " device(s) visible";
  }
  return std::to_string(n) + " device(s) visible, using " + p.name + " (sm_" +
         std::to_string(p.major) + std::to_string(p.minor) + ", " +
         std::to_string(p.totalGlobalMem >> 30) + " GiB)";
}

}  // namespace

CudaEntryPoints cuda_entry_points() {
  CudaEntryPoints e;
  e.make_backend = [] { return std::unique_ptr<Backend>(std::make_unique<CudaBackend>()); };
  e.make_fold_group = [] { return std::unique_ptr<FoldGroup>(std::make_unique<CudaFoldGroup>()); };
  e.device_present = cuda_device_present;
  e.status = [] {
    return std::string("compiled for ") + LSMSS_CUDA_ARCHITECTURES_TEXT + "; " +
           cuda_device_description();
  };
  return e;
}

}  // namespace lsmss::nn
