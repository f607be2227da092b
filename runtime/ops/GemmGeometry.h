// Launch geometry of the fused GEMM kernel (templates/tilefuse/gemm_sm80.cuh):
// one block per BM x BN output tile (rasterized in groups inside the kernel),
// grid.y = batch, warps()*32 threads, and the cp.async ring in dynamic shared memory.
#pragma once

#include "compiler/Types.h"
#include "runtime/Module.h"
#include "tilefuse/error.hpp"

namespace tilefuse::ops {

/// Shared memory of the mainloop: `stages` buffers of an A tile (BM x BK)
/// and one (two when gated) B tiles (BN x BK), 16-bit elements.
long long gemm_mainloop_shared_bytes(const compiler::TileConfig& tile, bool gated);
/// Shared memory of the epilogue, which reuses the mainloop's: every warp
/// stages its one (two when gated) fp32 accumulator tiles, WM rows of WN + 8 floats.
long long gemm_epilogue_shared_bytes(const compiler::TileConfig& tile, bool gated);
/// Dynamic shared memory of one block: the larger of the two. Mirrors
/// kSmemBytes in gemm_sm80.cuh; every generated source static_asserts that
/// they agree (KernelSource.cpp).
long long gemm_shared_bytes(const compiler::TileConfig& tile, bool gated);

/// Grid, block and shared memory for an M x N output (x `batch`) with `tile`.
/// Unsupported when the grid exceeds CUDA's limits (x < 2^31, y <= 65535).
Expected<runtime::LaunchConfig> gemm_launch_config(const compiler::TileConfig& tile, bool gated,
                                                   long long m, long long n, long long batch);

}  // namespace tilefuse::ops
