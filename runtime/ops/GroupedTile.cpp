// See GroupedTile.h.
#include "runtime/ops/GroupedTile.h"

#include "compiler/Target/TilePruning.h"

namespace tilefuse::ops {

long long heuristic_rows(GroupLayout layout, long long m, int groups) {
  if (layout == GroupLayout::Contiguous && groups > 0) return (m + groups - 1) / groups;
  return m;
}

compiler::TileConfig heuristic_tile(const compiler::TargetInfo& target, long long m, long long n, long long k,
                                    bool gated) {
  const compiler::TileConfig tile = target.default_tile(m, n, k);
  return gated ? compiler::fit_tile_to_gated(target, tile) : tile;
}

}  // namespace tilefuse::ops
