// See TuningDb.h.
#include "runtime/tune/TuningDb.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <ctime>
#include <limits>
#include <utility>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "compiler/TileRules.h"

namespace tilefuse::tune {
namespace {

constexpr const char* kFormatName = "tilefuse-tuning-db";

nlohmann::json record_to_json(const TuningRecord& r) {
  nlohmann::json json = {
      {"signature", r.signature},
      {"kernel", r.kernel},
      {"bucket", to_string(r.bucket)},
      {"config", to_json(r.config)},
      {"config_name", to_string(r.config)},
      {"time_ms", r.time_ms ? nlohmann::json(*r.time_ms) : nlohmann::json(nullptr)},
      {"timer", r.timer},
      {"repetitions", r.repetitions},
      {"measured_at", r.measured_at},
  };
  if (!r.time_ms) json["failure"] = r.failure;
  return json;
}

// Optional fields: absent means the default, present with another JSON type
// is an error naming the field (nlohmann's value() would throw out of the
// reader, and get<int>() of a float out of int's range is undefined).
Expected<std::string> optional_string(const nlohmann::json& object, const char* name,
                                      const std::string& where) {
  const auto it = object.find(name);
  if (it == object.end()) return std::string();
  if (!it->is_string())
    return make_error(ErrorCode::InvalidInput,
                      fmt::format("{}: \"{}\" must be a string, not {}", where, name, it->dump()));
  return it->get<std::string>();
}

Expected<int> optional_count(const nlohmann::json& object, const char* name, const std::string& where) {
  const auto it = object.find(name);
  if (it == object.end()) return 0;
  if (!it->is_number_integer() || it->get<long long>() < 0 ||
      it->get<long long>() > std::numeric_limits<int>::max())
    return make_error(ErrorCode::InvalidInput,
                      fmt::format("{}: \"{}\" must be an integer in [0, {}], not {}", where, name,
                                  std::numeric_limits<int>::max(), it->dump()));
  return it->get<int>();
}

Expected<TuningRecord> record_from_json(const nlohmann::json& json, const std::string& where) {
  const auto bad = [&](const std::string& why) {
    return make_error(ErrorCode::InvalidInput, fmt::format("{}: {}", where, why));
  };
  if (!json.is_object()) return bad("a record is not a JSON object");
  TuningRecord r;
  if (!json.contains("signature") || !json["signature"].is_string())
    return bad("record without a string \"signature\"");
  r.signature = json["signature"].get<std::string>();
  if (!json.contains("bucket") || !json["bucket"].is_string())
    return bad("record without a string \"bucket\"");
  auto bucket = parse_bucket(json["bucket"].get<std::string>());
  if (!bucket) return bad(bucket.error().message);
  r.bucket = *bucket;
  if (!json.contains("config")) return bad("record without \"config\"");
  auto config = candidate_from_json(json["config"]);
  if (!config) return bad(config.error().message);
  r.config = *config;
  // An imported file is untrusted: its tiles meet the rules a user's forced
  // tile meets (the one shared check), before any launch can pick them.
  if (auto why = compiler::tile_config_violation(r.config.tile))
    return bad(fmt::format("tile {} is invalid: {}", to_string(r.config), *why));
  const auto& time = json.contains("time_ms") ? json["time_ms"] : nlohmann::json(nullptr);
  if (time.is_number()) {
    // (A document built in memory may hold infinity, which to_json would write as null.)
    if (!(time.get<double>() > 0) || !std::isfinite(time.get<double>()))
      return bad("\"time_ms\" must be a positive finite number (null marks a failure)");
    r.time_ms = time.get<double>();
  } else if (!time.is_null()) {
    return bad("\"time_ms\" must be a number or null");
  }
  for (auto [name, field] : {std::pair{"failure", &r.failure}, {"kernel", &r.kernel},
                             {"timer", &r.timer}, {"measured_at", &r.measured_at}}) {
    auto text = optional_string(json, name, where);
    if (!text) return text.take_error();
    *field = std::move(*text);
  }
  auto repetitions = optional_count(json, "repetitions", where);
  if (!repetitions) return repetitions.take_error();
  r.repetitions = *repetitions;
  if (r.time_ms) r.failure.clear();  // only a failed record has a reason (to_json writes it only then)
  return r;
}

}  // namespace

bool TuningRecord::same_key(const TuningRecord& other) const {
  return signature == other.signature && bucket == other.bucket && config == other.config;
}

std::string utc_timestamp() {
  const auto now = std::chrono::system_clock::now();
  const std::time_t seconds = std::chrono::system_clock::to_time_t(now);
  const auto millis =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm utc{};
  ::gmtime_r(&seconds, &utc);
  char text[32];
  std::strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%S", &utc);
  return fmt::format("{}.{:03d}Z", text, static_cast<int>(millis));
}

bool TuningDb::merge(TuningRecord record) {
  for (TuningRecord& existing : records_) {
    if (!existing.same_key(record)) continue;
    if (record.measured_at <= existing.measured_at) return false;  // the same or an older one
    existing = std::move(record);
    return true;
  }
  records_.push_back(std::move(record));
  return true;
}

std::size_t TuningDb::merge_all(const TuningDb& other) {
  std::size_t changed = 0;
  for (const TuningRecord& r : other.records_) changed += merge(r) ? 1 : 0;
  return changed;
}

const TuningRecord* TuningDb::find(const std::string& signature, const ShapeBucket& bucket,
                                   const Candidate& config) const {
  for (const TuningRecord& r : records_)
    if (r.signature == signature && r.bucket == bucket && r.config == config) return &r;
  return nullptr;
}

std::vector<TuningRecord> TuningDb::ranked(const std::string& signature,
                                           const ShapeBucket& bucket) const {
  std::vector<TuningRecord> out;
  for (const TuningRecord& r : records_)
    if (r.signature == signature && r.bucket == bucket) out.push_back(r);
  // Ties broken by name: the choice must not depend on the file's record order.
  std::stable_sort(out.begin(), out.end(), [](const TuningRecord& a, const TuningRecord& b) {
    if (a.score_ms() != b.score_ms()) return a.score_ms() < b.score_ms();
    return to_string(a.config) < to_string(b.config);
  });
  return out;
}

std::optional<TuningRecord> TuningDb::best_for(const std::string& signature,
                                               const ProblemShape& shape) const {
  std::vector<ShapeBucket> buckets;
  for (const TuningRecord& r : records_)
    if (r.signature == signature && r.time_ms &&
        std::find(buckets.begin(), buckets.end(), r.bucket) == buckets.end())
      buckets.push_back(r.bucket);
  auto bucket = nearest_bucket(shape, buckets);
  if (!bucket) return std::nullopt;
  return ranked(signature, *bucket).front();  // the bucket has a successful record
}

nlohmann::json TuningDb::to_json() const {
  nlohmann::json records = nlohmann::json::array();
  bool grouped = false;
  for (const TuningRecord& r : records_) {
    records.push_back(record_to_json(r));
    grouped = grouped || r.bucket.layout != GroupLayout::None;
  }
  return {{"format", kFormatName},
          {"format_version", grouped ? kTuningDbFormatVersion : kTuningDbPlainFormatVersion},
          {"device", tune::to_json(device_)},
          {"records", std::move(records)}};
}

Expected<TuningDb> TuningDb::from_json(const nlohmann::json& json, const std::string& origin) {
  const auto format = json.is_object() ? json.find("format") : json.end();
  if (!json.is_object() || format == json.end() || *format != kFormatName)
    return make_error(ErrorCode::InvalidInput,
                      fmt::format("{} is not a tilefuse tuning database (no \"format\": \"{}\")",
                                  origin, kFormatName));
  const auto version = json.find("format_version");
  if (version == json.end() || !version->is_number_integer() || version->get<long long>() < 1 ||
      version->get<long long>() > kTuningDbFormatVersion)
    return make_error(ErrorCode::InvalidInput,
                      fmt::format("{} has format_version {}; this tilefuse reads 1 to {} (update "
                                  "tilefuse or re-tune)",
                                  origin, version == json.end() ? "(none)" : version->dump(),
                                  kTuningDbFormatVersion));
  auto device = device_identity_from_json(json.value("device", nlohmann::json()));
  if (!device) return make_error(ErrorCode::InvalidInput, origin + ": " + device.error().message);
  TuningDb db(*device);
  if (!json.contains("records") || !json["records"].is_array())
    return make_error(ErrorCode::InvalidInput, origin + ": \"records\" must be an array");
  std::size_t index = 0;
  for (const auto& item : json["records"]) {
    auto record = record_from_json(item, fmt::format("{} record {}", origin, index++));
    if (!record) return record.take_error();
    db.merge(std::move(*record));
  }
  return db;
}

}  // namespace tilefuse::tune
