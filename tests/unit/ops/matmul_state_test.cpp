// Issue 13, host decisions of the launch path without a GPU (MatmulState):
// forced tiles on sm_90 follow the mma.sync rules (forced_tile_test for the
// rule itself); which Hopper kernel a
// launch takes (sm_90a wgmma, or sm_90 mma.sync for what wgmma lacks); the
// cooperative split when the launch has no more tiles than SMs.
#include <gtest/gtest.h>

#include <stdlib.h>

#include <memory>

#include "compiler/Target/TilePruning.h"
#include "runtime/ops/MatmulState.h"
#include "tilefuse/tilefuse.hpp"

namespace tilefuse {
namespace {

const bool kNoDriver = ::setenv("TILEFUSE_LIBCUDA", "/nonexistent/tilefuse-test/libcuda.so.1", 1) == 0;

/// {96, 64, 48, warp 32x32}: 6 warps, every other rule holds, but A rows are
/// 48 / 8 = 6 chunks, which swizzle<6> XORs out of the row.
const TileConfig kNonPowerOfTwoChunks{96, 64, 48, 32, 32, 3, 4, 8};

Runtime memory_runtime() { return Runtime(RuntimeOptions{.disk_cache = false}); }

/// A forward op's state with every target, as Runtime::matmul makes it.
std::unique_ptr<detail::MatmulState> state_for(bool gated, bool aux) {
  auto state = std::make_unique<detail::MatmulState>();  // holds a mutex: not movable
  for (Arch arch : compiler::kAllArchs) state->targets[static_cast<size_t>(arch)] = compiler::make_target(arch);
  state->operands.gated = gated;
  state->operands.aux = aux;
  return state;
}

TEST(ForcedTile, Sm90UsesTheMmaSyncTileRules) {
  auto op = memory_runtime().matmul({.activation = "gelu(x)", .tile = kNonPowerOfTwoChunks, .arch = Arch::Sm90});
  ASSERT_FALSE(op);
  EXPECT_EQ(op.error().code, ErrorCode::InvalidInput);
  EXPECT_NE(op.error().message.find("for sm_90: block_k 48"), std::string::npos) << op.error().message;
  auto owned = state_for(false, false);
  detail::MatmulState& state = *owned;
  state.options.tile = kNonPowerOfTwoChunks;
  EXPECT_FALSE(state.tile_for(Arch::Sm90, 256, 256, 256));
  state.options.tile = TileConfig{128, 128, 32, 64, 64, 3, 4, 8};
  EXPECT_TRUE(state.tile_for(Arch::Sm90, 256, 256, 256));
}

TEST(HopperKernel, GatedWithAuxRunsTheMmaSyncKernelOnHopperUnlessForced) {
  auto gated_aux_owned = state_for(true, true);
  detail::MatmulState& gated_aux = *gated_aux_owned;
  EXPECT_EQ(gated_aux.launch_arch(Arch::Sm90a), Arch::Sm90);
  EXPECT_EQ(gated_aux.launch_arch(Arch::Sm80), Arch::Sm80) << "elsewhere the device's own arch";
  auto plain_owned = state_for(false, false);
  detail::MatmulState& plain = *plain_owned;
  EXPECT_EQ(plain.launch_arch(Arch::Sm90a), Arch::Sm90a) << "everything the wgmma kernel serves stays on it";
  auto gated_owned = state_for(true, false);
  detail::MatmulState& gated = *gated_owned;
  EXPECT_EQ(gated.launch_arch(Arch::Sm90a), Arch::Sm90a);
  // A row-major interleave the TMA boxes cannot load: mma.sync too.
  auto interleaved_owned = state_for(true, false);
  detail::MatmulState& interleaved = *interleaved_owned;
  interleaved.operands.gate_interleave = 16;
  EXPECT_EQ(interleaved.launch_arch(Arch::Sm90a), Arch::Sm90);
  // Forced: exactly what was asked.
  plain.options.arch = Arch::Sm90;
  EXPECT_EQ(plain.launch_arch(Arch::Sm90a), Arch::Sm90);
  plain.options.arch = Arch::Sm80;
  EXPECT_EQ(plain.launch_arch(Arch::Sm90a), Arch::Sm80);
}

TEST(HopperKernel, FewTilesOnSm90aTakeTheCooperativeScheduleUnlessTheTileIsForced) {
  auto owned = state_for(false, false);
  detail::MatmulState& state = *owned;
  // 1024 x 2048 with 128 x 128 tiles: 128 tiles on 132 SMs.
  auto few = state.tile_for(Arch::Sm90a, 1024, 2048, 4096, {}, 1, 132);
  ASSERT_TRUE(few) << few.error().message;
  EXPECT_EQ(few->block_m, 128);
  EXPECT_EQ(few->warp_m, 64) << "cooperative: both consumers on each tile, got " << compiler::to_string(*few);
  auto many = state.tile_for(Arch::Sm90a, 8192, 8192, 4096, {}, 1, 132);
  ASSERT_TRUE(many);
  EXPECT_EQ(many->warp_m, many->block_m) << "ping-pong: " << compiler::to_string(*many);
  // The mma.sync targets have no consumer warpgroups: unchanged.
  auto sm90 = state.tile_for(Arch::Sm90, 1024, 2048, 4096, {}, 1, 132);
  ASSERT_TRUE(sm90);
  EXPECT_EQ(*sm90, compiler::make_target(Arch::Sm90)->default_tile(1024, 2048, 4096));
  // A forced ping-pong tile is launched as forced.
  const TileConfig forced{128, 128, 64, 128, 128, 4, 4, 8};
  state.options.tile = forced;
  auto kept = state.tile_for(Arch::Sm90a, 1024, 2048, 4096, {}, 1, 132);
  ASSERT_TRUE(kept) << kept.error().message;
  EXPECT_EQ(*kept, forced);
}

}  // namespace
}  // namespace tilefuse
