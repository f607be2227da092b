// Which tile configurations are not worth compiling for one problem: the
// autotuner prunes its space with this before any NVRTC call. Separate from
// TargetInfo's enumeration (the space of all tiles a target can run) because
// it depends on the problem (shape, gated or not), not only on the target.
#pragma once

#include <optional>
#include <string>

#include "compiler/Target/TargetInfo.h"
#include "compiler/Types.h"

namespace tilefuse::compiler {

/// fp32 accumulators one thread may hold: a 64x64 warp tile is 128 per
/// thread, which leaves room in the 255-register file for the A/B fragments
/// and addresses; more spills (a gated kernel holds two accumulators).
inline constexpr int kMaxAccumulatorsPerThread = 128;

/// The problem a tile is chosen for (0 = unknown: no shape-based pruning).
struct TileProblem {
  long long m = 0, n = 0, k = 0;
  bool gated = false;  ///< two B tiles in shared memory and two accumulators
};

/// Shared memory of the mainloop's ring: `stages` A tiles (BM x BK) and one
/// (two when gated) B tiles (BN x BK), 16-bit elements.
long long tile_mainloop_shared_bytes(const TileConfig& tile, bool gated);
/// Shared memory of the epilogue, which reuses the ring: every warp stages
/// one (two when gated) fp32 accumulator tiles of WM rows x (WN + 8) floats.
long long tile_epilogue_shared_bytes(const TileConfig& tile, bool gated);
/// Dynamic shared memory of one block: the larger of the two. Mirrors
/// kSmemBytes in templates/tilefuse/gemm_sm80.cuh; every generated source
/// static_asserts that they agree (runtime/ops/KernelSource.cpp).
long long tile_shared_bytes(const TileConfig& tile, bool gated);
/// fp32 accumulator registers per thread for `tile`.
int tile_accumulators_per_thread(const TileConfig& tile, bool gated);

// ---- per mainloop (TargetInfo::mainloop) --------------------------------------
// The functions above describe the mma.sync mainloop (gemm_sm80.cuh). The
// wgmma mainloop (gemm_sm90.cuh) reads a tile differently: warp_m x warp_n is
// one consumer warpgroup's tile and the block always has 3 warpgroups (one
// producer, two consumers). These overloads pick the right rule.

/// Threads of one block: warps() * 32 (mma.sync) or 384 (wgmma).
int tile_threads(Mainloop mainloop, const TileConfig& tile);
/// Dynamic shared memory of one block. wgmma: 1024 (alignment slack for the
/// 128-byte swizzle) + the TMA ring (stages x (BM + BN [x2 gated]) x 64 x 2 B)
/// + epilogue staging (8 consumer warps x 16 rows x (64 + 8) floats, gated
/// 2 x (32 + 8)) + 2 mbarriers per stage + 2 turn-order mbarriers. Mirrors kSmemBytes of the template;
/// every generated source static_asserts that they agree.
long long tile_shared_bytes(Mainloop mainloop, const TileConfig& tile, bool gated);
/// fp32 accumulators per thread: per warp (/32) or per warpgroup (/128).
int tile_accumulators_per_thread(Mainloop mainloop, const TileConfig& tile, bool gated);
/// Why `tile` cannot be built on `mainloop` at all (shape rules of its
/// template: mma.sync's swizzle needs block_k / 8 and block_n / 8 to be powers
/// of two; wgmma's block_k 64 and warpgroup split), nullopt when it can. The
/// one check of forced tiles (Runtime::matmul, every launch) and of recorded
/// or imported tuning records (RecordedTiles, SearchSpace via tile_rejection).
std::optional<std::string> tile_shape_rejection(Mainloop mainloop, const TileConfig& tile);

/// Blocks of `tile` one multiprocessor of `target` holds at once, as limited
/// by shared memory (tile_shared_bytes + the 1 KiB the hardware reserves per
/// block) and threads; registers are not counted (ptxas decides them).
int blocks_per_sm(const TargetInfo& target, const TileConfig& tile, bool gated);
/// The gated rules above for `target`'s mainloop.
std::optional<std::string> gated_tile_rejection(const TargetInfo& target, const TileConfig& tile);
/// `tile` shrunk until a gated kernel on `target` fits its registers and
/// shared memory (wgmma: halve M to 64 first, then N; then fewer stages).
TileConfig fit_tile_to_gated(const TargetInfo& target, TileConfig tile);

/// Why a gated kernel with `tile` would spill or not fit, independent of the
/// problem shape; nullopt when it fits. Two sets of 128 accumulators also
/// leave no room for the fragments of a 64-deep k-tile.
std::optional<std::string> gated_tile_rejection(const TileConfig& tile, int max_shared_bytes);

/// `tile` shrunk (warp tile halved, k-tile 32 deep) until a gated kernel fits
/// its registers: the heuristic's tile for a gated op.
TileConfig fit_tile_to_gated(TileConfig tile);

/// Why `tile` should not be compiled for `problem` on `target`, as a short
/// sentence; nullopt when it is worth trying. Checks, in order: the
/// mainloop's tile shape rules, shared memory, accumulator registers (and the gated rules above), and the problem size (a block side larger
/// than the problem's side rounded up to a power of two, at least 64:
/// N = 64 gets only 64-wide blocks, M = 16 only 64-high ones).
std::optional<std::string> tile_rejection(const TargetInfo& target, const TileConfig& tile,
                                          const TileProblem& problem);

}  // namespace tilefuse::compiler
