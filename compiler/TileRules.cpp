// See TileRules.h.
#include "compiler/TileRules.h"

#include <fmt/format.h>

namespace tilefuse::compiler {

std::optional<std::string> tile_config_violation(const TileConfig& t) {
  if (t.block_m <= 0 || t.block_n <= 0 || t.block_k <= 0 || t.warp_m <= 0 || t.warp_n <= 0)
    return std::string("tile sizes must be positive");
  if (t.block_m % t.warp_m != 0 || t.block_n % t.warp_n != 0)
    return fmt::format("block tile {}x{} is not a multiple of the warp tile {}x{}", t.block_m, t.block_n,
                       t.warp_m, t.warp_n);
  if (t.stages < 1 || t.stages > 8) return fmt::format("stages must be in [1, 8], got {}", t.stages);
  if (t.vector_width != 1 && t.vector_width != 2 && t.vector_width != 4)
    return fmt::format("vector_width must be 1, 2 or 4, got {}", t.vector_width);
  if (t.group_m < 1) return fmt::format("group_m must be >= 1, got {}", t.group_m);
  return std::nullopt;
}

}  // namespace tilefuse::compiler
