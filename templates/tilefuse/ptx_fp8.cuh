// tilefuse/ptx_fp8.cuh — the FP8 instructions of the mma.sync GEMM (sm_89 and
// sm_90; included only by an FP8 kernel, TF_GEMM_FP8): the e4m3 tensor-core
// MMA, the saturating e4m3 output conversion and the amax reduction.
//
// Includes nothing (NVRTC compile latency is user-visible).
#pragma once

namespace tf {

/// d += a * b for one m16n8k32 tile of FP8 inputs, fp32 accumulate: A is
/// 16x32 e4m3 (4 registers of 4 bytes), B 32x8 e4m3 or e5m2 (`BE5M2`; 2
/// registers), d 16x8 fp32. Byte for byte the fragments are those of
/// m16n8k16 over 16-bit slots (a pair of FP8 values = one slot), so the same
/// ldmatrix loads feed it.
template <bool BE5M2>
__device__ __forceinline__ void mma_m16n8k32_fp8(float (&d)[4], const unsigned (&a)[4],
                                                 const unsigned (&b)[2]) {
  if constexpr (BE5M2) {
    asm volatile(
        "mma.sync.aligned.m16n8k32.row.col.f32.e4m3.e5m2.f32 {%0, %1, %2, %3}, "
        "{%4, %5, %6, %7}, {%8, %9}, {%0, %1, %2, %3};\n"
        : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
  } else {
    asm volatile(
        "mma.sync.aligned.m16n8k32.row.col.f32.e4m3.e4m3.f32 {%0, %1, %2, %3}, "
        "{%4, %5, %6, %7}, {%8, %9}, {%0, %1, %2, %3};\n"
        : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
  }
}

/// Four floats → four e4m3 bytes (round to nearest even, saturating to
/// ±448, NaN stays NaN), x0 at the lowest address of a little-endian store.
/// cvt's first source goes to the HIGH byte of each pair.
__device__ __forceinline__ unsigned pack_e4m3x4(float x0, float x1, float x2, float x3) {
  unsigned short low, high;
  asm("cvt.rn.satfinite.e4m3x2.f32 %0, %1, %2;" : "=h"(low) : "f"(x1), "f"(x0));
  asm("cvt.rn.satfinite.e4m3x2.f32 %0, %1, %2;" : "=h"(high) : "f"(x3), "f"(x2));
  return static_cast<unsigned>(high) << 16 | low;
}

/// The maximum of `value` over the 32 lanes of the warp (all must call it).
__device__ __forceinline__ unsigned warp_max_u32(unsigned value) {
  unsigned result;
  asm volatile("redux.sync.max.u32 %0, %1, 0xffffffff;\n" : "=r"(result) : "r"(value));
  return result;
}

/// *address = max(*address, value), atomically (no result).
__device__ __forceinline__ void red_max_u32(unsigned* address, unsigned value) {
  asm volatile("red.global.max.u32 [%0], %1;\n" ::"l"(address), "r"(value) : "memory");
}

}  // namespace tf
