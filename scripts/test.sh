#!/usr/bin/env bash
# The test command: installs what is missing, builds, runs every test
# (GoogleTest suites, lit/FileCheck, the bounded fuzz runs, the GCC syntax
# check, the package consumer, examples), printing what it is about to do,
# each phase's time and the total.
set -euo pipefail
cd "$(dirname "$0")/.."
started=$SECONDS
if [[ -f build/build.ninja ]]; then
  build_note="an incremental build (seconds to minutes)"
else
  build_note="a cold build (about 10 minutes on a 2-core machine)"
fi
echo "test: installs missing packages, then $build_note, then every ctest test" \
     "(several minutes on 2 cores: three 60 s fuzz runs, the GCC syntax check, sweeps, the package consumer)"
scripts/setup.sh
scripts/build.sh
built=$SECONDS
echo "test: running ctest (2 at a time; each test prints one line when it ends)"
status=0
ctest --preset default || status=$?
elapsed=$((SECONDS - started))
echo "test: ctest took $((SECONDS - built)) s; total $((elapsed / 60)) min $((elapsed % 60)) s;" \
     "$([[ $status -eq 0 ]] && echo "all tests passed" || echo "ctest FAILED (exit $status)")"
exit $status
