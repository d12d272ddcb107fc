#!/usr/bin/env bash
# One command for a fresh Debian machine (as root, or with sudo): installs the dependencies,
# builds everything, and runs the main job end to end on the embedded tight-binding engine:
#   dataset (tb) -> fold ensemble (nn) -> test errors -> Monte Carlo on the surrogate with
#   fallback to tb where the ensemble is unsure -> results printed and plotted.
# Everything is written to ./run (override with LSMSS_RUN_DIR). Takes a few minutes on 2 cores.
# A rerun resumes: the dataset and the Monte Carlo checkpoint are reused, the models retrained.
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
cp "$root/examples/quickstart.lua" quickstart.lua

start=$SECONDS
step() { printf '\n=== [%4d s] %s\n' "$((SECONDS - start))" "$*"; }

step "1/5 check the deck"
"$cli" check quickstart.lua

step "2/5 dataset: 622 CuAu configurations with the tb engine, on 2 MPI ranks"
if command -v mpirun > /dev/null; then
  mpirun --oversubscribe -np 2 "$cli" build quickstart.lua
else
  "$cli" build quickstart.lua
fi
"$cli" info quickstart.h5

step "3/5 train the 4 fold models (MTL: energy + charges) and evaluate them on the test set"
"$cli" train quickstart.lua --no-evaluate
"$cli" evaluate quickstart.lua --parity

step "4/5 Monte Carlo on the surrogate: the deck's driver line switched from tb to surrogate"
sed 's/^driver = "tb"/driver = "surrogate"/' quickstart.lua > quickstart_surrogate.lua
diff quickstart.lua quickstart_surrogate.lua || true
"$cli" mc quickstart_surrogate.lua

step "5/5 retrain on the dataset enlarged by the fallback calculations"
"$cli" retrain quickstart_surrogate.lua

step "done: results in $run_dir"
ls -1 "$run_dir"
