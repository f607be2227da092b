// tilefuse/gemm_params.cuh — the flat parameter block of every fused GEMM
// kernel (sm_80 and sm_90a drivers), passed by value. The host fills the
// same layout (runtime/GemmParams.h mirrors it field for field).
//
// Tensors are 16-bit element storage (`unsigned short`: bf16 or f16 bits, as
// TfGemmConfig::kInputBf16 says) or the output type for D, C and aux.
#pragma once

#if defined(TF_EPILOGUE_ROW_INPUTS)
// Declared row and column inputs (the epilogue's TfEpilogueOperands): f32
// vectors in device memory, in declaration order. Row input k of output row
// `row` in batch b is row[k][b * row_batch_stride[k] + row]; column inputs
// likewise with the output column. A batch stride of 0 broadcasts one vector.
// Arrays have at least one slot (C++ has no empty arrays); unused slots are null.
#define TF_OPERAND_SLOTS(count) ((count) > 0 ? (count) : 1)
struct TfOperandVectors {
  const float* row[TF_OPERAND_SLOTS(TF_EPILOGUE_ROW_INPUTS)];
  long long row_batch_stride[TF_OPERAND_SLOTS(TF_EPILOGUE_ROW_INPUTS)];
  const float* col[TF_OPERAND_SLOTS(TF_EPILOGUE_COL_INPUTS)];
  long long col_batch_stride[TF_OPERAND_SLOTS(TF_EPILOGUE_COL_INPUTS)];
};
#endif

#if defined(TF_GEMM_GROUPED)
// A grouped GEMM's group sizes (tilefuse/grouped.cuh; TF_GEMM_GROUPED 1:
// contiguous, 2: masked). `rows`: contiguous, E+1 row offsets; masked, E
// valid-row counts (device int32). Follows TfOperandVectors when both exist.
struct TfGroupedParams {
  const int* rows;
  long long groups;             // E >= 1
  long long bias_group_stride;  // elements between the experts' bias vectors (0: shared)
};
#endif

#if defined(TF_GEMM_FP8)
// FP8 inputs (tilefuse/gemm_sm80.cuh, docs/fp8.md): device f32 scales and the
// amax output. Per-tensor: one float each, null = 1. Block128: scale_a is
// [ceil(K/128)][M] per batch, scale_b [ceil(N/128)][ceil(K/128)] per batch.
// scale_d (FP8 output): D = satfinite_e4m3(value * scale_d), null = 1. amax:
// max |value| over D, zeroed by the launch before the kernel. Follows
// TfOperandVectors and TfGroupedParams when they exist.
struct TfFp8Params {
  const float* scale_a;
  const float* scale_b;
  const float* scale_d;
  float* amax;
};
#endif

struct TfGemmParams {
  const unsigned short* a;       // M x K, row-major, leading dimension lda
  const unsigned short* b;       // B: K x N row-major (ldb) or N x K (col-major B, ldb);
                                 // gated + interleaved: the 2N-wide interleaved matrix
  const unsigned short* b_up;    // gated + separate weights: W_up, same layout as b; else null
  void* d;                       // M x N output, ldd
  const unsigned short* bias;    // N values in the input dtype, or null
  const void* c;                 // M x N residual in the output dtype, ldc, or null
  void* aux;                     // M x N pre-activation in the output dtype, ld_aux, or null
  long long m, n, k;
  long long lda, ldb, ldc, ldd, ld_aux;
  long long batch_stride_a, batch_stride_b, batch_stride_c, batch_stride_d, batch_stride_aux;
  float alpha, beta;
  TfEpilogueParams epilogue;     // runtime parameters of the activation
#if defined(TF_EPILOGUE_ROW_INPUTS)
  TfOperandVectors operands;     // declared row/column inputs (only when there are some)
#endif
#if defined(TF_GEMM_GROUPED)
  TfGroupedParams grouped;       // grouped GEMM (only for a grouped op)
#endif
#if defined(TF_GEMM_FP8)
  TfFp8Params fp8;               // FP8 scales and amax (only for FP8 inputs)
#endif
};

