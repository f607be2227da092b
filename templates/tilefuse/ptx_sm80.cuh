// tilefuse/ptx_sm80.cuh — the sm_80 instructions the GEMM mainloop uses, one
// inline-asm wrapper each: cp.async (global → shared, zero-filling), ldmatrix
// (shared → mma fragments), mma.sync.m16n8k16 (bf16/f16 in, fp32 accumulate).
//
// Includes nothing (NVRTC compile latency is user-visible).
#pragma once

namespace tf {

/// 32-bit shared-memory address of a generic pointer into shared memory.
__device__ __forceinline__ unsigned shared_address(const void* pointer) {
  unsigned address;
  asm("{ .reg .u64 a; cvta.to.shared.u64 a, %1; cvt.u32.u64 %0, a; }"
      : "=r"(address)
      : "l"(pointer));
  return address;
}

/// Copies 16 bytes global → shared without staging in registers; only the
/// first `valid_bytes` (0..16) are read, the rest of the 16 are zero-filled.
/// That is how tiles past M, N or K read as zeros without branches.
/// `.cg` bypasses L1: the tile is reused from shared memory, not from L1.
__device__ __forceinline__ void cp_async_16(unsigned shared_dst, const void* global_src,
                                            int valid_bytes) {
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(shared_dst),
               "l"(global_src), "r"(valid_bytes));
}

/// Closes the group of cp.async issued since the previous commit.
__device__ __forceinline__ void cp_async_commit() { asm volatile("cp.async.commit_group;\n" ::); }

/// Waits until at most `Pending` committed groups are still in flight.
template <int Pending>
__device__ __forceinline__ void cp_async_wait() {
  asm volatile("cp.async.wait_group %0;\n" ::"n"(Pending));
}

/// Four 8x8 b16 matrices from shared memory; lane i gives the row address of
/// matrix i/8, row i%8. Result register j holds matrix j in mma fragment order.
__device__ __forceinline__ void ldmatrix_x4(unsigned (&r)[4], unsigned shared_src) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0, %1, %2, %3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(shared_src));
}

/// Same, transposing each 8x8 matrix (for a K x N row-major B tile).
__device__ __forceinline__ void ldmatrix_x4_trans(unsigned (&r)[4], unsigned shared_src) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0, %1, %2, %3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(shared_src));
}

/// d += a * b for one m16n8k16 tile: a is 16x16 (4 regs of 2 elements),
/// b is 16x8 (2 regs), d is 16x8 fp32 (4 regs). `IsBf16` picks bf16 or f16.
template <bool IsBf16>
__device__ __forceinline__ void mma_m16n8k16(float (&d)[4], const unsigned (&a)[4],
                                             const unsigned (&b)[2]) {
  if constexpr (IsBf16) {
    asm volatile(
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0, %1, %2, %3}, "
        "{%4, %5, %6, %7}, {%8, %9}, {%0, %1, %2, %3};\n"
        : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
  } else {
    asm volatile(
        "mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0, %1, %2, %3}, "
        "{%4, %5, %6, %7}, {%8, %9}, {%0, %1, %2, %3};\n"
        : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
  }
}

/// Two floats to shared memory (8-byte aligned). Inline asm, not a C++
/// store: NVVM skips the alias analysis that dozens of unrolled stores into
/// one buffer cost. `volatile` keeps it ordered with the barriers around it.
__device__ __forceinline__ void st_shared_f32x2(unsigned shared_dst, float x, float y) {
  asm volatile("st.shared.v2.f32 [%0], {%1, %2};\n" ::"r"(shared_dst), "f"(x), "f"(y));
}

/// Four floats from shared memory (16-byte aligned); the reading side of
/// st_shared_f32x2 (volatile asm on both sides: the compiler keeps their
/// order, and a __syncwarp between them orders the lanes).
__device__ __forceinline__ float4 ld_shared_f32x4(unsigned shared_src) {
  float4 v;
  asm volatile("ld.shared.v4.f32 {%0, %1, %2, %3}, [%4];\n"
               : "=f"(v.x), "=f"(v.y), "=f"(v.z), "=f"(v.w)
               : "r"(shared_src));
  return v;
}

/// A store to global memory: a plain C++ store (the compiler emits st.global,
/// vectorized from T's size and alignment). A function of its own so that the
/// CPU emulator (tests/emu) sees each lane's address and counts the sectors of
/// the warp's stores.
template <class T>
__device__ __forceinline__ void st_global(T* dst, const T& value) {
  *dst = value;
}

/// 16-bit storage → fp32.
__device__ __forceinline__ float bf16_bits_to_float(unsigned short bits) {
  return __uint_as_float(static_cast<unsigned>(bits) << 16);
}
__device__ __forceinline__ float f16_bits_to_float(unsigned short bits) {
  float f;
  asm("cvt.f32.f16 %0, %1;" : "=f"(f) : "h"(bits));
  return f;
}

}  // namespace tf
