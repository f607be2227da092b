// See Candidate.h.
#include "runtime/tune/Candidate.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace tilefuse::tune {
namespace {

/// The JSON field names, in the order they are written.
struct Field {
  const char* name;
  int compiler::TileConfig::*member;
};
constexpr Field kTileFields[] = {
    {"block_m", &compiler::TileConfig::block_m}, {"block_n", &compiler::TileConfig::block_n},
    {"block_k", &compiler::TileConfig::block_k}, {"warp_m", &compiler::TileConfig::warp_m},
    {"warp_n", &compiler::TileConfig::warp_n},   {"stages", &compiler::TileConfig::stages},
    {"vector_width", &compiler::TileConfig::vector_width},
    {"group_m", &compiler::TileConfig::group_m},
};

Expected<int> positive_int(const nlohmann::json& json, const char* name) {
  auto it = json.find(name);
  if (it == json.end() || !it->is_number_integer() || it->get<long long>() < 1 ||
      it->get<long long>() > 4096)
    return make_error(ErrorCode::InvalidInput,
                      fmt::format("tuning config {}: field \"{}\" is missing or not an integer in "
                                  "[1, 4096]",
                                  json.dump(), name));
  return it->get<int>();
}

}  // namespace

std::string to_string(const Candidate& candidate) {
  std::string name = compiler::to_string(candidate.tile);
  if (candidate.split_k > 1) name += fmt::format("_k{}", candidate.split_k);
  return name;
}

nlohmann::json to_json(const Candidate& candidate) {
  nlohmann::json json = nlohmann::json::object();
  for (const Field& f : kTileFields) json[f.name] = candidate.tile.*f.member;
  json["split_k"] = candidate.split_k;
  return json;
}

Expected<Candidate> candidate_from_json(const nlohmann::json& json) {
  if (!json.is_object())
    return make_error(ErrorCode::InvalidInput,
                      fmt::format("tuning config {} is not a JSON object", json.dump()));
  Candidate candidate;
  for (const Field& f : kTileFields) {
    auto value = positive_int(json, f.name);
    if (!value) return value.take_error();
    candidate.tile.*f.member = *value;
  }
  // Written since the first format version, but tolerate its absence (= 1).
  if (json.contains("split_k")) {
    auto split = positive_int(json, "split_k");
    if (!split) return split.take_error();
    candidate.split_k = *split;
  }
  return candidate;
}

}  // namespace tilefuse::tune
