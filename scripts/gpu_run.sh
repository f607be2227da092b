#!/usr/bin/env bash
# The fused-GEMM GPU checks and benchmarks (issues 4-8, 13), in two halves:
#
#   scripts/gpu_run.sh build
#       HERE (the development machine, no GPU needed): configures and builds
#       build-gemm/ (Release, MLIR/LLVM linked statically) and packs the
#       binaries (the tilefuse CLI for `doctor`, the GPU harnesses, the
#       benchmarks, examples 03 and 05) with the one shared library the GPU
#       machine may lack (libxxhash) into build-gemm/gpu-bundle.tar.gz
#       (42.9 MB = 40.9 MiB on 2026-12-06, of which the CLI is ~19 MB: it links the
#       CPU JIT; the working tree adds 1.6 MB; the device tool carries at most 64 MiB;
#       with issue 15's tilefuse_bench_moe and example_06_moe_ffn: 50.3 MB = 48.0 MiB,
#       measured here on 2026-12-06 with `scripts/gpu_run.sh build`).
#       tilefuse_bench_fp8 (issue 16) adds ~3.5 MB: 10.5 MB stripped, 3.55 MB gzipped
#       alone; the whole bundle with it is re-measured by `scripts/gpu_run.sh build`).
#
#   scripts/gpu_run.sh run [step ...]        (default: first-contact check memcheck)
#       THERE (the device machine): unpacks the bundle, then runs each step
#       under timeout(1) with its limit (step_limit below; STEP_LIMIT_<step>,
#       dashes as underscores, overrides): a step past its limit is killed
#       with its children, counts as failed, and the next step runs.
#         first-contact  (<= 3 min) tilefuse doctor --require-gpu (versions,
#                   device, cache, a checked GEMM on every kernel path); the
#                   smoke subset (SMOKE_FILTER: plain, col-major B, bias +
#                   residual + aux, gated, 1x1x1, the forced ping-pong and
#                   cooperative sm_90a schedules) on every kernel path with
#                   TILEFUSE_WATCHDOG=1 (a stuck mbarrier wait prints block,
#                   warp, role, stage and parity and traps); racecheck on one
#                   small sm_90a case (RACECHECK_ONE, default gelu_pingpong_sm90)
#         doctor    tilefuse doctor alone
#         check     tilefuse_gpu_gemm_check, every case incl. 4096^3 and 8192x14336x4096
#         memcheck  compute-sanitizer --tool memcheck on the small-shape cases
#         racecheck compute-sanitizer --tool racecheck on the small forced sm_90a cases
#         sass      (after check) HGMMA / UTMALDG / USETMAXREG counts, no LDL/STL, per sm_90a cubin
#         ncu       tensor-pipe (GMMA) utilisation of the fused kernel at 4096^3,
#                   --clock-control none (the card's own clocks; never lock them)
#         bench     tilefuse_bench_gemm (all shapes); bench-quick: 3 shapes
#         backward, bench-backward, tune, examples, peers, peers-compile: see step()
#         peers-quick  bench/peers/run_on_device.sh quick (tilefuse_bench_gemm
#                   --quick again, warm cache, then torch eager + Triton with
#                   PEERS_BUDGET_S, default 75 s here)
#         moe-quick  issue 15: grouped (MoE) GEMMs, tilefuse_bench_moe --quick (Qwen3
#                   at 1024 tokens balanced + skewed, Mixtral at 8192 balanced: grouped,
#                   per-expert launches, dense cuBLAS), then moe_peers.py
#                   (torch._grouped_mm + silu·mul, Triton grouped) on the same
#                   group sizes with MOE_BUDGET_S (default 30 s), then moe_report.py
#                   (moe/results.json, moe/table.md); moe: every model x 128/1024/8192
#                   tokens x both routings
#         fp8       (issue 16) tilefuse_bench_fp8 (FP8 GEMM + activation vs
#                   cuBLASLt FP8 plain / + activation / GELU epilogue; tensor,
#                   row and 128-block scaling; e4m3 output with amax) and
#                   bench/peers/fp8_peers.py (torch._scaled_mm + activation),
#                   merged by report.py into fp8/: all shapes; fp8-quick: 3
#                   shapes, gelu and gelu_tanh, the C++ part at most 45 s, the
#                   torch part starting nothing new after 25 s
#       Output under $OUT (the device tool brings back at most 8 files):
#         gpu_run.log     everything printed (nvidia-smi first), written live
#         steps.tsv       one line per finished step: step, exit (124: timed
#                         out), seconds, limit
#         results.tar.gz  every file the steps wrote (check/results.json,
#                         check/results.jsonl, check/gemm_check.log, doctor.json,
#                         first-contact/..., memcheck.log, bench/results.json,
#                         peers/..., nvidia-smi.txt), repacked after each step
#       The harness appends each finished case to results.jsonl (flushed) and
#       logs "run <case>" before it starts, so a step killed by its limit
#       keeps its finished cases and names the one that hung.
#       Exit status: 0 when every step passed; 1 otherwise (a skipped step —
#       no GPU, or compute-sanitizer unsupported there — and a timed-out one
#       too, since on the device machine they must run).
#
# The device plan: 15 minutes of device time in all, machine start (1-2 min)
# included; two calls on one machine (the second within the 30 s it stays
# warm), then give_back. The bundle is an ignored build output: carry it.
#   call 1 (expected ~3-4.5 min, <= 6 min; limits sum to 9.5 min):
#     run(command="scripts/gpu_run.sh run first-contact check memcheck",
#         carry=["build-gemm/gpu-bundle.tar.gz"], timeout_s=600)
#   call 2 (expected ~5 min, <= 7 min; limits sum to 7.6 min): the grouped and FP8
#   kernels' first launches (each bench checks its outputs on sampled elements
#   against float64 before timing) come first, then the dense benches:
#     run(command="scripts/gpu_run.sh run moe-quick fp8-quick bench-quick peers-quick",
#         carry=["build-gemm/gpu-bundle.tar.gz"], timeout_s=460)
# Expected durations, step by step (measured 2026-12-06 on the 2-core x86-64
# development machine without a GPU, or derived as said; NVRTC compiles run
# in parallel on the device machine's 16 cores, one kernel ~0.3 s each):
#   here      `scripts/gpu_run.sh build`: 5 min 12 s wall (101 s CPU), ccache
#             53 % hits after the lead's full build, load ~11 on 2 cores (a cold
#             ccache takes far longer: build it before the lease, never in it)
#   unpack    tar -xzf of the bundle: 2.4 s wall (0.8 s CPU) here
#   NVRTC     `tilefuse_gpu_gemm_check --compile-only sm_90a` (sequential) here:
#             full set 61 cases -> 56 distinct kernels, 20.4 s CPU (0.36 s per
#             kernel); the smoke subset 8 cases, 2.1 s CPU, with
#             TILEFUSE_WATCHDOG=1 2.3 s (+13 %). The harness compiles on every
#             core; with issue 13 item 2 (the mma.sync sm_90 kernel beside sm_90a
#             for every forward case) the counts roughly double.
#   call 1  first-contact  doctor x2 (1 kernel each, memory cache) + smoke (8
#                          cases, ~7 kernels; ~13 with item 2) + racecheck (1
#                          kernel): compiles ~3 s, sanitizer start and the
#                          instrumented kernel ~20-40 s (estimate): ~0.5-1 min (limit 3)
#           check          56 kernels (~110 with item 2) / 16 cores ~2-3 s; the 8
#                          large cases' random fill, upload and sampled float64
#                          check ~3-5 s each (x2 with item 2): ~1-1.5 min (limit 4)
#           memcheck       53 quick cases, kernels from check's disk cache (0
#                          compiles), memcheck's slow-down: ~1-2 min (limit 2.5)
#   call 2  bench-quick    3 shapes x 7 activations: ~31 compiles one after
#                          another ~11 s, timing and L2 flushes: ~1 min (limit 1.7)
#           peers-quick    tilefuse_bench_gemm --quick again (warm cache), torch
#                          eager + Triton with PEERS_BUDGET_S=75, report: ~2-2.5
#                          min (limit 2.75)
#           moe-quick      (estimate) 3 cases: weights <= 2.8 GB filled on the device,
#                          4 grouped + 2-4 dense kernels compiled (~0.3 s each), per
#                          case 6 timed stages x 13 runs; the per-expert peer is 2 x E
#                          launches per run (Qwen3: 256): ~30 s; moe_peers.py: torch
#                          import ~10 s, Triton autotune of 6 configs x 2 kernels x 3
#                          cases ~20-30 s, capped by MOE_BUDGET_S=30: ~1-1.3 min (limit 1.5)
#           fp8-quick      (estimate, not yet measured) tilefuse_bench_fp8 --quick:
#                          its 24 variant x shape pairs are 8 kernels, compiled
#                          up front on every core (here, 2 cores: 6.5 s; there
#                          ~1-2 s), cuBLASLt heuristics, ~80 timed measurements
#                          of < 1 ms kernels and their sampled checks ~1 s per
#                          shape; fp8_peers.py --quick (torch import + CUDA
#                          start ~10 s, PEERS_BUDGET_S=25): ~30-45 s (limit 100 s)
#   total   start 1-2 + call 1 ~4 + call 2 ~4.5 + transfers and 30 s idle: ~11.5-13.5 of 15 min
#           (call 1 past 7 min, a step timed out: make call 2 `run bench-quick`
#           alone, or give the machine back and read steps.tsv first; call 1
#           past 6 min: drop fp8-quick from call 2, timeout_s=330)
# Later leases (each <= 10 min): `run racecheck sass ncu`, `run bench`,
# `run peers`, `run peers-compile`, `run backward bench-backward tune examples`, `run moe`,
# `run fp8`.
# The binaries need libnvrtc.so.13, libnvrtc-builtins and libcublas(Lt).so.13
# from CUDA 13.0, which the device image has under /usr/local/cuda; the CUDA
# driver is loaded at run time (dlopen), never linked.
# Then commit the results: bench/results/<gpu>-<date>/ (unpack results.tar.gz)
# and the numbers in docs/performance.md.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BUILD=${TILEFUSE_GEMM_BUILD:-build-gemm}
BUNDLE=$BUILD/gpu-bundle.tar.gz

