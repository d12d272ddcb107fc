// The CUDA host emulation itself: it must be at least as strict as a device where the cuda
// backend could go wrong (late work, uninitialized memory, host pointers, freed buffers under a
// graph, capture rules, cuBLAS operands), or the emulated GPU tests prove little. Each check
// provokes the fault on purpose; and the emulated backend must release all it allocated and
// report a machine without a device as the real one does.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include <cublas_v2.h>
#include <cuda_runtime.h>

#include "../synthetic.hpp"
#include "core/error.hpp"
#include "emulation_control.hpp"
#include "nn/core/backend.hpp"
#include "nn/core/fold_group.hpp"
#include "nn/core/loss.hpp"
#include "nn/core/multi_fold.hpp"

namespace {

__global__ void add_one(int n, float* x) {
  for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x)
    x[i] += 1.0f;
}

// sum[0] = the sum of x[0, blockDim.x) by a shared-memory tree (blockDim.x a power of two).
__global__ void block_sum(const float* x, float* sum) {
  __shared__ float partial[64];
  partial[threadIdx.x] = x[threadIdx.x];
  __syncthreads();
  for (unsigned w = blockDim.x / 2; w > 0; w /= 2) {
    if (threadIdx.x < w) partial[threadIdx.x] += partial[threadIdx.x + w];
    __syncthreads();
  }
  if (threadIdx.x == 0) sum[0] = partial[0];
}

// A stream, device and page-locked buffers of n floats, released at the end; a fault provoked by
// the test is cleared first.
class Emulated : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking), cudaSuccess);
  }
  void TearDown() override {
    cuda_emulation::clear_fault();
    for (void* p : device_) cudaFree(p);
    for (void* p : pinned_) cudaFreeHost(p);
    cudaStreamDestroy(stream_);
  }
  float* device_floats(std::size_t n) {
    void* p = nullptr;
    EXPECT_EQ(cudaMalloc(&p, n * sizeof(float)), cudaSuccess);
    device_.push_back(p);
    return static_cast<float*>(p);
  }
  float* pinned_floats(std::size_t n) {
    void* p = nullptr;
    EXPECT_EQ(cudaMallocHost(&p, n * sizeof(float)), cudaSuccess);
    pinned_.push_back(p);
    return static_cast<float*>(p);
  }
  cudaStream_t stream_ = nullptr;
  std::vector<void*> device_, pinned_;
};

TEST_F(Emulated, WorkRunsAtTheSynchronizationAndPinnedSourcesAreReadThen) {
  float* d = device_floats(2);
  float* pinned = pinned_floats(1);
  float* out = pinned_floats(2);
  std::vector<float> pageable = {10.0f};
  pinned[0] = 1.0f;
  ASSERT_EQ(cudaMemcpyAsync(d, pinned, 4, cudaMemcpyHostToDevice, stream_), cudaSuccess);
  ASSERT_EQ(cudaMemcpyAsync(d + 1, pageable.data(), 4, cudaMemcpyHostToDevice, stream_),
            cudaSuccess);
  pinned[0] = 2.0f;     // before the copy ran: the device gets 2
  pageable[0] = 20.0f;  // staged at the call: the device keeps 10
  ASSERT_EQ(cudaMemcpyAsync(out, d, 8, cudaMemcpyDeviceToHost, stream_), cudaSuccess);
  EXPECT_TRUE(std::isnan(out[0])) << "page-locked memory starts as NaN; the copy has not run";
  ASSERT_EQ(cudaStreamSynchronize(stream_), cudaSuccess);
  EXPECT_EQ(out[0], 2.0f);
  EXPECT_EQ(out[1], 10.0f);
}

TEST_F(Emulated, FreshDeviceMemoryReadsAsNaN) {
  float* d = device_floats(3);
  float* out = pinned_floats(3);
  ASSERT_EQ(cudaMemsetAsync(d, 0, 4, stream_), cudaSuccess);
  ASSERT_EQ(cudaMemcpyAsync(out, d, 12, cudaMemcpyDeviceToHost, stream_), cudaSuccess);
  ASSERT_EQ(cudaStreamSynchronize(stream_), cudaSuccess);
  EXPECT_EQ(out[0], 0.0f);
  EXPECT_TRUE(std::isnan(out[1]));
  EXPECT_TRUE(std::isnan(out[2]));
}

