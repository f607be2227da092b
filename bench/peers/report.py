#!/usr/bin/env python3
"""Merges benchmark JSON files of ONE run on ONE GPU (tilefuse_bench_gemm's
results.json, peers.py's peers.json) into <out>/results.json, writes
<out>/table.md (TFLOP/s per impl, tilefuse's speed ratios, the issue-7 targets,
host launch and JIT costs) and two PNG plots: <out>/tflops.png (one panel per
activation) and <out>/ratios.png (tilefuse's speed ratio to each peer).

  python3 bench/peers/report.py $OUT/bench/results.json $OUT/peers/peers.json \\
      --out bench/results/<gpu>-<date>

Needs only the Python standard library, plus matplotlib for the plots: without
it the JSON and the table are written, the plots are not, and the exit status
is 2 with a message saying so (--no-plots: exit 0 without plots).
"""
import argparse
import json
import math
import os
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.dont_write_bytecode = True  # no __pycache__ in the source tree
import fp8_report  # noqa: E402
import workload  # noqa: E402

IMPL_ORDER = ["tilefuse", "cublas", "cublas+act", "cublaslt_epilogue", "torch_eager", "torch_compile", "triton"]
# Issue 7: tilefuse speed ratio (peer ms / tilefuse ms) on H100/H200, bf16, M, N, K >= 4096, medians.
TARGETS = {"cublas+act": 1.10, "triton": 1.15, "torch_compile": 1.05}
GATED_TARGET = 1.25  # gated vs the faster unfused path (cublas+act with a 2N GEMM, torch_eager two GEMMs)
LAUNCH_TARGET_US = 3.0


def load(paths):
    merged = {"device": None, "sources": [], "records": [], "launch_overhead": [], "jit": [], "errors": [],
              "not_run": []}
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
        for key in ("records", "launch_overhead", "jit", "errors", "not_run"):
            merged[key].extend(data.get(key) or [])
        if "triton_first_use_ms" in data:
            merged["triton_first_use_ms"] = data["triton_first_use_ms"]
    return merged


def index(records):
    """{(impl, activation, M, N, K, dtype): record}; a duplicate keeps the faster correct one."""
    by_key = {}
    for r in records:
        key = (r["impl"], r["activation"], r["M"], r["N"], r["K"], r["dtype"])
        old = by_key.get(key)
        if old is None or (r["correct"] and (not old["correct"] or r["ms"] < old["ms"])):
            by_key[key] = r
    return by_key


def problems(records):
    """Sorted (activation, M, N, K, dtype) of every 16-bit activation record (not the plain cuBLAS
    ones; the FP8 records have their own section, fp8_report.py)."""
    order = {a: i for i, a in enumerate(workload.ACTIVATIONS)}
    keys = {(r["activation"], r["M"], r["N"], r["K"], r["dtype"]) for r in records
            if r["activation"] != "none" and not fp8_report.is_fp8(r)}
    return sorted(keys, key=lambda k: (order.get(k[0], 99), k[0], k[1], k[2], k[3], k[4]))


def cublas_ceiling(by_key, activation, m, n, k, dtype):
    """The plain cuBLAS record at this problem's FLOPs (width 2N for a gated pair)."""
    width = 2 * n if workload.is_gated(activation) else n
    return by_key.get(("cublas", "none", m, width, k, dtype))


def speed_ratio(by_key, peer, problem):
    """peer ms / tilefuse ms for a problem, or None if either is missing or wrong."""
    activation, m, n, k, dtype = problem
    mine = by_key.get(("tilefuse",) + problem)
    other = by_key.get((peer,) + problem)
    if not mine or not other or not mine["correct"] or not other["correct"]:
        return None
    return other["ms"] / mine["ms"]


def unfused_ratio(by_key, problem):
    """Gated: tilefuse vs the faster of the unfused paths (the stricter comparison)."""
    ratios = [r for r in (speed_ratio(by_key, p, problem) for p in ("cublas+act", "torch_eager")) if r]
    return min(ratios) if ratios else None


def fmt_cell(record):
    if record is None:
        return "–"
    return f"{record['tflops']:.0f}" + ("" if record["correct"] else " ✗")


def fmt_ratio(x):
    return "–" if x is None else f"{x:.2f}×"


