// The host half of the sm_90a path (issue 6) that runs without a GPU: the
// generated wgmma wrapper, the persistent launch geometry, the TMA rules for
// interleaved weights, and the gated tile fitting of the wgmma mainloop.
#include <gtest/gtest.h>

#include "compiler/Target/TilePruning.h"
#include "runtime/ops/GemmGeometry.h"
#include "runtime/ops/Sm90Params.h"
#include "runtime/ops/WgmmaSource.h"

namespace tilefuse::ops {
namespace {

using compiler::Mainloop;
using compiler::TileConfig;

TEST(WgmmaSource, OneOperandPerAccumulatorAndTheLayoutBit) {
  const std::string n128 = wgmma_wrapper_source({128, true, false});
  EXPECT_NE(n128.find("wgmma.mma_async.sync.aligned.m64n128k16.f32.bf16.bf16"), std::string::npos) << n128;
  EXPECT_NE(n128.find("float (&d)[64]"), std::string::npos);
  EXPECT_NE(n128.find("\"+f\"(d[63])"), std::string::npos);
  EXPECT_EQ(n128.find("\"+f\"(d[64])"), std::string::npos);
  // desc_a and desc_b follow the 64 accumulators; K-major B: trans-b 0.
  EXPECT_NE(n128.find("{%0, %1,"), std::string::npos);
  EXPECT_NE(n128.find("%63}, %64, %65, p, 1, 1, 0, 0;"), std::string::npos) << n128;

  const std::string n256 = wgmma_wrapper_source({256, false, true});
  EXPECT_NE(n256.find("m64n256k16.f32.f16.f16"), std::string::npos);
  EXPECT_NE(n256.find("%127}, %128, %129, p, 1, 1, 0, 1;"), std::string::npos) << "N-major B: trans-b 1";
}

TEST(PersistentLaunch, OneBlockPerSmAtMostOnePerTile) {
  const TileConfig tile{128, 128, 64, 128, 128, 4, 4, 8};
  auto big = persistent_gemm_launch_config(tile, false, 4096, 4096, 4096, 2, 132);
  ASSERT_TRUE(big) << big.error().message;
  EXPECT_EQ(big->grid[0], 132u);
  EXPECT_EQ(big->grid[1], 1u);
  EXPECT_EQ(big->block[0], 384u);
  EXPECT_EQ(big->dynamic_shared_bytes,
            static_cast<unsigned>(compiler::tile_shared_bytes(Mainloop::WgmmaWarpSpecialized, tile, false)));
  // 3 x 2 tiles x 1 batch: six blocks, not 132.
  auto small = persistent_gemm_launch_config(tile, false, 300, 200, 64, 1, 132);
  ASSERT_TRUE(small);
  EXPECT_EQ(small->grid[0], 6u);
  EXPECT_FALSE(persistent_gemm_launch_config(tile, false, 64, 64, 64, 1, 0));
}

TEST(PersistentLaunch, TileCountBeyondThirtyTwoBitsIsUnsupportedAndSaysHowToSplit) {
  // The kernel numbers tiles (batches included) with 32-bit integers.
  const TileConfig tile{128, 128, 64, 128, 128, 4, 4, 8};
  // 1024 x 1024 tiles per batch: 2048 batches are 2^31 tiles, one too many.
  auto over = persistent_gemm_launch_config(tile, false, 128 * 1024, 128 * 1024, 64, 2048, 132);
  ASSERT_FALSE(over);
  EXPECT_EQ(over.error().code, ErrorCode::Unsupported);
  EXPECT_NE(over.error().message.find("2147483648 output tiles"), std::string::npos) << over.error().message;
  EXPECT_NE(over.error().message.find("split the problem"), std::string::npos);
  auto under = persistent_gemm_launch_config(tile, false, 128 * 1024, 128 * 1024, 64, 2047, 132);
  ASSERT_TRUE(under) << under.error().message;
  EXPECT_EQ(under->grid[0], 132u);
}

// Issue 13: TMA coordinates are 32-bit signed ints in gemm_sm90.cuh, so an
// extent of 2^31 or more would wrap; the launch refuses and says to split.
TEST(PersistentLaunch, ExtentsOfTwoToThe31AreUnsupportedAndSaySplit) {
  const TileConfig tile{128, 128, 64, 128, 128, 4, 4, 8};
  constexpr long long kTwo31 = 1LL << 31;
  for (int which = 0; which < 3; ++which) {
    const long long m = which == 0 ? kTwo31 : 128, n = which == 1 ? kTwo31 : 128, k = which == 2 ? kTwo31 : 64;
    auto config = persistent_gemm_launch_config(tile, false, m, n, k, 1, 132);
    ASSERT_FALSE(config) << "extent " << which << " = 2^31 was accepted";
    EXPECT_EQ(config.error().code, ErrorCode::Unsupported);
    const std::string name = which == 0 ? "M = " : which == 1 ? "N = " : "K = ";
    EXPECT_NE(config.error().message.find(name + "2147483648"), std::string::npos) << config.error().message;
    EXPECT_NE(config.error().message.find("split the problem"), std::string::npos) << config.error().message;
  }
  // One less is still a valid coordinate (M = 2^31 - 1 with one column of tiles).
  auto edge = persistent_gemm_launch_config(tile, false, kTwo31 - 1, 128, kTwo31 - 1, 1, 132);
  EXPECT_TRUE(edge) << edge.error().message;
}

// Grouped ops (issue 15): the tiles are counted on the device, so the grid
// is min(SMs, the bound over every split the layout allows), batch = experts.
TEST(PersistentLaunch, GroupedGridIsTheBoundOfTheExpertTilesCappedBySms) {
  const TileConfig tile{64, 128, 64, 64, 128, 4, 4, 8};
  using compiler::GroupLayout;
  // Contiguous, 300 rows in 8 experts: at most (300 + 8 * 63) / 64 = 12 tile rows.
  auto contiguous = persistent_gemm_launch_config(tile, false, 300, 128, 64, 8, 132, GroupLayout::Contiguous);
  ASSERT_TRUE(contiguous) << contiguous.error().message;
  EXPECT_EQ(contiguous->grid[0], 12u);
  EXPECT_EQ(contiguous->block[0], 384u);
  // Decode: 64 rows over 128 experts fill at most 64 of them: 64 tile rows, not 127.
  auto decode = persistent_gemm_launch_config(tile, false, 64, 128, 64, 128, 132, GroupLayout::Contiguous);
  ASSERT_TRUE(decode);
  EXPECT_EQ(decode->grid[0], 64u);
  // Masked, 4 slabs of 96 rows: 4 x 2 tile rows x 3 tile columns; 132 SMs cap 16 x 2 x 8.
  auto masked = persistent_gemm_launch_config(tile, false, 96, 300, 64, 4, 132, GroupLayout::Masked);
  ASSERT_TRUE(masked);
  EXPECT_EQ(masked->grid[0], 24u);
  auto capped = persistent_gemm_launch_config(tile, false, 128, 1024, 64, 16, 132, GroupLayout::Masked);
  ASSERT_TRUE(capped);
  EXPECT_EQ(capped->grid[0], 132u);
  // The bound past 2^31 tiles is refused (32-bit tile index), naming the experts.
  auto over = persistent_gemm_launch_config(tile, false, 1LL << 20, 1LL << 17, 64, 1 << 14, 132, GroupLayout::Masked);
  ASSERT_FALSE(over);
  EXPECT_EQ(over.error().code, ErrorCode::Unsupported);
  EXPECT_NE(over.error().message.find("16384 experts"), std::string::npos) << over.error().message;
  EXPECT_NE(over.error().message.find("split the experts"), std::string::npos) << over.error().message;
  // T = 2^31 rows is still a 32-bit TMA coordinate too many.
  auto rows = persistent_gemm_launch_config(tile, false, 1LL << 31, 128, 64, 8, 132, GroupLayout::Contiguous);
  ASSERT_FALSE(rows);
  EXPECT_NE(rows.error().message.find("M = 2147483648"), std::string::npos) << rows.error().message;
}

// Issue 13: with no more tiles than SMs, every block of a ping-pong launch
// gets at most one tile and its second consumer idles: the heuristic splits
// the same block cooperatively. More tiles than SMs keep ping-pong.
TEST(Sm90Schedule, FewTilesChooseTheCooperativeSplit) {
  const TileConfig pingpong{128, 128, 64, 128, 128, 4, 4, 8};
  const TileConfig cooperative{128, 128, 64, 64, 128, 4, 4, 8};
  // 8 x 16 = 128 tiles on 132 SMs: cooperative.
  EXPECT_EQ(sm90_schedule_for_tile_count(pingpong, 1024, 2048, 1, 132), cooperative);
  EXPECT_FALSE(compiler::tile_shape_rejection(Mainloop::WgmmaWarpSpecialized, cooperative));
  // Exactly as many tiles as SMs: still at most one per block.
  EXPECT_EQ(sm90_schedule_for_tile_count(pingpong, 128 * 132, 128, 1, 132), cooperative);
  // 133 tiles on 132 SMs, or the batch multiplying the tiles: ping-pong.
  EXPECT_EQ(sm90_schedule_for_tile_count(pingpong, 128 * 133, 128, 1, 132), pingpong);
  EXPECT_EQ(sm90_schedule_for_tile_count(pingpong, 1024, 2048, 2, 132), pingpong);
  // Unknown SM count, a 64-row tile (no 2 x 64 split) and an already
  // cooperative tile stay as they are.
  EXPECT_EQ(sm90_schedule_for_tile_count(pingpong, 1024, 2048, 1, 0), pingpong);
  const TileConfig small{64, 128, 64, 64, 128, 4, 4, 8};
  EXPECT_EQ(sm90_schedule_for_tile_count(small, 64, 128, 1, 132), small);
  EXPECT_EQ(sm90_schedule_for_tile_count(cooperative, 128, 128, 1, 132), cooperative);
}

TEST(Sm90SharedMemory, MirrorsTheTemplateFormula) {
  // 1024 alignment slack + ring + 8 warps x 16 x (64 + 8) floats + 2 barriers per stage + 2.
  const TileConfig pingpong{128, 128, 64, 128, 128, 4, 4, 8};
  EXPECT_EQ(compiler::tile_shared_bytes(Mainloop::WgmmaWarpSpecialized, pingpong, false),
            1024 + 4 * (128 + 128) * 64 * 2 + 8 * 16 * 72 * 4 + 4 * 16 + 16);
  // Gated: two B tiles per stage, staging of 2 x 16 x (32 + 8) floats per warp.
  const TileConfig gated{64, 128, 64, 64, 128, 4, 4, 8};
  EXPECT_EQ(compiler::tile_shared_bytes(Mainloop::WgmmaWarpSpecialized, gated, true),
            1024 + 4 * (64 + 2 * 128) * 64 * 2 + 8 * 2 * 16 * 40 * 4 + 4 * 16 + 16);
  EXPECT_EQ(compiler::tile_threads(Mainloop::WgmmaWarpSpecialized, pingpong), 384);
  EXPECT_EQ(compiler::tile_accumulators_per_thread(Mainloop::WgmmaWarpSpecialized, pingpong, false), 128);
  EXPECT_EQ(compiler::tile_accumulators_per_thread(Mainloop::WgmmaWarpSpecialized, pingpong, true), 256);
}

TEST(Sm90GatedTiles, FittingHalvesMFirstAndFitsSharedMemory) {
  const auto target = compiler::make_target(compiler::Arch::Sm90a);
  const TileConfig fitted = compiler::fit_tile_to_gated(*target, target->default_tile(4096, 4096, 4096));
  EXPECT_EQ(fitted, (TileConfig{64, 128, 64, 64, 128, 4, 4, 8}));
  EXPECT_FALSE(compiler::gated_tile_rejection(*target, fitted));
  auto too_many = compiler::gated_tile_rejection(*target, TileConfig{128, 128, 64, 128, 128, 3, 4, 8});
  ASSERT_TRUE(too_many);
  EXPECT_NE(too_many->find("accumulators"), std::string::npos) << *too_many;
  // A cooperative 256x128 gated tile: halving warp_m gives 128x128 (2 x 64 rows).
  EXPECT_EQ(compiler::fit_tile_to_gated(*target, TileConfig{256, 128, 64, 128, 128, 3, 4, 8}),
            (TileConfig{128, 128, 64, 64, 128, 3, 4, 8}));
  // sm_80-shaped tiles are not wgmma tiles.
  auto shape = compiler::tile_shape_rejection(Mainloop::WgmmaWarpSpecialized, TileConfig{128, 128, 32, 64, 64, 3, 4, 8});
  ASSERT_TRUE(shape);
  EXPECT_NE(shape->find("block_k"), std::string::npos) << *shape;
}

TEST(Sm90Operands, InterleavedWeightsTheTmaBoxesCannotLoadAreUnsupported) {
  const TileConfig tile{64, 128, 64, 64, 128, 4, 4, 8};
  GemmOperands row_major{.gated = true, .gate_interleave = 16};
  auto rejected = check_sm90_operands(row_major, tile);
  ASSERT_FALSE(rejected);
  EXPECT_EQ(rejected.error().code, ErrorCode::Unsupported);
  EXPECT_NE(rejected.error().message.find("multiple of 64"), std::string::npos) << rejected.error().message;
  row_major.gate_interleave = 128;
  EXPECT_TRUE(check_sm90_operands(row_major, tile));

  GemmOperands col_major{.gated = true, .gate_interleave = 16, .b_col_major = true};
  EXPECT_TRUE(check_sm90_operands(col_major, tile));  // 8 boxes of 16 rows
  col_major.gate_interleave = 256;
  EXPECT_TRUE(check_sm90_operands(col_major, tile));  // half an interleave block
  col_major.gate_interleave = 24;
  EXPECT_FALSE(check_sm90_operands(col_major, tile));
  EXPECT_TRUE(check_sm90_operands(GemmOperands{}, tile));
}

}  // namespace
}  // namespace tilefuse::ops
