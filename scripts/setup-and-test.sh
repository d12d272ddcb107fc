#!/usr/bin/env bash
# One command for a fresh Debian machine (as root, or with sudo): installs the dependencies,
# builds everything, runs the whole test suite, then the core and robustness tests again under
# AddressSanitizer + UndefinedBehaviorSanitizer. .ci/run calls exactly this script.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
# The real LSMS (../shared/lsms) for the in-process lsms mode and its tests: built once per
# machine (about 12 minutes) into a cache shared by every checkout, then reused; the lock keeps
# two CI runs from building it at the same time.
lsms_cache=${LSMSS_LSMS_CACHE:-/var/cache/lsms-surrogate}
mkdir -p "$lsms_cache" 2>/dev/null || { lsms_cache="${XDG_CACHE_HOME:-$HOME/.cache}/lsms-surrogate"; mkdir -p "$lsms_cache"; }
lsms_dest="$lsms_cache/lsms-811b2bd"
(
  flock 9
  if [ ! -x "$lsms_dest/build/bin/lsms_asa" ] || [ ! -f "$lsms_dest/build/lib/liblsmscore.a" ]; then
    bash ../shared/lsms/build-lsms.sh "$lsms_dest"
  fi
) 9>"$lsms_cache/lsms-811b2bd.lock"
bash scripts/build.sh -DLSMSS_LSMS_BUILD_DIR="$lsms_dest/build"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
(cd build && ctest --output-on-failure -j "$(nproc)" --timeout 600)
# Sanitizer step: the core and command-line (app) tests and the robustness suite (hostile input,
# fault injection; docs/reliability.md) in a separate build tree. It is also the build without the in-process
# LSMS engine, where test_lsms_mode checks lsms.mode's "not compiled" error. The cuda backend under
# the host emulation (cuda_emulation) runs there too: the sanitizers see its kernels' accesses.
cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DLSMSS_SANITIZE=ON -DLSMSS_BUILD_BENCH=OFF \
  -DLSMSS_LSMS_BUILD_DIR=
cmake --build build-asan -j "$(nproc)" --target test_core test_app test_robustness lsmss_failwrite test_lsms_mode lsms-surrogate test_cuda_emulation
(cd build-asan && ASAN_OPTIONS=detect_leaks=0 ctest --output-on-failure -L 'core|app|robustness|lsms_inprocess|cuda_emulation' -j "$(nproc)" --timeout 900)