// The layout the host packs (runtime/ops/GemmParams.h, kernel_params_bytes):
// 7 pointers, 13 long longs, alpha and beta, then the epilogue parameters.
// NVRTC has no offsetof, so the device side checks the size (a field added,
// removed or resized moves it); the host compiles this same header in
// tests/unit/ops/gemm_params_header_test.cpp and checks every field's offset
// against its GemmParams, and the epilogue offset against this constant.
constexpr unsigned long long kTfGemmParamsEpilogueOffset = 7 * 8 + 13 * 8 + 2 * 4;  // 168
static_assert(sizeof(void*) == 8 && sizeof(long long) == 8 && sizeof(float) == 4,
              "TfGemmParams assumes 64-bit pointers (as the host's GemmParams)");
static_assert(alignof(TfGemmParams) == 8, "TfGemmParams is 8-byte aligned (kGemmParamsAlign)");
// The optional trailing blocks, each a multiple of 8 bytes, in this order.
#if defined(TF_EPILOGUE_ROW_INPUTS)
constexpr unsigned long long kTfOperandVectorsBytes = sizeof(TfOperandVectors);
#else
constexpr unsigned long long kTfOperandVectorsBytes = 0;
#endif
#if defined(TF_GEMM_GROUPED)
constexpr unsigned long long kTfGroupedParamsBytes = sizeof(TfGroupedParams);
#else
constexpr unsigned long long kTfGroupedParamsBytes = 0;
#endif
#if defined(TF_GEMM_FP8)
constexpr unsigned long long kTfFp8ParamsBytes = sizeof(TfFp8Params);
static_assert(sizeof(TfFp8Params) == 32, "TfFp8Params: 4 pointers (runtime/ops/GemmParams.h, Fp8Params)");
#else
constexpr unsigned long long kTfFp8ParamsBytes = 0;
#endif
static_assert(sizeof(TfGemmParams) == (kTfGemmParamsEpilogueOffset + sizeof(TfEpilogueParams) + 7) / 8 * 8 +
                                          kTfOperandVectorsBytes + kTfGroupedParamsBytes + kTfFp8ParamsBytes,
              "TfGemmParams: 168 bytes of fixed fields, TfEpilogueParams, padding to 8, then the optional "
              "TfOperandVectors, TfGroupedParams, TfFp8Params (runtime/ops/GemmParams.h packs exactly this)");
#if defined(TF_EPILOGUE_ROW_INPUTS)
static_assert(sizeof(TfOperandVectors) ==
                  16 * (TF_OPERAND_SLOTS(TF_EPILOGUE_ROW_INPUTS) + TF_OPERAND_SLOTS(TF_EPILOGUE_COL_INPUTS)),
              "TfOperandVectors: a pointer and a stride per slot");

namespace tf {
// Row inputs of output row `row` (batch `batch`) into the epilogue's operands.
__device__ __forceinline__ void load_row_operands(const TfGemmParams& p, long long batch, long long row,
                                                  TfEpilogueOperands& operands) {
#pragma unroll
  for (int k = 0; k < TF_EPILOGUE_ROW_INPUTS; ++k)
    operands.row[k] = p.operands.row[k][batch * p.operands.row_batch_stride[k] + row];
}
// Column inputs of the TF_EPILOGUE_VEC columns from `col` (0 past N).
__device__ __forceinline__ void load_column_operands(const TfGemmParams& p, long long batch, long long col,
                                                     float (&values)[TF_OPERAND_SLOTS(TF_EPILOGUE_COL_INPUTS)]
                                                                    [TF_EPILOGUE_VEC]) {
#pragma unroll
  for (int k = 0; k < TF_EPILOGUE_COL_INPUTS; ++k)
#pragma unroll
    for (int j = 0; j < TF_EPILOGUE_VEC; ++j)
      values[k][j] = col + j < p.n ? p.operands.col[k][batch * p.operands.col_batch_stride[k] + col + j] : 0.0f;
}
}  // namespace tf
#endif
