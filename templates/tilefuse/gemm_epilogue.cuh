// tilefuse/gemm_epilogue.cuh — the per-element end of a fused GEMM, shared
// by mainloop drivers that hand it 4 adjacent fp32 accumulators of one output
// row (today gemm_sm90.cuh; gemm_sm80.cuh has the same code inline):
//
//   single:  v = alpha * acc + bias[col] + beta * C[row, col];  aux[row, col] = v;
//            D[row, col] = tf_epilogue(v)
//   gated:   D[row, col] = tf_epilogue(gate, up)
//
// Needs, before inclusion: TfGemmConfig (kInputBf16, kHasBias, kHasResidual,
// kHasAux), TfGemmParams, the generated epilogue (TF_EPILOGUE_*, TfEpilogueOut,
// tf_epilogue) and tf::bf16_bits_to_float / f16_bits_to_float.
#pragma once

namespace tf::epilogue {

using Cfg = TfGemmConfig;

__device__ __forceinline__ float input_to_float(unsigned short bits) {
  if constexpr (Cfg::kInputBf16) return bf16_bits_to_float(bits);
  else return f16_bits_to_float(bits);
}

/// Output-dtype element → float (residual C).
__device__ __forceinline__ float output_to_float(const void* base, long long index) {
#if TF_EPILOGUE_OUT_BYTES == 4
  return static_cast<const float*>(base)[index];
#elif defined(TF_EPILOGUE_OUT_BF16) && TF_EPILOGUE_OUT_BF16
  return bf16_bits_to_float(static_cast<const unsigned short*>(base)[index]);
#else
  return f16_bits_to_float(static_cast<const unsigned short*>(base)[index]);
#endif
}

/// float → output-dtype element (aux store).
__device__ __forceinline__ void store_output_element(void* base, long long index, float value) {
#if TF_EPILOGUE_OUT_BYTES == 4
  static_cast<float*>(base)[index] = value;
#elif defined(TF_EPILOGUE_OUT_BF16) && TF_EPILOGUE_OUT_BF16
  static_cast<unsigned short*>(base)[index] = to_bf16_bits(value);
#else
  static_cast<unsigned short*>(base)[index] = to_f16_bits(value);
#endif
}

/// Writes the 4 outputs at (row_offset + col): one vector store when all 4
/// columns are inside N, element stores at the right edge.
__device__ __forceinline__ void store_outputs(void* d, long long row_offset, long long col, long long n,
                                              const TfEpilogueOut& out) {
  if (col + 4 <= n) {
    *reinterpret_cast<TfEpilogueOut*>(static_cast<char*>(d) + (row_offset + col) * TF_EPILOGUE_OUT_BYTES) = out;
  } else {
#pragma unroll
    for (int j = 0; j < 4; ++j)
      if (col + j < n) {
#if TF_EPILOGUE_OUT_BYTES == 4
        static_cast<float*>(d)[row_offset + col + j] = out.v[j];
#else
        static_cast<unsigned short*>(d)[row_offset + col + j] = out.v[j];
#endif
      }
  }
}

/// Finishes outputs (row, col .. col+3) of batch `batch` from the fp32
/// accumulators `x` (and `up` for a gated op). The caller guarantees
/// row < M and col < N; columns past N are neither read nor written.
__device__ __forceinline__ void finish(const TfGemmParams& p, long long batch, long long row, long long col,
                                       float (&x)[4], const float (&up)[4]) {
  void* d = static_cast<char*>(p.d) + batch * p.batch_stride_d * TF_EPILOGUE_OUT_BYTES;
  TfEpilogueOut out;
#if TF_EPILOGUE_GATED
  out = tf_epilogue(x, up, p.epilogue);
#else
  (void)up;
#pragma unroll
  for (int j = 0; j < 4; ++j) {
    const long long cj = col + j;
    float v = p.alpha * x[j];
    if constexpr (Cfg::kHasBias) v += cj < p.n ? input_to_float(p.bias[cj]) : 0.0f;
    if constexpr (Cfg::kHasResidual)
      v += cj < p.n ? p.beta * output_to_float(p.c, batch * p.batch_stride_c + row * p.ldc + cj) : 0.0f;
    x[j] = v;
    if constexpr (Cfg::kHasAux)
      if (cj < p.n) store_output_element(p.aux, batch * p.batch_stride_aux + row * p.ld_aux + cj, v);
  }
  out = tf_epilogue(x, p.epilogue);
#endif
  store_outputs(d, row * p.ldd, col, p.n, out);
}

}  // namespace tf::epilogue
