#!/usr/bin/env bash
# Configures and builds tilefuse (Release, static MLIR/LLVM) into build/,
# showing progress: ninja's [done/total] status (one line per step when the
# output is not a terminal, e.g. in CI) and the time each phase took.
#
# A cold build (284 steps: compiling, and linking MLIR/LLVM statically into the
# tools and tests) took 572 s on a 2-core x86-64 machine (2026-12-06, from
# build/.ninja_log), the issue's demo about 11 minutes on a fresh Debian 12
# machine; ccache makes a rebuild of unchanged files near-instant. An
# up-to-date tree takes seconds.
set -euo pipefail
cd "$(dirname "$0")/.."

started=$SECONDS
log=$(mktemp "${TMPDIR:-/tmp}/tilefuse-configure-XXXXXX.log")
trap 'rm -f "$log"' EXIT
if [[ -f build/build.ninja ]]; then
  echo "build: configuring build/ (cmake --preset default, seconds)"
else
  echo "build: configuring a new build/ (cmake --preset default, under a minute), then a cold build:" \
       "about 10 minutes on 2 cores"
fi
# The configure log is long and only interesting when it fails.
if ! cmake --preset default >"$log" 2>&1; then
  cat "$log" >&2
  echo "build: cmake configure failed (log above)" >&2
  exit 1
fi
echo "build: configured in $((SECONDS - started)) s; compiling (ninja, $(nproc) jobs)"
compile_started=$SECONDS
cmake --build --preset default
echo "build: compiled in $((SECONDS - compile_started)) s (build.sh total $((SECONDS - started)) s)"
