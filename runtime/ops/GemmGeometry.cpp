// See GemmGeometry.h.
#include "runtime/ops/GemmGeometry.h"

#include <algorithm>

#include <fmt/format.h>

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
