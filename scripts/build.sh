#!/usr/bin/env bash
# Configures and builds tilefuse (Release, static MLIR/LLVM) into build/.
set -euo pipefail
cd "$(dirname "$0")/.."
cmake --preset default >/dev/null
cmake --build --preset default