TEST_F(Emulated, AKernelGivenHostMemoryFaultsTheDevice) {
  std::vector<float> host(8, 0.0f);
  cuda_emulation::launch("add_one", 1, 8, false, stream_, add_one, 8, host.data());
  EXPECT_EQ(cudaGetLastError(), cudaSuccess);  // the launch itself is fine
  EXPECT_EQ(cudaStreamSynchronize(stream_), cudaErrorIllegalAddress);
  EXPECT_NE(cuda_emulation::fault().find("kernel 'add_one': argument 2"), std::string::npos)
      << cuda_emulation::fault();
  EXPECT_EQ(host[0], 0.0f);
  void* p = nullptr;
  EXPECT_EQ(cudaMalloc(&p, 4), cudaErrorIllegalAddress) << "a faulted device stays faulted";
  EXPECT_NE(std::string(cudaGetErrorString(cudaErrorIllegalAddress)).find("add_one"),
            std::string::npos);
}

TEST_F(Emulated, AnInvalidLaunchShapeIsTheLaunchsError) {
  float* d = device_floats(1);
  cuda_emulation::launch("add_one", 1, 2048, false, stream_, add_one, 1, d);
  EXPECT_EQ(cudaGetLastError(), cudaErrorInvalidConfiguration);
  EXPECT_EQ(cudaGetLastError(), cudaSuccess);
}

TEST_F(Emulated, BlockSynchronizingKernelsRunTheirThreadsTogether) {
  float* x = device_floats(64);
  float* sum = device_floats(1);
  float* host = pinned_floats(64);
  for (int i = 0; i < 64; ++i) host[i] = static_cast<float>(i);
  cudaMemcpyAsync(x, host, 64 * sizeof(float), cudaMemcpyHostToDevice, stream_);
  cuda_emulation::launch("block_sum", 1, 64, true, stream_, block_sum, x, sum);
  cudaMemcpyAsync(host, sum, sizeof(float), cudaMemcpyDeviceToHost, stream_);
  ASSERT_EQ(cudaStreamSynchronize(stream_), cudaSuccess);
  EXPECT_EQ(host[0], 63.0f * 64.0f / 2.0f);
  // The same kernel launched as if its threads were independent: a fault, not a wrong sum.
  cuda_emulation::launch("block_sum", 1, 64, false, stream_, block_sum, x, sum);
  EXPECT_EQ(cudaStreamSynchronize(stream_), cudaErrorLaunchFailure);
  EXPECT_NE(cuda_emulation::fault().find("launched without block_sync"), std::string::npos)
      << cuda_emulation::fault();
}

TEST_F(Emulated, CaptureRecordsAndItsGraphRunsAtEachLaunch) {
  float* d = device_floats(4);
  float* out = pinned_floats(4);
  ASSERT_EQ(cudaMemsetAsync(d, 0, 16, stream_), cudaSuccess);
  ASSERT_EQ(cudaStreamBeginCapture(stream_, cudaStreamCaptureModeThreadLocal), cudaSuccess);
  cuda_emulation::launch("add_one", 2, 2, false, stream_, add_one, 4, d);
  cudaGraph_t graph = nullptr;
  ASSERT_EQ(cudaStreamEndCapture(stream_, &graph), cudaSuccess);
  cudaGraphExec_t exec = nullptr;
  ASSERT_EQ(cudaGraphInstantiate(&exec, graph, 0), cudaSuccess);
  cudaMemcpyAsync(out, d, 16, cudaMemcpyDeviceToHost, stream_);
  ASSERT_EQ(cudaStreamSynchronize(stream_), cudaSuccess);
  EXPECT_EQ(out[3], 0.0f) << "capturing must not run the kernel";
  ASSERT_EQ(cudaGraphLaunch(exec, stream_), cudaSuccess);
  ASSERT_EQ(cudaGraphLaunch(exec, stream_), cudaSuccess);
  cudaMemcpyAsync(out, d, 16, cudaMemcpyDeviceToHost, stream_);
  ASSERT_EQ(cudaStreamSynchronize(stream_), cudaSuccess);
  EXPECT_EQ(out[0], 2.0f);
  EXPECT_EQ(out[3], 2.0f);
  cudaGraphExecDestroy(exec);
  cudaGraphDestroy(graph);
}

