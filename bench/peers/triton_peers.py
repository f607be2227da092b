"""The Triton peers: a matmul with the activation fused in its epilogue, and a
dual-GEMM kernel for the gated activations (x tile loaded once for W_gate and
W_up, as tilefuse's gated op does), both autotuned over one config list.

x is M x K row-major; W is an nn.Linear weight (N x K), read as B[k, n] =
W[n, k] through strides. Accumulation in fp32, output in x's dtype.
"""
import torch
import triton
import triton.language as tl

from workload import MISH_TEXT

# Activation codes (constexpr: each is its own compiled kernel).
ACT_CODES = {"relu": 0, "gelu": 1, "gelu_tanh": 2, "silu": 3, MISH_TEXT: 4, "swiglu": 3, "geglu": 1}


@triton.jit
def _sigmoid(z):
    return 1.0 / (1.0 + tl.exp(-z))


@triton.jit
def _tanh(z):
    # tanh(z) = 2·σ(2z) − 1 (no tanh in core triton.language; fp32 error ~1e-7 absolute).
    return 2.0 * _sigmoid(2.0 * z) - 1.0


@triton.jit
def _act(z, ACT: tl.constexpr):
    # ACT is a compile-time constant: only the chosen branch is generated.
    if ACT == 0:
        y = tl.maximum(z, 0.0)
    elif ACT == 1:
        y = 0.5 * z * (1.0 + tl.erf(z * 0.7071067811865476))
    elif ACT == 2:
        y = z * _sigmoid(1.5957691216057308 * (z + 0.044715 * z * z * z))
    elif ACT == 3:
        y = z * _sigmoid(z)
    else:
        softplus = tl.maximum(z, 0.0) + tl.log(1.0 + tl.exp(-tl.abs(z)))
        y = z * _tanh(softplus)
    return y


def _configs():
    """A reasonable list: Triton's tutorial configs plus small-M and Hopper-sized ones."""
    shapes = [  # BM, BN, BK, stages, warps
        (128, 256, 64, 3, 8), (256, 128, 64, 3, 8), (128, 128, 64, 4, 8), (128, 128, 32, 4, 4),
        (64, 256, 32, 4, 4), (128, 64, 32, 4, 4), (64, 128, 32, 4, 4), (64, 64, 64, 4, 4),
        (32, 128, 128, 4, 4), (16, 128, 128, 4, 4), (16, 64, 256, 3, 4),
    ]
    return [triton.Config({"BLOCK_M": bm, "BLOCK_N": bn, "BLOCK_K": bk, "GROUP_M": 8}, num_stages=s, num_warps=w)
            for bm, bn, bk, s, w in shapes]


