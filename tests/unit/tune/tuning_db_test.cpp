// The tuning database: JSON round trip, merge rules, bucket lookup, file
// errors, export / import.
#include <gtest/gtest.h>

#include <fstream>
#include <functional>

#include <nlohmann/json.hpp>

#include "TuneTestSupport.h"
#include "runtime/tune/KernelSignature.h"
#include "runtime/tune/TuningDbFile.h"

namespace tilefuse::tune {
namespace {

using testing::ScratchDir;

DeviceIdentity h100() {
  return DeviceIdentity{"NVIDIA H100 80GB HBM3", 132, 9, 0, 13000, "0.1.0"};
}

TuningRecord record(const std::string& sig, ShapeBucket bucket, int block_n,
                    std::optional<double> ms, std::string at = "2025-01-01T00:00:00.000Z") {
  TuningRecord r;
  r.signature = sig;
  r.bucket = bucket;
  r.config.tile = compiler::TileConfig{128, block_n, 32, 64, 64, 3, 4, 8};
  r.time_ms = ms;
  if (!ms) r.failure = "launch failed: CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES";
  r.kernel = "gelu(x) sm_90a";
  r.timer = "cuda-events";
  r.repetitions = 25;
  r.measured_at = std::move(at);
  return r;
}

void write_text(const std::filesystem::path& path, const std::string& text) {
  std::ofstream(path) << text;
}

TEST(ShapeBucket, RoundsMUpToAPowerOfTwoAndKeepsNAndK) {
  EXPECT_EQ(bucket_for({100, 4096, 1024}), (ShapeBucket{128, 4096, 1024}));
  EXPECT_EQ(bucket_for({128, 4096, 1024}), (ShapeBucket{128, 4096, 1024}));
  EXPECT_EQ(bucket_for({129, 4096, 1024}), (ShapeBucket{256, 4096, 1024}));
  EXPECT_EQ(bucket_for({1, 7, 9}), (ShapeBucket{1, 7, 9}));
  EXPECT_EQ(to_string(ShapeBucket{128, 4096, 1024}), "m128_n4096_k1024");
  auto parsed = parse_bucket("m128_n4096_k1024");
  ASSERT_TRUE(parsed);
  EXPECT_EQ(*parsed, (ShapeBucket{128, 4096, 1024}));
  for (const char* bad : {"m100_n1_k1", "m128_n1", "m128_n1_k1x", "128_1_1", "m0_n1_k1"})
    EXPECT_FALSE(parse_bucket(bad)) << bad;
}

TEST(ShapeBucket, NearestBucketNeedsTheSameNAndKAndPrefersCloserM) {
  const std::vector<ShapeBucket> recorded = {{64, 4096, 4096}, {1024, 4096, 4096}, {256, 4096, 8192}};
  EXPECT_EQ(nearest_bucket({1000, 4096, 4096}, recorded), (ShapeBucket{1024, 4096, 4096}));
  EXPECT_EQ(nearest_bucket({100, 4096, 4096}, recorded), (ShapeBucket{64, 4096, 4096}));
  // 256 is two doublings from both 64 and 1024: the larger block covers it.
  EXPECT_EQ(nearest_bucket({256, 4096, 4096}, recorded), (ShapeBucket{1024, 4096, 4096}));
  EXPECT_EQ(nearest_bucket({256, 4096, 2048}, recorded), std::nullopt);
}

TEST(TuningDb, JsonRoundTripKeepsEveryField) {
  TuningDb db(h100());
  db.merge(record("aaaa", {128, 4096, 4096}, 128, 0.25));
  db.merge(record("aaaa", {128, 4096, 4096}, 256, std::nullopt));
  auto back = TuningDb::from_json(nlohmann::json::parse(db.to_json().dump()), "test");
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(back->device(), h100());
  ASSERT_EQ(back->records().size(), 2u);
  const TuningRecord& ok = back->records()[0];
  EXPECT_EQ(ok.signature, "aaaa");
  EXPECT_EQ(ok.bucket, (ShapeBucket{128, 4096, 4096}));
  EXPECT_EQ(ok.config.tile.block_n, 128);
  EXPECT_EQ(ok.time_ms, 0.25);
  EXPECT_EQ(ok.repetitions, 25);
  EXPECT_EQ(ok.timer, "cuda-events");
  const TuningRecord& failed = back->records()[1];
  EXPECT_FALSE(failed.time_ms);
  EXPECT_EQ(failed.score_ms(), std::numeric_limits<double>::infinity());
  EXPECT_NE(failed.failure.find("OUT_OF_RESOURCES"), std::string::npos);
}

TEST(TuningDb, FileRoundTripAndDeviceMismatch) {
  ScratchDir dir;
  const auto path = tuning_db_path(dir.path(), h100());
  EXPECT_EQ(path.parent_path().filename(), "tuning");
  EXPECT_EQ(path.filename(), "NVIDIA-H100-80GB-HBM3_sm132_cc90_drv13000_tf0.1.0.json");
  auto empty = read_tuning_db(path, h100());
  ASSERT_TRUE(empty);
  EXPECT_TRUE(empty->records().empty());
  const std::vector<TuningRecord> records = {record("s", {64, 64, 64}, 64, 0.01)};
  ASSERT_TRUE(update_tuning_db(path, h100(), records));
  auto read = read_tuning_db(path, h100());
  ASSERT_TRUE(read) << read.error().message;
  ASSERT_EQ(read->records().size(), 1u);
  EXPECT_EQ(read->records()[0].time_ms, 0.01);

  DeviceIdentity other = h100();
  other.driver_version = 13010;
  auto mismatch = read_tuning_db(path, other);
  ASSERT_FALSE(mismatch);
  EXPECT_EQ(mismatch.error().code, ErrorCode::InvalidInput);
  EXPECT_NE(mismatch.error().message.find("belongs to device"), std::string::npos);
}

TEST(TuningDb, MalformedFilesAreErrorsThatNameTheFile) {
  ScratchDir dir;
  const auto path = dir.path() / "db.json";
  const std::pair<std::string, std::string> cases[] = {
      {"{not json", "not valid JSON"},
      {R"({"format": "something-else"})", "not a tilefuse tuning database"},
      {R"({"format": "tilefuse-tuning-db", "format_version": 99})", "format_version 99"},
      {R"({"format": "tilefuse-tuning-db", "format_version": 1, "device": {"name": "x"}})", "needs name"},
      {R"({"format": "tilefuse-tuning-db", "format_version": 1, "device": {"name": "x", "sm_count": 1,
          "compute_capability": "9.0", "driver_version": 1, "tilefuse_version": "0.1.0"},
          "records": [{"signature": "s", "bucket": "m3_n1_k1", "config": {}}]})", "record 0"},
  };
  for (const auto& [text, expected] : cases) {
    write_text(path, text);
    auto db = read_tuning_db(path, h100());
    ASSERT_FALSE(db) << text;
    EXPECT_NE(db.error().message.find(expected), std::string::npos) << db.error().message;
    EXPECT_NE(db.error().message.find(path.string()), std::string::npos) << db.error().message;
  }
}

