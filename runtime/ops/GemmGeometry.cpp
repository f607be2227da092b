// See GemmGeometry.h.
#include "runtime/ops/GemmGeometry.h"

#include <algorithm>

#include <fmt/format.h>

#include "compiler/Target/TilePruning.h"

namespace tilefuse::ops {
namespace {

constexpr long long kMaxGridX = 2147483647;
constexpr long long kMaxGridY = 65535;

long long ceil_div(long long a, long long b) { return (a + b - 1) / b; }

}  // namespace

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
  config.dynamic_shared_bytes = static_cast<unsigned>(compiler::tile_shared_bytes(tile, gated));
  return config;
}

}  // namespace tilefuse::ops
