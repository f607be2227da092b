// tilefuse/epilogue_support.cuh — device helpers that generated epilogues call
// (see compiler/Target/CudaEmitter.cpp, which spells ops as `tf::...`).
//
// Deliberately includes nothing: NVRTC compiles it from memory for every
// kernel and compile latency is user-visible, so no cuda_bf16.h / cuda_fp16.h.
// Conversions and approximations are single PTX instructions in inline asm.
// Requires sm_80 or newer (max.NaN, cvt to bf16).
#pragma once

#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ < 800
#error "tilefuse epilogues need sm_80 or newer (max.NaN.f32, cvt.rn.bf16x2.f32)"
#endif

namespace tf {

// ---- NaN-propagating min/max (arith.maximumf / arith.minimumf) -------------

// max.NaN.f32: IEEE maximum that returns NaN if either input is NaN (fmaxf
// would return the other operand); sm_80+.
__device__ __forceinline__ float fmax_nan(float a, float b) {
  float d;
  asm("max.NaN.f32 %0, %1, %2;" : "=f"(d) : "f"(a), "f"(b));
  return d;
}

// min.NaN.f32: IEEE minimum that returns NaN if either input is NaN; sm_80+.
__device__ __forceinline__ float fmin_nan(float a, float b) {
  float d;
  asm("min.NaN.f32 %0, %1, %2;" : "=f"(d) : "f"(a), "f"(b));
  return d;
}

// ---- hardware approximations (tilefuse.approx, fast mode) -------------------
// Non-ftz variants so that subnormal inputs and results behave as in precise
// mode; the error bounds are the PTX ISA's (ApproxOp::precisionBits).

// ex2.approx.f32: 2^x on the SFU, max relative error 2^-22.
__device__ __forceinline__ float approx_exp2(float x) {
  float d;
  asm("ex2.approx.f32 %0, %1;" : "=f"(d) : "f"(x));
  return d;
}

// tanh.approx.f32: tanh on the SFU (sm_75+), max relative error 2^-11.
__device__ __forceinline__ float approx_tanh(float x) {
  float d;
  asm("tanh.approx.f32 %0, %1;" : "=f"(d) : "f"(x));
  return d;
}

// rcp.approx.f32: 1/x on the SFU, max relative error 2^-23 (no Newton step).
__device__ __forceinline__ float approx_rcp(float x) {
  float d;
  asm("rcp.approx.f32 %0, %1;" : "=f"(d) : "f"(x));
  return d;
}

// lg2.approx.f32: log2(x) on the SFU, max relative error 2^-22.
__device__ __forceinline__ float approx_log2(float x) {
  float d;
  asm("lg2.approx.f32 %0, %1;" : "=f"(d) : "f"(x));
  return d;
}

// rsqrt.approx.f32: 1/sqrt(x) on the SFU, max relative error 2^-22.
__device__ __forceinline__ float approx_rsqrt(float x) {
  float d;
  asm("rsqrt.approx.f32 %0, %1;" : "=f"(d) : "f"(x));
  return d;
}

// sqrt.approx.f32: sqrt(x) without the IEEE-rounding fix-up sequence.
__device__ __forceinline__ float approx_sqrt(float x) {
  float d;
  asm("sqrt.approx.f32 %0, %1;" : "=f"(d) : "f"(x));
  return d;
}

// ---- output conversion (round to nearest even, NaN stays NaN) ---------------

// cvt.rn.bf16x2.f32 packs two floats in one instruction; PTX puts its FIRST
// source in the UPPER half (d = {a, b}), so `hi` goes first: element 0 (`lo`)
// lands in the low half, i.e. at the lower address when stored.
__device__ __forceinline__ unsigned int pack_bf16x2(float lo, float hi) {
  unsigned int d;
  asm("cvt.rn.bf16x2.f32 %0, %1, %2;" : "=r"(d) : "f"(hi), "f"(lo));
  return d;
}

// cvt.rn.f16x2.f32: same operand order as pack_bf16x2 (first source = upper half).
__device__ __forceinline__ unsigned int pack_f16x2(float lo, float hi) {
  unsigned int d;
  asm("cvt.rn.f16x2.f32 %0, %1, %2;" : "=r"(d) : "f"(hi), "f"(lo));
  return d;
}

// cvt.rn.bf16.f32: one float to bf16 bits (for a vector width of 1).
__device__ __forceinline__ unsigned short to_bf16_bits(float x) {
  unsigned short d;
  asm("cvt.rn.bf16.f32 %0, %1;" : "=h"(d) : "f"(x));
  return d;
}

// cvt.rn.f16.f32: one float to f16 bits (for a vector width of 1).
__device__ __forceinline__ unsigned short to_f16_bits(float x) {
  unsigned short d;
  asm("cvt.rn.f16.f32 %0, %1;" : "=h"(d) : "f"(x));
  return d;
}

}  // namespace tf
