// See GemmGeometry.h.
#include "runtime/ops/GemmGeometry.h"

#include <algorithm>

#include <fmt/format.h>

#include "compiler/Target/TilePruning.h"

namespace tilefuse::ops {
namespace {

constexpr long long kOperandBytes = 2;     // bf16 / f16 in shared memory
constexpr long long kFloatBytes = 4;       // staged fp32 accumulators
constexpr long long kEpilogueRowPad = 8;   // floats of padding per staged row (bank spread)
constexpr long long kMaxGridX = 2147483647;
constexpr long long kMaxGridY = 65535;

long long ceil_div(long long a, long long b) { return (a + b - 1) / b; }

}  // namespace

long long gemm_mainloop_shared_bytes(const compiler::TileConfig& tile, bool gated) {
  const long long b_operands = gated ? 2 : 1;
  return static_cast<long long>(tile.stages) *
         (static_cast<long long>(tile.block_m) * tile.block_k +
          b_operands * tile.block_n * tile.block_k) *
         kOperandBytes;
}

long long gemm_epilogue_shared_bytes(const compiler::TileConfig& tile, bool gated) {
  const long long accumulators = gated ? 2 : 1;
  const long long row_floats = tile.warp_n + kEpilogueRowPad;
  return static_cast<long long>(tile.warps()) * accumulators * tile.warp_m * row_floats * kFloatBytes;
}

long long gemm_shared_bytes(const compiler::TileConfig& tile, bool gated) {
  return std::max(gemm_mainloop_shared_bytes(tile, gated), gemm_epilogue_shared_bytes(tile, gated));
}

namespace {

/// Two sets of 128 accumulators leave too few registers for the fragments and
/// addresses of a 64-deep k-tile of A and two B tiles.
bool gated_deep_k_spills(const compiler::TileConfig& tile) {
  constexpr int kDeepK = 64;
  return tile.block_k >= kDeepK &&
         compiler::tile_accumulators_per_thread(tile, true) >= compiler::kMaxAccumulatorsPerThread;
}

}  // namespace

std::optional<std::string> gated_tile_rejection(const compiler::TileConfig& tile, int max_shared_bytes) {
  const int accumulators = compiler::tile_accumulators_per_thread(tile, true);
  if (accumulators > compiler::kMaxAccumulatorsPerThread)
    return fmt::format("{} fp32 accumulators per thread (two sets of {}x{}/32) spill registers; at most {}",
                       accumulators, tile.warp_m, tile.warp_n, compiler::kMaxAccumulatorsPerThread);
  if (gated_deep_k_spills(tile))
    return fmt::format("{} fp32 accumulators per thread with a {}-deep k-tile spill registers; use block_k 32",
                       accumulators, tile.block_k);
  if (const long long shared = gemm_shared_bytes(tile, true); shared > max_shared_bytes)
    return fmt::format("needs {} bytes of shared memory, more than the {} allowed", shared, max_shared_bytes);
  return std::nullopt;
}

compiler::TileConfig fit_tile_to_gated(compiler::TileConfig tile) {
  constexpr int kSmallestWarpSide = 32, kShallowK = 32;
  while (compiler::tile_accumulators_per_thread(tile, true) > compiler::kMaxAccumulatorsPerThread) {
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

Expected<runtime::LaunchConfig> gemm_launch_config(const compiler::TileConfig& tile, bool gated,
                                                   long long m, long long n, long long batch) {
  const long long tiles = ceil_div(m, tile.block_m) * ceil_div(n, tile.block_n);
  if (tiles > kMaxGridX)
    return make_error(ErrorCode::Unsupported,
                      fmt::format("a {}x{} output needs {} blocks of {}x{}, more than CUDA's grid limit "
                                  "of {}: split the problem into several launches",
                                  m, n, tiles, tile.block_m, tile.block_n, kMaxGridX));
  if (batch > kMaxGridY)
    return make_error(ErrorCode::Unsupported,
                      fmt::format("batch {} exceeds the {} batches one launch can run (grid.y): split "
                                  "the batch into several launches",
                                  batch, kMaxGridY));
  runtime::LaunchConfig config;
  config.grid[0] = static_cast<unsigned>(tiles);
  config.grid[1] = static_cast<unsigned>(batch);
  config.block[0] = static_cast<unsigned>(tile.warps() * 32);
  config.dynamic_shared_bytes = static_cast<unsigned>(gemm_shared_bytes(tile, gated));
  return config;
}

}  // namespace tilefuse::ops
