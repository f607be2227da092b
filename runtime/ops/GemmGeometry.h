// Launch geometry of the fused GEMM kernel (templates/tilefuse/gemm_sm80.cuh):
// one block per BM x BN output tile (rasterized in groups inside the kernel),
// grid.y = batch, warps()*32 threads, and the cp.async ring in dynamic shared memory.
#pragma once

#include <optional>
#include <string>

#include "compiler/Target/TilePruning.h"
#include "compiler/Types.h"
#include "runtime/Module.h"
#include "tilefuse/error.hpp"
#include "tilefuse/tilefuse.hpp"

namespace tilefuse::ops {

/// What the host knows of a grouped (mixture-of-experts) launch: the layout
/// and the number of groups; the group sizes are device data it never reads.
/// For a grouped launch `m` is T (contiguous) or M_max (masked) and the
/// launch batch is 1.
struct GroupedShape {
  GroupLayout layout = GroupLayout::None;
  long long groups = 0;
  bool grouped() const { return layout != GroupLayout::None; }
};

/// An upper bound of the block_m-row tiles of every group together, over all
/// group sizes the layout allows: contiguous, sum ceil(n_e / BM) over groups
/// with n_e >= 0 and sum n_e = T, at most min(E, T) of them non-empty, is at
/// most floor((T + min(E, T) * (BM - 1)) / BM); masked, E * ceil(M_max / BM).
/// Not grouped: ceil(m / BM).
long long grouped_row_tiles_bound(const GroupedShape& grouped, long long m, int block_m);

/// The rows one group has for the tile heuristic: the average T / E
/// (rounded up) of a contiguous launch, M_max of a masked one (the decode
/// case: the bound of every group); m when not grouped.
long long grouped_rows_per_group(const GroupedShape& grouped, long long m);

// Shared memory and the gated-tile rules live in compiler/Target/TilePruning.h
// (tile_shared_bytes, gated_tile_rejection, fit_tile_to_gated): the compiler's
// tile pass, the autotuner and this launch path share one definition.

/// Grid, block and shared memory for an M x N output (x `batch`) with `tile`.
/// Unsupported when the grid exceeds CUDA's limits (x < 2^31, y <= 65535).
Expected<runtime::LaunchConfig> gemm_launch_config(const compiler::TileConfig& tile, bool gated,
                                                   long long m, long long n, long long batch);

/// The persistent sm_90a kernel (templates/tilefuse/gemm_sm90.cuh): one block
/// per multiprocessor, at most one per output tile (batches included), each
/// walking tiles blockIdx.x, blockIdx.x + gridDim.x, ...; 384 threads (one
/// producer and two consumer warpgroups) and the wgmma mainloop's shared
/// memory. Grouped: the tiles are counted on the device, so the grid is
/// min(SMs, grouped_row_tiles_bound x tiles along N) (a block may find no
/// tile; it then exits). InvalidInput for sm_count < 1; Unsupported when the
/// tile count (grouped: its bound) does not fit the kernel's 32-bit tile
/// index, or when M, N or K reaches 2^31 (TMA box coordinates are 32-bit
/// signed: the kernel would wrap them and load the wrong rows).
Expected<runtime::LaunchConfig> persistent_gemm_launch_config(const compiler::TileConfig& tile, bool gated,
                                                              long long m, long long n, long long k,
                                                              long long batch, int sm_count,
                                                              const GroupedShape& grouped = {});

/// The sm_90a heuristic tile for a launch of `batch` m x n outputs on
/// `sm_count` multiprocessors (0: unknown, `tile` unchanged). A ping-pong
/// tile (block_m = warp_m) gives each block's two consumers alternate tiles;
/// when there are no more tiles than SMs every block gets at most one, so
/// the second consumer would idle: then the same block is split
/// cooperatively (warp_m = block_m / 2, both consumers on each tile), where
/// the split leaves wgmma's 64 rows per consumer.
/// Grouped launches count the bound of their tiles (grouped_row_tiles_bound).
compiler::TileConfig sm90_schedule_for_tile_count(compiler::TileConfig tile, long long m, long long n,
                                                  long long batch, int sm_count, const GroupedShape& grouped = {});

}  // namespace tilefuse::ops
