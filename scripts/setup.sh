#!/usr/bin/env bash
# Installs what dlc needs on Debian 12 (idempotent) and builds it into build/.
#   scripts/setup.sh            install missing packages, configure, build
#   DLC_BUILD_TYPE=Debug ...    another CMake build type (default Release)
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  cmake ninja-build ccache clang-22 lld-22
  llvm-22 llvm-22-dev llvm-22-tools libmlir-22-dev mlir-22-tools libfmt-dev
  libomp-22-dev
  python3 python3-numpy python3-sklearn python3-torch
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
    missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}" >&2
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [ ! -f build/build.ninja ]; then
  cmake -G Ninja -S . -B build \
    -DCMAKE_BUILD_TYPE="${DLC_BUILD_TYPE:-Release}" \
    -DCMAKE_C_COMPILER=clang-22 -DCMAKE_CXX_COMPILER=clang++-22 \
    -DLLVM_USE_LINKER=lld \
    -DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache \
    -DMLIR_DIR=/usr/lib/llvm-22/lib/cmake/mlir >/dev/null
fi
ninja -C build -j"$(nproc)" dlc dlc-opt mlir-doc
