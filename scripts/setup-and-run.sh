#!/usr/bin/env bash
# One command for a fresh Debian machine (as root, or with sudo): installs the dependencies,
# builds everything, and runs the main job: the paper's study on the embedded tight-binding
# engine (examples/cuau/tb_quick.lua): dataset (tb) -> STL and MTL fold models -> test errors ->
# Monte Carlo on the surrogate -> a report folder with tables, figures and an HTML page.
# Everything is written to ./run (override with LSMSS_RUN_DIR). Takes a few minutes on 2 cores.
# A rerun resumes: finished stages are skipped (lsms-surrogate study, docs/study.md).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
bash scripts/install-deps.sh
bash scripts/build.sh

export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
cli="$root/build/app/lsms-surrogate"
run_dir=${LSMSS_RUN_DIR:-$root/run}
mkdir -p "$run_dir"
cd "$run_dir"
deck="$root/examples/cuau/tb_quick.lua"

start=$SECONDS
step() { printf '\n=== [%4d s] %s\n' "$((SECONDS - start))" "$*"; }

step "1/2 check the deck"
"$cli" check "$deck"

step "2/2 the study: CuAu dataset (tb), STL E, STL C and MTL E+C models, Monte Carlo, report"
if command -v mpirun > /dev/null; then
  mpirun --oversubscribe -np 2 "$cli" study "$deck"
else
  "$cli" study "$deck"
fi

step "done: open $run_dir/cuau_tb_quick_report/index.html in a browser"
