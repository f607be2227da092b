// Emulated tilefuse/epilogue_support.cuh (tests/emu): the helpers generated
// epilogues call, with the semantics of the PTX instructions the real header
// uses. The approximations are exact here (the GPU tests check their error).
#pragma once

#ifndef TILEFUSE_EMU_CUDA_H
#error "include emu_cuda.h (at global scope) before the emulated tilefuse headers"
#endif

namespace tf {

__device__ __forceinline__ float fmax_nan(float a, float b) { return ::emu::fmax_nan(a, b); }
__device__ __forceinline__ float fmin_nan(float a, float b) { return ::emu::fmin_nan(a, b); }

__device__ __forceinline__ float approx_exp2(float x) { return exp2f(x); }
__device__ __forceinline__ float approx_tanh(float x) { return tanhf(x); }
__device__ __forceinline__ float approx_rcp(float x) { return 1.0f / x; }
__device__ __forceinline__ float approx_log2(float x) { return log2f(x); }
__device__ __forceinline__ float approx_rsqrt(float x) { return 1.0f / sqrtf(x); }
__device__ __forceinline__ float approx_sqrt(float x) { return sqrtf(x); }

// Element 0 (`lo`) in the low half, as cvt.rn.{bf16,f16}x2.f32 with swapped operands.
__device__ __forceinline__ unsigned int pack_bf16x2(float lo, float hi) {
  return ::emu::float_to_bf16(lo) | (static_cast<unsigned>(::emu::float_to_bf16(hi)) << 16);
}
__device__ __forceinline__ unsigned int pack_f16x2(float lo, float hi) {
  return ::emu::float_to_f16(lo) | (static_cast<unsigned>(::emu::float_to_f16(hi)) << 16);
}
__device__ __forceinline__ unsigned short to_bf16_bits(float x) { return ::emu::float_to_bf16(x); }
__device__ __forceinline__ unsigned short to_f16_bits(float x) { return ::emu::float_to_f16(x); }

}  // namespace tf
