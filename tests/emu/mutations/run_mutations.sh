#!/usr/bin/env bash
# Plants each mutation of tests/emu/mutations/*.patch, one at a time, in a
# scratch copy of the source tree, builds the emulated sm_90a tests with only
# the variant the patch names (its "# variant:" line, a regex; "# binary:"
# names the test binary, default tilefuse_emu_sm90_tests), runs them and
# expects at least one case to FAIL. Prints, per mutation, CAUGHT with the
# failing cases or NOT CAUGHT; exits 1 if any mutation was not caught (or did
# not build).
#
#   tests/emu/mutations/run_mutations.sh [NN_name ...]     (default: every patch)
#
# The scratch tree is $TILEFUSE_MUTATION_DIR (default <repo>/build-mutations/src),
# built in its build/ subfolder so that ccache (CCACHE_BASEDIR) reuses the
# objects of the main build; only the patched file and the variant recompile.
# CPU only, minutes per mutation on 2 cores; not part of ctest.
set -euo pipefail
root=$(git -C "$(dirname "$0")" rev-parse --show-toplevel)
here=$root/tests/emu/mutations
src=${TILEFUSE_MUTATION_DIR:-$root/build-mutations/src}
build=$src/build
jobs=${JOBS:-2}
export CMAKE_CXX_COMPILER_LAUNCHER=${CMAKE_CXX_COMPILER_LAUNCHER:-ccache}
export CMAKE_C_COMPILER_LAUNCHER=${CMAKE_C_COMPILER_LAUNCHER:-ccache}

# The tracked files as they are in the working tree (uncommitted edits
# included). Only files that differ are copied, with a fresh mtime, so that
# ninja rebuilds what the previous mutation changed and nothing else.
sync_tree() {
  mkdir -p "$src"
  (cd "$root" && git ls-files -z --cached --others --exclude-standard) |
    while IFS= read -r -d '' file; do
      [ -f "$root/$file" ] || continue
      if ! cmp -s "$root/$file" "$src/$file"; then
        mkdir -p "$(dirname "$src/$file")"
        cp "$root/$file" "$src/$file"
      fi
    done
}

if [ $# -gt 0 ]; then
  patches=()
  for name in "$@"; do patches+=("$here/$name.patch"); done
else
  patches=("$here"/*.patch)
fi

failed=0
summary=""
for patch in "${patches[@]}"; do
  name=$(basename "$patch" .patch)
  variant=$(sed -n 's/^# variant: //p' "$patch")
  filter=$(sed -n 's/^# filter: //p' "$patch")
  binary=$(sed -n 's/^# binary: //p' "$patch")
  binary=${binary:-tilefuse_emu_sm90_tests}
  sync_tree
  if ! patch -s -p1 -d "$src" < "$patch"; then
    summary+="$name: NOT CAUGHT (the patch no longer applies)"$'\n'
    failed=1
    continue
  fi
  cmake -S "$src" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_C_COMPILER=clang-19 \
    -DCMAKE_CXX_COMPILER=clang++-19 -DCUDAToolkit_ROOT=/usr/local/cuda "-DTILEFUSE_EMU_SM90_ONLY=$variant" >/dev/null
  if ! ninja -C "$build" -j"$jobs" "$binary" > "$build/mutation_$name.build.log" 2>&1; then
    summary+="$name: NOT CAUGHT (does not build; see $build/mutation_$name.build.log)"$'\n'
    failed=1
    continue
  fi
  log=$build/mutation_$name.test.log
  if "$build/tests/emu/$binary" "--gtest_filter=$filter" > "$log" 2>&1; then
    summary+="$name: NOT CAUGHT (every case of $variant passed; $log)"$'\n'
    failed=1
  else
    cases=$(grep '^\[  FAILED  \] Sm90' "$log" | sed 's/, where.*//' | sort -u | wc -l)
    first=$(grep -m1 '^\[  FAILED  \] Sm90' "$log" | sed 's/^\[  FAILED  \] //; s/, where.*//')
    why=$(grep -m1 -E 'emulator: |was never written|reference is|relative Frobenius' "$log" | sed 's/^ *//' | cut -c1-300)
    summary+="$name: CAUGHT by $cases cases of $variant, e.g. $first: $why"$'\n'
  fi
done
sync_tree  # leave the scratch tree unpatched
printf '%s' "$summary"
exit $failed
