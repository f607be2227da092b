// See TilePruning.h.
#include "compiler/Target/TilePruning.h"

#include <algorithm>

#include <fmt/format.h>

namespace tilefuse::compiler {
namespace {

constexpr int kOperandBytes = 2;       // bf16 / f16 operands in shared memory
constexpr long long kFloatBytes = 4;   // staged fp32 accumulators
constexpr long long kEpilogueRowPad = 8;  // floats of padding per staged row (bank spread)
constexpr int kThreadsPerWarp = 32;
constexpr int kDeepK = 64, kShallowK = 32, kSmallestWarpSide = 32;
constexpr long long kSmallestBlockSide = 64;

/// The largest block side worth using for a problem side of `extent`.
long long useful_block_side(long long extent) {
  long long side = kSmallestBlockSide;
  while (side < extent) side *= 2;
  return side;
}

}  // namespace

long long tile_mainloop_shared_bytes(const TileConfig& tile, bool gated) {
  const long long b_tiles = gated ? 2 : 1;
  return (static_cast<long long>(tile.block_m) + b_tiles * tile.block_n) * tile.block_k *
         kOperandBytes * tile.stages;
}

long long tile_epilogue_shared_bytes(const TileConfig& tile, bool gated) {
  const long long accumulators = gated ? 2 : 1;
  return static_cast<long long>(tile.warps()) * accumulators * tile.warp_m *
         (tile.warp_n + kEpilogueRowPad) * kFloatBytes;
}

long long tile_shared_bytes(const TileConfig& tile, bool gated) {
  return std::max(tile_mainloop_shared_bytes(tile, gated), tile_epilogue_shared_bytes(tile, gated));
}

int tile_accumulators_per_thread(const TileConfig& tile, bool gated) {
  return tile.warp_m * tile.warp_n / kThreadsPerWarp * (gated ? 2 : 1);
}

namespace {
/// Two full sets of accumulators leave too few registers for the fragments
/// and addresses of a 64-deep k-tile of A and two B tiles (measured: spills).
bool gated_deep_k_spills(const TileConfig& tile) {
  return tile.block_k >= kDeepK && tile_accumulators_per_thread(tile, true) >= kMaxAccumulatorsPerThread;
}
}  // namespace

std::optional<std::string> gated_tile_rejection(const TileConfig& tile, int max_shared_bytes) {
  const int accumulators = tile_accumulators_per_thread(tile, true);
  if (accumulators > kMaxAccumulatorsPerThread)
    return fmt::format("{} fp32 accumulators per thread (two sets of {}x{}/32) spill registers; at most {}",
                       accumulators, tile.warp_m, tile.warp_n, kMaxAccumulatorsPerThread);
  if (gated_deep_k_spills(tile))
    return fmt::format("{} fp32 accumulators per thread with a {}-deep k-tile spill registers; use block_k 32",
                       accumulators, tile.block_k);
  if (const long long shared = tile_shared_bytes(tile, true); shared > max_shared_bytes)
    return fmt::format("needs {} bytes of shared memory, more than the {} allowed", shared, max_shared_bytes);
  return std::nullopt;
}

TileConfig fit_tile_to_gated(TileConfig tile) {
  while (tile_accumulators_per_thread(tile, true) > kMaxAccumulatorsPerThread) {
    if (tile.warp_n > kSmallestWarpSide) {
      tile.warp_n /= 2;
      tile.block_n /= 2;
    } else if (tile.warp_m > kSmallestWarpSide) {
      tile.warp_m /= 2;
      tile.block_m /= 2;
    } else {
      break;
    }
  }
  if (gated_deep_k_spills(tile)) tile.block_k = kShallowK;
  return tile;
}

// ---- per mainloop ----------------------------------------------------------------
namespace {
constexpr int kWarpgroupThreads = 128;
constexpr int kSm90Warpgroups = 3;           // producer + two consumers
constexpr int kSm90ConsumerWarps = 8;
constexpr int kSm90BlockK = 64;              // one 128-byte swizzled row
constexpr long long kSm90AlignSlack = 1024;  // swizzle-atom alignment of the ring
constexpr long long kSm90BarrierBytesPerStage = 16;  // full + empty mbarrier
constexpr long long kSm90OrderBarrierBytes = 16;     // one mbarrier per consumer (ping-pong turns)
constexpr int kWgmmaM = 64, kWgmmaMaxN = 256, kTmaBoxN = 64;

long long sm90_shared_bytes(const TileConfig& tile, bool gated) {
  const long long b_tiles = gated ? 2 : 1;
  const long long ring =
      static_cast<long long>(tile.stages) * (tile.block_m + b_tiles * tile.block_n) * tile.block_k * kOperandBytes;
  const long long epilogue_cols = gated ? 32 : 64;
  const long long staging = kSm90ConsumerWarps * b_tiles * 16 * (epilogue_cols + kEpilogueRowPad) * kFloatBytes;
  return kSm90AlignSlack + ring + staging + kSm90BarrierBytesPerStage * tile.stages + kSm90OrderBarrierBytes;
}
}  // namespace

int tile_threads(Mainloop mainloop, const TileConfig& tile) {
  return mainloop == Mainloop::WgmmaWarpSpecialized ? kSm90Warpgroups * kWarpgroupThreads
                                                    : tile.warps() * kThreadsPerWarp;
}

long long tile_shared_bytes(Mainloop mainloop, const TileConfig& tile, bool gated) {
  return mainloop == Mainloop::WgmmaWarpSpecialized ? sm90_shared_bytes(tile, gated) : tile_shared_bytes(tile, gated);
}

int tile_accumulators_per_thread(Mainloop mainloop, const TileConfig& tile, bool gated) {
  if (mainloop != Mainloop::WgmmaWarpSpecialized) return tile_accumulators_per_thread(tile, gated);
  return tile.warp_m * tile.warp_n / kWarpgroupThreads * (gated ? 2 : 1);
}

namespace {
constexpr int kElementsPerChunk = 8;  // 16-byte cp.async / ldmatrix chunks of 16-bit elements
constexpr long long kReservedSharedPerBlock = 1024;  // per block, sm_80 and later

bool is_power_of_two(int v) { return v > 0 && (v & (v - 1)) == 0; }

/// gemm_sm80.cuh's swizzle<kChunksPerRow> XORs a chunk index with a mask of
/// min(chunks, 8) - 1: with a chunk count that is not a power of two it
/// leaves the row (and corrupts shared memory), so the template
/// static_asserts the same rule. A rows are block_k long; B rows block_k
/// (column-major B) or block_n (row-major B): both are checked, whatever
/// the layout, so one rule serves every op.
std::optional<std::string> mma_sync_shape_rejection(const TileConfig& tile) {
  if (tile.block_k % kElementsPerChunk != 0 || !is_power_of_two(tile.block_k / kElementsPerChunk))
    return fmt::format("block_k {} is not 8 times a power of two (the mma.sync kernel swizzles "
                       "shared-memory rows of block_k / 8 16-byte chunks): use 16, 32 or 64",
                       tile.block_k);
  if (tile.block_n % kElementsPerChunk != 0 || !is_power_of_two(tile.block_n / kElementsPerChunk))
    return fmt::format("block_n {} is not 8 times a power of two (the mma.sync kernel swizzles "
                       "shared-memory rows of block_n / 8 16-byte chunks of a row-major B): use "
                       "64, 128 or 256",
                       tile.block_n);
  return std::nullopt;
}
}  // namespace

int blocks_per_sm(const TargetInfo& target, const TileConfig& tile, bool gated) {
  const Mainloop mainloop = target.mainloop();
  const long long per_block = tile_shared_bytes(mainloop, tile, gated) + kReservedSharedPerBlock;
  const long long by_shared = target.shared_memory_per_sm() / per_block;
  const long long by_threads = target.max_threads_per_sm() / tile_threads(mainloop, tile);
  return static_cast<int>(std::min(by_shared, by_threads));
}

std::optional<std::string> tile_shape_rejection(Mainloop mainloop, const TileConfig& tile) {
  if (mainloop != Mainloop::WgmmaWarpSpecialized) return mma_sync_shape_rejection(tile);
  if (tile.block_k != kSm90BlockK)
    return fmt::format("block_k {} is not 64 (the wgmma mainloop loads one 128-byte swizzled row of K)",
                       tile.block_k);
  if (tile.warp_n != tile.block_n || (tile.block_m != tile.warp_m && tile.block_m != 2 * tile.warp_m))
    return fmt::format("warpgroup tile {}x{} does not split block {}x{}: warp_n must be block_n and block_m "
                       "warp_m (ping-pong) or 2 x warp_m (cooperative)",
                       tile.warp_m, tile.warp_n, tile.block_m, tile.block_n);
  if (tile.warp_m % kWgmmaM != 0 || tile.warp_m > 2 * kWgmmaM)
    return fmt::format("warp_m {} is not 64 or 128 (m64 wgmmas per consumer warpgroup)", tile.warp_m);
  if (tile.block_n % kTmaBoxN != 0 || tile.block_n > kWgmmaMaxN)
    return fmt::format("block_n {} is not a multiple of 64 up to 256 (wgmma n, 64-wide B boxes)", tile.block_n);
  return std::nullopt;
}

std::optional<std::string> gated_tile_rejection(const TargetInfo& target, const TileConfig& tile) {
  const Mainloop mainloop = target.mainloop();
  if (mainloop != Mainloop::WgmmaWarpSpecialized) return gated_tile_rejection(tile, target.max_shared_memory_per_block());
  if (auto why = tile_shape_rejection(mainloop, tile)) return why;
  const int accumulators = tile_accumulators_per_thread(mainloop, tile, true);
  if (accumulators > kMaxAccumulatorsPerThread)
    return fmt::format("{} fp32 accumulators per consumer thread (two sets of {}x{}/128) spill registers; at most {}",
                       accumulators, tile.warp_m, tile.warp_n, kMaxAccumulatorsPerThread);
  if (const long long shared = sm90_shared_bytes(tile, true); shared > target.max_shared_memory_per_block())
    return fmt::format("needs {} bytes of shared memory, more than the {} allowed", shared,
                       target.max_shared_memory_per_block());
  return std::nullopt;
}

TileConfig fit_tile_to_gated(const TargetInfo& target, TileConfig tile) {
  const Mainloop mainloop = target.mainloop();
  if (mainloop != Mainloop::WgmmaWarpSpecialized) return fit_tile_to_gated(tile);
  // Halve M first (a wide N keeps the B panel reuse and whole-row stores).
  while (tile_accumulators_per_thread(mainloop, tile, true) > kMaxAccumulatorsPerThread) {
    if (tile.warp_m > kWgmmaM) {
      tile.block_m /= 2;
      tile.warp_m /= 2;
    } else if (tile.warp_n > kTmaBoxN) {
      tile.block_n /= 2;
      tile.warp_n /= 2;
    } else {
      break;
    }
  }
  while (tile.stages > 2 && sm90_shared_bytes(tile, true) > target.max_shared_memory_per_block()) --tile.stages;
  return tile;
}

std::optional<std::string> tile_rejection(const TargetInfo& target, const TileConfig& tile,
                                          const TileProblem& problem) {
  const Mainloop mainloop = target.mainloop();
  if (auto why = tile_shape_rejection(mainloop, tile)) return why;
  const long long shared = tile_shared_bytes(mainloop, tile, problem.gated);
  if (shared > target.max_shared_memory_per_block())
    return fmt::format("needs {} KiB of shared memory, {} allows {} KiB", shared / 1024,
                       target.nvrtc_arch(), target.max_shared_memory_per_block() / 1024);
  const int accumulators = tile_accumulators_per_thread(mainloop, tile, problem.gated);
  if (accumulators > kMaxAccumulatorsPerThread)
    return fmt::format("{} fp32 accumulators per thread (more than {}) would spill registers",
                       accumulators, kMaxAccumulatorsPerThread);
  if (mainloop == Mainloop::MmaSyncMultistage && problem.gated && gated_deep_k_spills(tile))
    return fmt::format("{} fp32 accumulators per thread with a {}-deep k-tile spill registers (gated)",
                       accumulators, tile.block_k);
  if (problem.m > 0 && tile.block_m > useful_block_side(problem.m))
    return fmt::format("block_m {} is larger than needed for M = {} (at most {})", tile.block_m,
                       problem.m, useful_block_side(problem.m));
  if (problem.n > 0 && tile.block_n > useful_block_side(problem.n))
    return fmt::format("block_n {} is larger than needed for N = {} (at most {})", tile.block_n,
                       problem.n, useful_block_side(problem.n));
  return std::nullopt;
}

}  // namespace tilefuse::compiler
