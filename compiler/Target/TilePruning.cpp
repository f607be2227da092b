// See TilePruning.h.
#include "compiler/Target/TilePruning.h"

#include <algorithm>

#include <fmt/format.h>

namespace tilefuse::compiler {
namespace {

constexpr int kOperandBytes = 2;       // bf16 / f16 operands in shared memory
constexpr int kThreadsPerWarp = 32;
constexpr long long kSmallestBlockSide = 64;

/// The largest block side worth using for a problem side of `extent`.
long long useful_block_side(long long extent) {
  long long side = kSmallestBlockSide;
  while (side < extent) side *= 2;
  return side;
}

}  // namespace

long long tile_shared_bytes(const TileConfig& tile, bool gated) {
  const long long b_tiles = gated ? 2 : 1;
  return (static_cast<long long>(tile.block_m) + b_tiles * tile.block_n) * tile.block_k *
         kOperandBytes * tile.stages;
}

int tile_accumulators_per_thread(const TileConfig& tile, bool gated) {
  return tile.warp_m * tile.warp_n / kThreadsPerWarp * (gated ? 2 : 1);
}

std::optional<std::string> tile_rejection(const TargetInfo& target, const TileConfig& tile,
                                          const TileProblem& problem) {
  const long long shared = tile_shared_bytes(tile, problem.gated);
  if (shared > target.max_shared_memory_per_block())
    return fmt::format("needs {} KiB of shared memory, {} allows {} KiB", shared / 1024,
                       target.nvrtc_arch(), target.max_shared_memory_per_block() / 1024);
  const int accumulators = tile_accumulators_per_thread(tile, problem.gated);
  if (accumulators > kMaxAccumulatorsPerThread)
    return fmt::format("{} fp32 accumulators per thread (more than {}) would spill registers",
                       accumulators, kMaxAccumulatorsPerThread);
  if (problem.m > 0 && tile.block_m > useful_block_side(problem.m))
    return fmt::format("block_m {} is larger than needed for M = {} (at most {})", tile.block_m,
                       problem.m, useful_block_side(problem.m));
  if (problem.n > 0 && tile.block_n > useful_block_side(problem.n))
    return fmt::format("block_n {} is larger than needed for N = {} (at most {})", tile.block_n,
                       problem.n, useful_block_side(problem.n));
  return std::nullopt;
}

}  // namespace tilefuse::compiler
