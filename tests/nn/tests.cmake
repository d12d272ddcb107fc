# Backends against the reference oracle, standardization, training, model files, the evaluation
# report (tables, CSV/JSON/parity of a hand-made evaluation), and the
# train/evaluate/predict commands end to end (import of LSMS files included).
lsmss_add_test(test_nn
  SOURCES nn/test_backends.cpp nn/test_model.cpp nn/test_cli_nn.cpp nn/test_multi_fold.cpp
    nn/test_elementwise.cpp nn/test_gemm_plan.cpp nn/test_model_kinds.cpp
    nn/test_outlier_weight.cpp nn/test_ensemble.cpp
    nn/test_symmetry_augmentation.cpp nn/test_evaluation_report.cpp
  LIBS lsmss_nn lsmss_dataset_builder lsmss_lsms_plugin OpenMP::OpenMP_CXX
  LABELS nn)
# The cuda backend's host-testable parts are private to nn/ (test_gemm_plan.cpp tests them).
target_compile_definitions(test_nn PRIVATE LSMSS_NN_INTERNAL)

# The cuda backend against the oracle; skips with the reason where it is not compiled or no GPU
# is visible. Label `gpu`: `ctest -L gpu` (scripts/gpu-check.sh).
lsmss_add_test(test_cuda
  SOURCES nn/test_cuda.cpp
  LIBS lsmss_nn lsmss_dataset_builder OpenMP::OpenMP_CXX
  LABELS gpu)

# The same GPU tests, and the emulator's own, on the CPU: the cuda backend's source compiled by
# the host compiler against a host emulation of the CUDA runtime and cuBLAS
# (nn/cuda_emulation/include, first on the include path), which runs its kernels, graphs and
# products strictly (nn/cuda_emulation/emulation.cpp says what it checks and what it cannot).
find_package(Threads REQUIRED)
add_library(lsmss_cuda_emulation STATIC
  nn/cuda_emulation/emulation.cpp nn/cuda_emulation/emulated_backend.cpp)
target_include_directories(lsmss_cuda_emulation BEFORE PUBLIC
  ${CMAKE_CURRENT_SOURCE_DIR}/nn/cuda_emulation/include ${CMAKE_CURRENT_SOURCE_DIR}/nn/cuda_emulation)
target_compile_definitions(lsmss_cuda_emulation PUBLIC LSMSS_NN_INTERNAL
  PRIVATE LSMSS_CUDA_ARCHITECTURES_TEXT="the CUDA host emulation")
target_link_libraries(lsmss_cuda_emulation PUBLIC lsmss_nn Threads::Threads)
lsmss_add_test(test_cuda_emulation
  SOURCES nn/test_cuda.cpp nn/test_backends.cpp nn/test_multi_fold.cpp nn/test_ensemble.cpp
    nn/cuda_emulation/emulation_environment.cpp nn/cuda_emulation/test_emulation.cpp
    nn/cuda_emulation/test_consumers.cpp
  LIBS lsmss_cuda_emulation lsmss_nn lsmss_dataset_builder lsmss_montecarlo lsmss_drivers
    OpenMP::OpenMP_CXX
  LABELS cuda_emulation
  TEST_PREFIX "emulated.")
# The GPU benchmark's whole flow at a smoke size on the emulated device (its numbers mean
# nothing here): what scripts/gpu-check.sh runs first on a GPU must not fail for its own sake.
if(LSMSS_BUILD_BENCH)
  add_executable(bench_cuda_emulated ${CMAKE_SOURCE_DIR}/bench/bench_cuda.cpp
    nn/cuda_emulation/install_at_startup.cpp)
  target_link_libraries(bench_cuda_emulated PRIVATE lsmss_cuda_emulation lsmss_nn
    lsmss_dataset_builder OpenMP::OpenMP_CXX)
  add_test(NAME emulated.bench_cuda
    COMMAND bench_cuda_emulated --folds 3 --epochs 4 --rows 40 --batch 16 --precision tf32)
  set_tests_properties(emulated.bench_cuda PROPERTIES LABELS cuda_emulation
    PASS_REGULAR_EXPRESSION
      "STL-E +1 .*STL-E +3 .*MTL-EC +1 .*MTL-EC +3 .*MTL-ECM +1 .*MTL-ECM +3 .*EXTRAPOLATED")
endif()

# The architecture search: proposal and stop rules with a fake evaluator, resumption, the winner
# fragment, and `lsms-surrogate search` on the embedded engine under 1 and 2 MPI ranks.
lsmss_add_test(test_search
  SOURCES nn/test_search.cpp
  LIBS lsmss_nn
  LABELS nn)
