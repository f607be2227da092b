// Tuning grouped (mixture-of-experts) GEMMs on the CPU: the bucket keys
// (experts, layout, token-count bucket, N, K) and their JSON form, old
// databases still loading, the heuristic tile for few rows per expert, the
// simulated timer's per-expert blocks, the tuner end to end with the
// simulated timer, and the float64 host reference of a grouped candidate.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "TuneTestSupport.h"
#include "runtime/ops/GroupedTile.h"
#include "runtime/tune/HostReference.h"
#include "runtime/tune/SimulatedTimer.h"
#include "runtime/tune/TuneReport.h"
#include "runtime/tune/Tuner.h"
#include "runtime/tune/TuningDbFile.h"

namespace tilefuse::tune {
namespace {

using testing::FakeCompiler;
using testing::ScratchDir;

/// Qwen3-30B-A3B's gate/up projection: 128 experts, N = 768, K = 2048.
ProblemShape qwen3(long long rows, GroupLayout layout = GroupLayout::Contiguous) {
  return ProblemShape{rows, 768, 2048, 128, layout};
}

TEST(GroupedShapeBucket, KeysExpertsLayoutAndTheTokenBucket) {
  const ShapeBucket bucket = bucket_for(qwen3(1000));
  EXPECT_EQ(bucket, (ShapeBucket{1024, 768, 2048, 128, GroupLayout::Contiguous}));
  EXPECT_EQ(to_string(bucket), "contiguous_e128_m1024_n768_k2048");
  EXPECT_EQ(to_string(bucket_for(qwen3(64, GroupLayout::Masked))), "masked_e128_m64_n768_k2048");
  // A plain bucket is written as before grouped ops existed.
  EXPECT_EQ(to_string(bucket_for({1000, 768, 2048})), "m1024_n768_k2048");
  EXPECT_NE(bucket_for({1000, 768, 2048}), bucket);
  for (const char* text : {"contiguous_e128_m1024_n768_k2048", "masked_e8_m64_n14336_k4096", "m128_n1_k1"}) {
    auto parsed = parse_bucket(text);
    ASSERT_TRUE(parsed) << text << ": " << parsed.error().message;
    EXPECT_EQ(to_string(*parsed), text);
  }
  for (const char* bad : {"contiguous_m1024_n768_k2048", "contiguous_e0_m1024_n768_k2048", "grouped_e8_m64_n1_k1",
                          "masked_e8_m100_n1_k1", "masked_e8_", "contiguous_e8m64_n1_k1", "e8_m64_n1_k1"}) {
    auto parsed = parse_bucket(bad);
    ASSERT_FALSE(parsed) << bad;
    EXPECT_NE(parsed.error().message.find("contiguous_e128_m1024_n768_k2048"), std::string::npos)
        << parsed.error().message;
  }
}

TEST(GroupedShapeBucket, NearestBucketNeedsTheSameExpertsAndLayout) {
  const std::vector<ShapeBucket> recorded = {
      {1024, 768, 2048, 128, GroupLayout::Contiguous},
      {8192, 768, 2048, 8, GroupLayout::Contiguous},
      {128, 768, 2048, 0, GroupLayout::None},
      {64, 768, 2048, 128, GroupLayout::Masked},
  };
  // 8192 tokens over 128 experts: the nearest of the same experts (m1024), not the 8-expert m8192.
  EXPECT_EQ(nearest_bucket(qwen3(8192), recorded), recorded[0]);
  EXPECT_EQ(nearest_bucket(qwen3(128, GroupLayout::Masked), recorded), recorded[3]);
  EXPECT_EQ(nearest_bucket({8192, 768, 2048, 16, GroupLayout::Contiguous}, recorded), std::nullopt);
  // A plain problem never borrows a grouped record, nor the reverse.
  EXPECT_EQ(nearest_bucket({1024, 768, 2048}, recorded), recorded[2]);
  EXPECT_EQ(nearest_bucket({1024, 768, 2048}, std::span(recorded).first(2)), std::nullopt);
}

DeviceIdentity h100() { return DeviceIdentity{"NVIDIA H100 80GB HBM3", 132, 9, 0, 13000, "0.1.0"}; }

TuningRecord record(ShapeBucket bucket, double ms) {
  TuningRecord r;
  r.signature = "aaaa";
  r.bucket = bucket;
  r.config.tile = compiler::TileConfig{64, 128, 32, 32, 64, 3, 4, 8};
  r.time_ms = ms;
  r.timer = "cuda-events";
  r.measured_at = "2026-12-06T00:00:00.000Z";
  return r;
}

TEST(GroupedTuningDb, GroupedRecordsRoundTripAsFormatVersion2) {
  TuningDb db(h100());
  db.merge(record({128, 4096, 4096}, 0.5));
  EXPECT_EQ(db.to_json()["format_version"], 1) << "a database without grouped records stays readable by "
                                                  "a tilefuse from before grouped ops";
  db.merge(record(bucket_for(qwen3(1024)), 0.25));
  const nlohmann::json json = db.to_json();
  EXPECT_EQ(json["format_version"], 2);
  EXPECT_EQ(json["records"][1]["bucket"], "contiguous_e128_m1024_n768_k2048");
  auto back = TuningDb::from_json(nlohmann::json::parse(json.dump()), "test");
  ASSERT_TRUE(back) << back.error().message;
  ASSERT_EQ(back->records().size(), 2u);
  EXPECT_EQ(back->records()[1].bucket, bucket_for(qwen3(1024)));
  ASSERT_TRUE(back->best_for("aaaa", qwen3(600)));
  EXPECT_EQ(back->best_for("aaaa", qwen3(600))->time_ms, 0.25);
  EXPECT_EQ(back->best_for("aaaa", {600, 4096, 4096})->time_ms, 0.5);
  EXPECT_FALSE(back->best_for("aaaa", {600, 768, 2048}));
}

// A file written by the tilefuse of 2026-11 (format_version 1, plain buckets) loads unchanged.
TEST(GroupedTuningDb, AVersion1DatabaseStillLoads) {
  const char* old_file = R"({"format": "tilefuse-tuning-db", "format_version": 1,
    "device": {"name": "NVIDIA H100 80GB HBM3", "sm_count": 132, "compute_capability": "9.0",
               "driver_version": 13000, "tilefuse_version": "0.1.0"},
    "records": [{"signature": "0123456789abcdef", "kernel": "gelu(x) sm_90a bf16->bf16 precise",
                 "bucket": "m128_n4096_k4096",
                 "config": {"block_m": 128, "block_n": 128, "block_k": 32, "warp_m": 64, "warp_n": 64,
                            "stages": 3, "vector_width": 4, "group_m": 8, "split_k": 1},
                 "config_name": "128x128x32_w64x64_s3", "time_ms": 0.125, "timer": "cuda-events",
                 "repetitions": 20, "measured_at": "2026-11-22T10:00:00.000Z"}]})";
  auto db = TuningDb::from_json(nlohmann::json::parse(old_file), "old.json");
  ASSERT_TRUE(db) << db.error().message;
  ASSERT_EQ(db->records().size(), 1u);
  EXPECT_EQ(db->records()[0].bucket, (ShapeBucket{128, 4096, 4096}));
  EXPECT_EQ(db->to_json()["format_version"], 1);
  auto newer = nlohmann::json::parse(old_file);
  newer["format_version"] = 3;
  auto refused = TuningDb::from_json(newer, "new.json");
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find("reads 1 to 2"), std::string::npos) << refused.error().message;
}

