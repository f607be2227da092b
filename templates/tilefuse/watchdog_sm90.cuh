// tilefuse/watchdog_sm90.cuh — bounded mbarrier waits for the sm_90a GEMM
// (templates/tilefuse/gemm_sm90.cuh): a hang becomes a message.
//
// Compiled in only when TILEFUSE_WATCHDOG is non-zero. The runtime adds
// -DTILEFUSE_WATCHDOG=1 to every NVRTC compile when the environment has
// TILEFUSE_WATCHDOG=1 (runtime::nvrtc_options, so the option is part of the
// kernel cache key: a watchdog kernel is another cache entry). Without it this
// file is empty and every wait is mbarrier_wait, so the PTX is unchanged.
//
// The bound: a wait that has not seen its phase complete after
// TILEFUSE_WATCHDOG_CYCLES SM clock cycles (clock64; default 2^32, i.e.
// 2.2 s at the H100's 1.98 GHz boost clock and 4 s at 1.1 GHz) prints, once
// per waiting warp (its lowest active lane),
//   tilefuse watchdog: block B warp W (producer|consumer 0|consumer 1)
//   waited > N cycles on full|empty|order[S] parity P (tile T); trapping
// and executes `trap`: the launch fails with a sticky error (the context is
// lost, as after any device fault) and the message is in the process's stdout.
// Every wait of a correct kernel is bounded by one tile's mainloop (µs to a
// few ms), so the bound only fires on a hang. Raise it for slow runs (e.g.
// under compute-sanitizer) with TILEFUSE_NVRTC_OPTIONS=-DTILEFUSE_WATCHDOG_CYCLES=N
// (also keyed). Includes nothing; uses the device printf (vprintf) that
// NVRTC declares itself.
#pragma once

#if defined(TILEFUSE_WATCHDOG) && TILEFUSE_WATCHDOG

#include "tilefuse/ptx_sm90.cuh"

#ifndef TILEFUSE_WATCHDOG_CYCLES
#define TILEFUSE_WATCHDOG_CYCLES (1ll << 32)
#endif

namespace tf::sm90::watchdog {

__device__ __forceinline__ long long clock_cycles() {
  long long cycles;
  asm volatile("mov.u64 %0, %%clock64;\n" : "=l"(cycles));
  return cycles;
}

/// Out of line: the printf's argument packing stays out of the wait loops.
/// [[noreturn]] matters: with nothing live after the call, the consumers' 100+
/// accumulator registers need no saving around it (ptxas spilled them
/// without it).
[[noreturn]] __device__ __noinline__ void report_and_trap(int role, int barrier, int stage, unsigned parity,
                                                          unsigned tile, long long waited) {
  unsigned active;
  asm volatile("activemask.b32 %0;\n" : "=r"(active));
  const unsigned lane = threadIdx.x % 32;
  if ((active & (0u - active)) == (1u << lane)) {  // the lowest active lane speaks for its warp
    const char* who = role < 0 ? "producer" : (role == 0 ? "consumer 0" : "consumer 1");
    const char* what = barrier == 0 ? "full" : (barrier == 1 ? "empty" : "order");
    printf("tilefuse watchdog: block %d warp %d (%s) waited > %lld cycles on %s[%d] parity %u (tile %u); "
           "trapping\n",
           static_cast<int>(blockIdx.x), static_cast<int>(threadIdx.x / 32), who, waited, what, stage, parity,
           tile);
  }
  asm volatile("trap;\n");
  __builtin_unreachable();
}

/// mbarrier_wait with a bound (see the header). `role`: -1 producer, 0/1
/// consumer; `barrier`: 0 full, 1 empty, 2 order; `stage`: the ring stage
/// (order: the consumer whose turn it waits for).
__device__ __forceinline__ void bounded_wait(unsigned bar, unsigned parity, int role, int barrier, int stage,
                                             unsigned tile) {
  if (mbarrier_try_wait(bar, parity)) return;
  const long long start = clock_cycles();
  while (!mbarrier_try_wait(bar, parity)) {
    const long long waited = clock_cycles() - start;
    if (waited > TILEFUSE_WATCHDOG_CYCLES) report_and_trap(role, barrier, stage, parity, tile, waited);
  }
}

}  // namespace tf::sm90::watchdog

#endif  // TILEFUSE_WATCHDOG
