// Runs every registered configuration of templates/tilefuse/gemm_sm80.cuh
// (variants/Variants.cmake) on the CPU emulator over shapes with M, N, K
// tails, batches and shared weights, and checks each run end to end
// (GemmCase.h). Two legal executions of each: copies landing as late as
// possible with threads interleaved at random, and copies landing at once
// with warps drifting apart as far as the barriers allow.
#include <gtest/gtest.h>

#include "CaseSweep.h"

namespace emu {
namespace {

const NamedShape kShapes[] = {
    {"1x1x1", {1, 1, 1}},
    {"127x255x63", {127, 255, 63}},
    {"64x64x64", {64, 64, 64}},
    {"200x136x100", {200, 136, 100}},
    {"batch2_70x90x40", {70, 90, 40, 2}},
    {"batch2_shared_weights_33x72x24", {33, 72, 24, 2, true}},
    {"tall_600x40x24", {600, 40, 24}},  // more block rows than one raster group
};

const Execution kExecutions[] = {
    {"late_copies_random_threads", {1, CpAsyncLanding::AtWait, SchedulePolicy::RandomThreads}},
    {"early_copies_greedy_warps", {7, CpAsyncLanding::AtIssue, SchedulePolicy::GreedyWarps}},
};

class GemmEmulation : public ::testing::TestWithParam<SweepCase> {};

TEST_P(GemmEmulation, MatchesFloat64Reference) { expect_case_matches_reference(GetParam()); }

INSTANTIATE_TEST_SUITE_P(Sm80, GemmEmulation, ::testing::ValuesIn(sweep_cases(kShapes, kExecutions)), sweep_case_name);

TEST(GemmEmulationSetup, EveryConfigurationIsRegistered) {
  // A translation unit that failed to register would silently shrink the sweep.
  EXPECT_EQ(registered_variants().size(), static_cast<std::size_t>(TILEFUSE_EMU_VARIANT_COUNT));
  bool gated = false, interleaved = false, col_major = false, row_major = false, f32_out = false, epilogue_inputs = false;
  bool gated_aux = false, gated_backward = false;
  for (const GemmVariant& v : registered_variants()) {
    gated |= v.gated && v.gate_interleave == 0;
    gated_aux |= v.gated && v.aux;
    gated_backward |= v.gated && v.backward;
    interleaved |= v.gate_interleave > 0;
    col_major |= v.b_col_major;
    row_major |= !v.b_col_major;
    f32_out |= v.out_bytes == 4;
    epilogue_inputs |= v.bias && v.residual && v.aux;
  }
  EXPECT_TRUE(gated && interleaved && col_major && row_major && f32_out && epilogue_inputs);
  EXPECT_TRUE(gated_aux && gated_backward);
}

}  // namespace
}  // namespace emu
