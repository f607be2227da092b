#!/usr/bin/env bash
# scripts/gpu_run.sh without a GPU (issue 13, item 7): the script parses; every
# step its header names (the device plan and the step list) is a step the
# script runs and has a time limit for; and, with a fake bundle whose harness
# hangs, the per-step timeout kills the step, the next step still runs, the
# step table records exit 124, and the results packed into $OUT keep what the
# hung step wrote before it hung. ~5 s (two 2-second timeouts).
set -euo pipefail
script=${1:?usage: gpu_run_plan_test.sh path/to/scripts/gpu_run.sh}
fail() { echo "FAIL: $*"; exit 1; }

bash -n "$script" || fail "bash -n: the script does not parse"

# Step names in the header: the device plan's commands
# (command="scripts/gpu_run.sh run ..."), the later leases (`run ...`) and the
# default list ("default: ...").
header=$(sed -n '2,/^set -euo/p' "$script")
named=$( { grep -oE 'gpu_run\.sh run [a-z0-9 -]+"' <<<"$header" | sed -E 's/gpu_run\.sh run //; s/"//'
           grep -oE '`run [a-z0-9 -]+`' <<<"$header" | sed -E 's/`run //; s/`//'
           grep -oE 'default: [a-z0-9 -]+\)' <<<"$header" | sed -E 's/default: //; s/\)//'; } |
         tr ' ' '\n' | sed '/^$/d' | sort -u)
[ -n "$named" ] || fail "found no 'gpu_run.sh run <steps>' line in the header"
grep -q 'run first-contact check memcheck' <<<"$header" || fail "the header lacks the plan's call 1"
grep -q 'run moe-quick fp8-quick bench-quick peers-quick' <<<"$header" || fail "the header lacks the plan's call 2"
cases=$(sed -n '/^step() {/,/^}/p' "$script" | grep -oE '^    [a-z0-9|-]+\)' | tr -d ' )' | tr '|' '\n' | sort -u)
for name in $named; do
  grep -qx -- "$name" <<<"$cases" || fail "the header names step '$name', which step() does not run"
done
echo "header names $(wc -w <<<"$named") steps, all run by the script: $(tr '\n' ' ' <<<"$named")"

# An unknown step is refused.
set +e
"$script" step no-such-step >/dev/null 2>&1
[ $? -eq 2 ] || fail "an unknown step must exit 2"
set -e

# A fake bundle: the harness writes one finished case, then hangs.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/bundle" "$work/build" "$work/out"
cat >"$work/bundle/tilefuse_gpu_gemm_check" <<'FAKE'
#!/usr/bin/env bash
while [ $# -gt 0 ]; do [ "$1" = --out ] && out=$2; shift; done
mkdir -p "$out"
echo '{"name":"finished_case","passed":true}' >"$out/results.jsonl"
echo $$ >>"$out/../hung.pid"
exec sleep 60
FAKE
chmod +x "$work/bundle/tilefuse_gpu_gemm_check"
tar -C "$work/bundle" -czf "$work/build/gpu-bundle.tar.gz" .
set +e
OUT=$work/out TILEFUSE_GEMM_BUILD=$work/build TILEFUSE_RUN_DIR=$work/run STEP_LIMIT_check=2 \
  timeout 60 "$script" run check check >"$work/log" 2>&1
rc=$?
set -e
[ $rc -eq 1 ] || { cat "$work/log"; fail "a timed-out step must make the run exit 1 (got $rc)"; }
grep -q "check: TIMED OUT after 2 s" "$work/log" || { cat "$work/log"; fail "no timeout message"; }
[ "$(grep -c $'^check\t124\t' "$work/out/steps.tsv")" -eq 2 ] ||
  { cat "$work/out/steps.tsv"; fail "steps.tsv must list both timed-out steps with exit 124"; }
tar -xzf "$work/out/results.tar.gz" -C "$work" ./check/results.jsonl ||
  fail "results.tar.gz lacks check/results.jsonl"
grep -q finished_case "$work/check/results.jsonl" || fail "the finished case was lost"
for pid in $(cat "$work/run/hung.pid"); do  # killed: gone, or a zombie not yet reaped
  state=$(ps -o stat= -p "$pid" 2>/dev/null || true)
  [ -z "$state" ] || [[ $state == Z* ]] || fail "the hung harness (pid $pid, state $state) was left running"
done
echo "PASS: per-step timeout, step table and packed partial results"