// An imported database is untrusted: a tile it names must pass the checks a
// user's forced tile passes (compiler/TileRules.h), or the whole file is
// refused with the record, the tile and the broken rule named, before a
// launch could pick the tile.
TEST(TuningDb, ImportedTileThatBreaksTheTileRulesIsRefused) {
  ScratchDir dir;
  const auto file = dir.path() / "shipped.json";
  TuningDb db(h100());
  db.merge(record("s", {128, 1024, 1024}, 128, 1.0));
  const std::pair<const char*, int> broken_fields[] = {
      {"warp_m", 48},        // 128 is not a multiple of 48
      {"stages", 9},         // [1, 8]
      {"vector_width", 3},   // 1, 2 or 4
  };
  for (const auto& [field, value] : broken_fields) {
    nlohmann::json json = db.to_json();
    json["records"][0]["config"][field] = value;
    write_text(file, json.dump());
    auto imported = import_tuning_db(dir.path() / "cache", file);
    ASSERT_FALSE(imported) << field << " = " << value << " was accepted";
    EXPECT_EQ(imported.error().code, ErrorCode::InvalidInput);
    const std::string& message = imported.error().message;
    EXPECT_NE(message.find(file.string()), std::string::npos) << message;
    EXPECT_NE(message.find("record 0"), std::string::npos) << message;
    EXPECT_NE(message.find(field == std::string("warp_m") ? "not a multiple of the warp tile" : field),
              std::string::npos)
        << message;
  }
  EXPECT_FALSE(std::filesystem::exists(dir.path() / "cache" / "tuning")) << "nothing may be merged";
}

