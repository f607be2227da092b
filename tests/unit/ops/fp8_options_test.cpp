// FP8 ops (issue 16) on a machine without a CUDA driver: the option rules
// (Runtime::matmul), the launch's FP8 arguments (scales, amax, K, leading
// dimensions) and the architectures, each with an error that says how to fix it.
#include <gtest/gtest.h>

#include <stdlib.h>

#include <string>

#include "runtime/ops/Fp8Arguments.h"
#include "runtime/ops/GemmArguments.h"
#include "tilefuse/tilefuse.hpp"

namespace tilefuse {
namespace {

const bool kNoDriver = ::setenv("TILEFUSE_LIBCUDA", "/nonexistent/tilefuse-test/libcuda.so.1", 1) == 0;

Runtime memory_runtime() { return Runtime(RuntimeOptions{.disk_cache = false}); }

MatmulOptions fp8(std::string activation = "gelu(x)") {
  MatmulOptions o;
  o.activation = std::move(activation);
  o.dtype = DType::E4M3;
  o.b_col_major = true;
  return o;
}

void expect_rejected(const MatmulOptions& options, ErrorCode code, const std::string& says) {
  auto op = memory_runtime().matmul(options);
  ASSERT_FALSE(op) << "accepted; expected: " << says;
  EXPECT_EQ(op.error().code, code) << op.error().message;
  EXPECT_NE(op.error().message.find(says), std::string::npos) << op.error().message;
}

TEST(Fp8Types, NamesRoundTrip) {
  for (DType d : {DType::BF16, DType::F16, DType::F32, DType::E4M3, DType::E5M2}) {
    auto parsed = parse_dtype(to_string(d));
    ASSERT_TRUE(parsed) << to_string(d);
    EXPECT_EQ(*parsed, d);
  }
  EXPECT_STREQ(to_string(DType::E4M3), "e4m3");
  EXPECT_STREQ(to_string(DType::E5M2), "e5m2");
  EXPECT_EQ(*parse_scale_mode("block128"), ScaleMode::Block128);
  EXPECT_EQ(*parse_scale_mode("per-tensor"), ScaleMode::PerTensor);
  EXPECT_FALSE(parse_scale_mode("block64"));
  EXPECT_EQ(dtype_bytes(DType::E4M3), 1);
  EXPECT_TRUE(is_fp8(DType::E5M2));
  EXPECT_FALSE(is_fp8(DType::BF16));
}

TEST(Fp8Options, ValidCombinationsAreAccepted) {
  Runtime rt = memory_runtime();
  MatmulOptions o = fp8();
  EXPECT_TRUE(rt.matmul(o)) << rt.matmul(o).error().message;
  o.b_dtype = DType::E5M2;
  o.scale = ScaleMode::Block128;
  o.out_dtype = DType::E4M3;
  o.amax = true;
  o.bias = true;
  EXPECT_TRUE(rt.matmul(o)) << rt.matmul(o).error().message;
  MatmulOptions gated = fp8("swiglu");
  gated.out_dtype = DType::F32;
  gated.arch = Arch::Sm90;
  EXPECT_TRUE(rt.matmul(gated)) << rt.matmul(gated).error().message;
}

TEST(Fp8Options, EachRuleHasAnErrorThatSaysTheFix) {
  MatmulOptions row_major_b = fp8();
  row_major_b.b_col_major = false;
  expect_rejected(row_major_b, ErrorCode::Unsupported, "pass B as N x K (b_col_major = true)");

  for (Arch arch : {Arch::Sm80, Arch::Sm86}) {
    MatmulOptions o = fp8();
    o.arch = arch;
    expect_rejected(o, ErrorCode::Unsupported, "sm_89 Ada or sm_90 Hopper");
  }
  MatmulOptions wgmma = fp8();
  wgmma.arch = Arch::Sm90a;
  expect_rejected(wgmma, ErrorCode::Unsupported, "not yet");

  MatmulOptions e5m2_a = fp8();
  e5m2_a.dtype = DType::E5M2;
  expect_rejected(e5m2_a, ErrorCode::InvalidInput, "e5m2 is for B only");

  MatmulOptions b_dtype_16bit;
  b_dtype_16bit.b_dtype = DType::E5M2;
  expect_rejected(b_dtype_16bit, ErrorCode::InvalidInput, "for FP8 ops only");

  MatmulOptions e5m2_out = fp8();
  e5m2_out.out_dtype = DType::E5M2;
  expect_rejected(e5m2_out, ErrorCode::InvalidInput, "an FP8 output is e4m3");

  MatmulOptions fp8_out_of_bf16;
  fp8_out_of_bf16.out_dtype = DType::E4M3;
  expect_rejected(fp8_out_of_bf16, ErrorCode::InvalidInput, "needs FP8 inputs");

  MatmulOptions amax_bf16_out = fp8();
  amax_bf16_out.out_dtype = DType::BF16;
  amax_bf16_out.amax = true;
  expect_rejected(amax_bf16_out, ErrorCode::InvalidInput, "needs out_dtype e4m3");

  MatmulOptions block128_bf16;
  block128_bf16.scale = ScaleMode::Block128;
  expect_rejected(block128_bf16, ErrorCode::InvalidInput, "block128 needs FP8 inputs");

  MatmulOptions residual_e4m3 = fp8();
  residual_e4m3.out_dtype = DType::E4M3;
  residual_e4m3.residual = true;
  expect_rejected(residual_e4m3, ErrorCode::Unsupported, "no residual C or aux");

  MatmulOptions backward = fp8();
  auto op = memory_runtime().matmul_backward(backward);
  ASSERT_FALSE(op);
  EXPECT_EQ(op.error().code, ErrorCode::Unsupported);
  EXPECT_NE(op.error().message.find("no FP8 path"), std::string::npos) << op.error().message;
}

TEST(Fp8Options, CompileRefusesArchitecturesWithoutFp8AndTheWgmmaKernel) {
  auto op = memory_runtime().matmul(fp8());
  ASSERT_TRUE(op);
  for (Arch arch : {Arch::Sm80, Arch::Sm90a}) {
    auto info = op->compile({256, 256, 256}, arch);
    ASSERT_FALSE(info) << to_string(arch);
    EXPECT_EQ(info.error().code, ErrorCode::Unsupported) << info.error().message;
  }
}

TEST(Fp8Options, AForcedTileThatSpillsOnTheTargetIsRefused) {
  MatmulOptions o = fp8("x");
  o.scale = ScaleMode::Block128;
  o.tile = TileConfig{128, 64, 32, 64, 32, 3, 4, 8};  // 2 x 64 accumulators: fine on sm_89, not on sm_90
  auto op = memory_runtime().matmul(o);
  ASSERT_TRUE(op) << op.error().message;
  auto sm90 = op->compile({256, 256, 256}, Arch::Sm90);
  ASSERT_FALSE(sm90);
  EXPECT_EQ(sm90.error().code, ErrorCode::InvalidInput);
  EXPECT_NE(sm90.error().message.find("smaller warp tile"), std::string::npos) << sm90.error().message;
  MatmulOptions deep = fp8("x");
  deep.scale = ScaleMode::Block128;
  deep.tile = TileConfig{64, 64, 128, 32, 32, 3, 4, 8};  // a k-tile of 256 FP8 values spans two blocks
  auto deep_op = memory_runtime().matmul(deep);
  ASSERT_FALSE(deep_op);
  EXPECT_NE(deep_op.error().message.find("must divide 64"), std::string::npos) << deep_op.error().message;
}

const void* fake(std::uintptr_t address) { return reinterpret_cast<const void*>(address); }
void* fake_out(std::uintptr_t address) { return reinterpret_cast<void*>(address); }
const float* scale(std::uintptr_t address) { return reinterpret_cast<const float*>(address); }

MatmulArgs fp8_args() {
  return MatmulArgs{.a = fake(0x10000), .b = fake(0x20000), .d = fake_out(0x30000), .shape = {64, 64, 64}};
}

ops::Fp8Operands fp8_operands(ScaleMode mode = ScaleMode::PerTensor, bool out = false, bool amax = false) {
  return ops::Fp8Operands{true, mode, out, amax};
}

TEST(Fp8Arguments, ScalesAndAmaxAreCheckedAgainstTheOp) {
  MatmulArgs args = fp8_args();
  EXPECT_TRUE(ops::make_fp8_params(fp8_operands(), args)) << "per-tensor scales may be null (1.0)";

  args.shape.k = 40;
  auto odd_k = ops::make_fp8_params(fp8_operands(), args);
  ASSERT_FALSE(odd_k);
  EXPECT_EQ(odd_k.error().code, ErrorCode::Unsupported);
  EXPECT_NE(odd_k.error().message.find("pad K"), std::string::npos) << odd_k.error().message;

  args = fp8_args();
  auto no_block_scales = ops::make_fp8_params(fp8_operands(ScaleMode::Block128), args);
  ASSERT_FALSE(no_block_scales);
  EXPECT_NE(no_block_scales.error().message.find("float[ceil(K/128)][M]"), std::string::npos);
  args.scale_a = scale(0x40000);
  args.scale_b = scale(0x40100);
  auto block = ops::make_fp8_params(fp8_operands(ScaleMode::Block128), args);
  ASSERT_TRUE(block) << block.error().message;
  EXPECT_EQ(block->scale_a, args.scale_a);
  EXPECT_EQ(block->scale_b, args.scale_b);

  args.scale_d = scale(0x40200);
  auto d_scale_of_bf16 = ops::make_fp8_params(fp8_operands(), args);
  ASSERT_FALSE(d_scale_of_bf16);
  EXPECT_NE(d_scale_of_bf16.error().message.find("scale_d"), std::string::npos);
  EXPECT_TRUE(ops::make_fp8_params(fp8_operands(ScaleMode::PerTensor, true), args));

  auto missing_amax = ops::make_fp8_params(fp8_operands(ScaleMode::PerTensor, true, true), args);
  ASSERT_FALSE(missing_amax);
  EXPECT_NE(missing_amax.error().message.find("pass MatmulArgs::amax"), std::string::npos);
  args.amax = reinterpret_cast<float*>(0x40302);
  auto misaligned = ops::make_fp8_params(fp8_operands(ScaleMode::PerTensor, true, true), args);
  ASSERT_FALSE(misaligned);
  EXPECT_EQ(misaligned.error().code, ErrorCode::Unsupported);
  EXPECT_NE(misaligned.error().message.find("4-byte aligned"), std::string::npos);

  MatmulArgs sixteen_bit = fp8_args();
  sixteen_bit.scale_a = scale(0x40000);
  auto scales_for_bf16 = ops::make_fp8_params(ops::Fp8Operands{}, sixteen_bit);
  ASSERT_FALSE(scales_for_bf16);
  EXPECT_NE(scales_for_bf16.error().message.find("for FP8 ops"), std::string::npos);
}

TEST(Fp8Arguments, Fp8RowsStartOn16Bytes) {
  ops::GemmOperands operands;
  operands.b_col_major = true;
  operands.input_bytes = 1;
  operands.output_bytes = 1;
  MatmulArgs args = fp8_args();
  args.lda = 72;  // a multiple of 8 elements but 72 bytes: not 16-byte aligned rows
  auto lda = ops::make_gemm_params(operands, args);
  ASSERT_FALSE(lda);
  EXPECT_NE(lda.error().message.find("multiple of 16 elements"), std::string::npos) << lda.error().message;
  args.lda = 80;
  args.ldd = 72;
  auto ldd = ops::make_gemm_params(operands, args);
  ASSERT_FALSE(ldd);
  EXPECT_NE(ldd.error().message.find("ldd = 72"), std::string::npos) << ldd.error().message;
  args.ldd = 80;
  EXPECT_TRUE(ops::make_gemm_params(operands, args));
}

TEST(Fp8Arguments, ALaunchWithoutADriverGetsAsFarAsTheDevice) {
  MatmulOptions o = fp8();
  o.out_dtype = DType::E4M3;
  o.amax = true;
  auto op = memory_runtime().matmul(o);
  ASSERT_TRUE(op) << op.error().message;
  MatmulArgs args = fp8_args();
  args.amax = reinterpret_cast<float*>(0x50000);
  auto launched = (*op)(nullptr, args);
  ASSERT_FALSE(launched);
  EXPECT_EQ(launched.error().code, ErrorCode::NoDevice) << launched.error().message;
  args.amax = nullptr;
  auto no_amax = (*op)(nullptr, args);
  ASSERT_FALSE(no_amax);
  EXPECT_EQ(no_amax.error().code, ErrorCode::InvalidInput) << no_amax.error().message;
}

}  // namespace
}  // namespace tilefuse
