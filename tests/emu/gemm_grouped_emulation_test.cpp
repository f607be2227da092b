// Runs every grouped configuration of templates/tilefuse/gemm_sm80.cuh
// (variants/Variants.cmake, GROUPED) on the CPU emulator over mixture-of-
// experts routings, each checked end to end (GemmCase.h): imbalanced routing
// (one expert takes every token, the others are empty), group sizes 1, 7, 63
// and 129 (below, between and above the 64-row tile), empty experts around
// tile multiples, one expert; tails in N and K. The contiguous layout's
// groups are consecutive rows of one [T, K] A; the masked layout's are the
// first rows of [M_max, K] slabs, whose other rows hold NaN and must stay
// unwritten in D. The grid is the host's upper bound (GroupedHost.cpp):
// the blocks past the last tile exit.
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
    {"empty_around_tile_multiples_x136x24", grouped_shape(64, 136, 24, {0, 64, 0, 64, 0, 1})},
    {"single_expert_70x40x16", grouped_shape(70, 40, 16, {70})},
};

// Reversed blocks: a tile that stored rows of the next expert is no longer
// overwritten by that expert's own tile afterwards (the emulator otherwise
// runs blocks in index order, which is the expert order).
const Execution kExecutions[] = {
    {"late_copies_random_threads", {1, CpAsyncLanding::AtWait, SchedulePolicy::RandomThreads}},
    {"early_copies_greedy_warps_reversed_blocks",
     {7, CpAsyncLanding::AtIssue, SchedulePolicy::GreedyWarps, 0, nullptr, /*reverse_blocks=*/true}},
};

class GroupedGemmEmulation : public ::testing::TestWithParam<SweepCase> {};

TEST_P(GroupedGemmEmulation, MatchesFloat64Reference) { expect_case_matches_reference(GetParam()); }

INSTANTIATE_TEST_SUITE_P(Sm80, GroupedGemmEmulation,
                         ::testing::ValuesIn(sweep_cases(kShapes, kExecutions, /*grouped=*/true)), sweep_case_name);

TEST(GroupedGemmEmulationSetup, EveryGroupedKindIsRegistered) {
  bool contiguous = false, masked = false, gated = false, interleaved = false, plain = false, backward = false,
       gated_backward = false, row_input = false, col_input = false, bias = false, col_major = false,
       row_major = false;
  for (const GemmVariant& v : registered_variants()) {
    if (!v.grouped) continue;
    contiguous |= v.grouped == 1;
    masked |= v.grouped == 2;
    gated |= v.gated && !v.backward;
    interleaved |= v.gate_interleave > 0;
    plain |= !v.gated && !v.backward;
    backward |= v.backward && !v.gated;
    gated_backward |= v.backward && v.gated;
    row_input |= !v.row_inputs.empty();
    col_input |= !v.col_inputs.empty();
    bias |= v.bias;
    col_major |= v.b_col_major;
    row_major |= !v.b_col_major;
  }
  EXPECT_TRUE(contiguous && masked && gated && interleaved && plain && backward && gated_backward);
  EXPECT_TRUE(row_input && col_input && bias && col_major && row_major);
}

/// A case whose grouping does not fit the variant is refused, not run.
TEST(GroupedGemmEmulationSetup, CaseWithoutGroupsIsRefusedForAGroupedVariant) {
  for (const GemmVariant& v : registered_variants())
    if (v.grouped) {
      const CaseOutcome outcome = run_gemm_case(v, CaseShape{64, 64, 64}, RunOptions{});
      ASSERT_EQ(outcome.failures.size(), 1u);
      EXPECT_NE(outcome.failures[0].find("group_rows"), std::string::npos);
      return;
    }
  FAIL() << "no grouped variant is registered";
}

}  // namespace
}  // namespace emu
