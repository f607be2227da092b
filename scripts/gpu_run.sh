#!/usr/bin/env bash
# The fused-GEMM GPU checks and benchmark (issue 4), in two halves:
#
#   scripts/gpu_run.sh build
#       HERE (the development machine, no GPU needed): configures and builds
#       build-gemm/ (Release, MLIR/LLVM linked statically) and packs the
#       binaries with the one shared library the GPU machine may lack
#       (libxxhash) into build-gemm/gpu-bundle.tar.gz (~15 MB).
#
#   scripts/gpu_run.sh run [check] [backward] [bench-backward] [memcheck] [racecheck] [sass] [ncu] [bench] [bench-quick] [tune]
#                          (default: check memcheck bench)
#                          [peers] [peers-quick] [peers-compile] [examples]
#       THERE (the device machine): unpacks the bundle and runs
#         check     tilefuse_gpu_gemm_check, every case incl. 4096³ and 8192x14336x4096
#         memcheck  compute-sanitizer --tool memcheck on the small-shape cases
#         racecheck compute-sanitizer --tool racecheck on the small forced sm_90a cases
#         sass      (after check) HGMMA / UTMALDG / USETMAXREG counts, no LDL/STL, per sm_90a cubin
#         ncu       tensor-pipe (GMMA) utilisation of the fused kernel at 4096³
#       On an H100/H200 the kernels use the sm_90a path (templates/tilefuse/gemm_sm90.cuh):
#         scripts/gpu_run.sh run check memcheck racecheck sass ncu
#         bench     tilefuse_bench_gemm (all shapes; bench-quick: a few)
#       and writes under $OUT (at most 8 files come back):
#         gpu_run.log        everything printed, with the nvidia-smi line first
#         nvidia-smi.txt     name, driver, memory, clocks
#         check/results.json check/gemm_check.log
#         memcheck.log
#         bench/results.json bench.log
#       Exit status: 0 when every step passed; 1 otherwise (a skipped step
#       — no GPU, or compute-sanitizer unsupported there — is a failure here,
#       since on the device machine it must run).
#
# Through the device tool (one command of at most 10 minutes each; the
# bundle is an ignored build output, so it must be carried):
#   run(command="scripts/gpu_run.sh run check memcheck",
#       carry=["build-gemm/gpu-bundle.tar.gz"], timeout_s=600)
#   run(command="scripts/gpu_run.sh run bench",
#       carry=["build-gemm/gpu-bundle.tar.gz"], timeout_s=600)
# The binaries need libnvrtc.so.13, libnvrtc-builtins and libcublas(Lt).so.13
# from CUDA 13.0, which the device image has under /usr/local/cuda; the CUDA
# driver is loaded at run time (dlopen), never linked.
# Then commit the results: bench/results/<gpu>-<date>/results.json and the
# numbers in docs/performance.md ("GEMM (sm_80 path)").
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BUILD=${TILEFUSE_GEMM_BUILD:-build-gemm}
BUNDLE=$BUILD/gpu-bundle.tar.gz

build() {
  cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_C_COMPILER=clang-19 \
    -DCMAKE_CXX_COMPILER=clang++-19 -DCUDAToolkit_ROOT=/usr/local/cuda >/dev/null
  ninja -C "$BUILD" -j"$(nproc)" tilefuse_gpu_gemm_check tilefuse_gpu_backward_check tilefuse_bench_gemm tilefuse_bench_backward tilefuse_tune_bench \
    example_03_swiglu_ffn example_05_cuda_graph
  local stage
  stage=$(mktemp -d)
  cp "$BUILD/tests/gpu/tilefuse_gpu_gemm_check" "$BUILD/tests/gpu/tilefuse_gpu_backward_check" "$BUILD/bench/gemm/tilefuse_bench_gemm" \
    "$BUILD/bench/backward/tilefuse_bench_backward" \
    "$BUILD/bench/tune/tilefuse_tune_bench" "$stage/"
  cp "$BUILD"/examples/example_0[35]_* "$stage/" && strip "$stage"/example_*  # issue 7: the examples' GPU path
  strip "$stage"/tilefuse_*
  # Shared libraries the binaries need besides CUDA's and the C/C++ runtime.
  for lib in $(ldd "$stage/tilefuse_bench_gemm" | awk '/libxxhash/ {print $3}'); do
    cp -L "$lib" "$stage/"
  done
  tar -C "$stage" -czf "$BUNDLE" .
  rm -rf "$stage"
  echo "bundle: $BUNDLE ($(du -h "$BUNDLE" | cut -f1)); carry it to the device machine (see the header)"
}

