// Emulated tilefuse/ptx_sm90.cuh (tests/emu): the same API as
// templates/tilefuse/ptx_sm90.cuh, forwarding to the CPU emulator. Found
// before the real header through the include path of the emulation tests.
//
// The real wgmma_m64k16 is generated per N (runtime/ops/WgmmaSource.cpp, one
// register operand per accumulator); here one template serves every N and
// executes the instruction the host generated for the launch (N, operand
// type, B's major-ness: read from the production kernel source by
// tests/emu/Sm90Host.cpp).
#pragma once

#ifndef TILEFUSE_EMU_CUDA_H
#error "include emu_cuda.h (at global scope) before the emulated tilefuse headers"
#endif

namespace tf::sm90 {

__device__ __forceinline__ void mbarrier_init(unsigned bar, unsigned arrivals) { ::emu::mbarrier_init(bar, arrivals); }
__device__ __forceinline__ void fence_barrier_init() { ::emu::fence_mbarrier_init(); }
__device__ __forceinline__ void mbarrier_arrive(unsigned bar) { ::emu::mbarrier_arrive(bar); }
__device__ __forceinline__ void mbarrier_arrive_expect_tx(unsigned bar, unsigned bytes) {
  ::emu::mbarrier_arrive_expect_tx(bar, bytes);
}
__device__ __forceinline__ void mbarrier_wait(unsigned bar, unsigned parity) { ::emu::mbarrier_wait(bar, parity); }

// `site` (not in the real API): the kernel's call site, for the counters.
__device__ __forceinline__ void tma_load_5d(unsigned dst, const void* map, unsigned bar, int c0, int c1, int c2, int c3,
                                            int c4, const ::emu::Site& site = ::emu::Site::current()) {
  const int coords[5] = {c0, c1, c2, c3, c4};
  ::emu::tma_load(5, dst, map, bar, coords, site);
}
__device__ __forceinline__ void tma_prefetch_descriptor(const void* map) { ::emu::tma_prefetch_descriptor(map); }

// smem_descriptor: the real header's function, copied verbatim at configure
// time (tests/emu/CMakeLists.txt), so that the descriptor bits under test are
// the production ones.
#include "sm90_smem_descriptor.inc"

__device__ __forceinline__ void wgmma_fence() { ::emu::wgmma_fence(); }
__device__ __forceinline__ void wgmma_commit() { ::emu::wgmma_commit(); }
template <int Pending>
__device__ __forceinline__ void wgmma_wait() {
  ::emu::wgmma_wait(Pending);
}
__device__ __forceinline__ void fence_operand(float&) {}

template <int Registers>
__device__ __forceinline__ void setmaxnreg_inc() {
  ::emu::setmaxnreg(Registers, true);
}
template <int Registers>
__device__ __forceinline__ void setmaxnreg_dec() {
  ::emu::setmaxnreg(Registers, false);
}

/// The generated wrapper's contract: d += A·B for one 64 x N x 16 step, with
/// the N, operand type and B major-ness of the wrapper the host generated for
/// this launch (emu::set_generated_wgmma).
template <int R>
__device__ __forceinline__ void wgmma_m64k16(float (&d)[R], unsigned long long desc_a, unsigned long long desc_b,
                                             const ::emu::Site& site = ::emu::Site::current()) {
  ::emu::wgmma_m64k16_generated(d, R, desc_a, desc_b, site);
}

/// The generated FP8 wrapper's contract: d = A·B + (accumulate ? d : 0) for
/// one 64 x N x 32 step (m64nNk32.f32.e4m3.{e4m3,e5m2}).
template <int R>
__device__ __forceinline__ void wgmma_m64k32(float (&d)[R], unsigned long long desc_a, unsigned long long desc_b,
                                             int accumulate, const ::emu::Site& site = ::emu::Site::current()) {
  ::emu::wgmma_m64k32_generated(d, R, desc_a, desc_b, accumulate != 0, site);
}

}  // namespace tf::sm90
