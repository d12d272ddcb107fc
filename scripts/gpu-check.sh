#!/usr/bin/env bash
# One command on a machine with an NVIDIA GPU: builds with CUDA (sm_80/sm_90 + PTX), runs the GPU
# tests (cuda vs reference on the same seeds and data), the GPU benchmark and, where the toolkit
# has it, compute-sanitizer (memcheck, racecheck, initcheck) on the small GPU tests; prints a
# summary.
#   scripts/gpu-check.sh [--quick] [--build DIR]
#     --quick   8 benchmark epochs and 8 folds instead of 20 and 60 (a first look)
# Needs the build dependencies of scripts/install-deps.sh and the CUDA Toolkit (nvcc, cuBLAS).
# Exit status: 0 when the build, every GPU test, the benchmark and the sanitizers pass; a GPU
# test that SKIPS on this machine (no device visible) counts as a failure here, since this
# script is the check.
set -euo pipefail
cd "$(dirname "$0")/.."
build=build-gpu
folds=60
epochs=20
while [[ $# -gt 0 ]]; do
  case "$1" in
    --quick) folds=8; epochs=8 ;;
    --build) build="$2"; shift ;;
    -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
    *) echo "gpu-check: unknown argument '$1'" >&2; exit 2 ;;
  esac
  shift
done
log=$build/gpu-check
mkdir -p "$log"
summary() { printf '%-28s %s\n' "$1" "$2" | tee -a "$log/summary.txt"; }
: > "$log/summary.txt"

echo "== GPU"
if command -v nvidia-smi > /dev/null; then
  nvidia-smi --query-gpu=name,memory.total,driver_version,compute_cap --format=csv,noheader \
    | tee "$log/gpu.txt"
else
  echo "nvidia-smi not found" | tee "$log/gpu.txt"
fi
summary "GPU" "$(head -1 "$log/gpu.txt")"

echo "== build (CUDA on)"
nvcc_path=$(command -v nvcc || echo /usr/local/cuda/bin/nvcc)
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DLSMSS_ENABLE_CUDA=ON \
  -DCMAKE_CUDA_COMPILER="$nvcc_path" -DLSMSS_BUILD_BENCH=ON > "$log/configure.txt"
grep -q "CUDA backend ON" "$log/configure.txt" || {
  echo "gpu-check: CMake did not enable the CUDA backend (see $log/configure.txt)" >&2; exit 1; }
cmake --build "$build" -j "$(nproc)" --target lsms-surrogate test_cuda test_nn bench_cuda
version=$("$build/app/lsms-surrogate" --version)
echo "$version"
summary "version" "$version"

echo "== GPU tests (ctest -L gpu, and the oracle and ensemble tests over every available backend)"
status=0
"$build/tests/test_cuda" --gtest_brief=0 2>&1 | tee "$log/test_cuda.txt" || status=1
"$build/tests/test_nn" --gtest_filter='NnBackends.*:NnMultiFold.*:NnEnsemble.*' 2>&1 \
  | tee "$log/test_nn_backends.txt" || status=1
# On a GPU machine only the "no device" test may skip.
if grep -E '^\[  SKIPPED \] NnCuda\.' "$log/test_cuda.txt" | grep -qv WithoutDevice; then
  echo "gpu-check: GPU tests were skipped: no usable device" >&2
  status=1
fi
summary "GPU tests" "$(grep -E '^\[  (PASSED|FAILED)  \]|^\[  SKIPPED \] [0-9]' "$log/test_cuda.txt" | tr '\n' ' ')"
summary "oracle + ensemble tests" \
  "$(grep -E '^\[  (PASSED|FAILED)  \]' "$log/test_nn_backends.txt" | tr '\n' ' ')"

echo "== benchmark (fp32, then tf32 and bf16)"
for p in fp32 tf32 bf16; do
  if "$build/bench/bench_cuda" --folds "$folds" --epochs "$epochs" --precision "$p" \
      2>&1 | tee "$log/bench_$p.txt"; then
    while read -r line; do summary "bench $p" "$line"; done \
      < <(grep -E '^(STL|MTL)' "$log/bench_$p.txt")
  else
    status=1
    summary "bench $p" "FAILED (see $log/bench_$p.txt)"
  fi
done
echo "== compute-sanitizer on the small GPU tests (what the host emulation in CI cannot see)"
sanitizer=$(command -v compute-sanitizer || echo "$(dirname "$nvcc_path")/compute-sanitizer")
small='NnCuda.SingleModelMatchesReference:NnCuda.TrainingRowsSetAgainAfterTheGraphMatchTheCpuGroup:NnCuda.InferenceGroupForwardsAndRefusesTraining'
if [[ -x "$sanitizer" ]]; then
  for tool in memcheck racecheck initcheck; do
    if timeout 600 "$sanitizer" --tool "$tool" --error-exitcode 3 "$build/tests/test_cuda" \
        --gtest_filter="$small" > "$log/sanitizer_$tool.txt" 2>&1; then
      summary "compute-sanitizer $tool" "clean"
    else
      status=1
      summary "compute-sanitizer $tool" "FAILED (see $log/sanitizer_$tool.txt)"
    fi
  done
else
  summary "compute-sanitizer" "not in this CUDA Toolkit: not run"
fi
if /usr/bin/python3 -c 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)' \
    2> /dev/null; then
  summary "PyTorch" "CUDA-enabled torch present: not compared by this script yet"
else
  summary "PyTorch" "no CUDA-enabled torch on this machine: not compared"
fi

echo
echo "== summary ($log/summary.txt)"
cat "$log/summary.txt"
exit $status
