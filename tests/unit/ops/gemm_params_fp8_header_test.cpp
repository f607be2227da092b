// The TfGemmParams layout of an FP8 kernel (issue 16): TfFp8Params is the
// last trailing block, after TfOperandVectors (docs: /work ABI contract,
// runtime/ops/GemmParams.h), and pack_kernel_params writes the scale and
// amax pointers exactly where the device header reads them. A separate
// translation unit: the #defines of the generated source differ.
#include <gtest/gtest.h>

#include <cstddef>
#include <cstring>

#include "runtime/ops/GemmParams.h"

// What the generated source defines before the header: two parameters, one
// row input, one column input, FP8 inputs.
#define TF_EPILOGUE_VEC 4
#define TF_EPILOGUE_ROW_INPUTS 1
#define TF_EPILOGUE_COL_INPUTS 1
#define TF_GEMM_FP8 1
struct TfEpilogueParams {
  float p0, p1;
};
struct TfEpilogueOperands {
  float row[1];
  float col[1][TF_EPILOGUE_VEC];
};
#define __device__
#define __forceinline__ inline
#include "templates/tilefuse/gemm_params.cuh"
#undef __device__
#undef __forceinline__

namespace tilefuse::ops {
namespace {

static_assert(offsetof(TfGemmParams, operands) == kernel_params_bytes(2));
static_assert(offsetof(TfGemmParams, fp8) == kernel_params_bytes(2, 1, 1));
static_assert(offsetof(TfGemmParams, fp8) + offsetof(TfFp8Params, scale_a) == 176 + 32);
static_assert(offsetof(TfFp8Params, scale_a) == offsetof(Fp8Params, scale_a));
static_assert(offsetof(TfFp8Params, scale_b) == offsetof(Fp8Params, scale_b));
static_assert(offsetof(TfFp8Params, scale_d) == offsetof(Fp8Params, scale_d));
static_assert(offsetof(TfFp8Params, amax) == offsetof(Fp8Params, amax));
static_assert(sizeof(TfGemmParams) == kernel_params_bytes(2, 1, 1, /*fp8=*/true));

TEST(GemmParamsFp8Header, PackedBytesAreTheDeviceStruct) {
  const float scales[3] = {0.5f, 2.0f, 4.0f};
  float amax = 0;
  const float route[1] = {1}, s[1] = {1};
  GemmParams params;
  params.m = 7;
  params.k = 64;
  const float values[2] = {1.5f, -2.0f};
  OperandVectors vectors;
  vectors.rows = vectors.cols = 1;
  vectors.row[0] = route;
  vectors.col[0] = s;
  vectors.row_batch_stride[0] = 3;
  vectors.col_batch_stride[0] = 0;
  const Fp8Params fp8{&scales[0], &scales[1], &scales[2], &amax};
  KernelParamBuffer buffer;
  pack_kernel_params(params, values, buffer, vectors, &fp8);
  ASSERT_EQ(buffer.size, sizeof(TfGemmParams));
  TfGemmParams device;
  std::memcpy(&device, buffer.bytes, sizeof device);
  EXPECT_EQ(device.m, 7);
  EXPECT_EQ(device.k, 64);
  EXPECT_EQ(device.epilogue.p1, -2.0f);
  EXPECT_EQ(device.operands.row[0], route);
  EXPECT_EQ(device.operands.row_batch_stride[0], 3);
  EXPECT_EQ(device.operands.col[0], s);
  EXPECT_EQ(device.fp8.scale_a, &scales[0]);
  EXPECT_EQ(device.fp8.scale_b, &scales[1]);
  EXPECT_EQ(device.fp8.scale_d, &scales[2]);
  EXPECT_EQ(device.fp8.amax, &amax);

  // Without TfFp8Params the argument is 32 bytes shorter (a 16-bit op).
  KernelParamBuffer plain;
  pack_kernel_params(params, values, plain, vectors);
  EXPECT_EQ(plain.size + sizeof(Fp8Params), buffer.size);
}

}  // namespace
}  // namespace tilefuse::ops
