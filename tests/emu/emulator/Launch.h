// Emulated kernel launch: every thread of every block runs as a fiber on the
// calling OS thread; blocks run one after another. Fibers switch only at
// __syncthreads, __syncwarp, the warp-collective instructions (ldmatrix,
// mma.sync, wgmma fence/commit/wait) and the warpgroup-collective ones
// (wgmma.mma_async, setmaxnreg), and while an mbarrier wait blocks, in an
// order drawn from a seeded random generator; pending TMA copies land at
// scheduling points drawn from the same generator. One seed is one
// reproducible interleaving.
//
// Raw loads and stores (the epilogue's shared-memory staging) are not seen by
// the emulator; a race between them and other warps' accesses shows up as
// wrong results when warps drift apart, which SchedulePolicy::GreedyWarps
// provokes: one warp runs as far as it can before the next one starts.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace emu {

class AccessCounters;

/// When the bytes of a cp.async land in shared memory. Both are legal GPU
/// behaviours: AtWait shows a missing cp.async.wait_group (stale data), AtIssue
/// a missing barrier before a stage is overwritten. For sm_90 TMA copies,
/// AtWait means "at a later scheduling point drawn from the seed", AtIssue
/// "at once".
/// NewestLast (sm_90 only; like AtWait for cp.async): a TMA copy lands only
/// when no thread can run, the most recently issued first, so that early
/// copies stay in flight as long as the program lets them: a consumer that
/// passes a parity wait one phase too early then meets a copy in flight.
enum class CpAsyncLanding { AtWait, AtIssue, NewestLast };

/// Which thread runs next when the running one blocks: any runnable thread
/// (warps advance nearly in step), or preferably one of the same warp (warps
/// drift as far apart as the block's barriers allow).
/// WokenFirst (sm_90): a thread whose mbarrier wait was just satisfied runs
/// before any other, so that a barrier arrival races the arriving warp's own
/// next instructions (a stage released too early is refilled at once).
enum class SchedulePolicy { RandomThreads, GreedyWarps, WokenFirst };

struct LaunchConfig {
  unsigned grid_x = 1, grid_y = 1;
  unsigned threads_per_block = 32;   ///< a multiple of 32
  std::uint8_t* shared = nullptr;    ///< the kernel's shared-memory array
  std::size_t shared_bytes = 0;      ///< dynamic shared memory of the launch
  std::size_t shared_capacity = 0;   ///< size of `shared`; the rest past shared_bytes is a guard band
  std::uint64_t seed = 1;            ///< scheduling order
  /// Run the blocks last to first (a GPU runs them in any order): a block
  /// that writes another block's outputs is then overwritten by it no more.
  bool reverse_blocks = false;
  CpAsyncLanding landing = CpAsyncLanding::AtWait;
  SchedulePolicy schedule = SchedulePolicy::RandomThreads;
  /// Names a shared-memory offset in reports ("full[2]", an mbarrier of the
  /// kernel's layout); empty: the offset alone.
  std::function<std::string(unsigned)> name_shared;
  /// Where to add the launch's memory-access counters (AccessCounters.h);
  /// null: nothing is counted (and nothing costs time).
  AccessCounters* counters = nullptr;
};

/// Runs `thread_body` for every thread of the grid (threadIdx, blockIdx,
/// blockDim and gridDim set). Returns the violations the emulator detected
/// (misaligned or out-of-bounds accesses, races, divergent collectives,
/// deadlocks); empty when there were none.
std::vector<std::string> launch(const LaunchConfig& config, const std::function<void()>& thread_body);

}  // namespace emu
