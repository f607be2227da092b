#!/usr/bin/env python3
"""The Python peers of the grouped (MoE) benchmark, on the group sizes that
tilefuse_bench_moe wrote (its results.json "cases", or --print-cases output),
measured the way it measures tilefuse (bf16, CUDA events, warm-up, L2 flush,
medians, every timed output checked against float64 on sampled rows):

  torch_grouped_mm  torch._grouped_mm (PyTorch >= 2.8: A [T, K] bf16, B
                    [E, K, N] bf16 — here W.transpose(-2, -1) of the [E, N, K]
                    nn.Linear weights —, offs = int32 cumulative group ends)
                    on [W_gate; W_up] concatenated (one grouped GEMM of width
                    2·hidden), then silu(gate) * up as separate kernels; the down
                    projection, then * route
  triton_grouped    a Triton grouped GEMM with the activation fused (moe_triton.py)

Stages as tilefuse_bench_moe's: "gate_up" and "down". Writes <out>/moe_peers.json:
{device, command, versions, records: [{impl, activation, M, N, K, dtype, ms,
tflops, correct, rel_error, model, tokens, routing, stage, experts, top_k}],
errors}, rewritten after every case. moe_report.py merges it with the C++ results.

Needs PyTorch and Triton with a CUDA GPU (exit 77 otherwise).
  python3 bench/peers/moe_peers.py --cases $OUT/moe/results.json --out $OUT/moe
"""
import argparse
import datetime
import json
import os
import sys
import time
import traceback

EXIT_SKIP = 77
IMPLS = ("torch_grouped_mm", "triton_grouped")


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--cases", required=True, help="tilefuse_bench_moe's results.json, or its --print-cases output")
    p.add_argument("--out", required=True, help="output directory")
    p.add_argument("--impls", default=",".join(IMPLS), help="comma-separated subset of " + ",".join(IMPLS))
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--reps", type=int, default=10)
    p.add_argument("--budget-s", type=float, default=float("inf"),
                   help="start no new case after this many seconds (results so far are kept)")
    args = p.parse_args(argv)
    args.impls = [i for i in args.impls.split(",") if i]
    for impl in args.impls:
        if impl not in IMPLS:
            p.error(f"unknown impl {impl!r}: use " + ", ".join(IMPLS))
    return args


def load_cases(path):
    """The cases of a tilefuse_bench_moe results.json or --print-cases list."""
    with open(path) as f:
        data = json.load(f)
    cases = data["cases"] if isinstance(data, dict) else data
    for c in cases:
        if sum(c["group_sizes"]) != c["rows"] or len(c["group_sizes"]) != c["experts"]:
            raise SystemExit(f"error: {path}: case {c['model']} {c['tokens']} tokens: group sizes do not add up "
                             f"to {c['rows']} rows over {c['experts']} experts")
    return cases


def stage_flops(case, stage):
    """2·T·N·K, ×2 for the gated pair (as tilefuse_bench_moe counts)."""
    if stage == "gate_up":
        return 2.0 * case["rows"] * case["hidden"] * case["d_model"] * 2
    return 2.0 * case["rows"] * case["d_model"] * case["hidden"]


def make_record(impl, case, stage, ms, rel_error):
    n, k = (case["hidden"], case["d_model"]) if stage == "gate_up" else (case["d_model"], case["hidden"])
    return {"impl": impl, "activation": "swiglu" if stage == "gate_up" else "x * route", "M": case["rows"], "N": n,
            "K": k, "dtype": "bf16", "ms": ms, "tflops": stage_flops(case, stage) / (ms * 1e-3) / 1e12,
            "correct": rel_error <= 1e-2, "rel_error": rel_error, "model": case["model"], "tokens": case["tokens"],
            "routing": case["routing"], "stage": stage, "experts": case["experts"], "top_k": case["top_k"]}


