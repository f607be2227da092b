// See GemmGeometry.h.
#include "runtime/ops/GemmGeometry.h"

#include <algorithm>
#include <utility>

#include <fmt/format.h>

#include "compiler/Target/TilePruning.h"

namespace tilefuse::ops {
namespace {

constexpr long long kMaxGridX = 2147483647;
constexpr long long kMaxGridY = 65535;
constexpr long long kMaxTmaCoordinate = 2147483647;  // int32: cp.async.bulk.tensor coordinates

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

long long grouped_tile_rows_bound(compiler::GroupLayout layout, long long m, long long groups, int block_m) {
  // Contiguous: sum ceil(n_e/BM) <= sum (n_e + BM-1)/BM = (T + E(BM-1))/BM,
  // and the left side is an integer, so the floor bounds it too.
  if (layout == compiler::GroupLayout::Contiguous) return (m + groups * (block_m - 1)) / block_m;
  return groups * ceil_div(m, block_m);
}

Expected<runtime::LaunchConfig> grouped_gemm_launch_config(const compiler::TileConfig& tile, bool gated,
                                                           compiler::GroupLayout layout, long long m, long long n,
                                                           long long groups) {
  const long long rows = grouped_tile_rows_bound(layout, m, groups, tile.block_m);
  const long long tiles_n = ceil_div(n, tile.block_n);
  // The kernel numbers tiles in 32 bits (grouped.cuh); the grid limit is lower.
  if (rows > kMaxGridX / tiles_n)
    return make_error(ErrorCode::Unsupported,
                      fmt::format("a grouped ({}) launch of {} rows in {} groups by N = {} may need up to {} x {} "
                                  "blocks of {}x{}, more than CUDA's grid limit of {}: split the experts into "
                                  "several launches",
                                  to_string(layout), m, groups, n, rows, tiles_n, tile.block_m, tile.block_n,
                                  kMaxGridX));
  runtime::LaunchConfig config;
  config.grid[0] = static_cast<unsigned>(rows * tiles_n);
  config.grid[1] = 1;
  config.block[0] = static_cast<unsigned>(tile.warps() * 32);
  config.dynamic_shared_bytes = static_cast<unsigned>(compiler::tile_shared_bytes(tile, gated));
  return config;
}

Expected<runtime::LaunchConfig> persistent_gemm_launch_config(const compiler::TileConfig& tile, bool gated,
                                                              long long m, long long n, long long k,
                                                              long long batch, int sm_count) {
  if (sm_count < 1)
    return make_error(ErrorCode::InvalidInput,
                      fmt::format("the persistent sm_90a GEMM needs the device's multiprocessor count, got {}; "
                                  "this is a tilefuse bug (CurrentDevice::sm_count), please report it",
                                  sm_count));
  if (batch > kMaxGridX)
    return make_error(ErrorCode::Unsupported,
                      fmt::format("batch {} exceeds the {} batches one launch can run: split the batch "
                                  "into several launches",
                                  batch, kMaxGridX));
  // gemm_sm90.cuh passes row, column and K coordinates to TMA as 32-bit ints.
  for (const auto& [name, extent] : {std::pair{"M", m}, std::pair{"N", n}, std::pair{"K", k}})
    if (extent > kMaxTmaCoordinate)
      return make_error(ErrorCode::Unsupported,
                        fmt::format("{} = {} reaches 2^31: the sm_90a GEMM addresses tiles with 32-bit TMA "
                                    "coordinates; split the problem into launches of fewer than 2^31 along {} "
                                    "(or force the sm_90 mma.sync kernel, MatmulOptions::arch = Arch::Sm90)",
                                    name, extent, name));
  const long long tiles = ceil_div(m, tile.block_m) * ceil_div(n, tile.block_n) * batch;
  // The kernel numbers output tiles (batches included) with 32-bit integers.
  if (tiles > kMaxGridX)
    return make_error(ErrorCode::Unsupported,
                      fmt::format("a batch of {} {}x{} outputs needs {} output tiles of {}x{}, more than the "
                                  "{} one persistent sm_90a launch numbers: split the problem into several "
                                  "launches",
                                  batch, m, n, tiles, tile.block_m, tile.block_n, kMaxGridX));
  const compiler::Mainloop mainloop = compiler::Mainloop::WgmmaWarpSpecialized;
  runtime::LaunchConfig config;
  config.grid[0] = static_cast<unsigned>(std::max(1LL, std::min<long long>(tiles, sm_count)));
  config.block[0] = static_cast<unsigned>(compiler::tile_threads(mainloop, tile));
  config.dynamic_shared_bytes = static_cast<unsigned>(compiler::tile_shared_bytes(mainloop, tile, gated));
  return config;
}

compiler::TileConfig sm90_schedule_for_tile_count(compiler::TileConfig tile, long long m, long long n,
                                                  long long batch, int sm_count) {
  constexpr int kWgmmaM = 64;  // rows of one consumer's wgmma; the cooperative split needs 2 x 64
  const bool ping_pong = tile.block_m == tile.warp_m;
  if (sm_count < 1 || !ping_pong || tile.block_m < 2 * kWgmmaM) return tile;
  const long long tiles = ceil_div(m, tile.block_m) * ceil_div(n, tile.block_n) * std::max(batch, 1LL);
  if (tiles > sm_count) return tile;
  tile.warp_m = tile.block_m / 2;
  return tile;
}

}  // namespace tilefuse::ops