build() {
  cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_C_COMPILER=clang-19 \
    -DCMAKE_CXX_COMPILER=clang++-19 -DCUDAToolkit_ROOT=/usr/local/cuda >/dev/null
  ninja -C "$BUILD" -j"$(nproc)" tilefuse_cli tilefuse_gpu_gemm_check tilefuse_gpu_backward_check tilefuse_bench_gemm tilefuse_bench_backward tilefuse_tune_bench \
    tilefuse_bench_moe tilefuse_bench_fp8 example_03_swiglu_ffn example_05_cuda_graph example_06_moe_ffn
  local stage
  stage=$(mktemp -d)
  cp "$BUILD/tools/tilefuse/tilefuse" "$BUILD/tests/gpu/tilefuse_gpu_gemm_check" "$BUILD/tests/gpu/tilefuse_gpu_backward_check" "$BUILD/bench/gemm/tilefuse_bench_gemm" \
    "$BUILD/bench/backward/tilefuse_bench_backward" \
    "$BUILD/bench/tune/tilefuse_tune_bench" "$BUILD/bench/moe/tilefuse_bench_moe" "$BUILD/bench/fp8/tilefuse_bench_fp8" "$stage/"
  cp "$BUILD"/examples/example_0[356]_* "$stage/" && strip "$stage"/example_*  # issues 7, 15: the examples' GPU path
  strip "$stage"/tilefuse "$stage"/tilefuse_*
  # Shared libraries the binaries need besides CUDA's and the C/C++ runtime.
  for lib in $(ldd "$stage/tilefuse_bench_gemm" | awk '/libxxhash/ {print $3}'); do
    cp -L "$lib" "$stage/"
  done
  tar -C "$stage" -czf "$BUNDLE" .
  rm -rf "$stage"
  echo "bundle: $BUNDLE ($(du -h "$BUNDLE" | cut -f1)); carry it to the device machine (see the header)"
}