TEST(GroupedHeuristic, SmallRowsPerExpertGetA64RowBlock) {
  // Decode: 16 tokens x top-8 over 128 experts = 1 row per expert; prefill:
  // 8192 x 8 / 128 = 512 rows per expert.
  EXPECT_EQ(ops::heuristic_rows(GroupLayout::Contiguous, 128, 128), 1);
  EXPECT_EQ(ops::heuristic_rows(GroupLayout::Contiguous, 65536, 128), 512);
  EXPECT_EQ(ops::heuristic_rows(GroupLayout::Contiguous, 1000, 128), 8);  // rounded up
  EXPECT_EQ(ops::heuristic_rows(GroupLayout::Masked, 48, 128), 48);
  EXPECT_EQ(ops::heuristic_rows(GroupLayout::None, 1000, 0), 1000);
  for (compiler::Arch arch : {compiler::Arch::Sm80, compiler::Arch::Sm90a}) {
    auto target = compiler::make_target(arch);
    for (bool gated : {false, true}) {
      const SearchSpace decode = build_search_space(*target, qwen3(128 * 8), gated);
      EXPECT_EQ(decode.heuristic.tile.block_m, 64) << compiler::to_string(arch) << " gated " << gated;
      const SearchSpace masked = build_search_space(*target, qwen3(32, GroupLayout::Masked), gated);
      EXPECT_EQ(masked.heuristic.tile.block_m, 64) << compiler::to_string(arch);
      // The same T as one plain GEMM keeps the large block (a gated op on
      // sm_90a has 64-row blocks anyway: fit_tile_to_gated halves M first).
      const SearchSpace plain = build_search_space(*target, {128 * 8, 768, 2048}, gated);
      if (!gated || arch != compiler::Arch::Sm90a) EXPECT_GT(plain.heuristic.tile.block_m, 64) << compiler::to_string(arch);
      const SearchSpace prefill = build_search_space(*target, qwen3(8192 * 8), gated);
      EXPECT_EQ(prefill.heuristic, plain.heuristic) << compiler::to_string(arch);
      EXPECT_TRUE(std::none_of(decode.pruned.begin(), decode.pruned.end(),
                               [](const PrunedCandidate& p) { return p.candidate.split_k > 1; }))
          << "a grouped space models no split-K";
    }
  }
}

