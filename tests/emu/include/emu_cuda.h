// The CUDA built-ins the tilefuse templates use, for compiling them as host
// C++ under the emulator (tests/emu). Include this first, at global scope:
// the emulated tilefuse/ptx_sm80.cuh and tilefuse/epilogue_support.cuh in this
// folder include nothing (as the real ones) and forward to emu:: below.
#pragma once
#define TILEFUSE_EMU_CUDA_H 1

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <source_location>

#include "emulator/Fp8Convert.h"
#include "emulator/HalfFloat.h"

#define __device__
#define __host__
#define __global__
#define __shared__
#define __forceinline__ inline
#define __launch_bounds__(...)
#define __align__(n) __attribute__((aligned(n)))
#define __restrict__ __restrict
#define __grid_constant__

struct uint3 {
  unsigned x = 0, y = 0, z = 0;
};
struct dim3 {
  unsigned x = 1, y = 1, z = 1;
};
// Set by the emulator's scheduler whenever it switches to a thread.
extern thread_local uint3 threadIdx;
extern thread_local uint3 blockIdx;
extern thread_local dim3 blockDim;
extern thread_local dim3 gridDim;

struct alignas(8) float2 {
  float x, y;
};
struct alignas(16) float4 {
  float x, y, z, w;
};
inline float2 make_float2(float x, float y) { return {x, y}; }
inline float __uint_as_float(unsigned bits) { return std::bit_cast<float>(bits); }
inline unsigned __float_as_uint(float value) { return std::bit_cast<unsigned>(value); }
inline float rsqrtf(float x) { return 1.0f / std::sqrt(x); }

namespace emu {

// ---- instructions (emulator/Instructions.cpp) --------------------------------
// `site`: where the kernel issues the instruction (the memory-access counters
// group a warp's lanes and report per call site).
using Site = std::source_location;
unsigned shared_address(const void* pointer);
void cp_async_16(unsigned shared_dst, const void* global_src, int valid_bytes, const Site& site = Site::current());
void cp_async_commit();
void cp_async_wait(int pending);
void ldmatrix_x4(unsigned (&r)[4], unsigned shared_src, bool transpose, const Site& site = Site::current());
void st_shared_f32x2(unsigned shared_dst, float x, float y, const Site& site = Site::current());
float4 ld_shared_f32x4(unsigned shared_src, const Site& site = Site::current());
/// Counts a global store of `bytes` at `address` that the caller performs.
void count_global_store(const void* address, unsigned bytes, const Site& site = Site::current());
void mma_m16n8k16(float (&d)[4], const unsigned (&a)[4], const unsigned (&b)[2], bool bf16);
/// mma.sync.aligned.m16n8k32.row.col.f32.e4m3.{e4m3,e5m2}.f32 (sm_89, sm_90).
void mma_m16n8k32_fp8(float (&d)[4], const unsigned (&a)[4], const unsigned (&b)[2], bool b_e5m2);
/// redux.sync.max.u32 over the warp (all 32 lanes).
unsigned redux_max_u32(unsigned value);
/// red.global.max.u32: one fiber runs at a time, so a read-modify-write is atomic.
void red_max_u32(unsigned* address, unsigned value, const Site& site = Site::current());
void syncthreads();
void syncwarp(unsigned mask);

// ---- sm_90 instructions (emulator/Sm90Instructions.cpp) ---------------------------
void mbarrier_init(unsigned bar, unsigned count);
void fence_mbarrier_init();
void mbarrier_arrive(unsigned bar);
void mbarrier_arrive_expect_tx(unsigned bar, unsigned bytes);
void mbarrier_wait(unsigned bar, unsigned parity);
/// cp.async.bulk.tensor.<dims>d global -> shared completing on `bar`.
void tma_load(int dims, unsigned dst, const void* map, unsigned bar, const int (&coords)[5],
              const Site& site = Site::current());
void tma_prefetch_descriptor(const void* map);
void fence_proxy_async();
void wgmma_fence();
void wgmma_commit();
void wgmma_wait(int pending);
/// wgmma.mma_async.m64nNk16.f32.{bf16,f16} with A (K-major) and B from shared
/// memory; `d` holds this thread's n / 2 accumulators.
void wgmma_m64k16(float* d, int n, std::uint64_t desc_a, std::uint64_t desc_b, bool bf16, bool b_mn_major,
                  const Site& site = Site::current());
/// The wgmma wrapper the host generated for this launch (N, type, B N-major):
/// set by the launching code, used by wgmma_m64k16_generated.
void set_generated_wgmma(int n, bool bf16, bool b_mn_major);
/// The generated wrapper's call: `registers` accumulators (must be N / 2).
void wgmma_m64k16_generated(float* d, int registers, std::uint64_t desc_a, std::uint64_t desc_b,
                            const Site& site = Site::current());
void setmaxnreg(int registers, bool increase);

// ---- max.NaN / min.NaN: NaN if either input is NaN -----------------------------
inline float fmax_nan(float a, float b) {
  return std::isnan(a) || std::isnan(b) ? std::numeric_limits<float>::quiet_NaN() : std::fmax(a, b);
}
inline float fmin_nan(float a, float b) {
  return std::isnan(a) || std::isnan(b) ? std::numeric_limits<float>::quiet_NaN() : std::fmin(a, b);
}

}  // namespace emu

inline void __syncthreads() { emu::syncthreads(); }
inline void __syncwarp(unsigned mask = 0xffffffffu) { emu::syncwarp(mask); }