def geomean(values):
    return math.exp(statistics.fmean(math.log(v) for v in values)) if values else None


def table(merged):
    by_key = index(r for r in merged["records"] if not fp8_report.is_fp8(r))
    present = [i for i in IMPL_ORDER if any(k[0] == i for k in by_key)]
    present += sorted({k[0] for k in by_key} - set(present))
    peers = [p for p in present if p not in ("tilefuse", "cublas")]
    lines = [f"# Peer benchmark: {merged['device']}", ""]
    for s in merged["sources"]:
        lines.append(f"- `{s['file']}`: `{s['command']}`" + (f" ({s['versions']})" if s.get("versions") else ""))
    lines += ["", "TFLOP/s (FLOPs = 2·M·N·K, ×2 for gated; ✗ = output failed the float64 check); "
              "ratios = peer time / tilefuse time (> 1: tilefuse faster); "
              "cuBLAS = plain GEMM of the same FLOPs (the ceiling).", ""]
    header = ["activation", "M", "N", "K"] + present + ["vs cuBLAS"] + [f"vs {p}" for p in peers]
    lines.append("| " + " | ".join(header) + " |")
    lines.append("|" + "---|" * len(header))
    for problem in problems(merged["records"]):
        activation, m, n, k, dtype = problem
        cells = [activation if dtype == "bf16" else f"{activation} ({dtype})", str(m), str(n), str(k)]
        for impl in present:
            cells.append(fmt_cell(cublas_ceiling(by_key, *problem) if impl == "cublas" else by_key.get((impl,) + problem)))
        mine, ceiling = by_key.get(("tilefuse",) + problem), cublas_ceiling(by_key, *problem)
        cells.append(fmt_ratio(mine["tflops"] / ceiling["tflops"]) if mine and ceiling and mine["correct"] else "–")
        cells += [fmt_ratio(speed_ratio(by_key, p, problem)) for p in peers]
        lines.append("| " + " | ".join(cells) + " |")

    lines += ["", "## Issue 7 targets (bf16, M, N, K ≥ 4096; geometric mean and minimum of the ratios)", "",
              "| comparison | target | geomean | min | problems |", "|---|---|---|---|---|"]
    big = [p for p in problems(merged["records"]) if p[4] == "bf16" and min(p[1:4]) >= 4096]
    for peer, target in TARGETS.items():
        ratios = [r for r in (speed_ratio(by_key, peer, p) for p in big) if r]
        lines.append(target_row(f"tilefuse vs {peer}", target, ratios))
    gated = [r for r in (unfused_ratio(by_key, p) for p in big if workload.is_gated(p[0])) if r]
    lines.append(target_row("gated tilefuse vs the faster unfused path", GATED_TARGET, gated))
    launch = [o["us_per_call"] for o in merged["launch_overhead"] if o["impl"] == "tilefuse"]
    lines.append(f"| tilefuse host launch (µs per call, lower is better) | ≤ {LAUNCH_TARGET_US} | – | "
                 + (f"{min(launch):.2f} (best API form) | {len(launch)} |" if launch else "– | 0 |"))

    if merged["launch_overhead"]:
        lines += ["", "## Host launch overhead", "", "| impl | call | activation | M×N×K | µs per call |",
                  "|---|---|---|---|---|"]
        for o in merged["launch_overhead"]:
            lines.append(f"| {o['impl']} | {o['api']} | {o['activation']} | {o['M']}×{o['N']}×{o['K']} | "
                         f"{o['us_per_call']:.2f} |")
    if merged["jit"]:
        lines += ["", "## First call of a new kernel (JIT)", "",
                  "| impl | activation | cold ms | warm ms (new process, disk cache) |", "|---|---|---|---|"]
        for j in merged["jit"]:
            lines.append(f"| {j['impl']} | {j['activation']} | {j['cold_ms']:.1f} | {j['warm_ms']:.2f} |")
        if "triton_first_use_ms" in merged:
            lines.append(f"\nTriton's first kernel in a process (launcher build + one kernel): "
                         f"{merged['triton_first_use_ms']:.0f} ms, not included above.")
    lines += fp8_report.table(merged)
    wrong = [r for r in merged["records"] if not r["correct"]]
    lines += ["", f"{len(merged['records'])} records, {len(wrong)} failed the correctness check, "
              f"{len(merged['errors'])} errors."]
    lines += [f"- error: {e}" for e in merged["errors"]]
    return "\n".join(lines) + "\n"