def run_case(case, impls, args, timing, torch, F, moe_triton):
    """Records of every impl for one case; inputs made on the device."""
    E, d, hid, T = case["experts"], case["d_model"], case["hidden"], case["rows"]
    counts = case["group_sizes"]
    dev = "cuda"
    gen = torch.Generator(device=dev).manual_seed(15)
    a = (torch.rand(T, d, device=dev, generator=gen) * 2 - 1).bfloat16()
    w_gate_up = ((torch.rand(E, 2 * hid, d, device=dev, generator=gen) * 2 - 1) * (2 / d ** 0.5)).bfloat16()
    w_down = ((torch.rand(E, d, hid, device=dev, generator=gen) * 2 - 1) * (2 / hid ** 0.5)).bfloat16()
    route = torch.rand(T, device=dev, generator=gen) * 0.45 + 0.05
    offs = torch.tensor(counts, device=dev, dtype=torch.int32).cumsum(0, dtype=torch.int32)
    starts = [0]
    for n in counts:
        starts.append(starts[-1] + n)
    rows = timing.sample_rows(T, 64).tolist()
    expert_of = [next(e for e in range(E) if starts[e] <= r < starts[e + 1]) for r in rows]

    def reference(stage, inputs):
        ref = []
        for r, e in zip(rows, expert_of):
            x = inputs[r].double()
            if stage == "gate_up":
                g = w_gate_up[e, :hid].double() @ x
                u = w_gate_up[e, hid:].double() @ x
                ref.append(g * torch.sigmoid(g) * u)
            else:
                ref.append((w_down[e].double() @ x) * float(route[r]))
        return torch.stack(ref)

    records = []
    # Each stage's output lands in out[stage] (torch allocates it; the Triton
    # kernel writes the preallocated buffers); down reads the h of gate_up.
    out = {"gate_up": torch.empty(T, hid, device=dev, dtype=torch.bfloat16),
           "down": torch.empty(T, d, device=dev, dtype=torch.bfloat16)}
    grouped = moe_triton.GroupedGemm(counts) if "triton_grouped" in impls else None
    w_gate, w_up = (w_gate_up[:, :hid], w_gate_up[:, hid:]) if grouped else (None, None)
    if grouped:  # the Triton kernel reads each weight with unit stride in K: contiguous copies
        w_gate, w_up = w_gate.contiguous(), w_up.contiguous()
    triton_h = out["gate_up"]

    def torch_gate_up():
        out["gate_up"] = _swiglu(F, torch._grouped_mm(a, w_gate_up.transpose(-2, -1), offs=offs), hid)

    def torch_down():
        out["down"] = torch._grouped_mm(out["gate_up"], w_down.transpose(-2, -1), offs=offs) * route[:, None]

    launches = {
        "torch_grouped_mm": {"gate_up": torch_gate_up, "down": torch_down},
        "triton_grouped": {
            "gate_up": lambda: grouped(a, w_gate, triton_h, moe_triton.MODE_SWIGLU, w_up=w_up),
            "down": lambda: grouped(triton_h, w_down, out["down"], moe_triton.MODE_ROUTE, route=route),
        },
    }
    for impl in impls:
        if impl == "triton_grouped":  # its kernels write these buffers in place
            out["gate_up"] = triton_h
            out["down"] = torch.empty(T, d, device=dev, dtype=torch.bfloat16)
        for stage in ("gate_up", "down"):
            try:
                out[stage].fill_(float("nan"))  # a torch launch replaces it; a Triton one must overwrite it
                ms = timing.median_ms(launches[impl][stage], args.warmup, args.reps)
                inputs = a if stage == "gate_up" else out["gate_up"]
                err = timing.relative_error(out[stage][rows], reference(stage, inputs))
                records.append(make_record(impl, case, stage, ms, err if err == err else float("inf")))
                r = records[-1]
                print(f"  {impl:<18} {stage:<8} {ms:9.3f} ms {r['tflops']:7.1f} TFLOP/s  rel err {err:.2e}"
                      + ("" if r["correct"] else "  WRONG"), flush=True)
            except Exception as e:  # one failing peer must not stop the others
                records.append({"impl": impl, "model": case["model"], "tokens": case["tokens"],
                                "routing": case["routing"], "stage": stage, "error": f"{type(e).__name__}: {e}"})
                print(f"  {impl:<18} {stage:<8} error: {type(e).__name__}: {e}", flush=True)
                traceback.print_exc()
    return records


def _swiglu(F, gate_up, hid):
    return F.silu(gate_up[:, :hid]) * gate_up[:, hid:]


def main(argv):
    args = parse_args(argv)
    cases = load_cases(args.cases)
    try:
        import torch
        import torch.nn.functional as F
    except ImportError as e:
        print(f"SKIPPED: PyTorch is not installed ({e})")
        return EXIT_SKIP
    if not torch.cuda.is_available():
        print("SKIPPED: PyTorch sees no CUDA GPU")
        return EXIT_SKIP
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import timing
    impls = list(args.impls)
    moe_triton = None
    if "triton_grouped" in impls:
        try:
            import moe_triton
        except ImportError as e:
            print(f"triton_grouped skipped: Triton is not installed ({e})")
            impls.remove("triton_grouped")
    if "torch_grouped_mm" in impls and not hasattr(torch, "_grouped_mm"):
        print(f"torch_grouped_mm skipped: torch {torch.__version__} has no torch._grouped_mm")
        impls.remove("torch_grouped_mm")
    os.makedirs(args.out, exist_ok=True)
    versions = {"torch": torch.__version__}
    if moe_triton:
        versions["triton"] = moe_triton.triton.__version__
    report = {"device": torch.cuda.get_device_name(0), "command": " ".join(["moe_peers.py"] + argv),
              "versions": versions, "date": datetime.date.today().isoformat(), "records": [], "errors": [],
              "skipped": []}
    start = time.monotonic()
    for case in cases:
        label = f"{case['model']} {case['tokens']} tokens, {case['routing']} routing"
        if time.monotonic() - start > args.budget_s:
            report["skipped"].append(label)
            print(f"{label}: skipped (the {args.budget_s:.0f} s budget is spent)")
            continue
        print(label, flush=True)
        try:
            report["records"] += run_case(case, impls, args, timing, torch, F, moe_triton)
        except Exception as e:  # e.g. out of memory for the weights: the next case still runs
            report["errors"].append(f"{label}: {type(e).__name__}: {e}")
            traceback.print_exc()
        torch.cuda.empty_cache()
        with open(os.path.join(args.out, "moe_peers.json"), "w") as f:
            json.dump(report, f, indent=1)
    wrong = [r for r in report["records"] if not r.get("correct")]
    print(f"results: {args.out}/moe_peers.json ({len(report['records'])} records, {len(wrong)} wrong or failed)")
    return 1 if wrong or report["errors"] else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
