#!/usr/bin/env python3
"""The Python peers of tilefuse, measured on one GPU the way bench/gemm measures
tilefuse and cuBLAS (same shapes, dtypes, random inputs, CUDA events, warm-up,
L2 flush, medians, every timed output checked against float64):

  torch_eager     the GEMM(s) in bf16, then the activation as separate kernels
                  (gated: two GEMMs + elementwise)
  torch_compile   torch.compile(mode="max-autotune") of the same function
  triton          a Triton matmul with the activation fused in its epilogue;
                  gated: a Triton dual-GEMM kernel; autotuned over one config list

plus host launch overhead (Triton's launcher, torch) and the cold / warm JIT of
the fused Triton kernel. Writes <out>/peers.json: {device, command, records:
[{impl, activation, M, N, K, dtype, ms, tflops, correct, rel_error}],
launch_overhead, jit, errors}, rewritten after every shape so that a run cut
off by a time limit still leaves its results. report.py merges it with
tilefuse_bench_gemm's results.json.

Needs PyTorch and Triton with a CUDA GPU (exit 77 otherwise).
  python3 bench/peers/peers.py --quick --out $OUT/peers
  python3 bench/peers/peers.py --impls torch_compile --quick --budget-s 500
"""
import argparse
import datetime
import json
import math
import os
import re
import sys
import tempfile
import time
import traceback

import workload

EXIT_SKIP = 77


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", help="output directory (default bench/results/<gpu>-<date>)")
    p.add_argument("--impls", default="torch_eager,triton,torch_compile",
                   help="comma-separated subset of torch_eager,torch_compile,triton")
    p.add_argument("--activations", default=",".join(workload.ACTIVATIONS).replace(workload.MISH_TEXT, "mish"),
                   help="comma-separated; 'mish' means the custom " + repr(workload.MISH_TEXT))
    p.add_argument("--quick", action="store_true", help="a few shapes only (as tilefuse_bench_gemm --quick)")
    p.add_argument("--shapes", help="explicit MxNxK list, comma-separated (overrides --quick)")
    p.add_argument("--dtype", default="bf16", choices=["bf16", "f16"])
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--reps", type=int, default=10)
    p.add_argument("--budget-s", type=float, default=float("inf"),
                   help="start no new measurement after this many seconds (results so far are kept)")
    p.add_argument("--no-host", action="store_true", help="skip launch overhead and JIT measurements")
    args = p.parse_args(argv)
    args.impls = [i for i in args.impls.split(",") if i]
    for impl in args.impls:
        if impl not in ("torch_eager", "torch_compile", "triton"):
            p.error(f"unknown impl {impl!r}: use torch_eager, torch_compile, triton")
    args.activations = [workload.MISH_TEXT if a == "mish" else a for a in args.activations.split(",") if a]
    for a in args.activations:
        if a not in workload.ACTIVATIONS:
            p.error(f"unknown activation {a!r}: use one of {', '.join(workload.ACTIVATIONS)} (or mish)")
    if args.shapes:
        try:
            args.shape_list = [tuple(int(v) for v in s.lower().split("x")) for s in args.shapes.split(",")]
        except ValueError:
            p.error("--shapes: expected MxNxK[,MxNxK...], e.g. 4096x14336x4096")
    else:
        args.shape_list = workload.shapes(args.quick)
    return args


def slug(text):
    return re.sub(r"[^A-Za-z0-9]", "-", text)


class Run:
    """The records so far and where they go."""

    def __init__(self, args, device, out_dir):
        self.args, self.out_dir = args, out_dir
        self.started = time.monotonic()
        self.report = {"device": device, "command": " ".join(sys.argv), "warmup": args.warmup,
                       "repetitions": args.reps, "l2_flush_bytes": 256 << 20, "records": [],
                       "launch_overhead": [], "jit": [], "errors": [], "skipped": []}

    def over_budget(self):
        return time.monotonic() - self.started > self.args.budget_s

    def save(self):
        os.makedirs(self.out_dir, exist_ok=True)
        path = os.path.join(self.out_dir, "peers.json")
        with open(path + ".tmp", "w") as f:
            json.dump(self.report, f, indent=2)
        os.replace(path + ".tmp", path)

    def error(self, what, exc):
        print(f"  error: {what}: {exc}", flush=True)
        self.report["errors"].append(f"{what}: {type(exc).__name__}: {exc}")


