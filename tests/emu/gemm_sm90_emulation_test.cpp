// Runs every registered configuration of templates/tilefuse/gemm_sm90.cuh
// (variants/Sm90Variants.cmake) on the CPU emulator over the shapes of the
// sm_80 sweep (M, N, K tails, 1x1x1, batches, shared weights) plus a deep-K
// one (the ring wraps within a tile) and checks each
// run end to end (GemmCase.h). Three legal executions of each: TMA copies
// landing at random later points, threads interleaved at random, on one SM
// (the persistent loop walks every tile in one block); copies landing at
// once, warps drifting apart, on three SMs; and copies landing as late as
// possible, newest first (an early-issued stage stays in flight), with a
// thread whose mbarrier wait was satisfied running first (a released stage is
// refilled before the releasing warp goes on), on one SM.
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
    // 9 k-tiles: the ring wraps inside one tile (k-tiles > stages) and a
    // stage is released while the next k-tile's wgmmas are in flight.
    {"deep_k_130x72x520", {130, 72, 520}},
};

const Execution kExecutions[] = {
    {"late_tma_random_threads_1sm", {1, CpAsyncLanding::AtWait, SchedulePolicy::RandomThreads, 1}},
    {"early_tma_greedy_warps_3sms", {7, CpAsyncLanding::AtIssue, SchedulePolicy::GreedyWarps, 3}},
    {"newest_tma_last_woken_first_1sm", {5, CpAsyncLanding::NewestLast, SchedulePolicy::WokenFirst, 1}},
};

class GemmSm90Emulation : public ::testing::TestWithParam<SweepCase> {};

TEST_P(GemmSm90Emulation, MatchesFloat64Reference) { expect_case_matches_reference(GetParam()); }

INSTANTIATE_TEST_SUITE_P(Sm90, GemmSm90Emulation, ::testing::ValuesIn(sweep_cases(kShapes, kExecutions)), sweep_case_name);

TEST(GemmSm90EmulationSetup, EveryConfigurationIsRegistered) {
  // A translation unit that failed to register would silently shrink the sweep.
  EXPECT_EQ(registered_variants().size(), static_cast<std::size_t>(TILEFUSE_EMU_VARIANT_COUNT));
  if (std::string(TILEFUSE_EMU_SM90_ONLY).empty()) {
    // The case matrix of the sm_90a emulation (issue 14, item 3).
    bool separate = false, interleaved = false, col_major = false, row_major = false, epilogue_inputs = false;
    bool ping_pong = false, cooperative = false, out_bf16 = false, out_f16 = false, out_f32 = false, f16_in = false;
    bool default_tile = false;
    for (const GemmVariant& v : registered_variants()) {
      if (v.grouped) continue;  // gemm_sm90_grouped_emulation_test.cpp
      separate |= v.gated && v.gate_interleave == 0;
      interleaved |= v.gate_interleave > 0;
      col_major |= v.b_col_major;
      row_major |= !v.b_col_major;
      epilogue_inputs |= v.bias && v.residual && v.aux;
      ping_pong |= v.block_m == v.warp_m;
      cooperative |= v.block_m == 2 * v.warp_m;
      out_f32 |= v.out_bytes == 4;
      out_bf16 |= v.out_bytes == 2 && v.out_bf16;
      out_f16 |= v.out_bytes == 2 && !v.out_bf16;
      f16_in |= !v.input_bf16;
      default_tile |= v.block_m == 128 && v.block_n == 128 && v.warp_m == 128 && v.stages == 4;
    }
    EXPECT_TRUE(separate && interleaved && col_major && row_major && epilogue_inputs);
    EXPECT_TRUE(ping_pong && cooperative && default_tile);
    EXPECT_TRUE(out_bf16 && out_f16 && out_f32 && f16_in);
  }
}

}  // namespace
}  // namespace emu
