// The tuning database of one GPU, in memory: one record per (kernel
// signature, shape bucket, config) with its timing. A record is the unit of
// work: adding a config to the space times only that config, and a config
// that failed is remembered with its reason instead of being retried.
// File access (locking, atomic replace, export/import) is TuningDbFile.h.
#pragma once

#include <limits>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "runtime/tune/Candidate.h"
#include "runtime/tune/DeviceKey.h"
#include "runtime/tune/ShapeBucket.h"

namespace tilefuse::tune {

/// Current on-disk format ("format_version"); a file with a newer one is refused.
/// 2 added grouped buckets ("contiguous_e128_m1024_n768_k2048", ShapeBucket.h).
/// A database is written with the oldest version that holds its records (1
/// without grouped records), so a tilefuse from before version 2 still reads
/// what it can understand and names the version for what it cannot.
inline constexpr int kTuningDbFormatVersion = 2;
/// The format_version of the first tuning databases (plain buckets only).
inline constexpr int kTuningDbPlainFormatVersion = 1;

struct TuningRecord {
  std::string signature;  ///< kernel_signature()
  ShapeBucket bucket;
  Candidate config;
  std::optional<double> time_ms;  ///< median; nullopt: failed (scores +inf)
  std::string failure;            ///< why, when it failed
  std::string kernel;             ///< kernel_description(), for people reading the file
  std::string timer;              ///< "cuda-events" | "simulated"
  int repetitions = 0;
  std::string measured_at;  ///< ISO 8601 UTC; the later record wins a merge (a tie keeps the old)

  double score_ms() const {
    return time_ms ? *time_ms : std::numeric_limits<double>::infinity();
  }
  /// Same (signature, bucket, config).
  bool same_key(const TuningRecord& other) const;
};

/// The current time as ISO 8601 UTC with milliseconds ("2025-11-22T06:53:00.123Z").
std::string utc_timestamp();

class TuningDb {
 public:
  explicit TuningDb(DeviceIdentity device) : device_(std::move(device)) {}

  const DeviceIdentity& device() const { return device_; }
  const std::vector<TuningRecord>& records() const { return records_; }

  /// Adds `record`, or replaces the record with its key if `record` was
  /// measured later (measured_at). Returns true when the database changed.
  bool merge(TuningRecord record);
  /// merge() for every record of `other` (same device or not: the caller decides).
  std::size_t merge_all(const TuningDb& other);

  const TuningRecord* find(const std::string& signature, const ShapeBucket& bucket,
                           const Candidate& config) const;
  /// Records of (signature, bucket), fastest first, failures last.
  std::vector<TuningRecord> ranked(const std::string& signature, const ShapeBucket& bucket) const;
  /// The fastest successful record for `shape`, from the nearest recorded
  /// bucket (ShapeBucket.h); nullopt when nothing successful is recorded.
  std::optional<TuningRecord> best_for(const std::string& signature,
                                       const ProblemShape& shape) const;

  nlohmann::json to_json() const;
  /// InvalidInput naming the problem (and `origin`, e.g. the file) for a malformed document.
  static Expected<TuningDb> from_json(const nlohmann::json& json, const std::string& origin);

 private:
  DeviceIdentity device_;
  std::vector<TuningRecord> records_;
};

}  // namespace tilefuse::tune