def bench_shape(run, torch, peers, shape):
    from timing import median_ms, relative_error, sample_rows

    m, n, k = shape
    dtype = torch.bfloat16 if run.args.dtype == "bf16" else torch.float16
    gen = torch.Generator(device="cuda").manual_seed(m * 31 + n * 7 + k)
    x = (torch.rand(m, k, device="cuda", generator=gen) * 2 - 1).to(dtype)
    w_scale = 2.0 / math.sqrt(k)
    w_gate = ((torch.rand(n, k, device="cuda", generator=gen) * 2 - 1) * w_scale).to(dtype)
    w_up = None
    rows = sample_rows(m).cuda()
    print(f"M={m} N={n} K={k} {run.args.dtype}", flush=True)
    for activation in run.args.activations:
        gated = workload.is_gated(activation)
        if gated and w_up is None:
            w_up = ((torch.rand(n, k, device="cuda", generator=gen) * 2 - 1) * w_scale).to(dtype)
        weights = [w_gate, w_up] if gated else [w_gate]
        ref = peers["torch"].reference(activation, gated, x[rows], weights)
        for impl in run.args.impls:
            if run.over_budget():
                run.report["skipped"].append(f"{impl} {activation} {m}x{n}x{k}: over the time budget")
                continue
            try:
                result, extra = {}, {}
                if impl == "triton":
                    out = torch.empty(m, n, device="cuda", dtype=dtype)
                    fused = peers["triton"].dual_matmul_act if gated else peers["triton"].matmul_act
                    out.fill_(float("nan"))

                    def launch():
                        result["out"] = fused(x, *weights, out, activation)
                elif impl == "torch_eager":
                    fn = peers["torch"].eager_fn(activation, gated)

                    def launch():
                        result["out"] = fn(x, *weights)
                else:  # torch_compile
                    torch._dynamo.reset()  # one compiled graph per (activation, shape): no recompile limit
                    for t in [x, *weights]:
                        torch._dynamo.mark_static_address(t)  # no copies into CUDA-graph inputs
                    fn = peers["torch"].compiled_fn(activation, gated)
                    start = time.monotonic()
                    fn(x, *weights)
                    torch.cuda.synchronize()
                    extra["compile_s"] = time.monotonic() - start

                    def launch():
                        torch.compiler.cudagraph_mark_step_begin()
                        result["out"] = fn(x, *weights)
                ms = median_ms(launch, run.args.warmup, run.args.reps)
                err = relative_error(result["out"][rows], ref)
                correct = math.isfinite(err) and err <= 1e-2
                rec = workload.record(impl, activation, m, n, k, run.args.dtype, ms, correct, err, **extra)
                run.report["records"].append(rec)
                print(f"  {impl:<14} {activation:<22} {ms:9.4f} ms {rec['tflops']:8.1f} TFLOP/s  "
                      f"{'ok' if correct else 'WRONG'} (rel {err:.1e})", flush=True)
                del result
            except Exception as exc:  # one failing peer must not lose the others' results
                run.error(f"{impl} {activation} {m}x{n}x{k}", exc)
                traceback.print_exc()
    run.save()


