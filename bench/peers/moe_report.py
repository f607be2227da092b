#!/usr/bin/env python3
"""Merges the grouped (MoE) benchmark of ONE run on ONE GPU —
tilefuse_bench_moe's results.json and moe_peers.py's moe_peers.json — into
<out>/results.json (same format: {device, sources, records, errors}) and
<out>/table.md: per (model, tokens, routing) the layer time (gate_up + down)
of every implementation, tilefuse's speed ratios, and issue 15's targets:

  tilefuse_grouped vs torch_grouped_mm (+ separate silu·mul)      >= 1.3x (layer time)
  tilefuse_grouped TFLOP/s vs the dense GEMM of the same width   >= 0.9x (balanced
      routing, >= 512 rows per expert; each stage)

  python3 bench/peers/moe_report.py $OUT/moe/results.json $OUT/moe/moe_peers.json --out $OUT/moe

Standard library only.
"""
import argparse
import json
import math
import os
import statistics
import sys

IMPL_ORDER = ["tilefuse_grouped", "tilefuse_per_expert", "torch_grouped_mm", "triton_grouped", "cublas_dense"]
PEERS = ["tilefuse_per_expert", "torch_grouped_mm", "triton_grouped"]
TORCH_TARGET = 1.3
DENSE_TARGET = 0.9
DENSE_MIN_ROWS_PER_EXPERT = 512
STAGES = ("gate_up", "down")


def load(paths):
    merged = {"device": None, "sources": [], "records": [], "errors": [], "cases": []}
    for path in paths:
        with open(path) as f:
            data = json.load(f)
        device = data.get("device")
        if merged["device"] and device and device != merged["device"]:
            raise SystemExit(f"error: {path} was measured on {device!r}, the others on {merged['device']!r}: "
                             "compare only runs on the same GPU")
        merged["device"] = merged["device"] or device
        merged["sources"].append({"file": os.path.basename(path), "command": data.get("command"),
                                  "versions": data.get("versions")})
        merged["records"] += data.get("records") or []
        merged["errors"] += data.get("errors") or []
        merged["cases"] += data.get("cases") or []
    return merged


def case_key(record):
    return (record["model"], record["tokens"], record["routing"])


def index(records):
    """{(impl, model, tokens, routing, stage): record} of the timed records (errors left out)."""
    return {(r["impl"],) + case_key(r) + (r["stage"],): r for r in records if "ms" in r}


def layer_ms(by_key, impl, key):
    """gate_up + down ms of `impl` for a case; None unless both stages ran and are correct."""
    parts = [by_key.get((impl,) + key + (stage,)) for stage in STAGES]
    if not all(parts) or not all(p["correct"] for p in parts):
        return None
    return sum(p["ms"] for p in parts)


def ratio(by_key, peer, key):
    """peer layer time / tilefuse_grouped layer time (> 1: tilefuse faster)."""
    mine, other = layer_ms(by_key, "tilefuse_grouped", key), layer_ms(by_key, peer, key)
    return None if mine is None or other is None else other / mine


def dense_fraction(by_key, key, stage):
    """tilefuse_grouped TFLOP/s / cublas_dense TFLOP/s for one stage."""
    mine, dense = by_key.get(("tilefuse_grouped",) + key + (stage,)), by_key.get(("cublas_dense",) + key + (stage,))
    if not mine or not dense or not mine["correct"]:
        return None
    return mine["tflops"] / dense["tflops"]


def rows_per_expert(by_key, key):
    for r in by_key.values():
        if case_key(r) == key:
            return r["M"] / r["experts"]
    return 0


def geomean(values):
    return math.exp(statistics.fmean(math.log(v) for v in values)) if values else None


def fmt(x, suffix="×"):
    return "–" if x is None else f"{x:.2f}{suffix}"


def target_row(label, target, values):
    if not values:
        return f"| {label} | ≥ {target} | – | – | 0 | not measured |"
    verdict = "met" if min(values) >= target else "NOT met"
    return f"| {label} | ≥ {target} | {geomean(values):.2f} | {min(values):.2f} | {len(values)} | {verdict} |"


def table(merged):
    by_key = index(merged["records"])
    keys = sorted({case_key(r) for r in by_key.values()})
    present = [i for i in IMPL_ORDER if any(k[0] == i for k in by_key)]
    lines = [f"# Grouped (MoE) GEMM benchmark: {merged['device']}", ""]
    for s in merged["sources"]:
        lines.append(f"- `{s['file']}`: `{s['command']}`" + (f" ({s['versions']})" if s.get("versions") else ""))
    lines += ["", "Layer = gate_up (silu(gate)·up, gated grouped GEMM) + down (x·route) in ms; ✗ = a stage failed its "
              "float64 check or did not run; ratios = peer time / tilefuse_grouped time (> 1: tilefuse faster); "
              "vs dense = tilefuse_grouped TFLOP/s / cuBLAS dense GEMM TFLOP/s of the same width, per stage.", ""]
    header = ["model", "tokens", "routing", "rows/expert"] + [f"{i} ms" for i in present if i != "cublas_dense"]
    header += [f"vs {p}" for p in PEERS if p in present] + ["vs dense (gate_up, down)"]
    lines += ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for key in keys:
        cells = [key[0], str(key[1]), key[2], f"{rows_per_expert(by_key, key):.0f}"]
        for impl in present:
            if impl == "cublas_dense":
                continue
            ms = layer_ms(by_key, impl, key)
            ran = any((impl,) + key + (s,) in by_key for s in STAGES)
            cells.append(f"{ms:.3f}" if ms is not None else ("✗" if ran else "–"))
        cells += [fmt(ratio(by_key, p, key)) for p in PEERS if p in present]
        cells.append(", ".join(fmt(dense_fraction(by_key, key, s)) for s in STAGES))
        lines.append("| " + " | ".join(cells) + " |")

    torch_ratios = [r for r in (ratio(by_key, "torch_grouped_mm", k) for k in keys) if r]
    dense_keys = [k for k in keys if k[2] == "balanced" and rows_per_expert(by_key, k) >= DENSE_MIN_ROWS_PER_EXPERT]
    dense = [f for f in (dense_fraction(by_key, k, s) for k in dense_keys for s in STAGES) if f]
    lines += ["", "## Issue 15 targets (geometric mean and minimum)", "",
              "| comparison | target | geomean | min | values | verdict |", "|---|---|---|---|---|---|",
              target_row("tilefuse_grouped vs torch_grouped_mm + silu·mul (layer time)", TORCH_TARGET, torch_ratios),
              target_row(f"tilefuse_grouped TFLOP/s / dense GEMM (balanced, ≥ {DENSE_MIN_ROWS_PER_EXPERT} rows per "
                         "expert, per stage)", DENSE_TARGET, dense)]
    failed = [r for r in merged["records"] if "error" in r or not r.get("correct", True)]
    if failed or merged["errors"]:
        lines += ["", "## Failures", ""]
        lines += [f"- {r['impl']} {r.get('model')} {r.get('tokens')} {r.get('routing')} {r.get('stage')}: "
                  + (r.get("error") or f"wrong result (rel error {r.get('rel_error')})") for r in failed]
        lines += [f"- {e}" for e in merged["errors"]]
    return "\n".join(lines) + "\n"


def main(argv):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("inputs", nargs="+", help="results.json of tilefuse_bench_moe, moe_peers.json")
    p.add_argument("--out", required=True)
    args = p.parse_args(argv)
    merged = load(args.inputs)
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "results.json"), "w") as f:
        json.dump(merged, f, indent=1)
    text = table(merged)
    with open(os.path.join(args.out, "table.md"), "w") as f:
        f.write(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
