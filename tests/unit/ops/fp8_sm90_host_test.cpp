// Issue 16, the host half of the FP8 sm_90a (wgmma) path without a GPU: the
// generated m64nNk32 e4m3 wrapper, the UINT8 tensor maps with 128-byte K
// boxes (the same bytes per stage as the 16-bit kernel), the operand and tile
// rules of Block128, and which Hopper kernel an FP8 launch takes.
#include <gtest/gtest.h>

#include <stdlib.h>

#include <cstring>

#include "compiler/Target/TilePruning.h"
#include "runtime/ops/Fp8Arguments.h"
#include "runtime/ops/MatmulState.h"
#include "runtime/ops/Sm90Params.h"
#include "runtime/ops/WgmmaSource.h"

namespace tilefuse::ops {
namespace {

using compiler::Mainloop;
using compiler::TileConfig;

const bool kNoDriver = ::setenv("TILEFUSE_LIBCUDA", "/nonexistent/tilefuse-test/libcuda.so.1", 1) == 0;

TEST(Fp8WgmmaSource, K32E4m3WithScaleDAndNoTransposeOperands) {
  WgmmaShape shape{128, true, false};
  shape.fp8 = true;
  const std::string e4m3 = wgmma_wrapper_source(shape);
  EXPECT_NE(e4m3.find("void wgmma_m64k32(float (&d)[64]"), std::string::npos) << e4m3;
  EXPECT_NE(e4m3.find("wgmma.mma_async.sync.aligned.m64n128k32.f32.e4m3.e4m3 {%0, %1,"), std::string::npos) << e4m3;
  // desc_a, desc_b, then the scale-d predicate from the `accumulate` operand;
  // FP8 wgmma takes imm-scale-a/b but no transpose immediates.
  EXPECT_NE(e4m3.find("%63}, %64, %65, p, 1, 1;"), std::string::npos) << e4m3;
  EXPECT_NE(e4m3.find("setp.ne.b32 p, %66, 0;"), std::string::npos) << e4m3;
  EXPECT_NE(e4m3.find("\"r\"(accumulate)"), std::string::npos) << e4m3;
  EXPECT_EQ(e4m3.find("wgmma_m64k16"), std::string::npos) << "an FP8 kernel has only the k32 wrapper";

  shape.n = 64;
  shape.b_e5m2 = true;
  const std::string e5m2 = wgmma_wrapper_source(shape);
  EXPECT_NE(e5m2.find("m64n64k32.f32.e4m3.e5m2 "), std::string::npos) << e5m2;
  EXPECT_NE(e5m2.find("%31}, %32, %33, p, 1, 1;"), std::string::npos) << e5m2;
  EXPECT_EQ(wgmma_opcode(shape), "m64n64k32.f32.e4m3.e5m2");
}

GemmParams fp8_params(long long m, long long n, long long k, long long lda, long long ldb) {
  GemmParams p;
  p.m = m, p.n = n, p.k = k, p.lda = lda, p.ldb = ldb;
  return p;
}

TEST(Fp8Sm90Maps, BoxesAre128BytesOfKAndStridesCountBytes) {
  const TileConfig tile{128, 128, 64, 128, 128, 4, 4, 8};
  GemmOperands fp8{.b_col_major = true, .input_bytes = 1};
  GemmParams p = fp8_params(200, 136, 208, 224, 240);
  p.batch_stride_a = 200 * 224, p.batch_stride_b = 136 * 240;
  const Sm90MapShapes maps = sm90_map_shapes(p, fp8, tile, 2);
  EXPECT_EQ(maps.a.dims, (std::array<cuuint64_t, 5>{208, 200, 2, 1, 1}));
  EXPECT_EQ(maps.a.strides[0], 224u) << "one byte per FP8 element";
  EXPECT_EQ(maps.a.strides[1], 200u * 224u);
  EXPECT_EQ(maps.a.box, (std::array<cuuint32_t, 5>{128, 128, 1, 1, 1})) << "128 FP8 values = one 128-byte row";
  EXPECT_EQ(maps.b.dims, (std::array<cuuint64_t, 5>{208, 136, 2, 1, 1}));
  EXPECT_EQ(maps.b.strides[0], 240u);
  EXPECT_EQ(maps.b.box, (std::array<cuuint32_t, 5>{128, 128, 1, 1, 1}));
  // The stage holds the same bytes as a 16-bit stage (the template's
  // kStageBytes, which the transaction count expects).
  GemmOperands bf16{.b_col_major = true};
  const Sm90MapShapes maps16 = sm90_map_shapes(fp8_params(200, 136, 208, 216, 216), bf16, tile, 1);
  EXPECT_EQ(maps16.a.box[0] * 2, maps.a.box[0] * 1);
  EXPECT_EQ(maps16.b.box[0] * 2, maps.b.box[0] * 1);

  // Gated, interleaved in blocks of 32 (N x K, {K, IB, 2, N/IB, batch}).
  GemmOperands interleaved{.gated = true, .gate_interleave = 32, .b_col_major = true, .input_bytes = 1};
  const Sm90MapShapes gated = sm90_map_shapes(fp8_params(64, 96, 64, 64, 80), interleaved, TileConfig{64, 64, 64, 64, 64, 3, 4, 8}, 1);
  EXPECT_EQ(gated.b.dims, (std::array<cuuint64_t, 5>{64, 32, 2, 3, 1}));
  EXPECT_EQ(gated.b.strides[0], 80u);
  EXPECT_EQ(gated.b.strides[1], 80u * 32u);
  EXPECT_EQ(gated.b.box, (std::array<cuuint32_t, 5>{128, 32, 1, 2, 1}));
}

// Grouped FP8 (issue 16 item 4): a contiguous A is one unbatched [T, K] map
// (the kernel addresses its rows globally), B steps per expert in bytes; a
// masked A covers the expert dimension.
TEST(Fp8Sm90Maps, GroupedFp8MapsCoverTheExpertsOfBAndTheGlobalRowsOfAContiguousA) {
  const TileConfig tile{64, 128, 64, 64, 128, 3, 4, 8};
  constexpr long long kExperts = 8;
  GemmOperands contiguous{.b_col_major = true, .grouped = GroupLayout::Contiguous, .input_bytes = 1};
  GemmParams p = fp8_params(300, 136, 208, 224, 240);
  p.batch_stride_a = 0, p.batch_stride_b = 136 * 240;
  const Sm90MapShapes maps = sm90_map_shapes(p, contiguous, tile, kExperts);
  EXPECT_FALSE(maps.a_batched);
  EXPECT_EQ(maps.a.dims, (std::array<cuuint64_t, 5>{208, 300, 1, 1, 1})) << "T rows, no expert dimension";
  EXPECT_EQ(maps.a.strides[0], 224u);
  EXPECT_TRUE(maps.b_batched);
  EXPECT_EQ(maps.b.dims, (std::array<cuuint64_t, 5>{208, 136, kExperts, 1, 1}));
  EXPECT_EQ(maps.b.strides[1], 136u * 240u) << "one byte per FP8 element";
  EXPECT_EQ(maps.b.box, (std::array<cuuint32_t, 5>{128, 128, 1, 1, 1}));

  GemmOperands masked{.b_col_major = true, .grouped = GroupLayout::Masked, .input_bytes = 1};
  GemmParams q = fp8_params(40, 136, 208, 224, 240);
  q.batch_stride_a = 40 * 224 + 16, q.batch_stride_b = 136 * 240;
  const Sm90MapShapes slabs = sm90_map_shapes(q, masked, tile, kExperts);
  EXPECT_TRUE(slabs.a_batched);
  EXPECT_EQ(slabs.a.dims, (std::array<cuuint64_t, 5>{208, 40, kExperts, 1, 1}));
  EXPECT_EQ(slabs.a.strides[1], 40u * 224u + 16u);
}

/// The data types cuTensorMapEncodeTiled was called with.
std::vector<CUtensorMapDataType> g_encoded_types;
CUresult record_encode(CUtensorMap* map, CUtensorMapDataType type, cuuint32_t, void*, const cuuint64_t*,
                       const cuuint64_t*, const cuuint32_t*, const cuuint32_t*, CUtensorMapInterleave,
                       CUtensorMapSwizzle swizzle, CUtensorMapL2promotion, CUtensorMapFloatOOBfill oob) {
  g_encoded_types.push_back(type);
  EXPECT_EQ(swizzle, CU_TENSOR_MAP_SWIZZLE_128B);
  EXPECT_EQ(oob, CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE) << "zero fill: the K tail adds nothing";
  std::memset(map, 0, sizeof *map);
  return CUDA_SUCCESS;
}

TEST(Fp8Sm90Maps, Fp8TensorsAreUint8Maps) {
  runtime::DriverApi api;
  api.cuTensorMapEncodeTiled = &record_encode;
  const TileConfig tile{64, 128, 64, 64, 128, 4, 4, 8};
  GemmParams p = fp8_params(64, 128, 256, 256, 256);
  static const unsigned char a[16] = {}, b[16] = {};
  p.a = a, p.b = b;
  g_encoded_types.clear();
  ASSERT_TRUE(encode_sm90_params(api, p, GemmOperands{.b_col_major = true, .input_bytes = 1}, compiler::DType::E4M3,
                                 tile, 1));
  EXPECT_EQ(g_encoded_types, (std::vector<CUtensorMapDataType>{CU_TENSOR_MAP_DATA_TYPE_UINT8,
                                                               CU_TENSOR_MAP_DATA_TYPE_UINT8}));
  g_encoded_types.clear();
  ASSERT_TRUE(encode_sm90_params(api, p, GemmOperands{.b_col_major = true}, compiler::DType::BF16, tile, 1));
  EXPECT_EQ(g_encoded_types[0], CU_TENSOR_MAP_DATA_TYPE_BFLOAT16);
}

TEST(Fp8Sm90Operands, RowMajorBIsUnsupportedAndSaysTheFix) {
  const TileConfig tile{64, 128, 64, 64, 128, 4, 4, 8};
  auto rejected = check_sm90_operands(GemmOperands{.input_bytes = 1}, tile);
  ASSERT_FALSE(rejected);
  EXPECT_EQ(rejected.error().code, ErrorCode::Unsupported);
  EXPECT_NE(rejected.error().message.find("pass B as N x K"), std::string::npos) << rejected.error().message;
  EXPECT_TRUE(check_sm90_operands(GemmOperands{.b_col_major = true, .input_bytes = 1}, tile));
}

TEST(Fp8Sm90Block128, TheLaunchTileHoldsTwoAccumulatorSetsAndForcedTilesAreChecked) {
  const auto sm90a = compiler::make_target(compiler::Arch::Sm90a);
  const TileConfig fitted =
      fit_tile_to_fp8(sm90a->default_tile(4096, 4096, 4096), compiler::Arch::Sm90a, false, ScaleMode::Block128);
  EXPECT_EQ(fitted, (TileConfig{64, 128, 64, 64, 128, 4, 4, 8})) << compiler::to_string(fitted);
  EXPECT_FALSE(compiler::tile_shape_rejection(Mainloop::WgmmaWarpSpecialized, fitted));
  EXPECT_FALSE(block128_tile_rejection(*sm90a, fitted));
  EXPECT_FALSE(block128_tile_rejection(*sm90a, TileConfig{128, 128, 64, 64, 128, 3, 4, 8}));  // cooperative
  auto too_big = block128_tile_rejection(*sm90a, TileConfig{128, 128, 64, 128, 128, 4, 4, 8});
  ASSERT_TRUE(too_big);
  EXPECT_NE(too_big->find("two accumulator sets"), std::string::npos) << *too_big;
  EXPECT_NE(too_big->find("256 fp32 registers"), std::string::npos) << *too_big;
  // Per-tensor FP8 keeps the 16-bit tile (one accumulator set).
  EXPECT_EQ(fit_tile_to_fp8(sm90a->default_tile(4096, 4096, 4096), compiler::Arch::Sm90a, false, ScaleMode::PerTensor),
            sm90a->default_tile(4096, 4096, 4096));
  // The mma.sync targets keep their own rules.
  EXPECT_FALSE(block128_tile_rejection(*compiler::make_target(compiler::Arch::Sm90),
                                       TileConfig{128, 128, 32, 64, 64, 3, 4, 8}));
}

/// A forward FP8 op's state with every target, as Runtime::matmul makes it.
std::unique_ptr<detail::MatmulState> fp8_state(ScaleMode scale) {
  auto state = std::make_unique<detail::MatmulState>();
  for (compiler::Arch arch : compiler::kAllArchs)
    state->targets[static_cast<size_t>(arch)] = compiler::make_target(arch);
  state->operands.b_col_major = true;
  state->operands.input_bytes = 1;
  state->operands.fp8 = Fp8Operands{true, scale, false, false};
  return state;
}

TEST(Fp8Sm90Launch, HopperRunsFp8OnTheWgmmaKernelWithAFittedBlock128Tile) {
  auto per_tensor = fp8_state(ScaleMode::PerTensor);
  EXPECT_EQ(per_tensor->launch_arch(compiler::Arch::Sm90a), compiler::Arch::Sm90a);
  EXPECT_EQ(per_tensor->launch_arch(compiler::Arch::Sm89), compiler::Arch::Sm89);
  auto block128 = fp8_state(ScaleMode::Block128);
  auto tile = block128->tile_for(compiler::Arch::Sm90a, 8192, 8192, 4096, {}, 1, 132);
  ASSERT_TRUE(tile) << tile.error().message;
  EXPECT_FALSE(block128_tile_rejection(*compiler::make_target(compiler::Arch::Sm90a), *tile))
      << compiler::to_string(*tile);
  block128->options.tile = TileConfig{128, 128, 64, 128, 128, 4, 4, 8};
  auto forced = block128->tile_for(compiler::Arch::Sm90a, 8192, 8192, 4096, {}, 1, 132);
  ASSERT_FALSE(forced);
  EXPECT_EQ(forced.error().code, ErrorCode::Unsupported);
  EXPECT_NE(forced.error().message.find("two accumulator sets"), std::string::npos) << forced.error().message;
  block128->options.tile = TileConfig{128, 128, 64, 64, 128, 4, 4, 8};
  EXPECT_TRUE(block128->tile_for(compiler::Arch::Sm90a, 8192, 8192, 4096, {}, 1, 132));
}

}  // namespace
}  // namespace tilefuse::ops
