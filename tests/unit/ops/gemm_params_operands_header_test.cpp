// The TfGemmParams layout of a kernel with declared row/column inputs (issue
// 15): the device header's TfOperandVectors lands where the host's
// pack_kernel_params writes it (runtime/ops/GemmParams.h), for one row and two
// column inputs after three runtime parameters. A separate translation unit
// from gemm_params_header_test.cpp: the generated epilogue's #defines differ.
#include <gtest/gtest.h>

#include <cstddef>

#include "runtime/ops/GemmParams.h"

// What the generated epilogue defines before the header (CudaEmitter.cpp).
#define TF_EPILOGUE_VEC 4
#define TF_EPILOGUE_ROW_INPUTS 1
#define TF_EPILOGUE_COL_INPUTS 2
struct TfEpilogueParams {
  float p0, p1, p2;
};
struct TfEpilogueOperands {
  float row[1];
  float col[2][TF_EPILOGUE_VEC];
};
// The header's load helpers are device functions; plain inline functions here.
#define __device__
#define __forceinline__ inline
#include "templates/tilefuse/gemm_params.cuh"
#undef __device__
#undef __forceinline__

namespace tilefuse::ops {
namespace {

static_assert(offsetof(TfGemmParams, operands) == kernel_params_bytes(3));
static_assert(offsetof(TfGemmParams, operands) + offsetof(TfOperandVectors, row) == 184);
static_assert(offsetof(TfGemmParams, operands) + offsetof(TfOperandVectors, row_batch_stride) == 192);
static_assert(offsetof(TfGemmParams, operands) + offsetof(TfOperandVectors, col) == 200);
static_assert(offsetof(TfGemmParams, operands) + offsetof(TfOperandVectors, col_batch_stride) == 216);
static_assert(sizeof(TfGemmParams) == kernel_params_bytes(3, 1, 2));

TEST(GemmParamsOperandsHeader, LoadHelpersReadTheBatchStridedVectors) {
  const float route[] = {1, 2, 3, 4, 5, 6};           // batch stride 3
  const float scale[] = {10, 20, 30, 40, 50, 60, 70};  // broadcast (stride 0)
  const float shift[] = {-1, -2, -3, -4, -5, -6, -7, -8, -9, -10};
  TfGemmParams p{};
  p.n = 6;
  p.operands.row[0] = route;
  p.operands.row_batch_stride[0] = 3;
  p.operands.col[0] = scale;
  p.operands.col_batch_stride[0] = 0;
  p.operands.col[1] = shift;
  p.operands.col_batch_stride[1] = 4;
  TfEpilogueOperands operands{};
  tf::load_row_operands(p, /*batch=*/1, /*row=*/2, operands);
  EXPECT_EQ(operands.row[0], 6.0f);
  float values[2][TF_EPILOGUE_VEC];
  tf::load_column_operands(p, /*batch=*/1, /*col=*/4, values);
  // Columns 4 and 5 exist; 6 and 7 are past N and read as 0 (never loaded).
  EXPECT_EQ(values[0][0], 50.0f);
  EXPECT_EQ(values[0][1], 60.0f);
  EXPECT_EQ(values[0][2], 0.0f);
  EXPECT_EQ(values[0][3], 0.0f);
  EXPECT_EQ(values[1][0], -9.0f);
  EXPECT_EQ(values[1][1], -10.0f);
  EXPECT_EQ(values[1][2], 0.0f);
}

}  // namespace
}  // namespace tilefuse::ops