def target_row(name, target, ratios):
    if not ratios:
        return f"| {name} | ≥ {target:.2f}× | – | – | 0 |"
    mean = geomean(ratios)
    verdict = "met" if mean >= target else "missed"
    return f"| {name} | ≥ {target:.2f}× | {mean:.2f}× ({verdict}) | {min(ratios):.2f}× | {len(ratios)} |"


def plots(merged, out_dir):
    try:
        import matplotlib
    except ImportError:
        return ("plots not written: matplotlib is not installed (Debian: apt-get install python3-matplotlib; "
                "pip: pip install matplotlib); results.json and table.md were written")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    by_key = index(merged["records"])
    activations = list(dict.fromkeys(p[0] for p in problems(merged["records"])))
    if not activations:
        return []  # an FP8-only run: its figures are in table.md
    # One figure, one panel per activation: few files to carry back from the device machine.
    fig, axes = plt.subplots(len(activations), 1, figsize=(14, 3.6 * max(1, len(activations))), squeeze=False)
    for ax, activation in zip(axes[:, 0], activations):
        probs = [p for p in problems(merged["records"]) if p[0] == activation]
        impls = [i for i in IMPL_ORDER if i == "cublas" or any((i,) + p in by_key for p in probs)]
        width = 0.8 / len(impls)
        for j, impl in enumerate(impls):
            values = []
            for p in probs:
                r = cublas_ceiling(by_key, *p) if impl == "cublas" else by_key.get((impl,) + p)
                values.append(r["tflops"] if r and r["correct"] else 0.0)
            ax.bar([i + j * width for i in range(len(probs))], values, width, label=impl)
        ax.set_xticks([i + 0.4 - width / 2 for i in range(len(probs))])
        ax.set_xticklabels([f"{m}×{n}×{k}" for _, m, n, k, _ in probs], rotation=30, ha="right", fontsize=7)
        ax.set_ylabel("TFLOP/s")
        ax.set_title(f"{activation} (correct outputs only; cublas = plain GEMM of the same FLOPs)", fontsize=9)
        ax.legend(fontsize=7, ncol=4)
    fig.suptitle(merged["device"] or "")
    fig.tight_layout(rect=(0, 0, 1, 1 - 0.3 / (3.6 * max(1, len(activations)))))  # room for the title
    fig.savefig(os.path.join(out_dir, "tflops.png"), dpi=100)
    plt.close(fig)
    written = ["tflops.png"]

    fig, ax = plt.subplots(figsize=(9, 4.5))
    for peer in ["cublas+act", "cublaslt_epilogue", "torch_eager", "torch_compile", "triton"]:
        points = [(p[1] * p[2] * p[3], speed_ratio(by_key, peer, p)) for p in problems(merged["records"])]
        points = [(x, y) for x, y in points if y]
        if points:
            ax.scatter([x for x, _ in points], [y for _, y in points], label=f"vs {peer}", s=14)
    ax.axhline(1.0, color="gray", linewidth=0.8)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("M·N·K")
    ax.set_ylabel("peer time / tilefuse time")
    ax.set_title(f"tilefuse speed ratios — {merged['device']}")
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(os.path.join(out_dir, "ratios.png"), dpi=120)
    plt.close(fig)
    written.append("ratios.png")
    return written


def main(argv):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("inputs", nargs="+", help="results.json / peers.json files of one run")
    p.add_argument("--out", required=True, help="directory for results.json, table.md and the plots")
    p.add_argument("--no-plots", action="store_true")
    args = p.parse_args(argv)
    merged = load(args.inputs)
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "results.json"), "w") as f:
        json.dump(merged, f, indent=2)
    with open(os.path.join(args.out, "table.md"), "w") as f:
        f.write(table(merged))
    print(f"wrote {args.out}/results.json ({len(merged['records'])} records) and {args.out}/table.md")
    if args.no_plots:
        return 0
    result = plots(merged, args.out)
    if isinstance(result, str):
        print(f"error: {result}", file=sys.stderr)
        return 2
    print(f"wrote {len(result)} plots: {', '.join(result)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
