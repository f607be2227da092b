// Emulated tilefuse/ptx_sm80.cuh (tests/emu): the same API as
// templates/tilefuse/ptx_sm80.cuh, forwarding to the CPU emulator. Found
// before the real header through the include path of the emulation tests.
#pragma once

#ifndef TILEFUSE_EMU_CUDA_H
#error "include emu_cuda.h (at global scope) before the emulated tilefuse headers"
#endif

namespace tf {

__device__ __forceinline__ unsigned shared_address(const void* pointer) { return ::emu::shared_address(pointer); }

__device__ __forceinline__ void cp_async_16(unsigned shared_dst, const void* global_src, int valid_bytes) {
  ::emu::cp_async_16(shared_dst, global_src, valid_bytes);
}

__device__ __forceinline__ void cp_async_commit() { ::emu::cp_async_commit(); }

template <int Pending>
__device__ __forceinline__ void cp_async_wait() {
  ::emu::cp_async_wait(Pending);
}

__device__ __forceinline__ void ldmatrix_x4(unsigned (&r)[4], unsigned shared_src) {
  ::emu::ldmatrix_x4(r, shared_src, false);
}

__device__ __forceinline__ void ldmatrix_x4_trans(unsigned (&r)[4], unsigned shared_src) {
  ::emu::ldmatrix_x4(r, shared_src, true);
}

__device__ __forceinline__ void st_shared_f32x2(unsigned shared_dst, float x, float y) {
  ::emu::st_shared_f32x2(shared_dst, x, y);
}

__device__ __forceinline__ float4 ld_shared_f32x4(unsigned shared_src) { return ::emu::ld_shared_f32x4(shared_src); }

template <bool IsBf16>
__device__ __forceinline__ void mma_m16n8k16(float (&d)[4], const unsigned (&a)[4], const unsigned (&b)[2]) {
  ::emu::mma_m16n8k16(d, a, b, IsBf16);
}

__device__ __forceinline__ float bf16_bits_to_float(unsigned short bits) { return ::emu::bf16_to_float(bits); }
__device__ __forceinline__ float f16_bits_to_float(unsigned short bits) { return ::emu::f16_to_float(bits); }

}  // namespace tf