def host_costs(run, torch, peers):
    from timing import host_us_per_call

    tp = peers.get("triton")
    m, n, k = 16, 4096, 4096
    dtype = torch.bfloat16 if run.args.dtype == "bf16" else torch.float16
    x = torch.full((m, k), 0.01, device="cuda", dtype=dtype)
    w = torch.full((n, k), 0.01, device="cuda", dtype=dtype)
    out = torch.empty(m, n, device="cuda", dtype=dtype)

    def add(impl, api, us):
        run.report["launch_overhead"].append({"impl": impl, "api": api, "activation": "gelu", "M": m, "N": n,
                                              "K": k, "dtype": run.args.dtype, "us_per_call": us})
        print(f"  launch {impl:<12} {api:<40} {us:6.2f} us/call", flush=True)

    if tp:
        add("triton", "autotuned kernel (Autotuner + launcher)",
            host_us_per_call(lambda: tp.matmul_act(x, w, out, "gelu")))
        best = tp.matmul_act_kernel.best_config
        grid = (-(-m // best.kwargs["BLOCK_M"]) * -(-n // best.kwargs["BLOCK_N"]),)
        jit = tp.matmul_act_kernel.fn
        add("triton", "JITFunction[grid](...) with a fixed config",
            host_us_per_call(lambda: jit[grid](x, w, out, m, n, k, x.stride(0), w.stride(0), out.stride(0),
                                               ACT=tp.ACT_CODES["gelu"], num_warps=best.num_warps,
                                               num_stages=best.num_stages, **best.kwargs)))
    add("torch_eager", "F.gelu(x @ w.t())", host_us_per_call(lambda: torch.nn.functional.gelu(x @ w.t())))
    run.save()


def jit_costs(run, torch, peers):
    """Cold and warm JIT of the fused Triton kernel (before anything else compiled it)."""
    tp = peers["triton"]
    m = n = k = 4096
    dtype = torch.bfloat16 if run.args.dtype == "bf16" else torch.float16
    x = torch.randn(m, k, device="cuda", dtype=dtype)
    ws = [torch.randn(n, k, device="cuda", dtype=dtype) * 0.01 for _ in range(2)]
    out = torch.empty(m, n, device="cuda", dtype=dtype)
    for activation in ("gelu", workload.MISH_TEXT, "swiglu"):
        gated = workload.is_gated(activation)
        try:
            cold, warm = tp.fresh_compile_ms(activation, gated, x, ws if gated else ws[:1], out)
        except Exception as exc:
            run.error(f"triton jit {activation}", exc)
            continue
        run.report["jit"].append({"impl": "triton", "activation": activation, "M": m, "N": n, "K": k,
                                  "dtype": run.args.dtype, "cold_ms": cold, "warm_ms": warm})
        print(f"  jit    triton {activation:<24} cold {cold:8.1f} ms, warm {warm:6.2f} ms", flush=True)
    run.save()


def main(argv):
    args = parse_args(argv)
    try:
        import torch
    except ImportError as exc:
        print(f"SKIPPED: PyTorch is not installed here ({exc}); the peers run on the GPU machine")
        return EXIT_SKIP
    if not torch.cuda.is_available():
        print("SKIPPED: torch.cuda.is_available() is False (no GPU or no driver)")
        return EXIT_SKIP
    # A fresh Triton cache (set before Triton is imported): the cold-JIT figure must not hit a
    # previous run's kernels.
    os.environ["TRITON_CACHE_DIR"] = tempfile.mkdtemp(prefix="tilefuse-peers-triton-")
    peers = {"torch": __import__("torch_peers")}
    if "triton" in args.impls or not args.no_host:
        try:
            peers["triton"] = __import__("triton_peers")
        except ImportError as exc:
            print(f"SKIPPED: Triton is not installed ({exc})")
            return EXIT_SKIP
    device = torch.cuda.get_device_name(0)
    out_dir = args.out or os.path.join("bench", "results",
                                       f"{slug(device)}-{datetime.date.today().isoformat()}")
    run = Run(args, device, out_dir)
    run.report["versions"] = {"torch": torch.__version__, "cuda": torch.version.cuda,
                              "triton": peers["triton"].triton.__version__ if "triton" in peers else None}
    print(f"device: {device}; torch {torch.__version__}; {args.warmup} warm-up + {args.reps} timed runs, "
          f"L2 flushed; out {out_dir}", flush=True)

    if not args.no_host:
        # Triton's first use in a process builds its launcher utilities (a C extension): measured
        # apart, with a kernel no later figure uses (relu, one config), so that the JIT figures
        # below are one kernel's cost each.
        small = [torch.zeros(r, c, device="cuda", dtype=torch.bfloat16) for r, c in ((16, 64), (64, 64), (16, 64))]
        first_ms, _ = peers["triton"].fresh_compile_ms("relu", False, small[0], [small[1]], small[2])
        run.report["triton_first_use_ms"] = first_ms
        print(f"triton first use (launcher build + one relu kernel): {first_ms:.0f} ms", flush=True)
        jit_costs(run, torch, peers)

    for shape in args.shape_list:
        bench_shape(run, torch, peers, shape)
    if not args.no_host and "triton" in peers:
        host_costs(run, torch, peers)
    run.save()
    wrong = sum(1 for r in run.report["records"] if not r["correct"])
    print(f"results: {out_dir}/peers.json ({len(run.report['records'])} records, {wrong} wrong, "
          f"{len(run.report['errors'])} errors, {len(run.report['skipped'])} skipped)")
    return 0 if wrong == 0 and not run.report["errors"] else 1


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    sys.dont_write_bytecode = True  # no __pycache__ in the source tree
    sys.exit(main(sys.argv[1:]))
