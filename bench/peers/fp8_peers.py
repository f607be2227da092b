#!/usr/bin/env python3
"""The PyTorch FP8 peers of tilefuse (issue 16, item 6), measured the way
tilefuse_bench_fp8 (bench/fp8) measures tilefuse and cuBLASLt: same shapes,
e4m3 inputs (A M x K row-major, W N x K as nn.Linear weights), the same three
scalings, CUDA events after warm-up, L2 flushed, medians, every timed output
checked against float64 on sampled rows.

  torch_scaled_mm       torch._scaled_mm alone, bf16 out (activation "none")
  torch_scaled_mm+act   torch._scaled_mm (bf16 out), then the activation as
                        separate kernels (what a user writes today); with an
                        e4m3 output (tensor scaling): + amax = y.abs().max()
                        and the scaled, clamped cast to float8_e4m3fn

torch._scaled_mm(a, b, scale_a, scale_b, bias=None, scale_result=None,
out_dtype=None, use_fast_accum=False) takes a row-major and b column-major
(b = W.t()); out = (a·scale_a)(b·scale_b). Scalings (PyTorch's
aten/src/ATen/native/cuda/ScaledBlas.cpp, get_joint_scaling):
  tensor    scale_a, scale_b: one float32 each
  row       scale_a (M, 1), scale_b (1, N), contiguous
  block128  scale_a (M, ceil(K/128)) with strides (1, M) (BlockWise1x128,
            "outer-dim-major": the [ceil(K/128)][M] buffer tilefuse takes,
            transposed); scale_b (ceil(K/128), ceil(N/128)) whose transpose
            is the contiguous [ceil(N/128)][ceil(K/128)] buffer
            (BlockWise128x128); Hopper with cuBLASLt >= 12.9 only.
A scaling this PyTorch build refuses is listed under "not_run" with its error
(the run goes on). Writes <out>/fp8_peers.json in the records format of
peers.json (dtype "e4m3", plus scaling and out_dtype), rewritten after every
shape. report.py merges it with tilefuse_bench_fp8's results.json.

Needs PyTorch with a CUDA GPU of compute capability >= 8.9 (exit 77 otherwise).
  python3 bench/peers/fp8_peers.py --quick --out $OUT/fp8
"""
import argparse
import datetime
import json
import math
import os
import re
import sys
import time
import traceback

import workload

EXIT_SKIP = 77
E4M3_MAX = 448.0


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", help="output directory (default bench/results/<gpu>-<date>-fp8)")
    p.add_argument("--activations", help="comma-separated (default: " + ",".join(workload.FP8_ACTIVATIONS)
                   + "; --quick: " + ",".join(workload.FP8_QUICK_ACTIVATIONS) + ")")
    p.add_argument("--scalings", default=",".join(workload.FP8_SCALINGS), help="comma-separated subset")
    p.add_argument("--quick", action="store_true", help="a few shapes only (as tilefuse_bench_fp8 --quick)")
    p.add_argument("--no-fp8-out", action="store_true", help="skip the e4m3-output measurements")
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--reps", type=int, default=10)
    p.add_argument("--budget-s", type=float, default=float("inf"),
                   help="start no new measurement after this many seconds (results so far are kept)")
    args = p.parse_args(argv)
    default = workload.FP8_QUICK_ACTIVATIONS if args.quick else workload.FP8_ACTIVATIONS
    args.activations = [a for a in args.activations.split(",") if a] if args.activations else list(default)
    for a in args.activations:
        if a not in workload.FP8_ACTIVATIONS:
            p.error(f"unknown activation {a!r}: use one of {', '.join(workload.FP8_ACTIVATIONS)}")
    args.scalings = [s for s in args.scalings.split(",") if s]
    for s in args.scalings:
        if s not in workload.FP8_SCALINGS:
            p.error(f"unknown scaling {s!r}: use one of {', '.join(workload.FP8_SCALINGS)}")
    return args


class Run:
    def __init__(self, args, device, out_dir):
        self.args, self.out_dir = args, out_dir
        self.started = time.monotonic()
        self.report = {"device": device, "command": " ".join(sys.argv), "warmup": args.warmup,
                       "repetitions": args.reps, "l2_flush_bytes": 256 << 20, "records": [], "not_run": [],
                       "errors": [], "skipped": []}

    def over_budget(self):
        return time.monotonic() - self.started > self.args.budget_s

    def save(self):
        os.makedirs(self.out_dir, exist_ok=True)
        path = os.path.join(self.out_dir, "fp8_peers.json")
        with open(path + ".tmp", "w") as f:
            json.dump(self.report, f, indent=2)
        os.replace(path + ".tmp", path)