@triton.jit
def _tile_origin(M, N, BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr, GROUP_M: tl.constexpr):
    # Grouped ordering (L2 reuse), as in Triton's matmul tutorial.
    pid = tl.program_id(0)
    num_m = tl.cdiv(M, BLOCK_M)
    num_n = tl.cdiv(N, BLOCK_N)
    group = GROUP_M * num_n
    first_m = (pid // group) * GROUP_M
    size_m = min(num_m - first_m, GROUP_M)
    pid_m = first_m + ((pid % group) % size_m)
    pid_n = (pid % group) // size_m
    return pid_m, pid_n


@triton.autotune(configs=_configs(), key=["M", "N", "K", "ACT"])  # tuned per activation too
@triton.jit
def matmul_act_kernel(x_ptr, w_ptr, out_ptr, M, N, K, stride_xm, stride_wn, stride_om,
                      ACT: tl.constexpr, BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr, BLOCK_K: tl.constexpr,
                      GROUP_M: tl.constexpr):
    pid_m, pid_n = _tile_origin(M, N, BLOCK_M, BLOCK_N, GROUP_M)
    rm = pid_m * BLOCK_M + tl.arange(0, BLOCK_M)
    rn = pid_n * BLOCK_N + tl.arange(0, BLOCK_N)
    rk = tl.arange(0, BLOCK_K)
    x_ptrs = x_ptr + rm[:, None] * stride_xm + rk[None, :]
    w_ptrs = w_ptr + rn[None, :] * stride_wn + rk[:, None]  # B[k, n] = W[n, k]
    acc = tl.zeros((BLOCK_M, BLOCK_N), dtype=tl.float32)
    for k0 in range(0, tl.cdiv(K, BLOCK_K)):
        k_left = K - k0 * BLOCK_K
        a = tl.load(x_ptrs, mask=(rm[:, None] < M) & (rk[None, :] < k_left), other=0.0)
        b = tl.load(w_ptrs, mask=(rn[None, :] < N) & (rk[:, None] < k_left), other=0.0)
        acc = tl.dot(a, b, acc)
        x_ptrs += BLOCK_K
        w_ptrs += BLOCK_K
    y = _act(acc, ACT)
    out_ptrs = out_ptr + rm[:, None] * stride_om + rn[None, :]
    tl.store(out_ptrs, y.to(out_ptr.dtype.element_ty), mask=(rm[:, None] < M) & (rn[None, :] < N))


@triton.autotune(configs=_configs(), key=["M", "N", "K", "ACT"])  # tuned per activation too
@triton.jit
def dual_matmul_act_kernel(x_ptr, wg_ptr, wu_ptr, out_ptr, M, N, K, stride_xm, stride_wn, stride_om,
                           ACT: tl.constexpr, BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr,
                           BLOCK_K: tl.constexpr, GROUP_M: tl.constexpr):
    """out = act(x·W_gateᵀ) · (x·W_upᵀ): one x tile per k-step feeds both accumulators."""
    pid_m, pid_n = _tile_origin(M, N, BLOCK_M, BLOCK_N, GROUP_M)
    rm = pid_m * BLOCK_M + tl.arange(0, BLOCK_M)
    rn = pid_n * BLOCK_N + tl.arange(0, BLOCK_N)
    rk = tl.arange(0, BLOCK_K)
    x_ptrs = x_ptr + rm[:, None] * stride_xm + rk[None, :]
    w_offsets = rn[None, :] * stride_wn + rk[:, None]
    acc_g = tl.zeros((BLOCK_M, BLOCK_N), dtype=tl.float32)
    acc_u = tl.zeros((BLOCK_M, BLOCK_N), dtype=tl.float32)
    for k0 in range(0, tl.cdiv(K, BLOCK_K)):
        k_left = K - k0 * BLOCK_K
        w_mask = (rn[None, :] < N) & (rk[:, None] < k_left)
        a = tl.load(x_ptrs, mask=(rm[:, None] < M) & (rk[None, :] < k_left), other=0.0)
        bg = tl.load(wg_ptr + w_offsets, mask=w_mask, other=0.0)
        bu = tl.load(wu_ptr + w_offsets, mask=w_mask, other=0.0)
        acc_g = tl.dot(a, bg, acc_g)
        acc_u = tl.dot(a, bu, acc_u)
        x_ptrs += BLOCK_K
        w_offsets += BLOCK_K
    y = _act(acc_g, ACT) * acc_u
    out_ptrs = out_ptr + rm[:, None] * stride_om + rn[None, :]
    tl.store(out_ptrs, y.to(out_ptr.dtype.element_ty), mask=(rm[:, None] < M) & (rn[None, :] < N))


def _grid(meta, m, n):
    return (triton.cdiv(m, meta["BLOCK_M"]) * triton.cdiv(n, meta["BLOCK_N"]),)


def matmul_act(x, w, out, activation):
    m, k = x.shape
    n = w.shape[0]
    matmul_act_kernel[lambda meta: _grid(meta, m, n)](x, w, out, m, n, k, x.stride(0), w.stride(0), out.stride(0),
                                                       ACT=ACT_CODES[activation])
    return out


def dual_matmul_act(x, w_gate, w_up, out, activation):
    m, k = x.shape
    n = w_gate.shape[0]
    dual_matmul_act_kernel[lambda meta: _grid(meta, m, n)](x, w_gate, w_up, out, m, n, k, x.stride(0),
                                                            w_gate.stride(0), out.stride(0),
                                                            ACT=ACT_CODES[activation])
    return out


def fresh_compile_ms(activation, gated, x, weights, out):
    """Cold JIT of the same fused kernel for one config (the autotuner's first), timed until the
    first launch returns, with Triton's in-memory and on-disk caches empty (the caller points
    TRITON_CACHE_DIR at a fresh directory). Returns (cold_ms, warm_ms): warm is a second fresh
    JITFunction over the now filled disk cache, i.e. what a new process pays."""
    import time

    cfg = _configs()[0]
    base = dual_matmul_act_kernel if gated else matmul_act_kernel
    results = []
    for _ in range(2):
        fn = triton.JITFunction(base.fn.fn)  # a new JITFunction: empty in-memory cache
        m, k = x.shape
        n = weights[0].shape[0]
        grid = (triton.cdiv(m, cfg.kwargs["BLOCK_M"]) * triton.cdiv(n, cfg.kwargs["BLOCK_N"]),)
        args = [x, *weights, out, m, n, k, x.stride(0), weights[0].stride(0), out.stride(0)]
        torch.cuda.synchronize()
        start = time.perf_counter()
        fn[grid](*args, ACT=ACT_CODES[activation], num_stages=cfg.num_stages, num_warps=cfg.num_warps,
                 **cfg.kwargs)
        results.append(1e3 * (time.perf_counter() - start))
        torch.cuda.synchronize()
    return results[0], results[1]
