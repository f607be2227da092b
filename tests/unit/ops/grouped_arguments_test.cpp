// Host checks of a grouped (mixture-of-experts) launch (issue 15): the
// grouping arguments against the op's layout, the strides the kernel's
// batch index (the expert) steps by, and the grid's upper bound. The group
// sizes themselves live on the device: the host never reads them (the
// kernel clamps them, templates/tilefuse/grouped.cuh).
#include <gtest/gtest.h>

#include "runtime/ops/GemmArguments.h"
#include "runtime/ops/GemmGeometry.h"

namespace tilefuse::ops {
namespace {

const void* fake(std::uintptr_t address) { return reinterpret_cast<const void*>(address); }
void* fake_out(std::uintptr_t address) { return reinterpret_cast<void*>(address); }
const int* fake_ints(std::uintptr_t address) { return reinterpret_cast<const int*>(address); }

GemmOperands grouped_operands(GroupLayout layout) {
  GemmOperands operands;
  operands.grouped = layout;
  return operands;
}

/// T = 300 tokens (contiguous) or M_max = 300 (masked), 8 experts, N = 64, K = 40.
MatmulArgs grouped_args(GroupLayout layout) {
  MatmulArgs args;
  args.a = fake(0x100000);
  args.b = fake(0x200000);
  args.d = fake_out(0x300000);
  args.shape = {300, 64, 40};
  args.groups = 8;
  if (layout == GroupLayout::Contiguous) args.group_offsets = fake_ints(0x400000);
  else args.group_rows = fake_ints(0x400000);
  return args;
}

template <class T>
void expect_error(const Expected<T>& result, ErrorCode code, const std::string& needle) {
  ASSERT_FALSE(result) << "expected an error mentioning '" << needle << "'";
  EXPECT_EQ(result.error().code, code) << result.error().message;
  EXPECT_NE(result.error().message.find(needle), std::string::npos) << result.error().message;
}

TEST(GroupedArguments, ContiguousStridesShareTheTokenMatricesAndStepTheWeights) {
  GemmOperands operands = grouped_operands(GroupLayout::Contiguous);
  operands.residual = operands.aux = true;
  operands.b_col_major = true;
  MatmulArgs args = grouped_args(GroupLayout::Contiguous);
  args.c = fake(0x500000);
  args.aux = fake_out(0x600000);
  auto p = make_gemm_params(operands, args);
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_EQ(p->m, 300);
  EXPECT_EQ(p->batch_stride_a, 0);
  EXPECT_EQ(p->batch_stride_c, 0);
  EXPECT_EQ(p->batch_stride_d, 0);
  EXPECT_EQ(p->batch_stride_aux, 0);
  EXPECT_EQ(p->batch_stride_b, 64 * 40);  // one N x K PyTorch Linear weight per expert
  args.stride_b = 4096;
  p = make_gemm_params(operands, args);
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_EQ(p->batch_stride_b, 4096);
}

TEST(GroupedArguments, MaskedStridesAreThoseOfABatchOfExperts) {
  auto p = make_gemm_params(grouped_operands(GroupLayout::Masked), grouped_args(GroupLayout::Masked));
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_EQ(p->batch_stride_a, 300 * 40);  // [E, M_max, K]
  EXPECT_EQ(p->batch_stride_d, 300 * 64);  // [E, M_max, N]
  EXPECT_EQ(p->batch_stride_b, 40 * 64);   // [E, K, N]
}

TEST(GroupedArguments, GroupedParamsCarryTheSizesTheCountAndTheBiasStride) {
  GemmOperands operands = grouped_operands(GroupLayout::Masked);
  operands.bias = true;
  MatmulArgs args = grouped_args(GroupLayout::Masked);
  args.bias = fake(0x700000);
  auto g = make_grouped_params(operands, args);
  ASSERT_TRUE(g) << g.error().message;
  EXPECT_EQ(g->rows, args.group_rows);
  EXPECT_EQ(g->groups, 8);
  EXPECT_EQ(g->bias_group_stride, 64);  // packed: N per expert
  args.stride_bias = 0;                 // one bias for every expert
  g = make_grouped_params(operands, args);
  ASSERT_TRUE(g) << g.error().message;
  EXPECT_EQ(g->bias_group_stride, 0);
}

TEST(GroupedArguments, BadGroupingIsInvalidInputNamingTheArgument) {
  const GemmOperands contiguous = grouped_operands(GroupLayout::Contiguous);
  const GemmOperands masked = grouped_operands(GroupLayout::Masked);

  MatmulArgs args = grouped_args(GroupLayout::Contiguous);
  args.groups = 0;  // E = 0
  expect_error(make_gemm_params(contiguous, args), ErrorCode::InvalidInput, "groups = 0");

  args = grouped_args(GroupLayout::Contiguous);
  args.batch = 4;
  expect_error(make_gemm_params(contiguous, args), ErrorCode::InvalidInput, "batch = 4");

  args = grouped_args(GroupLayout::Masked);
  args.shape.m = 0;  // M_max = 0
  expect_error(make_gemm_params(masked, args), ErrorCode::InvalidInput, "M_max");

  args = grouped_args(GroupLayout::Contiguous);
  args.shape.m = 0;  // no token
  expect_error(make_gemm_params(contiguous, args), ErrorCode::InvalidInput, "skip it");

  args = grouped_args(GroupLayout::Contiguous);
  args.group_offsets = nullptr;  // missing
  expect_error(make_gemm_params(contiguous, args), ErrorCode::InvalidInput, "group_offsets is null");

  args = grouped_args(GroupLayout::Contiguous);
  args.group_rows = fake_ints(0x800000);  // both given
  expect_error(make_gemm_params(contiguous, args), ErrorCode::InvalidInput, "group_rows is set too");

  args = grouped_args(GroupLayout::Masked);
  args.group_rows = nullptr;
  expect_error(make_gemm_params(masked, args), ErrorCode::InvalidInput, "group_rows is null");

  args = grouped_args(GroupLayout::Masked);
  args.group_offsets = fake_ints(0x800000);  // the other layout's array
  expect_error(make_gemm_params(masked, args), ErrorCode::InvalidInput, "group_offsets is set too");

  args = grouped_args(GroupLayout::Masked);
  args.group_rows = fake_ints(0x400002);
  expect_error(make_gemm_params(masked, args), ErrorCode::Unsupported, "4-byte aligned");

  // A plain op given grouped arguments.
  args = grouped_args(GroupLayout::Contiguous);
  expect_error(make_gemm_params(GemmOperands{}, args), ErrorCode::InvalidInput, "MatmulOptions::grouped");
}

TEST(GroupedArguments, StridesThatContradictTheLayoutAreRejected) {
  const GemmOperands contiguous = grouped_operands(GroupLayout::Contiguous);
  MatmulArgs args = grouped_args(GroupLayout::Contiguous);
  args.stride_a = 300 * 40;  // A is one [T, K] matrix
  expect_error(make_gemm_params(contiguous, args), ErrorCode::InvalidInput, "stride_a");

  const GemmOperands masked = grouped_operands(GroupLayout::Masked);
  args = grouped_args(GroupLayout::Masked);
  args.stride_d = 0;  // every expert would write the same slab
  expect_error(make_gemm_params(masked, args), ErrorCode::InvalidInput, "stride_d = 0 with groups = 8");

  GemmOperands with_bias = masked;
  with_bias.bias = true;
  args = grouped_args(GroupLayout::Masked);
  args.bias = fake(0x700000);
  args.stride_bias = 10;  // shorter than N
  expect_error(make_grouped_params(with_bias, args), ErrorCode::InvalidInput, "stride_bias = 10");
  args.stride_bias = 66;  // >= N but not 8-byte aligned per expert
  expect_error(make_grouped_params(with_bias, args), ErrorCode::Unsupported, "multiple of 4");
  args = grouped_args(GroupLayout::Masked);
  args.stride_bias = 64;  // no bias
  expect_error(make_grouped_params(masked, args), ErrorCode::InvalidInput, "has no bias");
}

TEST(GroupedArguments, RowInputsFollowTheRowsColumnInputsTheExperts) {
  GemmOperands operands = grouped_operands(GroupLayout::Contiguous);
  operands.row_inputs = {"route"};
  operands.col_inputs = {"s"};
  MatmulArgs args = grouped_args(GroupLayout::Contiguous);
  const float* route = reinterpret_cast<const float*>(0x900000);
  const float* scale = reinterpret_cast<const float*>(0xa00000);
  args.row_inputs[0] = route;
  args.col_inputs[0] = scale;
  auto v = make_operand_vectors(operands, args);
  ASSERT_TRUE(v) << v.error().message;
  EXPECT_EQ(v->row_batch_stride[0], 0);   // one [T] vector
  EXPECT_EQ(v->col_batch_stride[0], 64);  // N per expert
  args.stride_row_inputs[0] = 300;
  expect_error(make_operand_vectors(operands, args), ErrorCode::InvalidInput, "one [T] vector");

  operands.grouped = GroupLayout::Masked;
  args = grouped_args(GroupLayout::Masked);
  args.row_inputs[0] = route;
  args.col_inputs[0] = scale;
  v = make_operand_vectors(operands, args);
  ASSERT_TRUE(v) << v.error().message;
  EXPECT_EQ(v->row_batch_stride[0], 300);  // M_max per expert
  EXPECT_EQ(v->col_batch_stride[0], 64);
}

TEST(GroupedLaunchConfig, GridIsTheUpperBoundOfTheTilesOnGridX) {
  TileConfig tile;  // 128 x 128
  auto contiguous = grouped_gemm_launch_config(tile, false, GroupLayout::Contiguous, 1000, 300, 8);
  ASSERT_TRUE(contiguous) << contiguous.error().message;
  // floor((1000 + 8·127) / 128) = 15 tile rows, 3 column tiles.
  EXPECT_EQ(contiguous->grid[0], 15u * 3u);
  EXPECT_EQ(contiguous->grid[1], 1u);
  auto masked = grouped_gemm_launch_config(tile, false, GroupLayout::Masked, 200, 300, 8);
  ASSERT_TRUE(masked) << masked.error().message;
  EXPECT_EQ(masked->grid[0], 8u * 2u * 3u);
  auto huge = grouped_gemm_launch_config(tile, false, GroupLayout::Masked, 1LL << 30, 1LL << 20, 64);
  expect_error(huge, ErrorCode::Unsupported, "grid limit");
}

}  // namespace
}  // namespace tilefuse::ops
