#include "nn/core/backend.hpp"

#include <omp.h>

#include "core/error.hpp"

namespace lsmss::nn {

#ifdef LSMSS_NN_CUDA_BACKEND
std::unique_ptr<Backend> make_cuda_backend(int threads);
#endif

void Backend::setup(const Network& net, int max_batch) {
  if (max_batch < 1) fail("backend {}: max batch {} must be >= 1", name(), max_batch);
  net_ = net;
  max_batch_ = max_batch;
  const std::size_t n = net.num_params();
  params_.assign(n, 0.0f);
  grads_.assign(n, 0.0f);
  m_.assign(n, 0.0f);
  v_.assign(n, 0.0f);
}

std::vector<std::string> backend_names() {
  return {"auto", "reference", "onednn", "cuda"};
}

bool backend_compiled(const std::string& name) {
  if (name == "cuda") {
#ifdef LSMSS_NN_CUDA_BACKEND
    return true;
#else
    return false;
#endif
  }
  return name == "auto" || name == "reference" || name == "onednn";
}

std::unique_ptr<Backend> make_backend(const std::string& name, int threads) {
  if (threads > 0) omp_set_num_threads(threads);
  if (name == "reference") return make_reference_backend();
  if (name == "onednn" || name == "auto") return make_onednn_backend(threads);
  if (name == "cuda") {
#ifdef LSMSS_NN_CUDA_BACKEND
    return make_cuda_backend(threads);
#else
    throw NotCompiledError(
        "nn backend 'cuda' is not compiled into this build: no CUDA backend is written yet "
        "(nn/CMakeLists.txt), even where nvcc is installed; use backend = \"onednn\" or "
        "\"auto\" (the CPU backends)");
#endif
  }
  fail("unknown backend '{}' (expected auto, reference, onednn or cuda)", name);
}

}  // namespace lsmss::nn