TEST_F(Emulated, SynchronizingOrPageableCopiesDuringCaptureInvalidateIt) {
  float* d = device_floats(1);
  std::vector<float> pageable(1, 1.0f);
  for (int call = 0; call < 3; ++call) {
    SCOPED_TRACE(call);
    ASSERT_EQ(cudaStreamBeginCapture(stream_, cudaStreamCaptureModeThreadLocal), cudaSuccess);
    void* p = nullptr;
    const cudaError_t e =
        call == 0   ? cudaStreamSynchronize(stream_)
        : call == 1 ? cudaMemcpyAsync(d, pageable.data(), 4, cudaMemcpyHostToDevice, stream_)
                    : cudaMalloc(&p, 16);
    EXPECT_EQ(e, cudaErrorStreamCaptureUnsupported);
    cudaGraph_t graph = nullptr;
    EXPECT_EQ(cudaStreamEndCapture(stream_, &graph), cudaErrorStreamCaptureInvalidated);
    EXPECT_EQ(graph, nullptr);
    EXPECT_EQ(cudaGetLastError(), cudaErrorStreamCaptureInvalidated);
  }
}

TEST_F(Emulated, AGraphReplayedOverAFreedBufferFaults) {
  void* p = nullptr;
  ASSERT_EQ(cudaMalloc(&p, 16), cudaSuccess);
  ASSERT_EQ(cudaStreamBeginCapture(stream_, cudaStreamCaptureModeThreadLocal), cudaSuccess);
  cuda_emulation::launch("add_one", 1, 4, false, stream_, add_one, 4, static_cast<float*>(p));
  cudaGraph_t graph = nullptr;
  ASSERT_EQ(cudaStreamEndCapture(stream_, &graph), cudaSuccess);
  cudaGraphExec_t exec = nullptr;
  ASSERT_EQ(cudaGraphInstantiate(&exec, graph, 0), cudaSuccess);
  ASSERT_EQ(cudaFree(p), cudaSuccess);
  ASSERT_EQ(cudaGraphLaunch(exec, stream_), cudaSuccess);
  EXPECT_EQ(cudaStreamSynchronize(stream_), cudaErrorIllegalAddress);
  EXPECT_NE(cuda_emulation::fault().find("not in a live device allocation"), std::string::npos)
      << cuda_emulation::fault();
  cudaGraphExecDestroy(exec);
  cudaGraphDestroy(graph);
}

// Column-major reference of C = op(A) op(B) (+ beta C) for one batch.
float expected_element(const std::vector<float>& a, const std::vector<float>& b, bool ta, bool tb,
                       int lda, int ldb, int i, int j, int k) {
  double s = 0;
  for (int p = 0; p < k; ++p)
    s +=
        double(ta ? a[p + i * lda] : a[i + p * lda]) * double(tb ? b[j + p * ldb] : b[p + j * ldb]);
  return static_cast<float>(s);
}

class EmulatedBlas : public Emulated {
 protected:
  void SetUp() override {
    Emulated::SetUp();
    ASSERT_EQ(cublasCreate(&blas_), CUBLAS_STATUS_SUCCESS);
    ASSERT_EQ(cublasSetStream(blas_, stream_), CUBLAS_STATUS_SUCCESS);
  }
  void TearDown() override {
    cublasDestroy(blas_);
    Emulated::TearDown();
  }
  // Uploads `host` into fresh device memory.
  float* upload(const std::vector<float>& host) {
    float* d = device_floats(host.size());
    cudaMemcpyAsync(d, host.data(), host.size() * sizeof(float), cudaMemcpyHostToDevice, stream_);
    return d;
  }
  std::vector<float> download(const float* d, std::size_t n) {
    float* out = pinned_floats(n);
    cudaMemcpyAsync(out, d, n * sizeof(float), cudaMemcpyDeviceToHost, stream_);
    EXPECT_EQ(cudaStreamSynchronize(stream_), cudaSuccess);
    return {out, out + n};
  }
  cublasHandle_t blas_ = nullptr;
};

