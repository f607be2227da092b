// RecordedTiles: the tile a launch takes from the tuning database (or an
// exported file), its caching, and its errors.
#include <gtest/gtest.h>

#include <fstream>
#include <vector>

#include "TuneTestSupport.h"
#include "runtime/tune/KernelSignature.h"
#include "runtime/tune/RecordedTiles.h"
#include "runtime/tune/TuningDbFile.h"

namespace tilefuse::tune {
namespace {

using testing::ScratchDir;

compiler::TileConfig tile_with(int block_n, int stages) {
  return compiler::TileConfig{128, block_n, 32, 64, 64, stages, 4, 8};
}

TuningRecord record(const std::string& signature, ShapeBucket bucket, compiler::TileConfig tile,
                    std::optional<double> ms, int split_k = 1) {
  TuningRecord r;
  r.signature = signature;
  r.bucket = bucket;
  r.config.tile = tile;
  r.config.split_k = split_k;
  r.time_ms = ms;
  if (!ms) r.failure = "launch failed";
  r.kernel = "gelu(x) sm_80";
  r.timer = "cuda-events";
  r.repetitions = 10;
  r.measured_at = "2026-01-01T00:00:00.000Z";
  return r;
}

DeviceIdentity some_gpu() { return DeviceIdentity{"NVIDIA A100-SXM4-80GB", 108, 8, 0, 13000, "0.1.0"}; }

/// Writes `records` as an exported database file and returns its path.
std::filesystem::path write_export(const ScratchDir& dir, const std::vector<TuningRecord>& records) {
  const auto db_path = tuning_db_path(dir.path(), some_gpu());
  EXPECT_TRUE(update_tuning_db(db_path, some_gpu(), records));
  const auto out = dir.path() / "shipped.json";
  EXPECT_TRUE(export_tuning_db(db_path, some_gpu(), out));
  return out;
}

struct Fixture : ::testing::Test {
  ScratchDir dir;
  compiler::KernelSpec spec = testing::gelu_spec();
  std::string signature = kernel_signature(testing::gelu_spec());
  std::vector<std::string> warnings;

  std::shared_ptr<RecordedTiles> tiles_from(const std::filesystem::path& file) {
    RecordedTilesOptions options;
    options.file = file;
    options.warn = [this](std::string_view w) { warnings.emplace_back(w); };
    return RecordedTiles::create(std::move(options));
  }
};

using RecordedTilesTest = Fixture;

TEST_F(RecordedTilesTest, AnswersTheFastestRecordOfTheBucketAndTheNearestMBucket) {
  const auto file = write_export(dir, {
      record(signature, {128, 4096, 4096}, tile_with(128, 3), 0.30),
      record(signature, {128, 4096, 4096}, tile_with(64, 4), 0.20),   // fastest
      record(signature, {128, 4096, 4096}, tile_with(256, 3), std::nullopt),
      record("another-kernel", {128, 4096, 4096}, tile_with(256, 5), 0.01),
  });
  auto tiles = tiles_from(file);
  auto advisor = tiles->for_op(spec);

  auto exact = advisor->recorded_tile({}, 100, 4096, 4096);  // bucket m128
  ASSERT_TRUE(exact) << exact.error().message;
  ASSERT_TRUE(exact->has_value());
  EXPECT_EQ(**exact, tile_with(64, 4));

  auto nearest = advisor->recorded_tile({}, 1000, 4096, 4096);  // m1024: only m128 recorded
  ASSERT_TRUE(nearest && nearest->has_value());
  EXPECT_EQ(**nearest, tile_with(64, 4));

  auto other_layer = advisor->recorded_tile({}, 128, 11008, 4096);  // N differs: nothing
  ASSERT_TRUE(other_layer);
  EXPECT_FALSE(other_layer->has_value());

  compiler::KernelSpec biased = spec;
  biased.bias = true;  // another kernel signature: nothing recorded
  auto unrelated = tiles->for_op(biased)->recorded_tile({}, 128, 4096, 4096);
  ASSERT_TRUE(unrelated);
  EXPECT_FALSE(unrelated->has_value());
  EXPECT_TRUE(warnings.empty());
}

TEST_F(RecordedTilesTest, SplitKRecordsAreNotLaunchable) {
  const auto file = write_export(dir, {record(signature, {64, 512, 8192}, tile_with(64, 3), 0.05, 4)});
  auto answer = tiles_from(file)->for_op(spec)->recorded_tile({}, 64, 512, 8192);
  ASSERT_TRUE(answer);
  EXPECT_FALSE(answer->has_value());
}

TEST_F(RecordedTilesTest, ReadsOnceAndAnswersFromMemoryUntilReload) {
  const auto file = write_export(dir, {record(signature, {128, 4096, 4096}, tile_with(64, 4), 0.2)});
  auto tiles = tiles_from(file);
  auto advisor = tiles->for_op(spec);
  auto first = advisor->recorded_tile({}, 128, 4096, 4096);
  ASSERT_TRUE(first && first->has_value());

  // Another process replaces the file: this runtime keeps its answers (a
  // launch never re-reads files) ...
  std::filesystem::remove(file);
  std::filesystem::copy_file(write_export(dir, {record(signature, {128, 4096, 4096}, tile_with(128, 5), 0.1)}),
                             dir.path() / "tmp.json");
  std::filesystem::rename(dir.path() / "tmp.json", file);
  auto cached = advisor->recorded_tile({}, 128, 4096, 4096);
  ASSERT_TRUE(cached && cached->has_value());
  EXPECT_EQ(**cached, tile_with(64, 4));

  // ... until it is told to reload (Runtime::tune does after recording).
  tiles->reload();
  auto reloaded = advisor->recorded_tile({}, 128, 4096, 4096);
  ASSERT_TRUE(reloaded && reloaded->has_value());
  EXPECT_EQ(**reloaded, tile_with(128, 5));
}

TEST_F(RecordedTilesTest, ANamedFileThatCannotBeUsedIsAnErrorNamingIt) {
  auto missing = tiles_from(dir.path() / "nope.json")->for_op(spec)->recorded_tile({}, 1, 1, 1);
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message.find("tuning_file"), std::string::npos) << missing.error().message;
  EXPECT_NE(missing.error().message.find("nope.json"), std::string::npos) << missing.error().message;

  std::ofstream(dir.path() / "bad.json") << "{ not json";
  auto malformed = tiles_from(dir.path() / "bad.json")->for_op(spec)->recorded_tile({}, 1, 1, 1);
  ASSERT_FALSE(malformed);
  EXPECT_EQ(malformed.error().code, ErrorCode::InvalidInput);
  EXPECT_NE(malformed.error().message.find("bad.json"), std::string::npos) << malformed.error().message;
}

TEST_F(RecordedTilesTest, WithoutADeviceTheCacheDatabaseHasNothingToSay) {
  RecordedTilesOptions options;
  options.cache_dir = dir.path();
  options.warn = [this](std::string_view w) { warnings.emplace_back(w); };
  auto answer = RecordedTiles::create(options)->for_op(spec)->recorded_tile({-1}, 128, 4096, 4096);
  ASSERT_TRUE(answer);
  EXPECT_FALSE(answer->has_value());
  EXPECT_TRUE(warnings.empty());
}

}  // namespace
}  // namespace tilefuse::tune
