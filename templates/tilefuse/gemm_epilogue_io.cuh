// tilefuse/gemm_epilogue_io.cuh — element conversions and the 4-wide output
// store that every GEMM mainloop driver's epilogue uses (gemm_sm80.cuh,
// gemm_epilogue.cuh for gemm_sm90.cuh): one copy, so both paths store alike.
//
// Needs, before inclusion: TfGemmConfig (kInputBf16), TfGemmParams, the generated epilogue
// (TF_EPILOGUE_OUT_BYTES, TF_EPILOGUE_OUT_BF16, TfEpilogueOut) and
// tf::bf16_bits_to_float / f16_bits_to_float / to_bf16_bits / to_f16_bits /
// st_global (ptx_sm80.cuh). Global stores go through st_global, which the CPU
// emulator counts.
#pragma once

namespace tf::gemm_io {

using Cfg = TfGemmConfig;

__device__ __forceinline__ float input_to_float(unsigned short bits) {
  if constexpr (Cfg::kInputBf16) return bf16_bits_to_float(bits);
  else return f16_bits_to_float(bits);
}

/// The bias vector of batch `batch`: a grouped op's experts each have one
/// (TfGroupedParams::bias_group_stride apart; 0 shares one), a batched GEMM
/// shares one.
__device__ __forceinline__ const unsigned short* bias_of(const TfGemmParams& p, long long batch) {
#if defined(TF_GEMM_GROUPED)
  return p.bias + batch * p.grouped.bias_group_stride;
#else
  (void)batch;
  return p.bias;
#endif
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

/// Writes the 4 outputs of one thread: one vector store when all 4 columns
/// are inside N (and `vector_ok`: the 4 elements are one aligned vector),
/// element stores otherwise.
__device__ __forceinline__ void store_outputs(void* d, long long row_offset, long long col, long long n,
                                              const TfEpilogueOut& out, bool vector_ok = true) {
  if (vector_ok && col + 4 <= n) {
    char* at = static_cast<char*>(d) + (row_offset + col) * TF_EPILOGUE_OUT_BYTES;
    st_global(reinterpret_cast<TfEpilogueOut*>(at), out);
  } else {
#pragma unroll
    for (int j = 0; j < 4; ++j)
      if (col + j < n) {
#if TF_EPILOGUE_OUT_BYTES == 4
        st_global(static_cast<float*>(d) + row_offset + col + j, out.v[j]);
#else
        st_global(static_cast<unsigned short*>(d) + row_offset + col + j, out.v[j]);
#endif
      }
  }
}

/// Writes 4 fp32 values, rounded to the output dtype, to columns col.. of one
/// row (aux: the pre-activations), as store_outputs does: one vector store
/// when all 4 are inside N. Element stores would move 4 times the sectors
/// they fill: per warp request, one 2- or 4-byte element every 8 or 16 bytes
/// (25 % sector efficiency, counted by the CPU emulator's Sm80Counters).
__device__ __forceinline__ void store_output_floats(void* base, long long row_offset, long long col, long long n,
                                                    const float (&v)[4], bool vector_ok = true) {
  TfEpilogueOut out;
#pragma unroll
  for (int j = 0; j < 4; ++j) {
#if TF_EPILOGUE_OUT_BYTES == 4
    out.v[j] = v[j];
#elif defined(TF_EPILOGUE_OUT_BF16) && TF_EPILOGUE_OUT_BF16
    out.v[j] = to_bf16_bits(v[j]);
#else
    out.v[j] = to_f16_bits(v[j]);
#endif
  }
  store_outputs(base, row_offset, col, n, out, vector_ok);
}

}  // namespace tf::gemm_io
