// Emulated tilefuse/ptx_fp8.cuh (tests/emu): the same API as
// templates/tilefuse/ptx_fp8.cuh, forwarding to the CPU emulator (the MMA
// from the PTX fragment layouts, the conversion from emulator/Fp8Convert).
#pragma once

#ifndef TILEFUSE_EMU_CUDA_H
#error "include emu_cuda.h (at global scope) before the emulated tilefuse headers"
#endif

namespace tf {

template <bool BE5M2>
__device__ __forceinline__ void mma_m16n8k32_fp8(float (&d)[4], const unsigned (&a)[4], const unsigned (&b)[2]) {
  ::emu::mma_m16n8k32_fp8(d, a, b, BE5M2);
}

__device__ __forceinline__ unsigned pack_e4m3x4(float x0, float x1, float x2, float x3) {
  const unsigned low = ::emu::cvt_rn_satfinite_e4m3x2_f32(x1, x0);
  const unsigned high = ::emu::cvt_rn_satfinite_e4m3x2_f32(x3, x2);
  return high << 16 | low;
}

__device__ __forceinline__ unsigned warp_max_u32(unsigned value) { return ::emu::redux_max_u32(value); }

__device__ __forceinline__ void red_max_u32(unsigned* address, unsigned value,
                                            std::source_location site = std::source_location::current()) {
  ::emu::red_max_u32(address, value, site);
}

}  // namespace tf
