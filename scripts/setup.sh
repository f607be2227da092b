#!/usr/bin/env bash
# Installs what a fresh Debian 12 machine lacks to build tilefuse: LLVM/MLIR 19,
# clang 19 (compiler + libFuzzer runtime), fmt, nlohmann-json, CLI11, xxhash,
# GoogleTest, CMake, Ninja. The CUDA toolkit (NVRTC) must already be at
# /usr/local/cuda (or set CUDAToolkit_ROOT).
set -euo pipefail

packages=(
  cmake ninja-build python3 g++
  llvm-19-dev llvm-19-tools libmlir-19-dev mlir-19-tools
  clang-19 libclang-rt-19-dev
  libfmt-dev nlohmann-json3-dev libcli11-dev libxxhash-dev libgtest-dev
  zlib1g-dev libzstd-dev
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  sudo_cmd=()
  [ "$(id -u)" -ne 0 ] && sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "setup: all packages present"
fi

cuda_root=${CUDAToolkit_ROOT:-/usr/local/cuda}
if [ ! -f "$cuda_root/include/nvrtc.h" ]; then
  echo "setup: error: the CUDA toolkit (NVRTC) was not found at $cuda_root;" \
       "install CUDA 12.8+ or set CUDAToolkit_ROOT" >&2
  exit 1
fi
