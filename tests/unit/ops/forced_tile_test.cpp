// Issue 13: gemm_sm80.cuh's swizzle<kChunksPerRow> XORs a 16-byte chunk index
// with min(chunks, 8) - 1, which leaves the shared-memory row when the chunk
// count is not a power of two: tile {96, 64, 48, warp 32x32} passed every
// other check and corrupted shared memory. A forced tile is now refused on
// the host (compiler::tile_shape_rejection), when the op is made and at
// launch; tuning records go through the same check (tuned_launch_test).
#include <gtest/gtest.h>

#include <stdlib.h>

#include "compiler/Pipeline.h"
#include "compiler/Target/TilePruning.h"
#include "runtime/Nvrtc.h"
#include "runtime/ops/KernelSource.h"
#include "runtime/ops/MatmulState.h"
#include "tilefuse/tilefuse.hpp"

namespace tilefuse {
namespace {

const bool kNoDriver = ::setenv("TILEFUSE_LIBCUDA", "/nonexistent/tilefuse-test/libcuda.so.1", 1) == 0;

const TileConfig kNonPowerOfTwoChunks{96, 64, 48, 32, 32, 3, 4, 8};

Runtime memory_runtime() { return Runtime(RuntimeOptions{.disk_cache = false}); }

TEST(ForcedTile, ChunkCountsThatAreNotPowersOfTwoAreRefusedWithTheReason) {
  for (std::optional<Arch> arch : {std::optional<Arch>(), std::optional<Arch>(Arch::Sm80)}) {
    auto op = memory_runtime().matmul({.activation = "gelu(x)", .tile = kNonPowerOfTwoChunks, .arch = arch});
    ASSERT_FALSE(op) << "tile 96x64x48 was accepted";
    EXPECT_EQ(op.error().code, ErrorCode::InvalidInput);
    EXPECT_NE(op.error().message.find("MatmulOptions::tile 96x64x48"), std::string::npos) << op.error().message;
    EXPECT_NE(op.error().message.find("block_k 48 is not 8 times a power of two"), std::string::npos)
        << op.error().message;
  }
  // block_n 96 with a row-major B: 12 chunks per B row.
  auto wide = memory_runtime().matmul({.activation = "gelu(x)", .tile = TileConfig{64, 96, 32, 32, 32, 3, 4, 8}});
  ASSERT_FALSE(wide) << "tile 64x96x32 was accepted";
  EXPECT_NE(wide.error().message.find("block_n 96"), std::string::npos) << wide.error().message;
}

TEST(ForcedTile, TheLaunchPathRefusesItOnEveryMmaSyncTarget) {
  // The check that decides at launch for an op whose arch is chosen then.
  detail::MatmulState state;
  for (Arch arch : {Arch::Sm80, Arch::Sm86, Arch::Sm89, Arch::Sm90a})
    state.targets[static_cast<size_t>(arch)] = compiler::make_target(arch);
  state.options.tile = kNonPowerOfTwoChunks;
  for (Arch arch : {Arch::Sm80, Arch::Sm86, Arch::Sm89}) {
    auto tile = state.tile_for(arch, 256, 256, 256);
    ASSERT_FALSE(tile) << compiler::to_string(arch) << " accepted 96x64x48";
    EXPECT_EQ(tile.error().code, ErrorCode::InvalidInput);
  }
  // Powers of two pass (the heuristic's tile, and a 16-deep one).
  EXPECT_FALSE(compiler::tile_shape_rejection(compiler::Mainloop::MmaSyncMultistage, {128, 128, 32, 64, 64, 3, 4, 8}));
  EXPECT_FALSE(compiler::tile_shape_rejection(compiler::Mainloop::MmaSyncMultistage, {64, 64, 16, 32, 32, 2, 4, 8}));
}

// The template refuses the tile too (for a source built past the host check):
// NVRTC stops at swizzle's static_assert instead of emitting a kernel that
// corrupts shared memory.
TEST(ForcedTile, TheTemplateStaticAssertsPowerOfTwoChunkCounts) {
  compiler::KernelSpec spec;
  spec.expression = "gelu(x)";
  spec.arch = Arch::Sm80;
  spec.tile = kNonPowerOfTwoChunks;
  auto epilogue = compiler::compile(spec);
  ASSERT_TRUE(epilogue) << epilogue.error().message;
  runtime::Source source;
  source.name = "swizzle_96x64x48.cu";
  source.code = ops::gemm_kernel_source(spec, *epilogue);
  source.kernel_names = {ops::kGemmKernelName};
  source.options.arch = "sm_80";
  auto compiled = runtime::compile(source);
  ASSERT_FALSE(compiled) << "NVRTC built the 96x64x48 kernel";
  EXPECT_EQ(compiled.error().code, ErrorCode::CompileFailed);
  EXPECT_NE(compiled.error().detail.find("power-of-two count of 16-byte chunks"), std::string::npos)
      << compiled.error().detail.substr(0, 3000);
}

}  // namespace
}  // namespace tilefuse