// Found by tests/fuzz/tuning_db_fuzzer: a field of the wrong JSON type made
// nlohmann::json::value() throw out of the reader (the CLI then reported an
// "internal error" for a bad file), and a huge number read into an int was
// undefined behaviour. Every such file is now an InvalidInput naming the field.
TEST(TuningDb, WronglyTypedFieldsAreErrorsNotExceptions) {
  ScratchDir dir;
  const auto file = dir.path() / "shipped.json";
  TuningDb db(h100());
  db.merge(record("s", {128, 1024, 1024}, 128, 1.0));
  const nlohmann::json valid = db.to_json();
  struct Case {
    std::function<void(nlohmann::json&)> damage;
    std::string expected;
  };
  const Case cases[] = {
      {[](nlohmann::json& j) { j["format"] = 5; }, "not a tilefuse tuning database"},
      {[](nlohmann::json& j) { j["format_version"] = "1"; }, "format_version"},
      {[](nlohmann::json& j) { j["format_version"] = 1e300; }, "format_version"},
      {[](nlohmann::json& j) { j["records"][0]["failure"] = 5; }, "\"failure\""},
      {[](nlohmann::json& j) { j["records"][0]["kernel"] = nlohmann::json::array(); }, "\"kernel\""},
      {[](nlohmann::json& j) { j["records"][0]["timer"] = true; }, "\"timer\""},
      {[](nlohmann::json& j) { j["records"][0]["repetitions"] = "25"; }, "\"repetitions\""},
      {[](nlohmann::json& j) { j["records"][0]["repetitions"] = 1e300; }, "\"repetitions\""},
      {[](nlohmann::json& j) { j["records"][0]["measured_at"] = 2026; }, "\"measured_at\""},
  };
  for (const Case& c : cases) {
    nlohmann::json json = valid;
    c.damage(json);
    write_text(file, json.dump());
    Expected<TuningDb> read = make_error(ErrorCode::Internal, "not read");
    EXPECT_NO_THROW(read = read_tuning_db_file(file)) << json.dump();
    ASSERT_FALSE(read) << json.dump();
    EXPECT_EQ(read.error().code, ErrorCode::InvalidInput);
    EXPECT_NE(read.error().message.find(c.expected), std::string::npos) << read.error().message;
    EXPECT_NE(read.error().message.find(file.string()), std::string::npos) << read.error().message;
  }
}

TEST(TuningDb, MergeKeepsTheNewerRecordPerKey) {
  TuningDb db(h100());
  EXPECT_TRUE(db.merge(record("s", {128, 1, 1}, 128, 1.0, "2025-01-02T00:00:00.000Z")));
  EXPECT_FALSE(db.merge(record("s", {128, 1, 1}, 128, 2.0, "2025-01-01T00:00:00.000Z")));
  EXPECT_EQ(db.records().at(0).time_ms, 1.0);
  EXPECT_TRUE(db.merge(record("s", {128, 1, 1}, 128, 3.0, "2025-01-03T00:00:00.000Z")));
  EXPECT_EQ(db.records().at(0).time_ms, 3.0);
  EXPECT_TRUE(db.merge(record("s", {256, 1, 1}, 128, 4.0)));  // another bucket: another record
  EXPECT_EQ(db.records().size(), 2u);
}