# Per-step wall-clock limits (seconds), enforced with timeout(1) around each
# step; a step past its limit is killed (with its child processes) and counts
# as failed, and the next step runs. Override one with STEP_LIMIT_<step>, the
# dashes as underscores (STEP_LIMIT_first_contact=240).
step_limit() {
  local name=STEP_LIMIT_${1//-/_}
  if [ -n "${!name:-}" ]; then echo "${!name}"; return; fi
  case $1 in
    first-contact) echo 180 ;;
    doctor) echo 60 ;;
    check) echo 240 ;;
    memcheck) echo 150 ;;
    racecheck) echo 150 ;;
    bench-quick) echo 100 ;;
    peers-quick) echo 165 ;;
    moe-quick) echo 90 ;;
    fp8-quick) echo 100 ;;
    peers-compile) echo 560 ;;
    sass) echo 60 ;;
    ncu) echo 120 ;;
    *) echo 560 ;;  # bench, peers, tune, backward, bench-backward, examples: one call each
  esac
}

# first-contact's smoke subset (--quick names, comma-separated substrings):
# plain, column-major B, bias + residual + aux, gated, the smallest problem,
# and the forced ping-pong and cooperative sm_90a schedules.
SMOKE_FILTER=${SMOKE_FILTER:-builtin_gelu_127,silu_colB_bf16,gelu_bias_residual_aux_bf16,swiglu_two_weights_bf16,gelu_bf16_1x1x1,gelu_pingpong_sm90,silu_coop_colB_sm90,swiglu_coop_gated_sm90}