TEST_F(EmulatedBlas, StridedBatchedProductsFollowCublasLayout) {
  const int m = 3, n = 4, k = 5, batches = 2;
  for (bool ta : {false, true})
    for (bool tb : {false, true}) {
      SCOPED_TRACE(std::string(ta ? "T" : "N") + (tb ? "T" : "N"));
      const int lda = (ta ? k : m) + 1, ldb = (tb ? n : k) + 2, ldc = m + 1;
      const long long sa = 1LL * lda * (ta ? m : k), sb = 1LL * ldb * (tb ? k : n),
                      sc = 1LL * ldc * n;
      std::vector<float> a(sa * batches), b(sb * batches);
      for (std::size_t i = 0; i < a.size(); ++i) a[i] = static_cast<float>(i % 7) - 3.0f;
      for (std::size_t i = 0; i < b.size(); ++i) b[i] = static_cast<float>(i % 5) * 0.5f - 1.0f;
      const float* da = upload(a);
      const float* db = upload(b);
      float* dc = device_floats(sc * batches);  // NaN: beta = 0 must not read it
      const float one = 1.0f, zero = 0.0f;
      ASSERT_EQ(cublasGemmStridedBatchedEx(
                    blas_, ta ? CUBLAS_OP_T : CUBLAS_OP_N, tb ? CUBLAS_OP_T : CUBLAS_OP_N, m, n, k,
                    &one, da, CUDA_R_32F, lda, sa, db, CUDA_R_32F, ldb, sb, &zero, dc, CUDA_R_32F,
                    ldc, sc, batches, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT),
                CUBLAS_STATUS_SUCCESS);
      const auto c = download(dc, sc * batches);
      for (int batch = 0; batch < batches; ++batch) {
        const std::vector<float> ab(a.begin() + batch * sa, a.begin() + (batch + 1) * sa);
        const std::vector<float> bb(b.begin() + batch * sb, b.begin() + (batch + 1) * sb);
        for (int j = 0; j < n; ++j)
          for (int i = 0; i < m; ++i)
            EXPECT_FLOAT_EQ(c[batch * sc + i + 1LL * j * ldc],
                            expected_element(ab, bb, ta, tb, lda, ldb, i, j, k));
      }
    }
}

TEST_F(EmulatedBlas, LeadingDimensionsAndOperandExtentsAreChecked) {
  const float one = 1.0f;
  float* a = upload(std::vector<float>(6, 1.0f));  // 2 x 3
  float* b = upload(std::vector<float>(6, 1.0f));  // 3 x 2
  float* c = device_floats(4);
  auto gemm = [&](int lda, long long stride_b, int batches) {
    return cublasGemmStridedBatchedEx(blas_, CUBLAS_OP_N, CUBLAS_OP_N, 2, 2, 3, &one, a, CUDA_R_32F,
                                      lda, 0, b, CUDA_R_32F, 3, stride_b, &one, c, CUDA_R_32F, 2, 4,
                                      batches, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT);
  };
  EXPECT_EQ(gemm(1, 0, 1), CUBLAS_STATUS_INVALID_VALUE);  // lda < m
  ASSERT_EQ(gemm(2, 6, 1), CUBLAS_STATUS_SUCCESS);
  ASSERT_EQ(cudaStreamSynchronize(stream_), cudaSuccess);
  // Two batches of B six floats apart: the second runs past B's six floats.
  ASSERT_EQ(gemm(2, 6, 1), CUBLAS_STATUS_SUCCESS);
  float* c2 = device_floats(8);
  ASSERT_EQ(cublasGemmStridedBatchedEx(blas_, CUBLAS_OP_N, CUBLAS_OP_N, 2, 2, 3, &one, a,
                                       CUDA_R_32F, 2, 0, b, CUDA_R_32F, 3, 6, &one, c2, CUDA_R_32F,
                                       2, 4, 2, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT),
            CUBLAS_STATUS_SUCCESS);
  EXPECT_EQ(cudaStreamSynchronize(stream_), cudaErrorIllegalAddress);
  EXPECT_NE(cuda_emulation::fault().find("operand B"), std::string::npos)
      << cuda_emulation::fault();
}

TEST_F(EmulatedBlas, TensorCoreComputeTypesRoundTheInputs) {
  const float one = 1.0f, zero = 0.0f;
  const float x = 1.0f + std::ldexp(1.0f, -11);  // exact in fp32, a tie in tf32 (10 bits)
  const float y = 1.0f + std::ldexp(1.0f, -6);   // exact in tf32, lost... no: exact in bf16
  float* a = upload({x, y});
  float* b = upload({1.0f});
  float* c = device_floats(2);
  auto product = [&](cublasComputeType_t type) {
    EXPECT_EQ(cublasGemmStridedBatchedEx(blas_, CUBLAS_OP_N, CUBLAS_OP_N, 2, 1, 1, &one, a,
                                         CUDA_R_32F, 2, 0, b, CUDA_R_32F, 1, 0, &zero, c,
                                         CUDA_R_32F, 2, 0, 1, type, CUBLAS_GEMM_DEFAULT),
              CUBLAS_STATUS_SUCCESS);
    return download(c, 2);
  };
  EXPECT_EQ(product(CUBLAS_COMPUTE_32F), (std::vector<float>{x, y}));
  EXPECT_EQ(product(CUBLAS_COMPUTE_32F_FAST_TF32), (std::vector<float>{1.0f, y}));
  EXPECT_EQ(product(CUBLAS_COMPUTE_32F_FAST_16BF), (std::vector<float>{1.0f, y}));
}