TEST(GroupedSimulatedTimer, CountsEveryExpertsBlocks) {
  Candidate tall{compiler::TileConfig{128, 128, 32, 64, 64, 3, 4, 8}, 1};
  Candidate short_block{compiler::TileConfig{64, 128, 32, 32, 64, 3, 4, 8}, 1};
  // 8 rows per expert: a 128-row block computes 16x the useful rows, a 64-row one 8x.
  const ProblemShape decode = qwen3(1024);
  EXPECT_LT(SimulatedTimer::simulated_ms(short_block, decode), SimulatedTimer::simulated_ms(tall, decode));
  // As one plain 1024-row GEMM the tall block wins: the grouped model differs.
  const ProblemShape plain{1024, 768, 2048};
  EXPECT_GT(SimulatedTimer::simulated_ms(tall, decode), SimulatedTimer::simulated_ms(tall, plain));
  // With one expert the grouped problem is the plain one.
  EXPECT_DOUBLE_EQ(SimulatedTimer::simulated_ms(tall, {1024, 768, 2048, 1, GroupLayout::Contiguous}),
                   SimulatedTimer::simulated_ms(tall, plain));
  // Masked: E groups of M_max rows each.
  EXPECT_DOUBLE_EQ(SimulatedTimer::simulated_ms(short_block, qwen3(8, GroupLayout::Masked)),
                   SimulatedTimer::simulated_ms(short_block, decode));
}

TEST(GroupedTuner, TunesRecordsByExpertsAndReportsThem) {
  ScratchDir dir;
  FakeCompiler compiler;
  SimulatedTimer timer;
  auto target = compiler::make_target(compiler::Arch::Sm80);
  TunerOptions options;
  options.cache_dir = dir.path();
  Tuner tuner(compiler, timer, options);
  const ProblemShape shape = qwen3(1024);
  auto result = tuner.tune({testing::gelu_spec(), shape, false}, *target);
  ASSERT_TRUE(result) << result.error().message;
  EXPECT_EQ(to_string(result->bucket), "contiguous_e128_m1024_n768_k2048");
  EXPECT_EQ(result->heuristic.tile.block_m, 64);
  ASSERT_TRUE(result->chosen_ms);
  EXPECT_EQ(result->chosen.tile.block_m, 64) << "8 rows per expert: no 128-row block is faster";
  const nlohmann::json report = to_json(*result);
  EXPECT_EQ(report["experts"], 128);
  EXPECT_EQ(report["layout"], "contiguous");
  EXPECT_EQ(report["shape"], "1024x768x2048/e128/contiguous");
  EXPECT_FALSE(to_json(*tuner.tune({testing::gelu_spec(), {64, 64, 64}, false}, *target)).contains("experts"));

  auto db = read_tuning_db(tuning_db_path(dir.path(), simulated_device_identity()), simulated_device_identity());
  ASSERT_TRUE(db) << db.error().message;
  EXPECT_EQ(db->ranked(result->signature, bucket_for(shape)).size(), result->timed);

  // Remembered per (experts, layout): the same problem times nothing again,
  // 64 experts or the masked layout time afresh.
  const int timed_before = timer.timed();
  auto again = tuner.tune({testing::gelu_spec(), qwen3(700), false}, *target);
  ASSERT_TRUE(again);
  EXPECT_EQ(timer.timed(), timed_before);
  EXPECT_EQ(again->chosen, result->chosen);
  auto fewer = tuner.tune({testing::gelu_spec(), {1024, 768, 2048, 64, GroupLayout::Contiguous}, false}, *target);
  ASSERT_TRUE(fewer);
  EXPECT_GT(fewer->timed, 0u);
  auto masked = tuner.tune({testing::gelu_spec(), qwen3(8, GroupLayout::Masked), false}, *target);
  ASSERT_TRUE(masked);
  EXPECT_GT(masked->timed, 0u);
  EXPECT_EQ(to_string(masked->bucket), "masked_e128_m8_n768_k2048");
}

