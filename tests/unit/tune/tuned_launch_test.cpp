// The public API end to end, without a GPU: Runtime::tune (simulated timer)
// records a choice, export_tuning ships it, and a Runtime reading the shipped
// file compiles — and would launch — the recorded tile; TuningMode::Heuristic
// ignores it. MatmulOp::compile reports the tile a launch of the shape takes.
#include <gtest/gtest.h>

#include "TuneTestSupport.h"
#include "runtime/tune/KernelSignature.h"
#include "runtime/tune/TuningDbFile.h"
#include "tilefuse/tilefuse.hpp"

namespace tilefuse {
namespace {

using tune::testing::ScratchDir;

constexpr Shape kShape{128, 4096, 4096};

/// A tile the heuristic never picks for kShape, recorded as the fastest.
const TileConfig kRecorded{64, 128, 32, 32, 64, 4, 4, 8};

/// Writes an exported database in which gelu(x) on sm_80 ran fastest with `recorded`.
std::filesystem::path ship_database(const ScratchDir& dir, const TileConfig& recorded = kRecorded) {
  compiler::KernelSpec spec;
  spec.expression = "gelu(x)";
  spec.arch = Arch::Sm80;
  tune::TuningRecord r;
  r.signature = tune::kernel_signature(spec);
  r.bucket = tune::bucket_for({kShape.m, kShape.n, kShape.k});
  r.config.tile = recorded;
  r.time_ms = 0.1;
  r.timer = "cuda-events";
  r.measured_at = "2026-01-01T00:00:00.000Z";
  const tune::DeviceIdentity gpu{"NVIDIA A100-SXM4-80GB", 108, 8, 0, 13000, "0.1.0"};
  const auto db = tune::tuning_db_path(dir.path() / "tuned-elsewhere", gpu);
  EXPECT_TRUE(tune::update_tuning_db(db, gpu, std::span(&r, 1)));
  const auto shipped = dir.path() / "shipped.json";
  EXPECT_TRUE(tune::export_tuning_db(db, gpu, shipped));
  return shipped;
}

RuntimeOptions options_in(const ScratchDir& dir) {
  RuntimeOptions o;
  o.cache_dir = (dir.path() / "cache").string();
  return o;
}

TEST(TunedLaunch, AShippedDatabaseDecidesTheTileAndHeuristicModeIgnoresIt) {
  ScratchDir dir;
  RuntimeOptions shipped = options_in(dir);
  shipped.tuning_file = ship_database(dir).string();
  auto op = Runtime(shipped).matmul({.activation = "gelu(x)"});
  ASSERT_TRUE(op) << op.error().message;
  auto info = op->compile(kShape, Arch::Sm80);
  ASSERT_TRUE(info) << info.error().message;
  EXPECT_EQ(compiler::to_string(info->tile), compiler::to_string(kRecorded));

  RuntimeOptions heuristic = shipped;
  heuristic.tuning = TuningMode::Heuristic;
  auto plain = Runtime(heuristic).matmul({.activation = "gelu(x)"});
  ASSERT_TRUE(plain);
  auto plain_info = plain->compile(kShape, Arch::Sm80);
  ASSERT_TRUE(plain_info) << plain_info.error().message;
  EXPECT_NE(compiler::to_string(plain_info->tile), compiler::to_string(kRecorded));
}

// Issue 13: an imported record whose tile the mma.sync template cannot build
// (block_k 48: 6 chunks per row, which the swizzle XORs out of the row) is
// refused by the same check as a forced tile, with a warning naming it, and
// the launch takes the heuristic tile instead of compiling a corrupting kernel.
TEST(TunedLaunch, AnImportedTileTheTemplateCannotBuildIsRefusedWithAWarning) {
  ScratchDir dir;
  const TileConfig bad{96, 64, 48, 32, 32, 3, 4, 8};
  RuntimeOptions shipped = options_in(dir);
  shipped.tuning_file = ship_database(dir, bad).string();
  auto op = Runtime(shipped).matmul({.activation = "gelu(x)"});
  ASSERT_TRUE(op) << op.error().message;
  ::testing::internal::CaptureStderr();
  auto info = op->compile(kShape, Arch::Sm80);
  const std::string warnings = ::testing::internal::GetCapturedStderr();
  ASSERT_TRUE(info) << info.error().message;
  EXPECT_NE(compiler::to_string(info->tile), compiler::to_string(bad));
  EXPECT_EQ(info->tile.block_k % 16, 0);
  EXPECT_NE(warnings.find("tuning record 96x64x48"), std::string::npos) << warnings;
  EXPECT_NE(warnings.find("block_k 48 is not 8 times a power of two"), std::string::npos) << warnings;
}

TEST(TunedLaunch, AMissingShippedDatabaseFailsTheCompileWithItsName) {
  ScratchDir dir;
  RuntimeOptions o = options_in(dir);
  o.tuning_file = (dir.path() / "not-shipped.json").string();
  auto op = Runtime(o).matmul({.activation = "relu(x)"});
  ASSERT_TRUE(op);
  auto info = op->compile(kShape, Arch::Sm80);
  ASSERT_FALSE(info);
  EXPECT_NE(info.error().message.find("not-shipped.json"), std::string::npos) << info.error().message;
}

TEST(TunedLaunch, TuneExportAndLoadInDeterministicMode) {
  ScratchDir dir;
  Runtime tuning_runtime(options_in(dir));
  auto op = tuning_runtime.matmul({.activation = "silu(x)"});
  ASSERT_TRUE(op) << op.error().message;
  const Shape small{16, 64, 64};  // 8 candidates survive pruning: a quick test
  TuneOptions simulate;
  simulate.simulate = true;
  auto tuned = tuning_runtime.tune(*op, std::span(&small, 1), simulate);
  ASSERT_TRUE(tuned) << tuned.error().message;
  ASSERT_EQ(tuned->size(), 1u);
  const TuneSummary& summary = tuned->front();
  EXPECT_EQ(summary.chosen_from, "tuned");
  ASSERT_TRUE(summary.ms && summary.heuristic_ms);
  EXPECT_LE(*summary.ms, *summary.heuristic_ms);
  EXPECT_GT(summary.timed, 0u);

  // Simulated records are nobody's GPU's: launches use them only from a
  // named file. Ship them like a real database:
  const auto shipped = dir.path() / "simulated-export.json";
  ASSERT_TRUE(tuning_runtime.export_tuning(shipped.string(), /*simulated=*/true));

  RuntimeOptions deployed = options_in(dir);
  deployed.tuning_file = shipped.string();
  auto deployed_op = Runtime(deployed).matmul({.activation = "silu(x)"});
  ASSERT_TRUE(deployed_op);
  auto info = deployed_op->compile(small, Arch::Sm80);
  ASSERT_TRUE(info) << info.error().message;
  EXPECT_EQ(compiler::to_string(info->tile), compiler::to_string(summary.tile));

  // Deterministic tuning compiles and times nothing and returns the recorded choice.
  TuneOptions deterministic = simulate;
  deterministic.deterministic = true;
  auto again = tuning_runtime.tune(*op, std::span(&small, 1), deterministic);
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_EQ(again->front().timed, 0u);
  EXPECT_EQ(compiler::to_string(again->front().tile), compiler::to_string(summary.tile));
}

TEST(TunedLaunch, TuningAnOpWithAForcedTileIsAnError) {
  ScratchDir dir;
  Runtime rt(options_in(dir));
  auto op = rt.matmul({.activation = "relu(x)", .tile = TileConfig{}});
  ASSERT_TRUE(op);
  const Shape shape{128, 128, 128};
  auto tuned = rt.tune(*op, std::span(&shape, 1), {.simulate = true});
  ASSERT_FALSE(tuned);
  EXPECT_EQ(tuned.error().code, ErrorCode::InvalidInput);
}

}  // namespace
}  // namespace tilefuse
