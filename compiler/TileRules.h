// The rules every tile configuration must satisfy, whoever chose it: the
// #tilefuse.tile attribute's verifier (a tile forced by a user through
// MatmulOptions::tile or the IR) and the tuning-database reader (a tile named
// by an imported, untrusted file) both ask this one function, so a rule added
// here applies to all of them. No MLIR here: the runtime's readers use it too.
#pragma once

#include <optional>
#include <string>

#include "compiler/Types.h"

namespace tilefuse::compiler {

/// Why `tile` is not a valid tile (a complete sentence fragment such as
/// "stages must be in [1, 8], got 9"), nullopt when it is valid. Shape
/// rules of one mainloop and problem-specific pruning are separate
/// (Target/TilePruning.h): a valid tile may still not suit every target.
std::optional<std::string> tile_config_violation(const TileConfig& tile);

}  // namespace tilefuse::compiler
