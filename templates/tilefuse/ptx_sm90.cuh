// tilefuse/ptx_sm90.cuh — the sm_90a instructions of the warp-specialized
// GEMM (templates/tilefuse/gemm_sm90.cuh), one inline-asm wrapper each:
//   mbarrier         init / arrive / arrive.expect_tx / try_wait.parity (a
//                    spinning wait and a single test)
//   TMA              cp.async.bulk.tensor.5d global → shared, completing on an mbarrier
//   wgmma            fence / commit_group / wait_group and the shared-memory
//                    matrix descriptor (the mma_async itself has one operand per
//                    accumulator register, so its wrapper is generated for the
//                    tile's N: runtime/ops/WgmmaSource.cpp)
//   setmaxnreg       register reallocation between producer and consumers
//
// Includes nothing (NVRTC compile latency is user-visible); needs sm_90a.
#pragma once

#if defined(__CUDA_ARCH__) && (__CUDA_ARCH__ < 900 || !defined(__CUDA_ARCH_FEAT_SM90_ALL))
#error "tilefuse/ptx_sm90.cuh needs the sm_90a target (wgmma, setmaxnreg)"
#endif

namespace tf::sm90 {

// ---- mbarrier ---------------------------------------------------------------

__device__ __forceinline__ void mbarrier_init(unsigned bar, unsigned arrivals) {
  asm volatile("mbarrier.init.shared::cta.b64 [%0], %1;\n" ::"r"(bar), "r"(arrivals));
}

/// Makes the initialized barriers visible to the async proxy (TMA) before
/// any copy completes on them.
__device__ __forceinline__ void fence_barrier_init() {
  asm volatile("fence.mbarrier_init.release.cluster;\n" ::: "memory");
}

__device__ __forceinline__ void mbarrier_arrive(unsigned bar) {
  asm volatile("{\n .reg .b64 state;\n mbarrier.arrive.shared::cta.b64 state, [%0];\n}\n" ::"r"(bar)
               : "memory");
}

/// Arrives once and announces `bytes` of TMA traffic: the phase completes when
/// the arrival count is reached AND that many bytes have landed.
__device__ __forceinline__ void mbarrier_arrive_expect_tx(unsigned bar, unsigned bytes) {
  asm volatile("{\n .reg .b64 state;\n mbarrier.arrive.expect_tx.shared::cta.b64 state, [%0], %1;\n}\n" ::"r"(bar),
               "r"(bytes)
               : "memory");
}

/// Blocks until the phase with parity `parity` of `bar` has completed. A
/// fresh barrier is in phase 0, so waiting for parity 1 returns at once (the
/// producer's first pass over the empty ring).
__device__ __forceinline__ void mbarrier_wait(unsigned bar, unsigned parity) {
  asm volatile(
      "{\n"
      " .reg .pred done;\n"
      "tf_wait_%=:\n"
      " mbarrier.try_wait.parity.shared::cta.b64 done, [%0], %1;\n"
      " @!done bra tf_wait_%=;\n"
      "}\n" ::"r"(bar),
      "r"(parity)
      : "memory");
}

/// One test of the phase with parity `parity` of `bar`: true once it has
/// completed. No loop: the watchdog build (tilefuse/watchdog_sm90.cuh) spins
/// on it with a bound; mbarrier_wait above is the unbounded form.
__device__ __forceinline__ bool mbarrier_try_wait(unsigned bar, unsigned parity) {
  unsigned done;
  asm volatile(
      "{\n"
      " .reg .pred p;\n"
      " mbarrier.try_wait.parity.shared::cta.b64 p, [%1], %2;\n"
      " selp.u32 %0, 1, 0, p;\n"
      "}\n"
      : "=r"(done)
      : "r"(bar), "r"(parity)
      : "memory");
  return done != 0;
}

// ---- TMA ----------------------------------------------------------------------

/// Loads the box of tensor map `map` at coordinates (c0..c4), innermost first,
/// into shared memory at `dst`; completes `bytes` of transaction on `bar`.
/// Out-of-bounds elements are zero-filled (tails in M, N, K). The map is a
/// __grid_constant__ kernel parameter (its generic address is what the
/// instruction wants).
__device__ __forceinline__ void tma_load_5d(unsigned dst, const void* map, unsigned bar, int c0, int c1,
                                            int c2, int c3, int c4) {
  asm volatile(
      "cp.async.bulk.tensor.5d.shared::cluster.global.tile.mbarrier::complete_tx::bytes"
      " [%0], [%1, {%2, %3, %4, %5, %6}], [%7];\n" ::"r"(dst),
      "l"(map), "r"(c0), "r"(c1), "r"(c2), "r"(c3), "r"(c4), "r"(bar)
      : "memory");
}

/// Pulls a tensor map into the descriptor cache before its first use.
__device__ __forceinline__ void tma_prefetch_descriptor(const void* map) {
  asm volatile("prefetch.tensormap [%0];\n" ::"l"(map) : "memory");
}

// ---- wgmma --------------------------------------------------------------------

/// Shared-memory matrix descriptor of a 128-byte-swizzled operand tile (the
/// layout TMA writes with CU_TENSOR_MAP_SWIZZLE_128B into a 1024-byte aligned
/// buffer): start address, leading- and stride-dimension byte offsets, each
/// >> 4; swizzle mode 1 (128B) in bits 62-63.
///   K-major (A; B stored N x K):  leading unused (1), stride = 1024 B between
///                                  8-row groups of 128-byte rows.
///   MN-major (B stored K x N):    leading = bytes between 64-column blocks,
///                                  stride = 1024 B between 8-row groups of K.
__device__ __forceinline__ unsigned long long smem_descriptor(unsigned address, unsigned leading_bytes,
                                                              unsigned stride_bytes) {
  unsigned long long desc = (address & 0x3FFFF) >> 4;
  desc |= static_cast<unsigned long long>((leading_bytes & 0x3FFFF) >> 4) << 16;
  desc |= static_cast<unsigned long long>((stride_bytes & 0x3FFFF) >> 4) << 32;
  desc |= 1ull << 62;  // 128-byte swizzle
  return desc;
}

/// Orders register accesses of the accumulators before the next wgmma.
__device__ __forceinline__ void wgmma_fence() { asm volatile("wgmma.fence.sync.aligned;\n" ::: "memory"); }
__device__ __forceinline__ void wgmma_commit() { asm volatile("wgmma.commit_group.sync.aligned;\n" ::: "memory"); }
/// Waits until at most `Pending` committed wgmma groups are in flight.
template <int Pending>
__device__ __forceinline__ void wgmma_wait() {
  asm volatile("wgmma.wait_group.sync.aligned %0;\n" ::"n"(Pending) : "memory");
}

/// Keeps the compiler from moving accesses of `x` across an asynchronous
/// wgmma that reads and writes it (it only sees the asm's operands).
__device__ __forceinline__ void fence_operand(float& x) { asm volatile("" : "+f"(x)::"memory"); }

// ---- register reallocation ------------------------------------------------------

template <int Registers>
__device__ __forceinline__ void setmaxnreg_inc() {
  asm volatile("setmaxnreg.inc.sync.aligned.u32 %0;\n" ::"n"(Registers));
}
template <int Registers>
__device__ __forceinline__ void setmaxnreg_dec() {
  asm volatile("setmaxnreg.dec.sync.aligned.u32 %0;\n" ::"n"(Registers));
}

}  // namespace tf::sm90
