// Runs every grouped configuration of templates/tilefuse/gemm_sm90.cuh
// (variants/Sm90Variants.cmake, GROUPED) on the CPU emulator over mixture-of-
// experts routings, each checked end to end against the float64 reference
// (GemmCase.h): imbalanced routing (one expert takes every token, the others
// are empty), group sizes 1, 7, 63 and 129 (below, between and above the
// 64- and 128-row tiles), empty experts around tile multiples, a decode-like
// routing of a few tokens over many experts, one expert, and a deep K (the
// ring wraps inside a tile, across groups); tails in N and K.
//
// The persistent schedule is what is under test: the producer and each
// consumer walk the group tiles with their own cursor (tilefuse/grouped.cuh)
// and must agree tile for tile; a ping-pong block may end with either
// consumer, or get one tile or none (the grid is the host's upper bound of
// the tile count, production code: runtime/ops/GemmGeometry.cpp). Four
// executions: TMA landing late and threads at random on one SM (every tile
// in one block: odd and even counts per consumer); copies landing at once,
// warps drifting apart, on three SMs with the blocks run last to first (a
// tile that stored rows past its group's end is then not overwritten by the
// next group's tile, so the stray rows show); copies landing newest first
// when nothing else can run, woken threads first, on one SM; and sixteen SMs,
// more blocks than tiles for most routings (blocks that find no tile exit).
// Masked slabs hold NaN past each group's count: a row stored there, or a
// result that read one, fails the case.
#include <gtest/gtest.h>

#include "CaseSweep.h"

namespace emu {
namespace {

CaseShape grouped_shape(long long m_max, long long n, long long k, std::vector<long long> rows) {
  CaseShape s{m_max, n, k};
  s.group_rows = std::move(rows);
  return s;
}

const NamedShape kShapes[] = {
    {"one_expert_takes_all_150x90x40", grouped_shape(150, 90, 40, {0, 0, 150, 0, 0})},
    {"sizes_1_7_63_129_x72x100", grouped_shape(129, 72, 100, {1, 7, 63, 129})},
    {"empty_around_tile_multiples_x136x24", grouped_shape(128, 136, 24, {0, 64, 0, 128, 0, 1})},
    {"decode_9_experts_x64x72", grouped_shape(4, 64, 72, {1, 0, 2, 0, 0, 3, 1, 0, 1})},
    {"single_expert_70x40x16", grouped_shape(70, 40, 16, {70})},
    {"deep_k_two_experts_x72x520", grouped_shape(65, 72, 520, {65, 3})},
};

const Execution kExecutions[] = {
    {"late_tma_random_threads_1sm", {1, CpAsyncLanding::AtWait, SchedulePolicy::RandomThreads, 1}},
    {"early_tma_greedy_warps_3sms_reversed",
     {7, CpAsyncLanding::AtIssue, SchedulePolicy::GreedyWarps, 3, nullptr, /*reverse_blocks=*/true}},
    {"newest_tma_last_woken_first_1sm", {5, CpAsyncLanding::NewestLast, SchedulePolicy::WokenFirst, 1}},
    {"idle_blocks_16sms_reversed",
     {11, CpAsyncLanding::AtWait, SchedulePolicy::GreedyWarps, 16, nullptr, /*reverse_blocks=*/true}},
};

class GroupedGemmSm90Emulation : public ::testing::TestWithParam<SweepCase> {};

TEST_P(GroupedGemmSm90Emulation, MatchesFloat64Reference) { expect_case_matches_reference(GetParam()); }

INSTANTIATE_TEST_SUITE_P(Sm90Grouped, GroupedGemmSm90Emulation,
                         ::testing::ValuesIn(sweep_cases(kShapes, kExecutions, /*grouped=*/true)), sweep_case_name);

// Every masked group empty: no block finds a tile, nothing is written (D
// stays poisoned: GemmCase checks every row past a count), no barrier is
// left waiting.
TEST(GroupedGemmSm90EmulationEdges, MaskedLaunchWithEveryGroupEmptyWritesNothing) {
  int runs = 0;
  for (const GemmVariant& v : registered_variants()) {
    if (v.grouped != 2) continue;
    for (unsigned sms : {1u, 3u}) {
      RunOptions options{3, CpAsyncLanding::AtWait, SchedulePolicy::RandomThreads, sms};
      const CaseOutcome outcome = run_gemm_case(v, fit_to_variant(grouped_shape(40, 72, 24, {0, 0, 0}), v), options);
      std::string report;
      for (const std::string& failure : outcome.failures) report += "\n  " + failure;
      EXPECT_TRUE(outcome.failures.empty()) << v.name << " on " << sms << " SMs:" << report;
      ++runs;
    }
  }
  if (runs == 0 && !std::string(TILEFUSE_EMU_SM90_ONLY).empty())
    GTEST_SKIP() << "no masked variant among the ones built (" TILEFUSE_EMU_SM90_ONLY ")";
  EXPECT_GT(runs, 0) << "no masked sm_90a variant is registered";
}

TEST(GroupedGemmSm90EmulationSetup, EveryGroupedKindIsRegistered) {
  if (!std::string(TILEFUSE_EMU_SM90_ONLY).empty()) GTEST_SKIP() << "only " TILEFUSE_EMU_SM90_ONLY " is built";
  bool contiguous = false, masked = false, gated_separate = false, interleaved_row = false, interleaved_col = false,
       plain = false, row_input = false, col_input = false, bias = false, col_major = false, row_major = false,
       ping_pong = false, cooperative = false, out_bf16 = false, out_f16 = false, out_f32 = false;
  for (const GemmVariant& v : registered_variants()) {
    if (!v.grouped) continue;
    contiguous |= v.grouped == 1;
    masked |= v.grouped == 2;
    gated_separate |= v.gated && v.gate_interleave == 0;
    interleaved_row |= v.gate_interleave > 0 && !v.b_col_major;
    interleaved_col |= v.gate_interleave > 0 && v.b_col_major;
    plain |= !v.gated;
    row_input |= !v.row_inputs.empty();
    col_input |= !v.col_inputs.empty();
    bias |= v.bias;
    col_major |= v.b_col_major;
    row_major |= !v.b_col_major;
    ping_pong |= v.block_m == v.warp_m;
    cooperative |= v.block_m == 2 * v.warp_m;
    out_f32 |= v.out_bytes == 4;
    out_bf16 |= v.out_bytes == 2 && v.out_bf16;
    out_f16 |= v.out_bytes == 2 && !v.out_bf16;
  }
  EXPECT_TRUE(contiguous && masked && gated_separate && interleaved_row && interleaved_col && plain);
  EXPECT_TRUE(row_input && col_input && bias && col_major && row_major && ping_pong && cooperative);
  EXPECT_TRUE(out_bf16 && out_f16 && out_f32);
}

}  // namespace
}  // namespace emu