run() {
  local steps=("$@")
  [ ${#steps[@]} -eq 0 ] && steps=(check memcheck bench)
  : "${OUT:?run on the device machine: \$OUT must name the output directory}"
  mkdir -p "$OUT"
  exec > >(tee "$OUT/gpu_run.log") 2>&1
  nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm,clocks.max.mem \
    --format=csv,noheader | tee "$OUT/nvidia-smi.txt" || echo "nvidia-smi failed"
  [ -f "$BUNDLE" ] || { echo "error: $BUNDLE is missing: run 'scripts/gpu_run.sh build' here and carry it"; exit 1; }
  local bin
  bin=$(mktemp -d)
  tar -C "$bin" -xzf "$BUNDLE"
  export LD_LIBRARY_PATH="$bin:/usr/local/cuda/lib64:/usr/local/cuda/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  export TILEFUSE_CACHE_DIR=${TILEFUSE_CACHE_DIR:-/tmp/tilefuse-cache}
  local status=0
  for step in "${steps[@]}"; do
    echo "==== $step ($(date -u +%H:%M:%S))"
    case $step in
      check)
        "$bin/tilefuse_gpu_gemm_check" --out "$OUT/check" || { echo "check: FAILED (exit $?)"; status=1; } ;;
      backward)  # issue 8: the backward GEMM against float64
        "$bin/tilefuse_gpu_backward_check" || { echo "backward: FAILED (exit $?)"; status=1; } ;;
      bench-backward)  # issue 8: vs cuBLAS + element-wise backward and cuBLASLt DGELU (gelu_tanh)
        "$bin/tilefuse_bench_backward" --out "$OUT/backward_bench.json" ||
          { echo "bench-backward: FAILED (exit $?)"; status=1; } ;;
      memcheck)
        # Small shapes only: memcheck slows every access down by orders of magnitude.
        if compute-sanitizer --tool memcheck --error-exitcode 86 --leak-check no \
             "$bin/tilefuse_gpu_gemm_check" --quick --out /tmp/tilefuse-memcheck >"$OUT/memcheck.log" 2>&1; then
          echo "memcheck: no errors ($(grep -c '^ok' "$OUT/memcheck.log") cases ran)"
        else
          echo "memcheck: FAILED (see memcheck.log)"; tail -n 30 "$OUT/memcheck.log"; status=1
          grep -q "Device not supported" "$OUT/memcheck.log" &&
            echo "memcheck: compute-sanitizer does not support this machine (gVisor?): not a kernel error, rerun elsewhere"
        fi ;;
      bench|bench-quick)
        local quick=()
        [ "$step" = bench-quick ] && quick=(--quick)
        "$bin/tilefuse_bench_gemm" --out "$OUT/bench" "${quick[@]}" >"$OUT/bench.log" 2>&1 ||
          { echo "bench: FAILED (exit $?)"; status=1; }
        tail -n 5 "$OUT/bench.log" ;;
      tune)
        # Issue 5: tune one (expression, shape), then time the whole space (tuning.json).
        "$bin/tilefuse_tune_bench" --shape 4096x4096x4096 --out "$OUT" >"$OUT/tune.log" 2>&1 ||
          { echo "tune: FAILED (exit $?)"; status=1; }
        tail -n 5 "$OUT/tune.log" ;;
      peers|peers-quick|peers-compile)
        # Issue 7: tilefuse vs cuBLAS(Lt), torch eager/compile and Triton in one run
        # (bench/peers/run_on_device.sh); $OUT/peers/: results.json, table.md, tflops.png, ratios.png.
        local size=full mode=
        [ "$step" = peers-quick ] && size=quick
        [ "$step" = peers-compile ] && size=quick mode=compile
        bench/peers/run_on_device.sh "$bin" "$OUT/peers" $size $mode >"$OUT/peers.log" 2>&1 ||
          { echo "$step: FAILED (exit $?)"; status=1; }
        tail -n 60 "$OUT/peers.log" ;;
      examples)
        # Issue 7: the examples that launch on a GPU (a skip message here is a failure).
        for example in "$bin"/example_*; do
          if "$example" >"$OUT/$(basename "$example").log" 2>&1 && ! grep -q "no GPU" "$OUT/$(basename "$example").log"; then
            echo "$(basename "$example"): ok"
          else
            echo "$(basename "$example"): FAILED"; tail -n 20 "$OUT/$(basename "$example").log"; status=1
          fi
        done ;;
      racecheck)
        # Issue 6: shared-memory hazards of the warp-specialized sm_90a kernel
        # (and the sm_80 one elsewhere) on the small forced-schedule cases.
        if compute-sanitizer --tool racecheck --racecheck-report all --error-exitcode 86 \
             "$bin/tilefuse_gpu_gemm_check" --quick --filter "${RACECHECK_FILTER:-_sm90_}" \
             --out /tmp/tilefuse-racecheck >"$OUT/racecheck.log" 2>&1; then
          echo "racecheck: no hazards ($(grep -c '^ok' "$OUT/racecheck.log") cases ran)"
        else
          echo "racecheck: FAILED (see racecheck.log)"; tail -n 30 "$OUT/racecheck.log"; status=1
        fi ;;
      sass)
        # Issue 6: the sm_90a kernels in the cache (run 'check' first) use HGMMA
        # and TMA (UTMALDG), reallocate registers (USETMAXREG) and touch no
        # local memory (LDL/STL). One line per cached cubin.
        local found=0
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
          echo "$(basename "$entry"): HGMMA $hgmma UTMALDG $tma USETMAXREG $setmax LDL/STL $local_mem" | tee -a "$OUT/sass.txt"
          if [ "$hgmma" -eq 0 ] || [ "$tma" -eq 0 ] || [ "$setmax" -eq 0 ] || [ "$local_mem" -ne 0 ]; then status=1; fi
        done
        [ $found -gt 0 ] || { echo "sass: no sm_90a cubin in $TILEFUSE_CACHE_DIR (run the check step first)"; status=1; } ;;
      ncu)
        # Issue 6: tensor-pipe utilisation of the fused kernel on one large shape.
        ncu --kernel-name tf_gemm --launch-count 1 \
          --metrics sm__pipe_tensor_op_gmma_cycles_active.avg.pct_of_peak_sustained_active,sm__throughput.avg.pct_of_peak_sustained_elapsed,dram__throughput.avg.pct_of_peak_sustained_elapsed,gpu__time_duration.sum \
          "$bin/tilefuse_gpu_gemm_check" --filter "${NCU_FILTER:-gelu_bf16_4096x4096x4096}" --out /tmp/tilefuse-ncu \
          >"$OUT/ncu.log" 2>&1 || { echo "ncu: FAILED (exit $?)"; status=1; }
        grep -E "gmma|throughput|duration" "$OUT/ncu.log" | tail -n 8 ;;
      *) echo "unknown step '$step' (check, backward, bench-backward, memcheck, racecheck, sass, ncu, bench, bench-quick, tune, peers, peers-quick, peers-compile, examples)"; status=1 ;;
    esac
  done
  echo "==== done: $([ $status -eq 0 ] && echo all steps passed || echo some steps FAILED)"
  exit $status
}

case ${1:-} in
  build) build ;;
  run) shift; run "$@" ;;
  *) sed -n '2,/^set -euo/p' "$0" | sed '$d'; exit 2 ;;
esac
