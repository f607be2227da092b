#!/usr/bin/env bash
# The issue-3 cache bar, runnable by hand:
#
#   TILEFUSE_CACHE_DIR=$(mktemp -d)
#   tilefuse compile --expr E --arch sm_80 --json    → "cache": "miss"
#   tilefuse compile --expr E --arch sm_80 --json    → "cache": "hit", compile_ms ≤ 0.1 × the first
#   overwrite every file in the cache with garbage
#   tilefuse compile --expr E --arch sm_80 --json    → succeeds, "miss", a warning on stderr
#   and spill_bytes is 0 every time.
#
# Usage: scripts/cache_bar.sh [PATH/TO/tilefuse] [EXPRESSION]
#   default binary: build/tools/tilefuse/tilefuse; default expression: the
#   sigmoid form of GELU. Prints each number; exits 1 if any condition fails,
#   2 if it cannot run at all.
set -uo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cli=${1:-$repo/build/tools/tilefuse/tilefuse}
expr=${2:-"x * sigmoid(1.702 * x)"}
if [[ ! -x $cli ]]; then
  echo "cache_bar: no tilefuse binary at $cli; build it (ninja tilefuse_cli) or pass its path" >&2
  exit 2
fi
if ! command -v python3 >/dev/null; then
  echo "cache_bar: python3 is needed to read the --json reports" >&2
  exit 2
fi

cache=$(mktemp -d "${TMPDIR:-/tmp}/tilefuse-cache-bar-XXXXXX") || exit 2
work=$(mktemp -d "${TMPDIR:-/tmp}/tilefuse-cache-bar-out-XXXXXX") || exit 2
trap 'rm -rf "$cache" "$work"' EXIT
export TILEFUSE_CACHE_DIR=$cache
unset TILEFUSE_CACHE_MAX_BYTES

failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

# compile N: runs the CLI, keeps stdout/stderr as $work/N.{json,err}.
compile() {
  "$cli" compile --expr "$expr" --arch sm_80 --json >"$work/$1.json" 2>"$work/$1.err"
  local rc=$?
  if [[ $rc -ne 0 ]]; then
    fail "call $1 exited $rc"
    sed 's/^/  stderr: /' "$work/$1.err"
  fi
  return $rc
}

# field N KEY: one value from call N's report ("" when absent or unreadable).
field() {
  python3 -c 'import json,sys
try: print(json.load(open(sys.argv[1]))[sys.argv[2]])
except Exception: print("")' "$work/$1.json" "$2"
}

echo "cache_bar: $cli, expression \"$expr\", TILEFUSE_CACHE_DIR=$cache"
for call in 1 2; do compile $call; done
cold_ms=$(field 1 compile_ms); warm_ms=$(field 2 compile_ms)
echo "call 1: cache=$(field 1 cache) compile_ms=$cold_ms spill_bytes=$(field 1 spill_bytes) registers=$(field 1 registers)"
echo "call 2: cache=$(field 2 cache) compile_ms=$warm_ms spill_bytes=$(field 2 spill_bytes)"
[[ $(field 1 cache) == miss ]] || fail "call 1 should be a miss"
[[ $(field 2 cache) == hit ]] || fail "call 2 should be a hit"
ratio=$(python3 -c 'import sys
try: print(f"{float(sys.argv[2]) / float(sys.argv[1]):.4f}")
except Exception: print("")' "$cold_ms" "$warm_ms")
echo "warm/cold = ${ratio:-?} (bar: <= 0.1)"
python3 -c 'import sys; sys.exit(0 if sys.argv[1] and float(sys.argv[1]) <= 0.1 else 1)' "$ratio" ||
  fail "warm/cold ratio ${ratio:-?} is above 0.1"

files=0
for f in "$cache"/* "$cache"/.[!.]*; do
  [[ -f $f ]] || continue
  printf 'garbage, not a tilefuse cache entry\n' >"$f"
  files=$((files + 1))
done
echo "overwrote $files cache files with garbage"
[[ $files -gt 0 ]] || fail "the first compile left no file in the cache directory"

compile 3
echo "call 3: cache=$(field 3 cache) compile_ms=$(field 3 compile_ms) spill_bytes=$(field 3 spill_bytes)"
[[ $(field 3 cache) == miss ]] || fail "call 3 (after the garbage) should be a miss"
if grep -q "warning" "$work/3.err"; then
  sed 's/^/  stderr: /' "$work/3.err"
else
  fail "call 3 printed no warning about the bad entry"
fi

for call in 1 2 3; do
  [[ $(field $call spill_bytes) == 0 ]] || fail "call $call: spill_bytes is '$(field $call spill_bytes)', not 0"
done

if [[ $failures -eq 0 ]]; then
  echo "cache_bar: PASS"
  exit 0
fi
echo "cache_bar: $failures condition(s) failed"
exit 1
