// The heuristic tile of a launch, plain or grouped (mixture of experts), in
// one place for the launch path (MatmulState::tile_for) and the tuner's
// search space (its first candidate is what a launch would use untuned).
//
// A grouped launch tiles every group's rows separately, so its tile is chosen
// for ONE group's rows, not the total: 128 tokens routed top-8 over 128
// experts is 1024 rows but 8 per expert (the decode case), and a 128-row
// block would compute 120 rows of padding per expert. The targets' defaults
// narrow block_m to 64 for problems at most 64 high (compiler/Target).
#pragma once

#include "compiler/Target/TargetInfo.h"
#include "tilefuse/tilefuse.hpp"

namespace tilefuse::ops {

/// The rows a tile is chosen for: ceil(m / groups) for Contiguous (m = T
/// tokens, balanced routing assumed: the offsets are on the device), m for
/// Masked (m = M_max, the rows of each group) and plain launches.
long long heuristic_rows(GroupLayout layout, long long m, int groups);

/// The target's default tile for an m x n x k problem (m: heuristic_rows),
/// fitted for a gated op's two accumulator sets (compiler::fit_tile_to_gated).
compiler::TileConfig heuristic_tile(const compiler::TargetInfo& target, long long m, long long n, long long k,
                                    bool gated);

}  // namespace tilefuse::ops
