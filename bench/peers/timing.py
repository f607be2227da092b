"""CUDA-event timing the way the C++ benchmark does it (bench/gemm/EventTimer):
warm-up, then each timed repetition starts after a 256 MiB buffer was written
(L2 flushed), median of the repetitions; and the correctness check of a
timed output against a float64 reference on sampled rows."""
import statistics
import time

import torch

L2_FLUSH_BYTES = 256 << 20
_flush = None


def median_ms(launch, warmup=3, reps=10):
    """Median GPU time of `launch()` (which enqueues work on the current stream)."""
    global _flush
    if _flush is None:
        _flush = torch.empty(L2_FLUSH_BYTES, dtype=torch.uint8, device="cuda")
    for _ in range(warmup):
        launch()
    starts = [torch.cuda.Event(enable_timing=True) for _ in range(reps)]
    ends = [torch.cuda.Event(enable_timing=True) for _ in range(reps)]
    for i in range(reps):
        _flush.fill_(i & 0xFF)
        starts[i].record()
        launch()
        ends[i].record()
    torch.cuda.synchronize()
    return statistics.median(s.elapsed_time(e) for s, e in zip(starts, ends))


def sample_rows(m, count=256):
    """Rows to check: the first, the last and an even spread in between."""
    if m <= count:
        return torch.arange(m)
    return torch.unique(torch.cat([torch.linspace(0, m - 1, count).long(), torch.tensor([0, m - 1])]))


def relative_error(out_rows, ref_rows):
    """‖out − ref‖ / ‖ref‖ in float64 (Frobenius); NaN anywhere gives NaN."""
    out64 = out_rows.double()
    diff = torch.linalg.vector_norm(out64 - ref_rows)
    return float(diff / torch.linalg.vector_norm(ref_rows))


def host_us_per_call(launch, calls=100, rounds=20):
    """Median host microseconds per call of `launch` (the GPU work is small so the queue
    never fills; the stream is drained between rounds), as bench/gemm/HostOverhead does."""
    for _ in range(10):
        launch()
    samples = []
    for _ in range(rounds):
        torch.cuda.synchronize()
        start = time.perf_counter()
        for _ in range(calls):
            launch()
        samples.append(1e6 * (time.perf_counter() - start) / calls)
    torch.cuda.synchronize()
    return statistics.median(samples)
