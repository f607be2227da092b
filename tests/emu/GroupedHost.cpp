// The host side of an emulated grouped launch is the production code: the
// grid bound of runtime/ops/GemmGeometry.cpp (grouped_gemm_launch_config),
// so that a bound that is too small leaves rows unwritten in the emulator.
#include "GemmVariant.h"

#include "runtime/ops/GemmGeometry.h"

namespace emu {

unsigned grouped_grid_x(int layout, long long m, long long n, long long groups, int block_m, int block_n,
                        std::string& error) {
  tilefuse::TileConfig tile;
  tile.block_m = block_m;
  tile.block_n = block_n;
  tile.warp_m = block_m;
  tile.warp_n = block_n;
  const auto group_layout = layout == 1 ? tilefuse::GroupLayout::Contiguous : tilefuse::GroupLayout::Masked;
  auto config = tilefuse::ops::grouped_gemm_launch_config(tile, /*gated=*/false, group_layout, m, n, groups);
  if (!config) {
    error = config.error().message;
    return 0;
  }
  return config->grid[0];
}

}  // namespace emu