TEST(TuningDb, RankingAndBestForAShape) {
  TuningDb db(h100());
  db.merge(record("s", {128, 4096, 4096}, 64, 0.30));
  db.merge(record("s", {128, 4096, 4096}, 128, 0.20));
  db.merge(record("s", {128, 4096, 4096}, 256, std::nullopt));
  db.merge(record("t", {128, 4096, 4096}, 256, 0.01));  // another kernel
  const auto ranked = db.ranked("s", {128, 4096, 4096});
  ASSERT_EQ(ranked.size(), 3u);
  EXPECT_EQ(ranked[0].config.tile.block_n, 128);
  EXPECT_EQ(ranked[1].config.tile.block_n, 64);
  EXPECT_FALSE(ranked[2].time_ms);
  auto best = db.best_for("s", {100, 4096, 4096});
  ASSERT_TRUE(best);
  EXPECT_EQ(best->config.tile.block_n, 128);
  EXPECT_EQ(db.best_for("s", {100, 4096, 1024}), std::nullopt);
  EXPECT_EQ(db.best_for("u", {100, 4096, 4096}), std::nullopt);
}

TEST(TuningDb, ExportThenImportIntoAnotherCacheDirectory) {
  ScratchDir a, b;
  const auto source = tuning_db_path(a.path(), h100());
  const std::vector<TuningRecord> records = {record("s", {64, 8, 8}, 64, 0.5),
                                             record("s", {64, 8, 8}, 128, 0.4)};
  ASSERT_TRUE(update_tuning_db(source, h100(), records));
  const auto file = a.path() / "shipped.json";
  auto exported = export_tuning_db(source, h100(), file);
  ASSERT_TRUE(exported) << exported.error().message;

  auto imported = import_tuning_db(b.path(), file);
  ASSERT_TRUE(imported) << imported.error().message;
  EXPECT_EQ(imported->records, 2u);
  EXPECT_EQ(imported->changed, 2u);
  EXPECT_EQ(imported->database, tuning_db_path(b.path(), h100()));
  auto read = read_tuning_db(imported->database, h100());
  ASSERT_TRUE(read);
  EXPECT_EQ(read->records().size(), 2u);
  auto again = import_tuning_db(b.path(), file);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->changed, 0u);  // same records, not newer

  auto missing = export_tuning_db(tuning_db_path(b.path(), DeviceIdentity{"other", 1, 8, 0, 1, "x"}),
                                  DeviceIdentity{"other", 1, 8, 0, 1, "x"}, b.path() / "x.json");
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message.find("nothing to export"), std::string::npos);
}

TEST(KernelSignature, IgnoresTileAndShapeButNotWhatChangesTheKernel) {
  compiler::KernelSpec spec = testing::gelu_spec();
  const std::string base = kernel_signature(spec);
  EXPECT_EQ(base.size(), 16u);
  compiler::KernelSpec tiled = spec;
  tiled.tile = compiler::TileConfig{};
  tiled.shape_hint = std::array<long long, 3>{1, 2, 3};
  EXPECT_EQ(kernel_signature(tiled), base);
  auto changed = [&](auto mutate) {
    compiler::KernelSpec s = spec;
    mutate(s);
    return kernel_signature(s) != base;
  };
  EXPECT_TRUE(changed([](auto& s) { s.expression = "silu(x)"; }));
  EXPECT_TRUE(changed([](auto& s) { s.arch = compiler::Arch::Sm90a; }));
  EXPECT_TRUE(changed([](auto& s) { s.bias = true; }));
  EXPECT_TRUE(changed([](auto& s) { s.output_type = compiler::DType::F32; }));
  EXPECT_TRUE(changed([](auto& s) { s.precision = compiler::Precision::Fast; }));
  EXPECT_TRUE(changed([](auto& s) { s.b_col_major = true; }));
}

}  // namespace
}  // namespace tilefuse::tune
