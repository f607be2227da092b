"""Peer (c) of the grouped benchmark: a Triton grouped GEMM over the contiguous
(token rows sorted by expert) layout with the activation fused in its epilogue.

One program computes one BLOCK_M x BLOCK_N tile of one expert. Which expert
and rows a program row owns comes from a block table built once per routing
from the group sizes (as vLLM's moe_align_block_size does before its fused MoE
kernel); building it is not timed, which favours this peer. Weights are
nn.Linear tensors [E, N, K], read as B[k, n] = W[e, n, k] through strides.

  MODE 0: out = silu(A·W_gate[e]ᵀ) * (A·W_up[e]ᵀ)   (the x tile is loaded once for both)
  MODE 1: out = (A·W[e]ᵀ) * route[row]              (the down projection's routing weight)
"""
import torch
import triton
import triton.language as tl

MODE_SWIGLU = 0
MODE_ROUTE = 1


def _configs():
    shapes = [  # BN, BK, stages, warps
        (128, 64, 3, 8), (128, 64, 4, 4), (64, 64, 4, 4), (256, 64, 3, 8), (128, 32, 4, 4), (64, 128, 3, 4),
    ]
    return [triton.Config({"BLOCK_N": bn, "BLOCK_K": bk}, num_stages=s, num_warps=w) for bn, bk, s, w in shapes]


@triton.autotune(configs=_configs(), key=["N", "K", "BLOCK_M", "MODE"])
@triton.jit
def _grouped_kernel(a_ptr, w_ptr, w_up_ptr, out_ptr, route_ptr, block_expert_ptr, block_row_ptr, block_end_ptr,
                    N, K, stride_am, stride_we, stride_wn, stride_om,
                    MODE: tl.constexpr, BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr, BLOCK_K: tl.constexpr):
    pid_m = tl.program_id(0)
    pid_n = tl.program_id(1)
    expert = tl.load(block_expert_ptr + pid_m).to(tl.int64)
    row0 = tl.load(block_row_ptr + pid_m)
    row_end = tl.load(block_end_ptr + pid_m)
    rm = row0 + tl.arange(0, BLOCK_M)
    rn = pid_n * BLOCK_N + tl.arange(0, BLOCK_N)
    rk = tl.arange(0, BLOCK_K)
    mask_m = rm < row_end
    mask_n = rn < N
    a_ptrs = a_ptr + rm[:, None].to(tl.int64) * stride_am + rk[None, :]
    w_base = expert * stride_we
    w_ptrs = w_ptr + w_base + rn[None, :].to(tl.int64) * stride_wn + rk[:, None]
    acc = tl.zeros((BLOCK_M, BLOCK_N), dtype=tl.float32)
    if MODE == 0:
        u_ptrs = w_up_ptr + w_base + rn[None, :].to(tl.int64) * stride_wn + rk[:, None]
        acc_up = tl.zeros((BLOCK_M, BLOCK_N), dtype=tl.float32)
    for k in range(0, K, BLOCK_K):
        k_left = K - k
        a = tl.load(a_ptrs, mask=mask_m[:, None] & (rk[None, :] < k_left), other=0.0)
        w = tl.load(w_ptrs, mask=mask_n[None, :] & (rk[:, None] < k_left), other=0.0)
        acc += tl.dot(a, w)
        if MODE == 0:
            u = tl.load(u_ptrs, mask=mask_n[None, :] & (rk[:, None] < k_left), other=0.0)
            acc_up += tl.dot(a, u)
            u_ptrs += BLOCK_K
        a_ptrs += BLOCK_K
        w_ptrs += BLOCK_K
    if MODE == 0:
        out = acc / (1.0 + tl.exp(-acc)) * acc_up
    else:
        route = tl.load(route_ptr + rm, mask=mask_m, other=0.0)
        out = acc * route[:, None]
    o_ptrs = out_ptr + rm[:, None].to(tl.int64) * stride_om + rn[None, :]
    tl.store(o_ptrs, out.to(out_ptr.dtype.element_ty), mask=mask_m[:, None] & mask_n[None, :])


def block_m_for(counts, experts):
    """64-row blocks when the mean group is small (decode), 128 otherwise."""
    rows = sum(counts)
    return 64 if rows <= 64 * experts else 128


def block_table(counts, block_m, device):
    """(expert, first row, end row) per BLOCK_M block of every non-empty group."""
    experts, starts, ends = [], [], []
    offset = 0
    for e, n in enumerate(counts):
        for first in range(offset, offset + n, block_m):
            experts.append(e)
            starts.append(first)
            ends.append(offset + n)
        offset += n
    as_tensor = lambda v: torch.tensor(v, dtype=torch.int32, device=device)  # noqa: E731
    return as_tensor(experts), as_tensor(starts), as_tensor(ends)


class GroupedGemm:
    """Launches of one routing: the block table is built here, once."""

    def __init__(self, counts, device="cuda"):
        self.block_m = block_m_for(counts, len(counts))
        self.table = block_table(counts, self.block_m, device)
        self.blocks = int(self.table[0].numel())

    def __call__(self, a, w, out, mode, w_up=None, route=None):
        n, k = w.shape[1], w.shape[2]
        grid = lambda meta: (self.blocks, triton.cdiv(n, meta["BLOCK_N"]))  # noqa: E731
        _grouped_kernel[grid](a, w, w_up if w_up is not None else w, out, route if route is not None else a,
                              *self.table, n, k, a.stride(0), w.stride(0), w.stride(1), out.stride(0),
                              MODE=mode, BLOCK_M=self.block_m)
        return out
