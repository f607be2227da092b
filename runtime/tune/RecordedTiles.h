// The tile advisor of launches (runtime/ops/TileAdvisor.h) backed by the
// tuning database: a launch of an op that forces no tile uses the fastest
// config recorded for its kernel signature and shape bucket (the nearest
// recorded M bucket of the same N and K, see ShapeBucket.h), else the
// heuristic.
//
// Which database: RuntimeOptions::tuning_file when given (an exported file,
// used whatever GPU is current; an unusable one is an error of every launch),
// else <cache dir>/tuning/<key of the launch's GPU>.json (missing: nothing
// recorded; malformed or unreadable: one warning, then the heuristic — a
// launch never fails because of tuning data the user did not name).
//
// Each database is read once, on the first question that needs it, and kept
// in memory; answers are cached per (op, arch, device, bucket), so a launch
// costs one small locked lookup. reload() makes the next question re-read
// (Runtime::tune calls it after recording new results).
#pragma once

#include <atomic>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>

#include "runtime/Warnings.h"
#include "runtime/ops/TileAdvisor.h"
#include "runtime/tune/TuningDb.h"

namespace tilefuse::tune {

struct RecordedTilesOptions {
  /// Folder whose tuning/ holds the per-GPU databases; empty: none.
  std::filesystem::path cache_dir;
  /// An exported database to use instead (never written).
  std::optional<std::filesystem::path> file;
  runtime::WarningSink warn = runtime::stderr_warning_sink();
};

class RecordedTiles final : public ops::TileAdvisor,
                            public std::enable_shared_from_this<RecordedTiles> {
 public:
  /// Always owned by a shared_ptr (its per-op advisors keep it alive).
  static std::shared_ptr<RecordedTiles> create(RecordedTilesOptions options);

  std::unique_ptr<ops::OpTileAdvisor> for_op(const compiler::KernelSpec& spec) override;

  /// Forgets the databases read so far and every cached answer.
  void reload();
  /// Incremented by reload(); cached answers of an older generation are stale.
  std::uint64_t generation() const { return generation_.load(std::memory_order_acquire); }

  /// The database that answers for `device`: the named file, or the device's
  /// (empty when there is none or it cannot be used; the reason was warned).
  Expected<std::shared_ptr<const TuningDb>> database(const ops::AdvisedDevice& device);

 private:
  explicit RecordedTiles(RecordedTilesOptions options) : options_(std::move(options)) {}
  std::shared_ptr<const TuningDb> device_database(int ordinal);

  RecordedTilesOptions options_;
  std::atomic<std::uint64_t> generation_{0};
  std::mutex mutex_;
  std::optional<Expected<std::shared_ptr<const TuningDb>>> file_db_;
  std::map<int, std::shared_ptr<const TuningDb>> device_dbs_;  ///< by device ordinal
};

}  // namespace tilefuse::tune
