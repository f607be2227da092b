#!/usr/bin/env bash
# Planted host defects: every patch in tests/unit/fakedriver/mutations/ breaks
# the launch path the way a real bug would (a wrong shared-memory attribute,
# a misplaced parameter byte, a TMA stride in elements, a wrong grid, no
# context at launch, ...). Each is applied in turn to a scratch worktree of
# the committed HEAD, the fake-driver suite is rebuilt and run, and the
# mutation must make at least one test fail. Prints which tests caught which
# mutation; exits 1 if one survived (or the unmutated suite fails).
#
#   scripts/check_mutations.sh [PATCH...]      (default: all of them)
#
# The scratch worktree is $TILEFUSE_MUTATION_DIR (default: <repo>-mutations,
# beside the repository so that ccache's CCACHE_BASEDIR hits); its first
# build is a full one (minutes with ccache), each mutation then rebuilds one
# file and relinks the suite (1-3 min on 2 cores). Not part of ctest.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
scratch=${TILEFUSE_MUTATION_DIR:-$repo-mutations}
jobs=${JOBS:-2}
if [ $# -gt 0 ]; then
  patches=("$@")
else
  patches=("$repo"/tests/unit/fakedriver/mutations/*.patch)
fi

head=$(git -C "$repo" rev-parse HEAD)
if [ ! -e "$scratch/.git" ]; then
  git -C "$repo" worktree add --detach "$scratch" "$head" >/dev/null
else
  git -C "$scratch" checkout -q --force --detach "$head"
fi
cd "$scratch"
[ -f build/build.ninja ] || cmake --preset default >/dev/null

logs=$scratch/build/mutation-logs
mkdir -p "$logs"
suite=build/tests/tilefuse_fakedriver_tests

# Builds and runs the suite; prints the failing tests (none: empty). Returns
# 2 when the build itself failed.
build_and_run() {
  local name=$1
  if ! ninja -C build -j"$jobs" tilefuse_fakedriver_tests >"$logs/$name.build.log" 2>&1; then
    return 2
  fi
  "$suite" >"$logs/$name.test.log" 2>&1 || true
  # "[  FAILED  ] Suite.Test..." lines (not the "[  FAILED  ] 3 tests, listed below" one)
  sed -n 's/^\[  FAILED  \] \([A-Za-z0-9_/]*\.[A-Za-z0-9_/.]*\).*/\1/p' "$logs/$name.test.log" | sort -u
}

echo "baseline (no mutation): building $scratch at ${head:0:12} ..."
if ! baseline=$(build_and_run baseline); then
  echo "the unmutated build failed: see $logs/baseline.build.log" >&2
  exit 1
fi
if [ -n "$baseline" ]; then
  echo "the unmutated suite fails (see $logs/baseline.test.log):" >&2
  echo "$baseline" >&2
  exit 1
fi
echo "baseline: every fake-driver test passes"

survived=0
report=$scratch/build/mutations.txt
: >"$report"
for patch in "${patches[@]}"; do
  name=$(basename "$patch" .patch)
  git checkout -q --force "$head" -- .
  if ! git apply "$patch"; then
    echo "$name: the patch does not apply to ${head:0:12}" | tee -a "$report"
    survived=1
    continue
  fi
  if caught=$(build_and_run "$name"); then
    if [ -z "$caught" ]; then
      echo "$name: SURVIVED (no test failed; see $logs/$name.test.log)" | tee -a "$report"
      survived=1
    else
      echo "$name: caught by $(echo "$caught" | paste -sd ' ')" | tee -a "$report"
    fi
  else
    echo "$name: the mutated build failed (see $logs/$name.build.log): not a test result" | tee -a "$report"
    survived=1
  fi
done
git checkout -q --force "$head" -- .
echo "report: $report"
exit $survived