// The emulated backend and fold group release every device and page-locked buffer they took.
TEST(EmulatedCudaBackend, ReleasesEverythingItAllocated) {
  using namespace lsmss::nn;
  const std::size_t device_before = cuda_emulation::device_allocations();
  const std::size_t pinned_before = cuda_emulation::pinned_allocations();
  const Network net = lsmss::test::tanh_energy_network(4, 5);
  {
    auto backend = make_backend("cuda");
    backend->setup(net, 3);
    auto group = make_fold_group("cuda", 1);
    group->setup(net, 2, 3, Precision::fp32, FoldGroupUse::training);
    EXPECT_GT(cuda_emulation::device_allocations(), device_before);
    EXPECT_GT(cuda_emulation::pinned_allocations(), pinned_before);
  }
  EXPECT_EQ(cuda_emulation::device_allocations(), device_before);
  EXPECT_EQ(cuda_emulation::pinned_allocations(), pinned_before);
  EXPECT_EQ(cuda_emulation::fault(), "");
}

// A single cuda model that only predicts holds its parameters and forward pass; its first
// training call adds the gradients, Adam moments and backward buffers (and keeps the forward
// pass the backward one needs: its gradients equal the reference backend's).
TEST(EmulatedCudaBackend, ASingleModelTakesTrainingBuffersAtItsFirstTrainingCall) {
  using namespace lsmss::nn;
  const Network net = lsmss::test::tanh_energy_network(6, 40);
  const int batch = 16;
  const std::size_t before = cuda_emulation::device_bytes();
  auto gpu = make_backend("cuda");
  auto ref = make_reference_backend();
  for (auto* b : {gpu.get(), ref.get()}) {
    b->setup(net, batch);
    for (std::size_t k = 0; k < b->params().size(); ++k)
      b->params()[k] = 0.01f * static_cast<float>(k % 17) - 0.08f;
    b->upload_params();
  }
  std::vector<float> x(std::size_t(batch) * net.inputs()), t(batch, 0.5f);
  for (std::size_t k = 0; k < x.size(); ++k) x[k] = 0.1f * static_cast<float>(k % 7);
  gpu->forward(x.data(), batch);
  const std::size_t predicting = cuda_emulation::device_bytes() - before;
  // Parameters, inputs and activations, and the 32 MiB cuBLAS workspace.
  const std::size_t forward_floats = net.num_params() + std::size_t(batch) * (6 + 40 + 1);
  EXPECT_EQ(predicting, forward_floats * sizeof(float) + (std::size_t(32) << 20));
  const MseLoss loss;
  const float* targets[] = {t.data()};
  const float alpha[] = {1.0f};
  double l_gpu = 0, l_ref = 0;
  gpu->gradient(loss, x.data(), targets, batch, alpha, &l_gpu, nullptr);
  ref->gradient(loss, x.data(), targets, batch, alpha, &l_ref, nullptr);
  EXPECT_GT(cuda_emulation::device_bytes() - before, predicting + 3 * net.num_params());
  EXPECT_NEAR(l_gpu, l_ref, 1e-6);
  for (std::size_t k = 0; k < ref->grads().size(); ++k)
    ASSERT_NEAR(gpu->grads()[k], ref->grads()[k], 1e-5) << "parameter " << k;
}

// As on a machine with the CUDA runtime but no GPU: `cuda` is a clear error, `auto` passes it
// over, and --version says why.
TEST(EmulatedCudaBackend, WithoutADeviceCudaIsAClearErrorAndAutoSkipsIt) {
  using namespace lsmss::nn;
  EXPECT_EQ(auto_backend_name(), "cuda");
  cuda_emulation::set_device_count(0);
  EXPECT_NE(auto_backend_name(), "cuda");
  EXPECT_NE(cuda_backend_status().find("no device visible (cudaErrorNoDevice"), std::string::npos)
      << cuda_backend_status();
  try {
    make_backend("cuda");
    ADD_FAILURE() << "the cuda backend must not start without a device";
  } catch (const lsmss::Error& e) {
    EXPECT_NE(std::string(e.what()).find("no CUDA device is visible"), std::string::npos)
        << e.what();
  }
  cuda_emulation::set_device_count(1);
  EXPECT_EQ(auto_backend_name(), "cuda");
}

}  // namespace
