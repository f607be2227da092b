// Emulated tilefuse/ptx_sm80.cuh (tests/emu): the same API as
// templates/tilefuse/ptx_sm80.cuh, forwarding to the CPU emulator. Found
// before the real header through the include path of the emulation tests.
// Each memory instruction passes its call site (a defaulted argument, so the
// template's calls are unchanged) to the emulator's access counters.
#pragma once

#ifndef TILEFUSE_EMU_CUDA_H
#error "include emu_cuda.h (at global scope) before the emulated tilefuse headers"
#endif

namespace tf {

__device__ __forceinline__ unsigned shared_address(const void* pointer) { return ::emu::shared_address(pointer); }

__device__ __forceinline__ void cp_async_16(unsigned shared_dst, const void* global_src, int valid_bytes,
                                            std::source_location site = std::source_location::current()) {
  ::emu::cp_async_16(shared_dst, global_src, valid_bytes, site);
}

__device__ __forceinline__ void cp_async_commit() { ::emu::cp_async_commit(); }

template <int Pending>
__device__ __forceinline__ void cp_async_wait() {
  ::emu::cp_async_wait(Pending);
}

__device__ __forceinline__ void ldmatrix_x4(unsigned (&r)[4], unsigned shared_src,
                                            std::source_location site = std::source_location::current()) {
  ::emu::ldmatrix_x4(r, shared_src, false, site);
}

__device__ __forceinline__ void ldmatrix_x4_trans(unsigned (&r)[4], unsigned shared_src,
                                                  std::source_location site = std::source_location::current()) {
  ::emu::ldmatrix_x4(r, shared_src, true, site);
}

__device__ __forceinline__ void st_shared_f32x2(unsigned shared_dst, float x, float y,
                                                std::source_location site = std::source_location::current()) {
  ::emu::st_shared_f32x2(shared_dst, x, y, site);
}

__device__ __forceinline__ float4 ld_shared_f32x4(unsigned shared_src,
                                                  std::source_location site = std::source_location::current()) {
  return ::emu::ld_shared_f32x4(shared_src, site);
}

/// The store itself (unless it lies outside every buffer: reported), then its
/// address to the counters. Bound to a reference so that -fsanitize=alignment
/// checks a misaligned vector store (it faults on the GPU).
template <class T>
__device__ __forceinline__ void st_global(T* dst, const T& value,
                                          std::source_location site = std::source_location::current()) {
  if (!::emu::global_store_in_bounds(dst, sizeof(T))) return;
  T& destination = *dst;
  destination = value;
  ::emu::count_global_store(dst, sizeof(T), site);
}

template <bool IsBf16>
__device__ __forceinline__ void mma_m16n8k16(float (&d)[4], const unsigned (&a)[4], const unsigned (&b)[2]) {
  ::emu::mma_m16n8k16(d, a, b, IsBf16);
}

__device__ __forceinline__ float bf16_bits_to_float(unsigned short bits) { return ::emu::bf16_to_float(bits); }
__device__ __forceinline__ float f16_bits_to_float(unsigned short bits) { return ::emu::f16_to_float(bits); }

}  // namespace tf
