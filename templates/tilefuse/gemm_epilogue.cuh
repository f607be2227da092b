// tilefuse/gemm_epilogue.cuh — the per-element end of a fused GEMM, shared
// by mainloop drivers that hand it 4 adjacent fp32 accumulators of one output
// row (today gemm_sm90.cuh; gemm_sm80.cuh inlines its own staged version of
// finish(); both share the element I/O of gemm_epilogue_io.cuh):
//
//   single:  v = alpha * acc + bias[col] + beta * C[row, col];  aux[row, col] = v;
//            D[row, col] = tf_epilogue(v)
//   gated:   D[row, col] = tf_epilogue(gate, up)
//   FP8 output (TF_GEMM_FP8, TfFp8Config::kOutE4M3): D[row, col] =
//            e4m3(value · scale_d), max |value| folded into amax
//            (tilefuse/gemm_fp8_epilogue.cuh)
//
// Needs, before inclusion: TfGemmConfig (kInputBf16, kHasBias, kHasResidual,
// kHasAux), TfGemmParams, the generated epilogue (TF_EPILOGUE_*, TfEpilogueOut,
// tf_epilogue) and tf::bf16_bits_to_float / f16_bits_to_float.
#pragma once

#include "tilefuse/gemm_epilogue_io.cuh"
#if defined(TF_GEMM_FP8)
#include "tilefuse/gemm_fp8_epilogue.cuh"
#endif

namespace tf::epilogue {

using Cfg = TfGemmConfig;
using namespace tf::gemm_io;  // input_to_float, output_to_float, bias_of, store_outputs, store_output_floats

#if defined(TF_GEMM_FP8)
constexpr bool kOutE4M3 = TfFp8Config::kOutE4M3;
#else
constexpr bool kOutE4M3 = false;
#endif
/// Bytes of one element of D (an e4m3 D: the epilogue yields fp32, stored as 1 byte).
constexpr long long kOutBytes = kOutE4M3 ? 1 : TF_EPILOGUE_OUT_BYTES;

/// The state of an e4m3 output kept by the caller across its finish() calls:
/// the output scale and this lane's max |value| so far (as float bits), which
/// the caller reduces once at the end (tf::fp8::reduce_amax).
struct Fp8OutputState {
  float scale_d = 1.0f;
  unsigned amax_bits = 0;
};

/// Finishes outputs (row, col .. col+3) of batch `batch` (grouped: the group)
/// from the fp32 accumulators `x` (and `up` for a gated op). The caller
/// guarantees row < M (grouped: below the group's end) and col < N; columns
/// past N are neither read nor written.
/// With declared row/column inputs (TF_EPILOGUE_ROW_INPUTS), `column_values`
/// holds the column inputs of col .. col+3 (the caller loads them once per
/// column group, tf::load_column_operands); the row inputs are loaded here.
/// An e4m3 output needs `fp8_output` (its scale and amax); others ignore it.
#if defined(TF_EPILOGUE_ROW_INPUTS)
__device__ __forceinline__ void finish(const TfGemmParams& p, long long batch, long long row, long long col,
                                       float (&x)[4], const float (&up)[4],
                                       const float (&column_values)[TF_OPERAND_SLOTS(TF_EPILOGUE_COL_INPUTS)][4],
                                       Fp8OutputState* fp8_output = nullptr) {
  TfEpilogueOperands operands;
  tf::load_row_operands(p, batch, row, operands);
#pragma unroll
  for (int k = 0; k < TF_EPILOGUE_COL_INPUTS; ++k)
#pragma unroll
    for (int j = 0; j < 4; ++j) operands.col[k][j] = column_values[k][j];
#define TF_EPILOGUE_OPERANDS_ARG , operands
#else
__device__ __forceinline__ void finish(const TfGemmParams& p, long long batch, long long row, long long col,
                                       float (&x)[4], const float (&up)[4], Fp8OutputState* fp8_output = nullptr) {
#define TF_EPILOGUE_OPERANDS_ARG
#endif
  (void)fp8_output;
  void* d = static_cast<char*>(p.d) + batch * p.batch_stride_d * kOutBytes;
  TfEpilogueOut out;
#if TF_EPILOGUE_GATED
  out = tf_epilogue(x, up, p.epilogue TF_EPILOGUE_OPERANDS_ARG);
#else
  (void)up;
#pragma unroll
  for (int j = 0; j < 4; ++j) {
    const long long cj = col + j;
    float v = p.alpha * x[j];
    // Grouped: the expert's bias (bias_of).
    if constexpr (Cfg::kHasBias) v += cj < p.n ? input_to_float(bias_of(p, batch)[cj]) : 0.0f;
    if constexpr (Cfg::kHasResidual)
      v += cj < p.n ? p.beta * output_to_float(p.c, batch * p.batch_stride_c + row * p.ldc + cj) : 0.0f;
    x[j] = v;
  }
  if constexpr (Cfg::kHasAux) store_output_floats(p.aux, batch * p.batch_stride_aux + row * p.ld_aux, col, p.n, x);
  out = tf_epilogue(x, p.epilogue TF_EPILOGUE_OPERANDS_ARG);
#endif
#undef TF_EPILOGUE_OPERANDS_ARG
#if defined(TF_GEMM_FP8) && TF_EPILOGUE_OUT_BYTES == 4  // an e4m3 output's epilogue yields fp32
  if constexpr (kOutE4M3) {
    tf::fp8::store_e4m3_outputs(d, row * p.ldd, col, p.n, out.v, fp8_output->scale_d, fp8_output->amax_bits);
    return;
  }
#endif
  store_outputs(d, row * p.ldd, col, p.n, out);
}

}  // namespace tf::epilogue
