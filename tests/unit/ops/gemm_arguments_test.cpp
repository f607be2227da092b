// Host checks of one launch's arguments: every precondition of the kernel is
// an error naming what is wrong, and good arguments fill TfGemmParams.
#include <gtest/gtest.h>

#include "runtime/ops/GemmArguments.h"

namespace tilefuse::ops {
namespace {

// Device pointers are never dereferenced on the host: fake, aligned ones do.
const void* fake(std::uintptr_t address) { return reinterpret_cast<const void*>(address); }
void* fake_out(std::uintptr_t address) { return reinterpret_cast<void*>(address); }

MatmulArgs plain_args(long long m = 100, long long n = 64, long long k = 40) {
  MatmulArgs args;
  args.a = fake(0x100000);
  args.b = fake(0x200000);
  args.d = fake_out(0x300000);
  args.shape = {m, n, k};
  return args;
}

void expect_error(const Expected<GemmParams>& result, ErrorCode code, const std::string& needle) {
  ASSERT_FALSE(result) << "expected an error mentioning '" << needle << "'";
  EXPECT_EQ(result.error().code, code) << result.error().message;
  EXPECT_NE(result.error().message.find(needle), std::string::npos) << result.error().message;
}

TEST(GemmArguments, PackedDefaultsFillLeadingDimensionsAndStrides) {
  MatmulArgs args = plain_args(100, 64, 40);
  args.alpha = 2.0f;
  args.batch = 3;
  auto p = make_gemm_params(GemmOperands{}, args);
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_EQ(p->m, 100);
  EXPECT_EQ(p->n, 64);
  EXPECT_EQ(p->k, 40);
  EXPECT_EQ(p->lda, 40);
  EXPECT_EQ(p->ldb, 64);  // row-major B: K x N
  EXPECT_EQ(p->ldd, 64);
  EXPECT_EQ(p->batch_stride_a, 100 * 40);
  EXPECT_EQ(p->batch_stride_b, 40 * 64);
  EXPECT_EQ(p->batch_stride_d, 100 * 64);
  EXPECT_EQ(p->alpha, 2.0f);
  EXPECT_EQ(p->a, args.a);
  EXPECT_EQ(p->d, args.d);
  EXPECT_EQ(p->b_up, nullptr);
}

TEST(GemmArguments, ColumnMajorAndInterleavedBShapes) {
  GemmOperands col;
  col.b_col_major = true;
  auto p = make_gemm_params(col, plain_args(16, 48, 24));
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_EQ(p->ldb, 24);  // N x K
  GemmOperands interleaved;
  interleaved.gated = true;
  interleaved.gate_interleave = 16;
  MatmulArgs args = plain_args(16, 48, 24);
  args.batch = 2;
  p = make_gemm_params(interleaved, args);
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_EQ(p->ldb, 96);  // K x 2N
  EXPECT_EQ(p->batch_stride_b, 24 * 96);
  interleaved.b_col_major = true;
  p = make_gemm_params(interleaved, args);
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_EQ(p->ldb, 24);  // 2N x K
  EXPECT_EQ(p->batch_stride_b, 96 * 24);
}

TEST(GemmArguments, ExplicitLeadingDimensionsAndBroadcastStride) {
  MatmulArgs args = plain_args(10, 16, 8);
  args.lda = 24;
  args.ldb = 32;
  args.ldd = 40;
  args.batch = 4;
  args.stride_b = 0;  // one B for every batch
  auto p = make_gemm_params(GemmOperands{}, args);
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_EQ(p->lda, 24);
  EXPECT_EQ(p->ldb, 32);
  EXPECT_EQ(p->ldd, 40);
  EXPECT_EQ(p->batch_stride_b, 0);
  EXPECT_EQ(p->batch_stride_a, 10 * 24);
}

// Issue 13: stride 0 broadcasts an input, but for an output every batch
// would write the same matrix (a race and a wrong result): rejected.
TEST(GemmArguments, OutputStridesCannotBeZero) {
  MatmulArgs args = plain_args(10, 16, 8);
  args.batch = 3;
  args.stride_d = 0;
  expect_error(make_gemm_params(GemmOperands{}, args), ErrorCode::InvalidInput, "stride_d = 0 with batch = 3");

  GemmOperands with_aux;
  with_aux.aux = true;
  args = plain_args(10, 16, 8);
  args.batch = 3;
  args.aux = fake_out(0x600000);
  args.stride_aux = 0;
  expect_error(make_gemm_params(with_aux, args), ErrorCode::InvalidInput, "stride_aux = 0");
  // (The backward GEMM reads aux, where 0 broadcasts one z: matmul_backward_test.)

  // One batch: the stride is never read, so 0 is harmless.
  args.batch = 1;
  args.stride_d = 0;
  EXPECT_TRUE(make_gemm_params(with_aux, args));
}

TEST(GemmArguments, ShapesMustBePositive) {
  expect_error(make_gemm_params(GemmOperands{}, plain_args(0, 8, 8)), ErrorCode::InvalidInput, "M=0");
  expect_error(make_gemm_params(GemmOperands{}, plain_args(8, -1, 8)), ErrorCode::InvalidInput, ">= 1");
  expect_error(make_gemm_params(GemmOperands{}, plain_args(8, 8, 0)), ErrorCode::InvalidInput, "K=0");
  MatmulArgs args = plain_args();
  args.batch = 0;
  expect_error(make_gemm_params(GemmOperands{}, args), ErrorCode::InvalidInput, "batch");
}

TEST(GemmArguments, UnalignedPointersAreUnsupportedWithTheFix) {
  for (const char* which : {"a", "b", "d"}) {
    MatmulArgs args = plain_args();
    if (which == std::string("a")) args.a = fake(0x100008);
    if (which == std::string("b")) args.b = fake(0x200002);
    if (which == std::string("d")) args.d = fake_out(0x300004);
    expect_error(make_gemm_params(GemmOperands{}, args), ErrorCode::Unsupported,
                 std::string(which) + " = ");
  }
  GemmOperands with_all;
  with_all.bias = with_all.residual = with_all.aux = true;
  MatmulArgs args = plain_args();
  args.bias = fake(0x400004);  // 4-byte aligned: not enough
  args.c = fake(0x500000);
  args.aux = fake_out(0x600000);
  expect_error(make_gemm_params(with_all, args), ErrorCode::Unsupported, "8-byte aligned");
  args.bias = fake(0x400008);  // 8 bytes is enough for the bias
  EXPECT_TRUE(make_gemm_params(with_all, args));
  args.c = fake(0x500008);
  expect_error(make_gemm_params(with_all, args), ErrorCode::Unsupported, "c = ");
  args.c = fake(0x500000);
  args.aux = fake_out(0x600008);
  expect_error(make_gemm_params(with_all, args), ErrorCode::Unsupported, "aux = ");
}

TEST(GemmArguments, LeadingDimensionsMustBeMultiplesOfEightAndLargeEnough) {
  MatmulArgs args = plain_args(16, 64, 40);
  args.lda = 44;
  expect_error(make_gemm_params(GemmOperands{}, args), ErrorCode::Unsupported, "multiple of 8");
  args.lda = 32;
  expect_error(make_gemm_params(GemmOperands{}, args), ErrorCode::InvalidInput, "smaller than K");
  args = plain_args(16, 60, 40);  // packed ldd = 60 is not a multiple of 8
  expect_error(make_gemm_params(GemmOperands{}, args), ErrorCode::Unsupported, "ldb = 60");
  args.ldb = 64;
  expect_error(make_gemm_params(GemmOperands{}, args), ErrorCode::Unsupported, "ldd = 60");
  args.ldd = 64;
  EXPECT_TRUE(make_gemm_params(GemmOperands{}, args)) << "N = 60 works with padded rows";

  GemmOperands residual;
  residual.residual = true;
  args.c = fake(0x500000);
  args.ldc = 68;
  expect_error(make_gemm_params(residual, args), ErrorCode::Unsupported, "ldc = 68");
  args.ldc = 64;
  args.batch = 2;
  args.stride_c = 12;
  expect_error(make_gemm_params(residual, args), ErrorCode::Unsupported, "stride_c = 12");
  args.stride_c = -5;
  expect_error(make_gemm_params(residual, args), ErrorCode::InvalidInput, "negative");
}

TEST(GemmArguments, OperandsMustMatchTheOpOptions) {
  MatmulArgs args = plain_args();
  args.bias = fake(0x400000);
  expect_error(make_gemm_params(GemmOperands{}, args), ErrorCode::InvalidInput, "without bias");
  GemmOperands with_aux;
  with_aux.aux = true;
  expect_error(make_gemm_params(with_aux, plain_args()), ErrorCode::InvalidInput, "no aux pointer");
  MatmulArgs missing_a = plain_args();
  missing_a.a = nullptr;
  expect_error(make_gemm_params(GemmOperands{}, missing_a), ErrorCode::InvalidInput, "device pointers");
  MatmulArgs up = plain_args();
  up.b_up = fake(0x700000);
  expect_error(make_gemm_params(GemmOperands{}, up), ErrorCode::InvalidInput, "only for gated");
}

TEST(GemmArguments, GatedRestrictions) {
  GemmOperands separate;
  separate.gated = true;
  expect_error(make_gemm_params(separate, plain_args()), ErrorCode::InvalidInput, "two weight matrices");
  MatmulArgs args = plain_args();
  args.b_up = fake(0x700000);
  auto p = make_gemm_params(separate, args);
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_EQ(p->b_up, args.b_up);
  args.alpha = 0.5f;
  expect_error(make_gemm_params(separate, args), ErrorCode::InvalidInput, "fold alpha");

  GemmOperands interleaved;
  interleaved.gated = true;
  interleaved.gate_interleave = 32;
  args = plain_args(16, 48, 16);  // 48 is not a multiple of 32
  expect_error(make_gemm_params(interleaved, args), ErrorCode::InvalidInput, "interleave block 32");
  args.b_up = fake(0x700000);
  args.shape.n = 64;
  expect_error(make_gemm_params(interleaved, args), ErrorCode::InvalidInput, "one interleaved weight");
}

}  // namespace
}  // namespace tilefuse::ops
