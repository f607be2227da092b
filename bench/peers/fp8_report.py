"""The FP8 section of report.py's table.md (issue 16, item 6): records of
tilefuse_bench_fp8 (tilefuse, cublaslt_fp8, cublaslt_fp8+act,
cublaslt_fp8_epilogue) and fp8_peers.py (torch_scaled_mm, torch_scaled_mm+act),
dtype "e4m3", told apart by "scaling" (tensor, row, block128) and "out_dtype"
(bf16, e4m3). Pure Python: test_report.py checks it on the CPU.

Targets (H100/H200, M, N, K >= 4096, geometric mean and minimum over shapes):
  - tilefuse's TFLOP/s with the activation fused >= 0.95x cuBLASLt's plain FP8
    GEMM (same scaling and output type; per-tensor where cuBLASLt had no
    algorithm for that scaling, marked so);
  - tilefuse >= 1.2x as fast as torch._scaled_mm + a separate activation
    (same scaling and output type).
"""
import math
import statistics

FP8_DTYPES = ("e4m3",)
IMPL_ORDER = ["tilefuse", "cublaslt_fp8", "cublaslt_fp8_fast_accum", "cublaslt_fp8+act", "cublaslt_fp8_epilogue",
              "torch_scaled_mm", "torch_scaled_mm+act"]
# Plain GEMMs (activation "none"): an activation row shows them at its scaling and output type.
PLAIN_IMPLS = {"cublaslt_fp8", "cublaslt_fp8_fast_accum", "torch_scaled_mm"}
SCALING_ORDER = ["tensor", "row", "block128"]
CEILING_TARGET = 0.95   # tilefuse TFLOP/s / cuBLASLt plain FP8 TFLOP/s
TORCH_TARGET = 1.20     # torch_scaled_mm+act ms / tilefuse ms
PEERS = ["cublaslt_fp8+act", "cublaslt_fp8_epilogue", "torch_scaled_mm+act"]


def is_fp8(record):
    return record.get("dtype") in FP8_DTYPES


def record_key(r):
    return (r["impl"], r["activation"], r["M"], r["N"], r["K"], r.get("scaling", "tensor"), r.get("out_dtype", "bf16"))


def index(records):
    """{(impl, activation, M, N, K, scaling, out_dtype): record} of the FP8 records; a duplicate
    keeps the faster correct one."""
    by_key = {}
    for r in records:
        if not is_fp8(r):
            continue
        key = record_key(r)
        old = by_key.get(key)
        if old is None or (r["correct"] and (not old["correct"] or r["ms"] < old["ms"])):
            by_key[key] = r
    return by_key


def problems(records):
    """Sorted (activation, scaling, out_dtype, M, N, K) of the FP8 activation records."""
    order = {s: i for i, s in enumerate(SCALING_ORDER)}
    keys = {(r["activation"], r.get("scaling", "tensor"), r.get("out_dtype", "bf16"), r["M"], r["N"], r["K"])
            for r in records if is_fp8(r) and r["activation"] != "none"}
    return sorted(keys, key=lambda p: (p[0], order.get(p[1], 99), p[2], p[3], p[4], p[5]))


def _get(by_key, impl, problem):
    activation, scaling, out_dtype, m, n, k = problem
    return by_key.get((impl, activation, m, n, k, scaling, out_dtype))


def ceiling(by_key, problem):
    """(cuBLASLt plain FP8 GEMM record, its scaling) for a problem: the same scaling and output
    type, else per-tensor scaling (cuBLASLt without an algorithm for that scaling)."""
    _, scaling, out_dtype, m, n, k = problem
    for s in (scaling, "tensor"):
        r = by_key.get(("cublaslt_fp8", "none", m, n, k, s, out_dtype))
        if r and r["correct"]:
            return r, s
    return None, None


def ceiling_ratio(by_key, problem):
    """tilefuse TFLOP/s / cuBLASLt plain FP8 TFLOP/s, or None if either is missing or wrong."""
    mine = _get(by_key, "tilefuse", problem)
    top, _ = ceiling(by_key, problem)
    if not mine or not mine["correct"] or not top:
        return None
    return mine["tflops"] / top["tflops"]


def speed_ratio(by_key, peer, problem):
    """peer ms / tilefuse ms (> 1: tilefuse faster), or None if either is missing or wrong."""
    mine, other = _get(by_key, "tilefuse", problem), _get(by_key, peer, problem)
    if not mine or not other or not mine["correct"] or not other["correct"]:
        return None
    return other["ms"] / mine["ms"]


def geomean(values):
    return math.exp(statistics.fmean(math.log(v) for v in values)) if values else None


def target_row(name, target, ratios):
    if not ratios:
        return f"| {name} | ≥ {target:.2f}× | – | – | 0 |"
    mean = geomean(ratios)
    verdict = "met" if mean >= target else "missed"
    return f"| {name} | ≥ {target:.2f}× | {mean:.2f}× ({verdict}) | {min(ratios):.2f}× | {len(ratios)} |"


def _not_run_index(not_run):
    return {(e["impl"], e["activation"], e["M"], e["N"], e["K"], e.get("scaling", "tensor"),
             e.get("out_dtype", "bf16")) for e in not_run if e.get("dtype") in FP8_DTYPES}


