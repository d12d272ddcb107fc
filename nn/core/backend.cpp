#include "nn/core/backend.hpp"

#include <omp.h>

#include <algorithm>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "core/error.hpp"
#include "nn/core/cuda_entry.hpp"

namespace lsmss::nn {

namespace {
const CudaEntryPoints* installed_cuda = nullptr;
}  // namespace

void install_cuda_entry_points(const CudaEntryPoints* entry) {
  installed_cuda = entry;
}

const CudaEntryPoints* cuda_backend_entry() {
  if (installed_cuda) return installed_cuda;
#ifdef LSMSS_NN_CUDA_BACKEND
  static const CudaEntryPoints compiled = cuda_entry_points();
  return &compiled;
#else
  return nullptr;
#endif
}

void throw_error(const std::string& message) {
  throw Error(message);
}

Precision precision_from_name(std::string_view name) {
  if (name == "fp32") return Precision::fp32;
  if (name == "tf32") return Precision::tf32;
  if (name == "bf16") return Precision::bf16;
  fail("unknown precision '{}' (expected fp32, tf32 or bf16)", name);
}

std::string precision_name(Precision p) {
  switch (p) {
    case Precision::fp32:
      return "fp32";
    case Precision::tf32:
      return "tf32";
    case Precision::bf16:
      return "bf16";
  }
  return "?";
}

void Backend::set_precision(Precision precision) {
  if (precision != Precision::fp32)
    fail(
        "backend {}: precision \"{}\" needs tensor cores; the CPU backends compute in fp32 only "
        "(use precision = \"fp32\" or backend = \"cuda\")",
        name(), precision_name(precision));
}

void Backend::setup(const Network& net, int max_batch) {
  if (max_batch < 1) fail("backend {}: max batch {} must be >= 1", name(), max_batch);
  net_ = net;
  max_batch_ = max_batch;
  const std::size_t n = net.num_params();
  params_.assign(n, 0.0f);
  grads_.assign(n, 0.0f);
}

void Backend::apply_loss(const Loss& loss, const float* const* targets, int batch,
                         const float* alpha, double* loss_out, const float* row_weights) {
  for (int h = 0; h < net_.num_heads(); ++h) {
    const std::size_t outputs = net_.layers()[net_.output_layer(h)].out;
    const std::size_t count = static_cast<std::size_t>(batch) * outputs;
    loss_out[h] = loss.value_and_gradient(output(h), targets[h], count, alpha[h],
                                          output_gradient(h), RowWeights{row_weights, outputs});
  }
}

void Backend::apply_optimizer(Optimizer& optimizer, long t) {
  optimizer.step(params_, grads_, t);
}

void Backend::gradient(const Loss& loss, const float* x, const float* const* targets, int batch,
                       const float* alpha, double* loss_out, const float* row_weights) {
  forward(x, batch);
  apply_loss(loss, targets, batch, alpha, loss_out, row_weights);
  backward(x, batch);
}

// ---------------------------------------------------------------- registry

namespace {

// Every backend name this program knows, compiled into this build or not.
const std::vector<std::string> kKnownBackends = {"reference", "onednn", "cuda"};

}  // namespace

std::vector<BackendInfo> compiled_backends() {
  // Filled explicitly here (no static registration across translation units), at each call:
  // the cuda entry points may be installed (tests).
  auto always = [] { return true; };
  std::vector<BackendInfo> v = {
      {"reference", 0, [](int) { return make_reference_backend(); }, always},
      {"onednn", 10, [](int threads) { return make_onednn_backend(threads); }, always},
  };
  if (const CudaEntryPoints* cuda = cuda_backend_entry())
    v.push_back({"cuda", 20, [cuda](int /*threads*/) { return cuda->make_backend(); },
                 cuda->device_present});
  std::stable_sort(v.begin(), v.end(), [](const BackendInfo& a, const BackendInfo& b) {
    return a.priority > b.priority;
  });
  return v;
}

std::vector<std::string> available_backend_names() {
  std::vector<std::string> names;
  for (const auto& b : compiled_backends())
    if (b.available()) names.push_back(b.name);
  return names;
}

std::string auto_backend_name() {
  const auto names = available_backend_names();
  if (names.empty()) fail("no nn backend can run on this machine");
  return names.front();
}

std::vector<std::string> backend_names() {
  std::vector<std::string> names = {"auto"};
  names.insert(names.end(), kKnownBackends.begin(), kKnownBackends.end());
  return names;
}

bool backend_compiled(const std::string& name) {
  if (name == "auto") return true;
  const auto c = compiled_backends();
  return std::any_of(c.begin(), c.end(), [&](const BackendInfo& b) { return b.name == name; });
}

std::string cuda_backend_status() {
  if (const CudaEntryPoints* cuda = cuda_backend_entry()) return cuda->status();
  return "not compiled (configured without the CUDA Toolkit)";
}

std::unique_ptr<Backend> make_backend(const std::string& name, int threads) {
  if (threads > 0) omp_set_num_threads(threads);
  const std::string chosen = name == "auto" ? auto_backend_name() : name;
  for (const auto& b : compiled_backends())
    if (b.name == chosen) return b.create(threads);
  if (chosen == "cuda")
    throw NotCompiledError(
        "nn backend 'cuda' is not compiled into this build: it was configured without the CUDA "
        "Toolkit (no nvcc found, or -DLSMSS_ENABLE_CUDA=OFF); rebuild where nvcc is installed, or "
        "use backend = \"onednn\" or \"auto\" (the CPU backends)");
  fail("unknown backend '{}' (expected {})", name, fmt::join(backend_names(), ", "));
}

}  // namespace lsmss::nn