def make_scales(torch, scaling, m, n, k, gen):
    """Positive float32 scales around 3/sqrt(K) for A and 1 for B, each value times a factor in
    [0.5, 1.5) (as bench/fp8/Fp8Reference.h's HostScales::random): (scale_a, scale_b) in the
    shapes and strides torch._scaled_mm takes for `scaling`."""
    base = 3.0 / math.sqrt(k)

    def factor(*shape):
        return torch.rand(*shape, device="cuda", generator=gen) + 0.5  # [0.5, 1.5)

    if scaling == "tensor":
        sa, sb = (factor(1) * base).reshape(()), factor(1).reshape(())
        return sa, sb
    if scaling == "row":
        return (factor(m, 1) * base).contiguous(), factor(1, n).contiguous()
    kb = -(-k // 128)
    nb = -(-n // 128)
    sa_km = (factor(kb, m) * base).contiguous()    # [ceil(K/128)][M], M contiguous
    sb_nk = factor(nb, kb).contiguous()            # [ceil(N/128)][ceil(K/128)]
    return sa_km.t(), sb_nk.t()                    # (M, kb) strides (1, M); (kb, nb) strides (1, kb)


def reference(torch, scaling, x64, w64, sa, sb, rows):
    """float64 scaled product of the sampled rows (rows x N) with each scaling's semantics."""
    if scaling == "tensor":
        return (x64 @ w64.t()) * float(sa) * float(sb)
    if scaling == "row":
        return (x64 @ w64.t()) * sa[rows].double() * sb.double()
    k = x64.shape[1]
    n = w64.shape[0]
    out = torch.zeros(x64.shape[0], n, dtype=torch.float64, device=x64.device)
    sa_rows = sa[rows].double()         # (R, kb)
    sb_blocks = sb.t().double()         # (nb, kb)
    col_block = torch.arange(n, device=x64.device) // 128
    for kb in range(-(-k // 128)):
        part = x64[:, kb * 128:(kb + 1) * 128] @ w64[:, kb * 128:(kb + 1) * 128].t()
        out += part * sa_rows[:, kb:kb + 1] * sb_blocks[col_block, kb][None, :]
    return out


def quantize_e4m3(torch, y, scale_d):
    """What a user writes for an FP8 output: scale, clamp to the e4m3 range, cast."""
    return (y.float() * scale_d).clamp(-E4M3_MAX, E4M3_MAX).to(torch.float8_e4m3fn)


def bench_shape(run, torch, act_fns, shape):
    from timing import median_ms, relative_error, sample_rows

    m, n, k = shape
    gen = torch.Generator(device="cuda").manual_seed(m * 31 + n * 7 + k)
    x = (torch.rand(m, k, device="cuda", generator=gen) * 2 - 1).to(torch.float8_e4m3fn)
    w = (torch.rand(n, k, device="cuda", generator=gen) * 2 - 1).to(torch.float8_e4m3fn)
    rows = sample_rows(m).cuda()
    x64, w64 = x[rows].double(), w.double()
    scale_d = 4.0
    scale_d_t = torch.tensor(scale_d, device="cuda")
    print(f"M={m} N={n} K={k} e4m3", flush=True)
    for scaling in run.args.scalings:
        sa, sb = make_scales(torch, scaling, m, n, k, gen)
        scaled = reference(torch, scaling, x64, w64, sa, sb, rows)

        def mm(out_dtype=torch.bfloat16):
            return torch._scaled_mm(x, w.t(), scale_a=sa, scale_b=sb, out_dtype=out_dtype)

        variants = [("torch_scaled_mm", "none", False)]
        variants += [("torch_scaled_mm+act", a, False) for a in run.args.activations]
        if scaling == "tensor" and not run.args.no_fp8_out:
            variants += [("torch_scaled_mm+act", a, True) for a in run.args.activations]
        for impl, activation, fp8_out in variants:
            what = dict(impl=impl, activation=activation, M=m, N=n, K=k, dtype="e4m3", scaling=scaling,
                        out_dtype="e4m3" if fp8_out else "bf16")
            if run.over_budget():
                run.report["skipped"].append(f"{impl} {activation} {scaling} {m}x{n}x{k}: over the time budget")
                continue
            try:
                result = {}
                act = act_fns[activation] if activation != "none" else None

                if act is None:
                    def launch():
                        result["out"] = mm()
                elif not fp8_out:
                    def launch():
                        result["out"] = act(mm())
                else:
                    def launch():
                        y = act(mm())
                        result["amax"] = y.abs().max()
                        result["out"] = quantize_e4m3(torch, y, scale_d_t)
                ms = median_ms(launch, run.args.warmup, run.args.reps)
                ref = act(scaled) if act else scaled
                if fp8_out:
                    ref = quantize_e4m3(torch, ref, scale_d).double()
                out = result["out"]
                if out.dtype == torch.float8_e4m3fn:  # index the bytes: not every op takes float8 tensors
                    sampled = out.view(torch.uint8)[rows].view(torch.float8_e4m3fn)
                else:
                    sampled = out[rows]
                err = relative_error(sampled, ref)
                correct = math.isfinite(err) and err <= 1e-2
                rec = workload.record(impl, activation, m, n, k, "e4m3", ms, correct, err, scaling=scaling,
                                      out_dtype=what["out_dtype"])
                run.report["records"].append(rec)
                print(f"  {impl:<20} {activation:<10} {scaling:<8} {what['out_dtype']:<4} {ms:9.4f} ms "
                      f"{rec['tflops']:8.1f} TFLOP/s  {'ok' if correct else 'WRONG'} (rel {err:.1e})", flush=True)
            except Exception as exc:  # one failing peer must not lose the others' results
                message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
                if scaling == "block128" and isinstance(exc, (RuntimeError, NotImplementedError, ValueError)):
                    # PyTorch refuses the 128-block recipe off Hopper or before cuBLASLt 12.9:
                    # that row is not run (said so), the others go on.
                    run.report["not_run"].append({**what, "reason": f"{type(exc).__name__}: {message}"})
                    print(f"  {impl:<20} {activation:<10} {scaling:<8}: not run: {message}", flush=True)
                else:
                    run.report["errors"].append(f"{impl} {activation} {scaling} {m}x{n}x{k}: "
                                                f"{type(exc).__name__}: {message}")
                    print(f"  error: {impl} {activation} {scaling}: {message}", flush=True)
                    traceback.print_exc()
    run.save()


def main(argv):
    args = parse_args(argv)
    try:
        import torch
    except ImportError as exc:
        print(f"SKIPPED: PyTorch is not installed here ({exc}); the FP8 peers run on the GPU machine")
        return EXIT_SKIP
    if not torch.cuda.is_available():
        print("SKIPPED: torch.cuda.is_available() is False (no GPU or no driver)")
        return EXIT_SKIP
    major, minor = torch.cuda.get_device_capability(0)
    if (major, minor) < (8, 9):
        print(f"SKIPPED: compute capability {major}.{minor}: FP8 tensor cores need 8.9 or newer")
        return EXIT_SKIP
    import torch_peers

    act_fns = {a: torch_peers.activation_fn(a) for a in args.activations}
    device = torch.cuda.get_device_name(0)
    out_dir = args.out or os.path.join("bench", "results",
                                       f"{re.sub(r'[^A-Za-z0-9]', '-', device)}-{datetime.date.today().isoformat()}-fp8")
    run = Run(args, device, out_dir)
    run.report["versions"] = {"torch": torch.__version__, "cuda": torch.version.cuda}
    print(f"device: {device}; torch {torch.__version__}; {args.warmup} warm-up + {args.reps} timed runs, "
          f"L2 flushed; out {out_dir}", flush=True)
    for shape in workload.shapes(args.quick):
        try:
            bench_shape(run, torch, act_fns, shape)
        except Exception as exc:  # one failing shape must not lose the others' results
            run.report["errors"].append(f"{shape}: {type(exc).__name__}: {exc}")
            traceback.print_exc()
    run.save()
    wrong = sum(1 for r in run.report["records"] if not r["correct"])
    print(f"results: {out_dir}/fp8_peers.json ({len(run.report['records'])} records, {wrong} wrong, "
          f"{len(run.report['not_run'])} not run, {len(run.report['errors'])} errors, "
          f"{len(run.report['skipped'])} skipped)")
    return 0 if wrong == 0 and not run.report["errors"] else 1


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    sys.dont_write_bytecode = True  # no __pycache__ in the source tree
    sys.exit(main(sys.argv[1:]))
