#!/usr/bin/env bash
# One command for a fresh Debian machine (as root, or with sudo): installs the dependencies,
# builds everything, runs the whole test suite, then the core and robustness tests again under
# AddressSanitizer + UndefinedBehaviorSanitizer. .ci/run calls exactly this script.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
(cd build && ctest --output-on-failure -j "$(nproc)" --timeout 600)
# Sanitizer step: the core tests and the robustness suite (hostile input, fault injection;
# docs/reliability.md) in a separate build tree.
cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DLSMSS_SANITIZE=ON -DLSMSS_BUILD_BENCH=OFF
cmake --build build-asan -j "$(nproc)" --target test_core test_robustness lsmss_failwrite lsms-surrogate
(cd build-asan && ASAN_OPTIONS=detect_leaks=0 ctest --output-on-failure -L 'core|robustness' -j "$(nproc)" --timeout 900)
