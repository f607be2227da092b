// Grid, block and shared memory of the fused GEMM launch.
#include <gtest/gtest.h>

#include "compiler/Target/TilePruning.h"
#include "runtime/ops/GemmGeometry.h"

namespace tilefuse::ops {
namespace {

const compiler::TileConfig k128x128x32s3{128, 128, 32, 64, 64, 3, 4, 8};

TEST(GemmGeometry, MainloopSharedMemoryIsStagesOfATileAndOneOrTwoBTiles) {
  // 3 * (128*32 + 128*32) * 2 bytes
  EXPECT_EQ(compiler::tile_mainloop_shared_bytes(k128x128x32s3, false), 49152);
  // gated: 3 * (128*32 + 2*128*32) * 2
  EXPECT_EQ(compiler::tile_mainloop_shared_bytes(k128x128x32s3, true), 73728);
  const compiler::TileConfig wide{64, 256, 64, 32, 64, 5, 4, 8};
  EXPECT_EQ(compiler::tile_mainloop_shared_bytes(wide, false), 5 * (64 * 64 + 256 * 64) * 2);
}

TEST(GemmGeometry, EpilogueStagesEachWarpsAccumulatorsWithPaddedRows) {
  // 4 warps x 64 rows x (64 + 8) floats x 4 bytes; gated: two accumulators
  EXPECT_EQ(compiler::tile_epilogue_shared_bytes(k128x128x32s3, false), 4 * 64 * 72 * 4);
  EXPECT_EQ(compiler::tile_epilogue_shared_bytes(k128x128x32s3, true), 2 * 4 * 64 * 72 * 4);
  const compiler::TileConfig deep{128, 128, 64, 64, 32, 5, 4, 8};  // 8 warps of 64x32
  EXPECT_EQ(compiler::tile_epilogue_shared_bytes(deep, false), 8 * 64 * 40 * 4);
}

TEST(GemmGeometry, BlockSharedMemoryIsTheLargerOfMainloopAndEpilogue) {
  EXPECT_EQ(compiler::tile_shared_bytes(k128x128x32s3, false), 4 * 64 * 72 * 4);  // epilogue
  const compiler::TileConfig deep{128, 128, 64, 64, 32, 5, 4, 8};
  EXPECT_EQ(compiler::tile_shared_bytes(deep, false), 5 * (128 * 64 + 128 * 64) * 2);  // mainloop
}

// Issue 13: the default mma.sync tile's block takes 72 KiB (the epilogue
// staging, larger than its 48 KiB ring), not 48: two blocks per SM fit on
// sm_80 (164 KiB), three on Hopper's sm_90 (228 KiB), one on sm_86/89
// (100 KiB). TargetInfo.cpp's comment states these numbers.
TEST(GemmGeometry, DefaultTileOccupancyPerArchitectureFromTheSharedMemoryFormula) {
  const struct {
    compiler::Arch arch;
    int blocks;
  } expected[] = {{compiler::Arch::Sm80, 2}, {compiler::Arch::Sm86, 1}, {compiler::Arch::Sm89, 1},
                  {compiler::Arch::Sm90, 3}};
  for (const auto& e : expected) {
    const auto target = compiler::make_target(e.arch);
    const compiler::TileConfig tile = target->default_tile(4096, 4096, 4096);
    EXPECT_EQ(tile, k128x128x32s3) << compiler::to_string(e.arch);
    EXPECT_EQ(compiler::tile_shared_bytes(tile, false), 72 * 1024);
    EXPECT_EQ(compiler::blocks_per_sm(*target, tile, false), e.blocks) << compiler::to_string(e.arch);
  }
  // The rule itself: (shared per SM) / (block + 1 KiB reserved), and threads.
  const auto sm86 = compiler::make_target(compiler::Arch::Sm86);
  const compiler::TileConfig small{64, 64, 32, 32, 32, 2, 4, 8};  // 16 KiB staging, 128 threads
  EXPECT_EQ(compiler::tile_shared_bytes(small, false), 4 * 32 * 40 * 4);
  EXPECT_EQ(compiler::blocks_per_sm(*sm86, small, false), 100 * 1024 / (4 * 32 * 40 * 4 + 1024));
  const compiler::TileConfig eight_warps{128, 128, 32, 32, 64, 2, 4, 8};  // 256 threads
  const auto sm80 = compiler::make_target(compiler::Arch::Sm80);
  EXPECT_EQ(compiler::blocks_per_sm(*sm80, eight_warps, false),
            std::min<long long>(164 * 1024 / (compiler::tile_shared_bytes(eight_warps, false) + 1024), 2048 / 256));
  // The sm_90a default (ping-pong, 384 threads, one block per SM by design).
  const auto sm90a = compiler::make_target(compiler::Arch::Sm90a);
  EXPECT_EQ(compiler::blocks_per_sm(*sm90a, sm90a->default_tile(4096, 4096, 4096), false), 1);
}

TEST(GemmGeometry, OneBlockPerOutputTileAndBatchOnY) {
  auto config = gemm_launch_config(k128x128x32s3, false, 1000, 300, 7);
  ASSERT_TRUE(config) << config.error().message;
  EXPECT_EQ(config->grid[0], 8u * 3u);  // ceil(1000/128) * ceil(300/128)
  EXPECT_EQ(config->grid[1], 7u);
  EXPECT_EQ(config->grid[2], 1u);
  EXPECT_EQ(config->block[0], 128u);  // 4 warps
  EXPECT_EQ(config->block[1], 1u);
  EXPECT_EQ(config->dynamic_shared_bytes, static_cast<unsigned>(compiler::tile_shared_bytes(k128x128x32s3, false)));

  const compiler::TileConfig eight_warps{256, 128, 32, 64, 64, 4, 4, 8};
  auto one = gemm_launch_config(eight_warps, true, 1, 1, 1);
  ASSERT_TRUE(one);
  EXPECT_EQ(one->grid[0], 1u);
  EXPECT_EQ(one->block[0], 256u);
  EXPECT_EQ(one->dynamic_shared_bytes, 8u * 2 * 64 * 72 * 4);  // gated staging dominates
}

TEST(GemmGeometry, GridLimitsAreErrorsThatSayHowToSplit) {
  auto batch = gemm_launch_config(k128x128x32s3, false, 128, 128, 65536);
  ASSERT_FALSE(batch);
  EXPECT_EQ(batch.error().code, ErrorCode::Unsupported);
  EXPECT_NE(batch.error().message.find("split the batch"), std::string::npos) << batch.error().message;

  auto tiles = gemm_launch_config(k128x128x32s3, false, 1LL << 36, 1LL << 20, 1);
  ASSERT_FALSE(tiles);
  EXPECT_EQ(tiles.error().code, ErrorCode::Unsupported);
  EXPECT_TRUE(gemm_launch_config(k128x128x32s3, false, 1LL << 20, 1LL << 20, 65535));
}

TEST(GemmGeometry, GatedTilesHalveTheWarpTileToKeep128Accumulators) {
  EXPECT_EQ(compiler::tile_accumulators_per_thread(k128x128x32s3, false), 128);
  EXPECT_EQ(compiler::tile_accumulators_per_thread(k128x128x32s3, true), 256);
  const compiler::TileConfig fitted = compiler::fit_tile_to_gated(k128x128x32s3);
  EXPECT_EQ(fitted, (compiler::TileConfig{128, 64, 32, 64, 32, 3, 4, 8}));
  EXPECT_EQ(fitted.warps(), k128x128x32s3.warps());
  EXPECT_EQ(compiler::tile_accumulators_per_thread(fitted, true), 128);
  const compiler::TileConfig narrow{64, 64, 32, 32, 32, 2, 4, 8};
  EXPECT_EQ(compiler::fit_tile_to_gated(narrow), narrow) << "already small enough";
  // Hopper's default: the halved warp tile with a 64-deep k-tile spills with
  // two accumulator sets: K becomes 32 deep.
  const compiler::TileConfig hopper{128, 128, 64, 64, 64, 4, 4, 8};
  EXPECT_EQ(compiler::fit_tile_to_gated(hopper), (compiler::TileConfig{128, 64, 32, 64, 32, 4, 4, 8}));
}

TEST(GemmGeometry, GatedTileRejectionNamesTheReason) {
  constexpr int kBig = 227 * 1024;
  auto accumulators = compiler::gated_tile_rejection(k128x128x32s3, kBig);
  ASSERT_TRUE(accumulators);
  EXPECT_NE(accumulators->find("256 fp32 accumulators"), std::string::npos) << *accumulators;
  auto deep = compiler::gated_tile_rejection({128, 128, 64, 32, 64, 2, 4, 8}, kBig);
  ASSERT_TRUE(deep);
  EXPECT_NE(deep->find("64-deep k-tile"), std::string::npos) << *deep;
  EXPECT_FALSE(compiler::gated_tile_rejection({128, 128, 32, 32, 64, 2, 4, 8}, kBig));
  EXPECT_FALSE(compiler::gated_tile_rejection({128, 64, 64, 32, 32, 3, 4, 8}, kBig)) << "64 accumulators: 64 deep is fine";
  auto shared = compiler::gated_tile_rejection({128, 128, 32, 32, 64, 5, 4, 8}, 99 * 1024);
  ASSERT_TRUE(shared);
  EXPECT_NE(shared->find("shared memory"), std::string::npos) << *shared;
}

}  // namespace
}  // namespace tilefuse::ops