TEST(GroupedShapes, AsGroupedChecksExpertsAndLayout) {
  auto shapes = parse_shape_list("1024x768x2048,64x768x2048");
  ASSERT_TRUE(shapes);
  auto grouped = as_grouped(*shapes, 128, GroupLayout::Masked);
  ASSERT_TRUE(grouped);
  EXPECT_EQ((*grouped)[1], qwen3(64, GroupLayout::Masked));
  EXPECT_EQ((*grouped)[1].output_rows(), 64 * 128);
  EXPECT_EQ(qwen3(1024).output_rows(), 1024);
  EXPECT_FALSE(as_grouped(*shapes, 0, GroupLayout::Contiguous));
  EXPECT_FALSE(as_grouped(*shapes, 8, GroupLayout::None));
}

dsl::ResolvedProgram program(const char* text) {
  auto resolved = dsl::resolve(text);
  EXPECT_TRUE(resolved) << resolved.error().message;
  return *resolved;
}

// 3 experts over 4 rows of A (k = 2, n = 2): expert 0 owns row 0, expert 1
// none, expert 2 rows 1..3. Each expert's B is [[e+1, 0], [0, e+1]] (row-major
// K x N), so D = (e+1) * A + bias[e].
TEST(GroupedHostReference, EachRowUsesItsExpertsWeightsAndBias) {
  const std::vector<float> a = {1, 2, 3, 4, 5, 6, 7, 8};
  const std::vector<float> b = {1, 0, 0, 1, 2, 0, 0, 2, 3, 0, 0, 3};
  const std::vector<float> bias = {0, 0, 100, 100, 0.5f, -0.5f};
  const std::vector<int> offsets = {0, 1, 1, 4};
  HostGemm g{.m = 4, .n = 2, .k = 2, .a = a, .b = b, .bias = bias, .group_offsets = offsets};
  const auto x = program("x");
  auto at = [&](long long row, long long col) {
    auto v = host_reference_element(g, x, {}, row, col);
    EXPECT_TRUE(v) << v.error().message;
    return v ? *v : -1e300;
  };
  EXPECT_DOUBLE_EQ(at(0, 0), 1.0);
  EXPECT_DOUBLE_EQ(at(0, 1), 2.0);
  EXPECT_DOUBLE_EQ(at(1, 0), 3 * 3 + 0.5);
  EXPECT_DOUBLE_EQ(at(3, 1), 3 * 8 - 0.5);
  // Column-major B (N x K, PyTorch Linear weights): the same diagonal matrices.
  HostGemm col = g;
  col.b_col_major = true;
  EXPECT_DOUBLE_EQ(*host_reference_element(col, x, {}, 2, 1), 3 * 6 - 0.5);
  // Gated: gate = expert e's product, up from W_up ([[1,1],[1,1]] for every expert).
  const std::vector<float> up(12, 1.0f);
  HostGemm gated{.m = 4, .n = 2, .k = 2, .gated = true, .a = a, .b = b, .b_up = up, .group_offsets = offsets};
  EXPECT_DOUBLE_EQ(*host_reference_element(gated, program("gate * up"), {}, 3, 0), (3 * 7) * (7 + 8));

  for (std::vector<int> bad : {std::vector<int>{0, 2, 1, 4}, {1, 2, 3, 4}, {0, 1, 1, 3}, {0}}) {
    HostGemm wrong = g;
    wrong.group_offsets = bad;
    auto v = host_reference_element(wrong, x, {}, 0, 0);
    ASSERT_FALSE(v) << bad.size();
    EXPECT_EQ(v.error().code, ErrorCode::InvalidInput);
  }
  // Row inputs follow D's rows, column inputs are per expert: x * route + s.
  const std::vector<float> route = {0.5f, 2, 3, 4}, scale = {10, 20, 30, 40, 50, 60};
  HostGemm routed = g;
  routed.row_inputs = {{"route", route}};
  routed.col_inputs = {{"s", scale}};
  auto with_inputs = dsl::resolve("x * route + s", {{"route"}, {"s"}});
  ASSERT_TRUE(with_inputs) << with_inputs.error().message;
  EXPECT_DOUBLE_EQ(*host_reference_element(routed, *with_inputs, {}, 0, 1), 2.0 * 0.5 + 20);
  EXPECT_DOUBLE_EQ(*host_reference_element(routed, *with_inputs, {}, 3, 0), (3 * 7 + 0.5) * 4 + 50);
  routed.row_inputs = {{"route", std::span(route).first(3)}};  // one value short
  EXPECT_FALSE(host_reference_element(routed, *with_inputs, {}, 0, 0));

  HostGemm short_b = g;
  short_b.b = std::span(b).first(8);  // two experts' weights for three experts
  EXPECT_FALSE(host_reference_element(short_b, x, {}, 0, 0));
}

}  // namespace
}  // namespace tilefuse::tune
