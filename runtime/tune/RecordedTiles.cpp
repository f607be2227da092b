// See RecordedTiles.h.
#include "runtime/tune/RecordedTiles.h"

#include <vector>

#include <fmt/format.h>

#include "compiler/Target/TilePruning.h"
#include "runtime/Driver.h"
#include "runtime/tune/KernelSignature.h"
#include "runtime/tune/TuningDbFile.h"

namespace tilefuse::tune {
namespace {

/// One op on one architecture: its signature, and the answers given so far.
class RecordedOpTiles final : public ops::OpTileAdvisor {
 public:
  RecordedOpTiles(std::shared_ptr<RecordedTiles> tiles, std::string signature, compiler::Arch arch,
                  runtime::WarningSink warn)
      : tiles_(std::move(tiles)), signature_(std::move(signature)), arch_(arch), warn_(std::move(warn)) {}

  using ops::OpTileAdvisor::recorded_tile;
  Expected<std::optional<compiler::TileConfig>> recorded_tile(const ops::AdvisedDevice& device,
                                                              const ops::AdvisedProblem& problem) override {
    ProblemShape shape{problem.m, problem.n, problem.k};
    if (problem.groups > 0 && problem.layout != GroupLayout::None) {
      shape.experts = problem.groups;
      shape.layout = problem.layout;
    }
    const ShapeBucket bucket = bucket_for(shape);
    const std::uint64_t generation = tiles_->generation();
    {
      std::lock_guard lock(mutex_);
      for (const Answer& a : answers_)
        if (a.ordinal == device.ordinal && a.bucket == bucket && a.generation == generation)
          return a.tile;
    }
    auto db = tiles_->database(device);
    if (!db) return db.take_error();
    std::optional<compiler::TileConfig> tile;
    if (*db) {
      std::optional<TuningRecord> best = (*db)->best_for(signature_, shape);
      // Split-K records describe kernels the launch path cannot run.
      if (best && best->config.split_k == 1) tile = best->config.tile;
      // A record (e.g. an imported file edited by hand, or one from before a
      // template rule) that the target's template cannot build is the same
      // error as a forced tile: warned once per bucket, never compiled.
      if (tile)
        if (auto why = compiler::tile_shape_rejection(compiler::make_target(arch_)->mainloop(), *tile)) {
          warn_(fmt::format("tuning record {} for {} is not used (the heuristic tile is): {}",
                            compiler::to_string(*tile), compiler::to_string(arch_), *why));
          tile.reset();
        }
    }
    std::lock_guard lock(mutex_);
    std::erase_if(answers_, [generation](const Answer& a) { return a.generation != generation; });
    answers_.push_back({device.ordinal, bucket, generation, tile});
    return tile;
  }

 private:
  struct Answer {
    int ordinal;
    ShapeBucket bucket;
    std::uint64_t generation;
    std::optional<compiler::TileConfig> tile;
  };
  std::shared_ptr<RecordedTiles> tiles_;
  std::string signature_;
  compiler::Arch arch_;
  runtime::WarningSink warn_;
  std::mutex mutex_;
  std::vector<Answer> answers_;
};

}  // namespace

std::shared_ptr<RecordedTiles> RecordedTiles::create(RecordedTilesOptions options) {
  return std::shared_ptr<RecordedTiles>(new RecordedTiles(std::move(options)));
}

std::unique_ptr<ops::OpTileAdvisor> RecordedTiles::for_op(const compiler::KernelSpec& spec) {
  return std::make_unique<RecordedOpTiles>(shared_from_this(), kernel_signature(spec), spec.arch, options_.warn);
}

void RecordedTiles::reload() {
  std::lock_guard lock(mutex_);
  file_db_.reset();
  device_dbs_.clear();
  generation_.fetch_add(1, std::memory_order_acq_rel);
}

Expected<std::shared_ptr<const TuningDb>> RecordedTiles::database(const ops::AdvisedDevice& device) {
  std::lock_guard lock(mutex_);
  if (options_.file) {
    if (!file_db_) {
      auto db = read_tuning_db_file(*options_.file);
      if (db) file_db_.emplace(std::make_shared<const TuningDb>(std::move(*db)));
      else
        file_db_.emplace(make_error(
            db.error().code, fmt::format("RuntimeOptions::tuning_file: {}", db.error().message)));
    }
    return *file_db_;
  }
  if (device.ordinal < 0 || options_.cache_dir.empty()) return std::shared_ptr<const TuningDb>();
  auto known = device_dbs_.find(device.ordinal);
  if (known != device_dbs_.end()) return known->second;
  std::shared_ptr<const TuningDb> db = device_database(device.ordinal);
  device_dbs_.emplace(device.ordinal, db);
  return db;
}

std::shared_ptr<const TuningDb> RecordedTiles::device_database(int ordinal) {
  auto info = runtime::query_device(ordinal);
  if (!info) {
    options_.warn(fmt::format("tuning records not used for device {}: {}", ordinal,
                              info.error().message));
    return nullptr;
  }
  const DeviceIdentity identity = device_identity(*info);
  const std::filesystem::path path = tuning_db_path(options_.cache_dir, identity);
  auto db = read_tuning_db(path, identity);
  if (!db) {
    options_.warn(fmt::format("tuning records not used, launches take the heuristic tile: {}",
                              db.error().message));
    return nullptr;
  }
  return std::make_shared<const TuningDb>(std::move(*db));
}

}  // namespace tilefuse::tune
