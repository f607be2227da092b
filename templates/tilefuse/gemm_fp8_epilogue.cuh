// tilefuse/gemm_fp8_epilogue.cuh — the FP8 steps every GEMM driver shares
// (included when the generated source defines TF_GEMM_FP8; today by
// gemm_epilogue.cuh for gemm_sm90.cuh): the per-tensor scale, the e4m3 output
// store with amax, and the amax reduction. Numerics: docs/fp8.md.
//
// Needs, before inclusion: TfFp8Config { kBE5M2, kBlock128, kOutE4M3, kAmax },
// TfGemmParams (with TfFp8Params fp8), tf::st_global (ptx_sm80.cuh).
#pragma once

#include "tilefuse/ptx_fp8.cuh"

namespace tf::fp8 {

using Fp8Cfg = TfFp8Config;

/// scale_a · scale_b of a per-tensor launch (a null pointer is 1), rounded
/// to fp32 once; the accumulators are multiplied by it.
__device__ __forceinline__ float per_tensor_scale(const TfGemmParams& p) {
  const float a = p.fp8.scale_a ? *p.fp8.scale_a : 1.0f;
  const float b = p.fp8.scale_b ? *p.fp8.scale_b : 1.0f;
  return a * b;
}

/// The output scale of an e4m3 D (null is 1).
__device__ __forceinline__ float output_scale(const TfGemmParams& p) {
  return p.fp8.scale_d ? *p.fp8.scale_d : 1.0f;
}

/// Stores 4 outputs of one row, columns col .. col + 3 (those inside N), as
/// e4m3(value · scale_d) (round to nearest even, saturating at ±448, NaN
/// stays NaN) and, with amax, folds max |value| of them into `amax_bits`
/// (the bits of a non-negative float order like the float; a NaN, above
/// +inf, wins). `d` is the batch's D, `row_offset` = row · ldd (bytes).
__device__ __forceinline__ void store_e4m3_outputs(void* d, long long row_offset, long long col, long long n,
                                                   const float (&v)[4], float scale_d, unsigned& amax_bits) {
  if constexpr (Fp8Cfg::kAmax) {
#pragma unroll
    for (int j = 0; j < 4; ++j) {
      const unsigned bits = col + j < n ? __float_as_uint(fabsf(v[j])) : 0u;
      amax_bits = bits > amax_bits ? bits : amax_bits;
    }
  }
  const unsigned packed = pack_e4m3x4(v[0] * scale_d, v[1] * scale_d, v[2] * scale_d, v[3] * scale_d);
  unsigned char* at = static_cast<unsigned char*>(d) + row_offset + col;
  if (col + 4 <= n) {
    st_global(reinterpret_cast<unsigned*>(at), packed);  // 4-byte aligned: ldd % 16 == 0, col % 4 == 0
  } else {
#pragma unroll
    for (int j = 0; j < 4; ++j)
      if (col + j < n) st_global(at + j, static_cast<unsigned char>(packed >> (8 * j)));
  }
}

/// The warp's max |value| into *p.fp8.amax (zeroed by the launch before the
/// kernel); every lane of the warp calls it.
__device__ __forceinline__ void reduce_amax(const TfGemmParams& p, unsigned amax_bits) {
  const unsigned warp_bits = warp_max_u32(amax_bits);
  if (threadIdx.x % 32 == 0) red_max_u32(reinterpret_cast<unsigned*>(p.fp8.amax), warp_bits);
}

}  // namespace tf::fp8
