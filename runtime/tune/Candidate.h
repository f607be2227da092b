// One point of the autotuner's search space: a tile configuration plus the
// split-K factor, and its JSON form as stored in the tuning database.
#pragma once

#include <string>

#include <nlohmann/json_fwd.hpp>

#include "compiler/Types.h"
#include "tilefuse/error.hpp"

namespace tilefuse::tune {

struct Candidate {
  compiler::TileConfig tile;
  /// K is split over this many blocks whose partial sums are reduced
  /// afterwards. Modelled in the space; the sm80 template implements only 1
  /// (SearchSpace prunes the others with that reason).
  int split_k = 1;
  bool operator==(const Candidate&) const = default;
};

/// "128x128x32_w64x64_s3_v4_g8" (TileConfig's name), plus "_k<split>" when split_k > 1.
std::string to_string(const Candidate& candidate);

/// {"block_m":128, ..., "group_m":8, "split_k":1}: every field by name, so a
/// database stays readable and a new field can be added with a default.
nlohmann::json to_json(const Candidate& candidate);
/// InvalidInput naming the missing or malformed field.
Expected<Candidate> candidate_from_json(const nlohmann::json& json);

}  // namespace tilefuse::tune
