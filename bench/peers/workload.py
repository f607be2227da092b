"""What is measured, shared by every peer: shapes, activations, FLOPs.

Pure Python (no torch): report.py and the CPU check import it too.
The shapes and activation names are the C++ benchmark's
(bench/gemm/gemm_bench.cpp), so that records of both merge by
(activation, M, N, K, dtype).
"""

# Activation names as records spell them; the custom one is recorded under its DSL text.
MISH_TEXT = "x * tanh(softplus(x))"
SINGLE = ["relu", "gelu", "gelu_tanh", "silu", MISH_TEXT]
GATED = ["swiglu", "geglu"]
ACTIVATIONS = SINGLE + GATED

# The FP8 benchmark (issue 16; bench/fp8, fp8_peers.py): activations fused after an e4m3
# GEMM (gelu_tanh is also cuBLASLt's GELU epilogue) and the scalings, as records spell them.
FP8_ACTIVATIONS = ["gelu", "gelu_tanh", "silu"]
FP8_QUICK_ACTIVATIONS = ["gelu", "gelu_tanh"]
FP8_SCALINGS = ["tensor", "row", "block128"]

# M x (K, N): the LLM shapes of docs/performance.md, plus square 4096 and 8192.
MS = [16, 128, 1024, 4096, 16384]
KNS = [(4096, 14336), (4096, 11008), (8192, 28672), (14336, 4096)]
QUICK_MS = [128, 4096]
QUICK_KNS = [(4096, 14336)]


def shapes(quick=False):
    """[(M, N, K)] in the C++ benchmark's order."""
    ms, kns = (QUICK_MS, QUICK_KNS) if quick else (MS, KNS)
    out = [(m, n, k) for m in ms for (k, n) in kns]
    out.append((4096, 4096, 4096))
    if not quick:
        out.append((8192, 8192, 8192))
    return out


def is_gated(activation):
    return activation in GATED


def flops(activation, m, n, k):
    """2·M·N·K, doubled for a gated pair (two GEMMs)."""
    return 2.0 * m * n * k * (2 if is_gated(activation) else 1)


def tflops(activation, m, n, k, ms):
    return flops(activation, m, n, k) / (ms * 1e-3) / 1e12


def record(impl, activation, m, n, k, dtype, ms, correct, rel_error, **extra):
    """One record in the contract format {impl, activation, M, N, K, dtype, ms, tflops, correct}."""
    r = {"impl": impl, "activation": activation, "M": m, "N": n, "K": k, "dtype": dtype, "ms": ms,
         "tflops": tflops(activation, m, n, k, ms), "correct": bool(correct), "rel_error": rel_error}
    r.update(extra)
    return r
