// Grouped (mixture-of-experts) ops through the public tuning API, without a
// GPU: Runtime::tune needs TuneOptions::experts for a grouped op (and refuses
// it for a plain one), records per (experts, layout, token bucket), and the
// launch path's advisor answers a grouped question from those records only.
#include <gtest/gtest.h>

#include "TuneTestSupport.h"
#include "runtime/tune/KernelSignature.h"
#include "runtime/tune/RecordedTiles.h"
#include "runtime/tune/TuningDbFile.h"
#include "tilefuse/tilefuse.hpp"

namespace tilefuse {
namespace {

using tune::testing::ScratchDir;

RuntimeOptions options_in(const ScratchDir& dir) {
  RuntimeOptions o;
  o.cache_dir = (dir.path() / "cache").string();
  return o;
}

TEST(GroupedTunedLaunch, TuneNeedsExpertsForAGroupedOpAndRefusesThemForAPlainOne) {
  ScratchDir dir;
  Runtime rt(options_in(dir));
  auto grouped = rt.matmul({.activation = "relu(x)", .grouped = GroupLayout::Contiguous});
  ASSERT_TRUE(grouped) << grouped.error().message;
  const Shape shape{512, 64, 64};
  auto missing = rt.tune(*grouped, std::span(&shape, 1), {.simulate = true});
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::InvalidInput);
  EXPECT_NE(missing.error().message.find("TuneOptions::experts"), std::string::npos) << missing.error().message;

  auto plain = rt.matmul({.activation = "relu(x)"});
  ASSERT_TRUE(plain);
  TuneOptions with_experts;
  with_experts.simulate = true;
  with_experts.experts = 8;
  auto refused = rt.tune(*plain, std::span(&shape, 1), with_experts);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::InvalidInput);
  EXPECT_NE(refused.error().message.find("not grouped"), std::string::npos) << refused.error().message;
}

// 512 tokens over 8 experts = 64 rows each: the space is the 64-row blocks;
// the record goes to the (8 experts, contiguous, m512) bucket, and the
// launch-path advisor finds it for a grouped launch of 8 experts only.
TEST(GroupedTunedLaunch, TuneRecordsPerExpertsAndTheAdvisorAnswersGroupedLaunches) {
  ScratchDir dir;
  Runtime rt(options_in(dir));
  auto op = rt.matmul({.activation = "relu(x)", .grouped = GroupLayout::Contiguous});
  ASSERT_TRUE(op) << op.error().message;
  const Shape shape{512, 64, 64};
  TuneOptions options;
  options.simulate = true;
  options.experts = 8;
  auto tuned = rt.tune(*op, std::span(&shape, 1), options);
  ASSERT_TRUE(tuned) << tuned.error().message;
  const TuneSummary& summary = tuned->front();
  EXPECT_EQ(summary.chosen_from, "tuned");
  EXPECT_GT(summary.timed, 0u);
  EXPECT_EQ(summary.tile.block_m, 64);

  const auto shipped = dir.path() / "grouped-export.json";
  ASSERT_TRUE(rt.export_tuning(shipped.string(), /*simulated=*/true));
  auto db = tune::read_tuning_db_file(shipped);
  ASSERT_TRUE(db) << db.error().message;
  ASSERT_FALSE(db->records().empty());
  for (const tune::TuningRecord& r : db->records()) EXPECT_EQ(tune::to_string(r.bucket), "contiguous_e8_m512_n64_k64");

  tune::RecordedTilesOptions advisor_options;
  advisor_options.file = shipped;
  auto tiles = tune::RecordedTiles::create(advisor_options);
  compiler::KernelSpec spec;
  spec.expression = "relu(x)";
  spec.grouped = GroupLayout::Contiguous;
  spec.arch = Arch::Sm80;
  auto advisor = tiles->for_op(spec);
  auto grouped = advisor->recorded_tile({}, ops::AdvisedProblem{500, 64, 64, 8, GroupLayout::Contiguous});
  ASSERT_TRUE(grouped) << grouped.error().message;
  ASSERT_TRUE(*grouped);
  EXPECT_EQ(compiler::to_string(**grouped), compiler::to_string(summary.tile));
  // Other experts, the masked layout, or a plain launch of the same rows: not these records.
  for (const ops::AdvisedProblem& other : {ops::AdvisedProblem{500, 64, 64, 16, GroupLayout::Contiguous},
                                          ops::AdvisedProblem{500, 64, 64, 8, GroupLayout::Masked},
                                          ops::AdvisedProblem{500, 64, 64}}) {
    auto answer = advisor->recorded_tile({}, other);
    ASSERT_TRUE(answer);
    EXPECT_FALSE(*answer) << other.groups;
  }
}

// The down projection of an MoE layer reads each row's routing weight: an op
// with a row input is tuned too, and its records are its own (the declared
// inputs are part of the kernel signature; ops without any keep theirs).
TEST(GroupedTunedLaunch, AnOpWithARowInputIsTunedUnderItsOwnSignature) {
  ScratchDir dir;
  Runtime rt(options_in(dir));
  auto op = rt.matmul({.activation = "x * route", .row_inputs = {"route"}, .grouped = GroupLayout::Contiguous});
  ASSERT_TRUE(op) << op.error().message;
  const Shape shape{512, 64, 64};
  TuneOptions options;
  options.simulate = true;
  options.experts = 8;
  auto tuned = rt.tune(*op, std::span(&shape, 1), options);
  ASSERT_TRUE(tuned) << tuned.error().message;
  EXPECT_GT(tuned->front().timed, 0u);

  compiler::KernelSpec plain;
  plain.expression = "x * route";
  compiler::KernelSpec declared = plain;
  declared.row_inputs = {"route"};
  compiler::KernelSpec as_column = plain;
  as_column.col_inputs = {"route"};
  EXPECT_NE(tune::kernel_signature(declared), tune::kernel_signature(plain));
  EXPECT_NE(tune::kernel_signature(declared), tune::kernel_signature(as_column));
  // The signature of an op without row/column inputs is what it was before
  // they were hashed (databases written then still match).
  compiler::KernelSpec gelu;
  gelu.expression = "gelu(x)";
  EXPECT_EQ(tune::kernel_signature(gelu), "f53e7cc8d4242ecd");
}

}  // namespace
}  // namespace tilefuse