# One step, in a process of its own (run() starts it under timeout). Writes
# under $RUN_DIR; returns non-zero when the step failed.
step() {
  local bin=${BIN_DIR:-}
  case $1 in
    first-contact)
      # ≤ 3 min: is the machine sane, does each kernel path give right
      # results, and does a hang become a message instead of a lost lease?
      local status=0
      echo "-- doctor (versions, device, cache, a checked GEMM on every kernel path)"
      timeout -k 5 30 "$bin/tilefuse" doctor --require-gpu --json >"$RUN_DIR/doctor.json" || status=1
      timeout -k 5 30 "$bin/tilefuse" doctor --require-gpu 2>&1 | tee "$RUN_DIR/doctor.txt" || status=1
      echo "-- smoke subset with the watchdog (TILEFUSE_WATCHDOG=1: a stuck mbarrier wait prints and traps)"
      TILEFUSE_WATCHDOG=1 timeout -k 5 60 "$bin/tilefuse_gpu_gemm_check" --quick --filter "$SMOKE_FILTER" \
        --out "$RUN_DIR/first-contact" || { echo "smoke: FAILED (exit $?)"; status=1; }
      echo "-- racecheck on one small sm_90a case"
      if timeout -k 5 60 compute-sanitizer --tool racecheck --racecheck-report all --error-exitcode 86 \
           "$bin/tilefuse_gpu_gemm_check" --quick --filter "${RACECHECK_ONE:-gelu_pingpong_sm90}" \
           --out "$RUN_DIR/first-contact-racecheck" >"$RUN_DIR/first-contact-racecheck.log" 2>&1; then
        echo "racecheck: no hazards ($(grep -c '^ok' "$RUN_DIR/first-contact-racecheck.log") cases ran)"
      else
        echo "racecheck: FAILED (exit $?)"; tail -n 20 "$RUN_DIR/first-contact-racecheck.log"; status=1
      fi
      return $status ;;
    doctor)
      "$bin/tilefuse" doctor --require-gpu 2>&1 | tee "$RUN_DIR/doctor.txt" ;;
    check)
      "$bin/tilefuse_gpu_gemm_check" --out "$RUN_DIR/check" ;;
    backward)  # issue 8: the backward GEMM against float64
      "$bin/tilefuse_gpu_backward_check" ;;
    bench-backward)  # issue 8: vs cuBLAS + element-wise backward and cuBLASLt DGELU (gelu_tanh)
      "$bin/tilefuse_bench_backward" --out "$RUN_DIR/backward_bench.json" ;;
    memcheck)
      # Small shapes only: memcheck slows every access down by orders of magnitude.
      if compute-sanitizer --tool memcheck --error-exitcode 86 --leak-check no \
           "$bin/tilefuse_gpu_gemm_check" --quick --out "$RUN_DIR/memcheck" >"$RUN_DIR/memcheck.log" 2>&1; then
        echo "memcheck: no errors ($(grep -c '^ok' "$RUN_DIR/memcheck.log") cases ran)"
      else
        echo "memcheck: FAILED (see memcheck.log)"; tail -n 30 "$RUN_DIR/memcheck.log"
        grep -q "Device not supported" "$RUN_DIR/memcheck.log" &&
          echo "memcheck: compute-sanitizer does not support this machine (gVisor?): not a kernel error, rerun elsewhere"
        return 1
      fi ;;
    racecheck)
      # Issue 6: shared-memory hazards of the warp-specialized sm_90a kernel
      # (and the sm_80 one elsewhere) on the small forced-schedule cases.
      if compute-sanitizer --tool racecheck --racecheck-report all --error-exitcode 86 \
           "$bin/tilefuse_gpu_gemm_check" --quick --filter "${RACECHECK_FILTER:-_sm90_}" \
           --out "$RUN_DIR/racecheck" >"$RUN_DIR/racecheck.log" 2>&1; then
        echo "racecheck: no hazards ($(grep -c '^ok' "$RUN_DIR/racecheck.log") cases ran)"
      else
        echo "racecheck: FAILED (see racecheck.log)"; tail -n 30 "$RUN_DIR/racecheck.log"; return 1
      fi ;;
    bench|bench-quick)
      local quick=()
      [ "$1" = bench-quick ] && quick=(--quick)
      local rc=0
      "$bin/tilefuse_bench_gemm" --out "$RUN_DIR/bench" "${quick[@]}" >"$RUN_DIR/bench.log" 2>&1 || rc=$?
      tail -n 5 "$RUN_DIR/bench.log"
      return $rc ;;
    tune)
      # Issue 5: tune one (expression, shape), then time the whole space (tuning.json).
      local rc=0
      "$bin/tilefuse_tune_bench" --shape 4096x4096x4096 --out "$RUN_DIR" >"$RUN_DIR/tune.log" 2>&1 || rc=$?
      tail -n 5 "$RUN_DIR/tune.log"
      return $rc ;;
    peers|peers-quick|peers-compile)
      # Issue 7: tilefuse vs cuBLAS(Lt), torch eager/compile and Triton in one run
      # (bench/peers/run_on_device.sh); peers/: results.json, table.md, tflops.png, ratios.png.
      # peers-quick runs tilefuse_bench_gemm --quick again (warm kernel cache) and
      # gives peers.py what is left of its step limit (PEERS_BUDGET_S).
      local size=full mode= rc=0
      [ "$1" = peers-quick ] && { size=quick; export PEERS_BUDGET_S=${PEERS_BUDGET_S:-75}; }
      [ "$1" = peers-compile ] && size=quick mode=compile
      bench/peers/run_on_device.sh "$bin" "$RUN_DIR/peers" $size $mode >"$RUN_DIR/peers.log" 2>&1 || rc=$?
      tail -n 60 "$RUN_DIR/peers.log"
      return $rc ;;
    moe|moe-quick)
      # Issue 15: grouped (MoE) GEMMs vs per-expert launches, dense cuBLAS,
      # torch._grouped_mm + silu·mul and a Triton grouped GEMM on the same
      # group sizes; moe/: results.json (all records merged), table.md.
      local quick=() budget=${MOE_BUDGET_S:-420} rc=0 work
      [ "$1" = moe-quick ] && { quick=(--quick); budget=${MOE_BUDGET_S:-30}; }
      work=$(mktemp -d /tmp/tilefuse-moe.XXXX)
      "$bin/tilefuse_bench_moe" "${quick[@]}" --out "$work/cpp" >"$RUN_DIR/moe.log" 2>&1 || rc=$?
      tail -n 30 "$RUN_DIR/moe.log"
      local inputs=()
      [ -f "$work/cpp/results.json" ] && inputs+=("$work/cpp/results.json")
      if [ -f "$work/cpp/results.json" ]; then
        python3 bench/peers/moe_peers.py --cases "$work/cpp/results.json" --out "$work/py" --budget-s "$budget" \
          >"$RUN_DIR/moe_peers.log" 2>&1 || { echo "moe_peers.py: FAILED or partial (exit $?)"; rc=1; }
        tail -n 20 "$RUN_DIR/moe_peers.log"
        [ -f "$work/py/moe_peers.json" ] && inputs+=("$work/py/moe_peers.json")
      fi
      if [ ${#inputs[@]} -gt 0 ]; then
        python3 bench/peers/moe_report.py "${inputs[@]}" --out "$RUN_DIR/moe" >/dev/null || { echo "moe_report.py: FAILED"; rc=1; }
        cat "$RUN_DIR/moe/table.md"
      fi
      return $rc
      ;;
    fp8|fp8-quick)
      # Issue 16: the FP8 GEMM + activation vs cuBLASLt FP8 and torch._scaled_mm
      # (bench/peers/run_on_device.sh ... fp8); fp8/: results.json, table.md.
      # Inside the step limit: tilefuse_bench_fp8 at most FP8_BENCH_LIMIT_S (quick
      # 45 s, full 300 s), then fp8_peers.py starts nothing new after PEERS_BUDGET_S.
      local size=full rc=0 budget=200
      [ "$1" = fp8-quick ] && { size=quick; budget=25; }
      export PEERS_BUDGET_S=${PEERS_BUDGET_S:-$budget}
      bench/peers/run_on_device.sh "$bin" "$RUN_DIR/fp8" $size fp8 >"$RUN_DIR/fp8.log" 2>&1 || rc=$?
      tail -n 60 "$RUN_DIR/fp8.log"
      return $rc ;;
    examples)
      # Issue 7: the examples that launch on a GPU (a skip message here is a failure).
      local status=0
      for example in "$bin"/example_*; do
        if "$example" >"$RUN_DIR/$(basename "$example").log" 2>&1 && ! grep -q "no GPU" "$RUN_DIR/$(basename "$example").log"; then
          echo "$(basename "$example"): ok"
        else
          echo "$(basename "$example"): FAILED"; tail -n 20 "$RUN_DIR/$(basename "$example").log"; status=1
        fi
      done
      return $status ;;
    sass)
      # Issue 6: the sm_90a kernels in the cache (run 'check' first) use HGMMA
      # and TMA (UTMALDG), reallocate registers (USETMAXREG) and touch no
      # local memory (LDL/STL). One line per cached cubin.
      local found=0 status=0
      for entry in "$TILEFUSE_CACHE_DIR"/*.tfk; do
        [ -f "$entry" ] || continue
        python3 - "$entry" /tmp/tilefuse-sass.cubin <<'PY' || continue
import sys
data = open(sys.argv[1], 'rb').read()
start = data.find(b'\x7fELF')
if start < 0:
    sys.exit(1)
open(sys.argv[2], 'wb').write(data[start:])
PY
        cuobjdump -sass /tmp/tilefuse-sass.cubin >/tmp/tilefuse-sass.txt 2>&1 || continue
        grep -q "arch = sm_90a" /tmp/tilefuse-sass.txt || continue
        found=$((found + 1))
        local hgmma tma setmax local_mem
        hgmma=$(grep -c HGMMA /tmp/tilefuse-sass.txt || true)
        tma=$(grep -c UTMALDG /tmp/tilefuse-sass.txt || true)
        setmax=$(grep -c USETMAXREG /tmp/tilefuse-sass.txt || true)
        local_mem=$(grep -cE "\b(LDL|STL)\b" /tmp/tilefuse-sass.txt || true)
        echo "$(basename "$entry"): HGMMA $hgmma UTMALDG $tma USETMAXREG $setmax LDL/STL $local_mem" | tee -a "$RUN_DIR/sass.txt"
        if [ "$hgmma" -eq 0 ] || [ "$tma" -eq 0 ] || [ "$setmax" -eq 0 ] || [ "$local_mem" -ne 0 ]; then status=1; fi
      done
      [ $found -gt 0 ] || { echo "sass: no sm_90a cubin in $TILEFUSE_CACHE_DIR (run the check step first)"; status=1; }
      return $status ;;
    ncu)
      # Issue 6: tensor-pipe utilisation of the fused kernel on one large shape.
      # --clock-control none: measure at the clocks the card runs at (ncu
      # otherwise locks them to base, and the lease must leave them alone).
      local rc=0
      ncu --clock-control none --kernel-name tf_gemm --launch-count 1 \
        --metrics sm__pipe_tensor_op_gmma_cycles_active.avg.pct_of_peak_sustained_active,sm__throughput.avg.pct_of_peak_sustained_elapsed,dram__throughput.avg.pct_of_peak_sustained_elapsed,gpu__time_duration.sum \
        "$bin/tilefuse_gpu_gemm_check" --filter "${NCU_FILTER:-gelu_bf16_4096x4096x4096}" --out "$RUN_DIR/ncu" \
        >"$RUN_DIR/ncu.log" 2>&1 || rc=$?
      grep -E "gmma|throughput|duration" "$RUN_DIR/ncu.log" | tail -n 8
      return $rc ;;
    *) echo "unknown step '$1' (first-contact, doctor, check, backward, bench-backward, memcheck, racecheck, sass, ncu, bench, bench-quick, tune, peers, peers-quick, peers-compile, moe, moe-quick, fp8, fp8-quick, examples)"; return 2 ;;
  esac
}

# Everything the steps wrote, as one file under $OUT (the device tool brings
# back at most 8 files): rewritten after every step, so a later hang or a
# killed call still leaves the finished steps' results.
pack_results() {
  tar -C "$RUN_DIR" -czf "$OUT/results.tar.gz.part" . && mv "$OUT/results.tar.gz.part" "$OUT/results.tar.gz"
}

run() {
  local steps=("$@")
  [ ${#steps[@]} -eq 0 ] && steps=(first-contact check memcheck)
  : "${OUT:?run on the device machine: \$OUT must name the output directory}"
  mkdir -p "$OUT"
  exec > >(tee "$OUT/gpu_run.log") 2>&1
  local t0=$SECONDS
  export BIN_DIR RUN_DIR=${TILEFUSE_RUN_DIR:-/tmp/tilefuse-run}
  mkdir -p "$RUN_DIR"
  nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm,clocks.max.mem \
    --format=csv,noheader | tee "$RUN_DIR/nvidia-smi.txt" || echo "nvidia-smi failed"
  [ -f "$BUNDLE" ] || { echo "error: $BUNDLE is missing: run 'scripts/gpu_run.sh build' here and carry it"; exit 1; }
  BIN_DIR=$(mktemp -d)
  trap 'rm -rf "$BIN_DIR"' EXIT
  tar -C "$BIN_DIR" -xzf "$BUNDLE"
  echo "unpacked the bundle in $((SECONDS - t0)) s"
  export LD_LIBRARY_PATH="$BIN_DIR:/usr/local/cuda/lib64:/usr/local/cuda/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  export TILEFUSE_CACHE_DIR=${TILEFUSE_CACHE_DIR:-/tmp/tilefuse-cache}
  export SMOKE_FILTER
  local status=0
  printf "step\texit\tseconds\tlimit\n" >"$OUT/steps.tsv"
  for name in "${steps[@]}"; do
    local limit started rc=0
    limit=$(step_limit "$name")
    started=$SECONDS
    echo "==== $name (limit ${limit} s, $(date -u +%H:%M:%S))"
    timeout -k 10 "$limit" "$ROOT/scripts/gpu_run.sh" step "$name" || rc=$?
    if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
      echo "$name: TIMED OUT after ${limit} s (killed; finished cases are in its results.jsonl)"
    elif [ $rc -ne 0 ]; then
      echo "$name: FAILED (exit $rc)"
    fi
    [ $rc -eq 0 ] || status=1
    printf "%s\t%s\t%s\t%s\n" "$name" "$rc" "$((SECONDS - started))" "$limit" >>"$OUT/steps.tsv"
    echo "==== $name: exit $rc after $((SECONDS - started)) s"
    pack_results
  done
  echo "==== done in $((SECONDS - t0)) s: $([ $status -eq 0 ] && echo all steps passed || echo some steps FAILED)"
  exit $status
}

case ${1:-} in
  build) build ;;
  run) shift; run "$@" ;;
  step) shift; step "$1" ;;  # internal: one step, started by run() under timeout
  *) sed -n '2,/^set -euo/p' "$0" | sed '$d'; exit 2 ;;
esac