def _cell(by_key, skipped, impl, problem):
    if impl in PLAIN_IMPLS:
        problem = ("none",) + problem[1:]
    r = _get(by_key, impl, problem)
    if r is None:
        activation, scaling, out_dtype, m, n, k = problem
        return "not run" if (impl, activation, m, n, k, scaling, out_dtype) in skipped else "–"
    text = f"{r['tflops']:.0f}" + ("" if r["correct"] else " ✗")
    if r.get("arch") and r["arch"] != "sm_90a" and impl == "tilefuse":
        text += f" ({r['arch']})"
    return text


def _fmt_ratio(x):
    return "–" if x is None else f"{x:.2f}×"


def table(merged):
    """The FP8 section (markdown lines), or [] when the run has no FP8 records."""
    records = [r for r in merged["records"] if is_fp8(r)]
    not_run = [e for e in merged.get("not_run", []) if e.get("dtype") in FP8_DTYPES]
    if not records and not not_run:
        return []
    by_key, skipped = index(records), _not_run_index(not_run)
    present = [i for i in IMPL_ORDER if any(k[0] == i for k in by_key)]
    present += sorted({k[0] for k in by_key} - set(present))
    lines = ["", "## FP8 (e4m3 inputs, FP32 accumulation)", "",
             "TFLOP/s (2·M·N·K); cublaslt_fp8 = cuBLASLt's plain FP8 GEMM of the same scaling and output "
             "type (the ceiling; † = per-tensor, cuBLASLt had no algorithm for the scaling); "
             "cublaslt_fp8_fast_accum = the same with CUBLASLT_MATMUL_DESC_FAST_ACCUM (partial sums never "
             "promoted to FP32: faster, less exact; for information); torch_scaled_mm = "
             "torch._scaled_mm alone; ratios: "
             "'vs cuBLASLt FP8' = tilefuse TFLOP/s / ceiling TFLOP/s, 'vs X' = X time / tilefuse time; "
             "'not run' = the combination is unavailable (see the list below); tilefuse's architecture "
             "is named when it is not sm_90a.", ""]
    header = ["activation", "scaling", "out", "M", "N", "K"] + present + ["vs cuBLASLt FP8"] + [
        f"vs {p}" for p in PEERS if p in present]
    lines.append("| " + " | ".join(header) + " |")
    lines.append("|" + "---|" * len(header))
    for problem in problems(records):
        activation, scaling, out_dtype, m, n, k = problem
        cells = [activation, scaling, out_dtype, str(m), str(n), str(k)]
        for impl in present:
            if impl == "cublaslt_fp8":
                top, top_scaling = ceiling(by_key, problem)
                cells.append("–" if top is None else f"{top['tflops']:.0f}" + ("" if top_scaling == scaling else " †"))
            else:
                cells.append(_cell(by_key, skipped, impl, problem))
        cells.append(_fmt_ratio(ceiling_ratio(by_key, problem)))
        cells += [_fmt_ratio(speed_ratio(by_key, p, problem)) for p in PEERS if p in present]
        lines.append("| " + " | ".join(cells) + " |")

    lines += ["", "### Issue 16 targets (M, N, K ≥ 4096; geometric mean and minimum of the ratios)", "",
              "| comparison | target | geomean | min | problems |", "|---|---|---|---|---|"]
    big = [p for p in problems(records) if min(p[3:6]) >= 4096]
    variants = sorted({(p[1], p[2]) for p in big}, key=lambda v: (SCALING_ORDER.index(v[0])
                                                                   if v[0] in SCALING_ORDER else 99, v[1]))
    for scaling, out_dtype in variants:
        subset = [p for p in big if p[1] == scaling and p[2] == out_dtype]
        ratios = [r for r in (ceiling_ratio(by_key, p) for p in subset) if r]
        lines.append(target_row(f"tilefuse / cuBLASLt plain FP8 TFLOP/s ({scaling}, {out_dtype} out)",
                                CEILING_TARGET, ratios))
        ratios = [r for r in (speed_ratio(by_key, "torch_scaled_mm+act", p) for p in subset) if r]
        lines.append(target_row(f"tilefuse vs torch._scaled_mm + activation ({scaling}, {out_dtype} out)",
                                TORCH_TARGET, ratios))
    amax = [r for r in records if "amax_rel_error" in r]
    if amax:
        worst = max(r["amax_rel_error"] for r in amax)
        lines.append(f"\namax of the FP8 outputs against the exact max |D| in bf16: {len(amax)} checked, "
                     f"largest relative difference {worst:.1e}.")
    if not_run:
        lines += ["", f"Not run ({len(not_run)}):"]
        reasons = {}
        for e in not_run:
            what = f"{e['impl']} {e['activation']} ({e.get('scaling', 'tensor')}, {e.get('out_dtype', 'bf16')} out)"
            reasons.setdefault((what, e["reason"]), []).append(f"{e['M']}×{e['N']}×{e['K']}")
        for (what, reason), shapes in reasons.items():
            lines.append(f"- {what} at {len(shapes)} shape(s) ({', '.join(shapes[:3])}"
                         f"{', …' if len(shapes) > 3 else ''}): {reason}")
    return lines
