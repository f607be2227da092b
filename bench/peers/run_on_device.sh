#!/usr/bin/env bash
# Issue 7's peer benchmark on the device machine, called by scripts/gpu_run.sh
# (steps peers, peers-quick, peers-compile) with the unpacked bundle:
#
#   bench/peers/run_on_device.sh <bundle dir> <out dir> quick|full [compile|fp8]
#
#   1. tilefuse_bench_gemm: tilefuse, cublas, cublas+act, cublaslt_epilogue,
#      host launch overhead, first-call (JIT) cold/warm
#   2. peers.py: torch_eager and triton (fused matmul, dual-GEMM for gated),
#      Triton launch overhead and JIT; with "compile": torch_compile only
#      (max-autotune takes minutes per shape, so it gets its own 10-minute call)
#   3. report.py: <out>/results.json (all records merged), table.md,
#      tflops.png, ratios.png
# With "fp8" (issue 16): tilefuse_bench_fp8 (tilefuse, cuBLASLt FP8 plain,
# + activation, GELU epilogue) and fp8_peers.py (torch._scaled_mm + activation)
# instead, then report.py (table.md's FP8 section; no plots). FP8_BENCH_LIMIT_S
# bounds tilefuse_bench_fp8 (quick 45 s, full 300 s).
# Environment: PEERS_ACTIVATIONS (comma list, 'mish' = the custom one) limits
# the activations of steps 1 and 2; PEERS_BUDGET_S (default 420) stops peers.py
# from starting new measurements so that the call ends inside its 10 minutes
# (what was skipped is listed in the JSON and the log).
# Intermediate JSON files stay in /tmp (the device tool brings back at most 8
# files from $OUT); the merged results.json holds every record.
# Commit the four files as bench/results/<gpu>-<date>/ and the figures in
# docs/performance.md.
set -uo pipefail
bin=$1 out=$2 size=$3 mode=${4:-}
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d /tmp/tilefuse-peers.XXXX)
quick=()
[ "$size" = quick ] && quick=(--quick)
status=0
mkdir -p "$out"
export PYTHONUNBUFFERED=1
acts_py=() acts_cpp=()
if [ -n "${PEERS_ACTIVATIONS:-}" ]; then
  acts_py=(--activations "$PEERS_ACTIVATIONS")
  IFS=, read -ra names <<<"$PEERS_ACTIVATIONS"
  acts_cpp=(--activations)
  for a in "${names[@]}"; do
    [ "$a" = mish ] && a="x * tanh(softplus(x))"
    acts_cpp+=("$a")
  done
fi
budget=${PEERS_BUDGET_S:-420}
if [ "$mode" = fp8 ]; then
  # Its own time limit (FP8_BENCH_LIMIT_S; quick 45 s, full 300 s): a hung kernel
  # must leave time for the torch peers and the report (results.json is
  # rewritten after every shape, so the finished shapes are kept).
  limit=${FP8_BENCH_LIMIT_S:-$([ "$size" = quick ] && echo 45 || echo 300)}
  timeout -k 5 "$limit" "$bin/tilefuse_bench_fp8" --out "$work/fp8" "${quick[@]}" ||
    { echo "tilefuse_bench_fp8: FAILED (exit $?; 124: past its ${limit} s)"; status=1; }
  python3 "$here/fp8_peers.py" --budget-s "$budget" "${quick[@]}" --out "$work/fp8py" ||
    { echo "fp8_peers.py: FAILED (exit $?)"; status=1; }
  inputs=("$work/fp8/results.json" "$work/fp8py/fp8_peers.json")
elif [ "$mode" = compile ]; then
  # Leave ~1 minute of the call for the report.
  python3 "$here/peers.py" --impls torch_compile --no-host --budget-s "${PEERS_BUDGET_S:-480}" "${quick[@]}" \
    "${acts_py[@]}" --out "$work/py" ||
    { echo "peers.py (torch_compile): FAILED or partial (exit $?)"; status=1; }
  inputs=("$work/py/peers.json")
else
  "$bin/tilefuse_bench_gemm" --out "$work/gemm" "${quick[@]}" "${acts_cpp[@]}" || { echo "tilefuse_bench_gemm: FAILED (exit $?)"; status=1; }
  python3 "$here/peers.py" --impls torch_eager,triton --budget-s "$budget" "${quick[@]}" "${acts_py[@]}" \
    --out "$work/py" ||
    { echo "peers.py: FAILED (exit $?)"; status=1; }
  inputs=("$work/gemm/results.json" "$work/py/peers.json")
fi
existing=()
for f in "${inputs[@]}"; do [ -f "$f" ] && existing+=("$f"); done
if [ ${#existing[@]} -gt 0 ]; then
  python3 "$here/report.py" "${existing[@]}" --out "$out" $([ "$mode" = fp8 ] && echo --no-plots) ||
    { echo "report.py: FAILED (exit $?)"; status=1; }
  cat "$out/table.md"
else
  echo "no results to report"; status=1
fi
exit $status
