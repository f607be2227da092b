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

namespace tilefuse::ops {

// Shared memory and the gated-tile rules live in compiler/Target/TilePruning.h
// (tile_shared_bytes, gated_tile_rejection, fit_tile_to_gated): the compiler's
// tile pass, the autotuner and this launch path share one definition.

/// Grid, block and shared memory for an M x N output (x `batch`) with `tile`.
/// Unsupported when the grid exceeds CUDA's limits (x < 2^31, y <= 65535).
Expected<runtime::LaunchConfig> gemm_launch_config(const compiler::TileConfig& tile, bool gated,
                                                   long long m, long long n, long long batch);

/// A grouped op on the mma.sync kernel (gemm_sm80.cuh with TF_GEMM_GROUPED):
/// blockIdx.x numbers the tiles of all groups, group after group; the group
/// sizes are on the device, so the grid is an upper bound of the tile count
/// and the blocks past the device-computed total exit at once. Contiguous
/// (m = T rows in E groups): sum_e ceil(n_e / BM) <= floor((T + E·(BM-1)) / BM)
/// tile rows; masked (m = M_max): E · ceil(M_max / BM). Times ceil(n / BN).
/// grid.y = 1. Unsupported when the bound exceeds CUDA's grid limit.
Expected<runtime::LaunchConfig> grouped_gemm_launch_config(const compiler::TileConfig& tile, bool gated,
                                                           compiler::GroupLayout layout, long long m, long long n,
                                                           long long groups);

/// The upper bound of the tile rows above (exposed for tests).
long long grouped_tile_rows_bound(compiler::GroupLayout layout, long long m, long long groups, int block_m);

/// The persistent sm_90a kernel (templates/tilefuse/gemm_sm90.cuh): one block
/// per multiprocessor, at most one per output tile (batches included), each
/// walking tiles blockIdx.x, blockIdx.x + gridDim.x, ...; 384 threads (one
/// producer and two consumer warpgroups) and the wgmma mainloop's shared
/// memory. InvalidInput for sm_count < 1; Unsupported when the tile count
/// does not fit the kernel's 64-bit tile index arithmetic in int batches, or
/// when M, N or K reaches 2^31 (TMA box coordinates are 32-bit signed: the
/// kernel would wrap them and load the wrong rows).
Expected<runtime::LaunchConfig> persistent_gemm_launch_config(const compiler::TileConfig& tile, bool gated,
                                                              long long m, long long n, long long k,
                                                              long long batch, int sm_count);

/// The sm_90a heuristic tile for a launch of `batch` m x n outputs on
/// `sm_count` multiprocessors (0: unknown, `tile` unchanged). A ping-pong
/// tile (block_m = warp_m) gives each block's two consumers alternate tiles;
/// when there are no more tiles than SMs every block gets at most one, so
/// the second consumer would idle: then the same block is split
/// cooperatively (warp_m = block_m / 2, both consumers on each tile), where
/// the split leaves wgmma's 64 rows per consumer.
compiler::TileConfig sm90_schedule_for_tile_count(compiler::TileConfig tile, long long m, long long n,
                                                  long long batch, int sm_count);

}  // namespace tilefuse::ops
