// See TuningDb.h.
#include "runtime/tune/TuningDb.h"

#include <algorithm>
#include <chrono>
#include <ctime>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

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
  const auto& time = json.contains("time_ms") ? json["time_ms"] : nlohmann::json(nullptr);
  if (time.is_number()) {
    if (time.get<double>() <= 0) return bad("\"time_ms\" must be positive (null marks a failure)");
    r.time_ms = time.get<double>();
  } else if (!time.is_null()) {
    return bad("\"time_ms\" must be a number or null");
  }
  r.failure = json.value("failure", std::string());
  r.kernel = json.value("kernel", std::string());
  r.timer = json.value("timer", std::string());
  r.repetitions = json.value("repetitions", 0);
  r.measured_at = json.value("measured_at", std::string());
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
  for (const TuningRecord& r : records_) records.push_back(record_to_json(r));
  return {{"format", kFormatName},
          {"format_version", kTuningDbFormatVersion},
          {"device", tune::to_json(device_)},
          {"records", std::move(records)}};
}

Expected<TuningDb> TuningDb::from_json(const nlohmann::json& json, const std::string& origin) {
  if (!json.is_object() || json.value("format", std::string()) != kFormatName)
    return make_error(ErrorCode::InvalidInput,
                      fmt::format("{} is not a tilefuse tuning database (no \"format\": \"{}\")",
                                  origin, kFormatName));
  const int version = json.value("format_version", 0);
  if (version < 1 || version > kTuningDbFormatVersion)
    return make_error(ErrorCode::InvalidInput,
                      fmt::format("{} has format_version {}; this tilefuse reads 1 to {} (update "
                                  "tilefuse or re-tune)",
                                  origin, version, kTuningDbFormatVersion));
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
