#!/usr/bin/env bash
# Installs every build and run dependency of LSMS-Surrogate from Debian packages.
# Idempotent: packages already present are left alone. Needs root (or sudo).
# Optional, not installed here: the CUDA Toolkit (nvcc + cuBLAS, e.g. NVIDIA's packages in
# /usr/local/cuda) for the `cuda` nn backend; without it the build skips that backend.
set -euo pipefail

packages=(
  build-essential cmake pkg-config ninja-build
  gfortran
  openmpi-bin libopenmpi-dev
  libhdf5-dev hdf5-tools
  liblua5.4-dev
  libarmadillo-dev libopenblas-dev
  libdnnl-dev
  libgtest-dev
  libcli11-dev libfmt-dev
  gnuplot-nox
  # renders the study report (index.html) headless in its test (tests/study)
  chromium
  # Run-time libraries of the real LSMS (../shared/lsms/bin, `ldd lsms_asa`) that the `lsms`
  # driver's integration tests launch: libxc, fmt 9, the gfortran and OpenMP runtimes, OpenMPI,
  # serial HDF5, LAPACK/OpenBLAS.
  libxc9 libfmt9 libgfortran5 libgomp1 libopenmpi3 libhdf5-103-1 liblapack3 libopenblas0
  # building the real LSMS (../shared/lsms/build-lsms.sh) and linking the in-process engine
  libxc-dev liblapack-dev util-linux
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "install-deps: all packages present"
fi

# Armadillo links libblas/liblapack through Debian's alternatives: make sure they point at
# OpenBLAS, not the slow reference build, so LAPACK eigensolves and BLAS products are fast.
arch_dir=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || echo x86_64-linux-gnu)
for lib in libblas.so.3 liblapack.so.3; do
  alt="${lib}-${arch_dir}"
  target=$(update-alternatives --list "$alt" 2>/dev/null | grep -m1 openblas || true)
  if [ -n "$target" ]; then $SUDO update-alternatives --quiet --set "$alt" "$target"; fi
done
