// Launch geometry of the fused GEMM kernel (templates/tilefuse/gemm_sm80.cuh):
// one block per BM x BN output tile (rasterized in groups inside the kernel),
// grid.y = batch, warps()*32 threads, and the cp.async ring in dynamic shared memory.
#pragma once

#include <optional>
#include <string>

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

/// Why a gated op cannot use `tile`, or nullopt. Rules measured with NVRTC
/// 13.0 (tests/unit/ops/tile_space_compile_test.cpp): more than
/// compiler::kMaxAccumulatorsPerThread accumulators spill; so do 128 of them
/// with a 64-deep k-tile (two B tiles in flight: sm_80 spills for 64x128x64,
/// 64x256x64 and 128x64x64, sm_90a also for 128x128x64 and 256x64x64); and
/// the block must fit `max_shared_bytes`.
std::optional<std::string> gated_tile_rejection(const compiler::TileConfig& tile, int max_shared_bytes);

/// The heuristic's tile adapted to a gated op: while its two accumulator
/// sets exceed compiler::kMaxAccumulatorsPerThread (TilePruning.h), the warp
/// tile (and with it the block) is halved in N, then in M, keeping the warp
/// count; then a 64-deep k-tile becomes 32 deep (the rule above).
/// 128x128x32 with 64x64 warps becomes 128x64x32 with 64x32 warps.
compiler::TileConfig fit_tile_to_gated(compiler::TileConfig tile);

/// Grid, block and shared memory for an M x N output (x `batch`) with `tile`.
/// Unsupported when the grid exceeds CUDA's limits (x < 2^31, y <= 65535).
Expected<runtime::LaunchConfig> gemm_launch_config(const compiler::TileConfig& tile, bool gated,
                                                   long long m, long long n, long long batch);

}  // namespace tilefuse::ops
