// Emulated kernel launch: every thread of every block runs as a fiber on the
// calling OS thread; blocks run one after another. Fibers switch only at
// __syncthreads, __syncwarp and the warp-collective instructions (ldmatrix,
// mma.sync), in an order drawn from a seeded random generator, so that one
// seed is one reproducible interleaving.
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
/// a missing barrier before a stage is overwritten.
enum class CpAsyncLanding { AtWait, AtIssue };

/// Which thread runs next when the running one blocks: any runnable thread
/// (warps advance nearly in step), or preferably one of the same warp (warps
/// drift as far apart as the block's barriers allow).
enum class SchedulePolicy { RandomThreads, GreedyWarps };

struct LaunchConfig {
  unsigned grid_x = 1, grid_y = 1;
  unsigned threads_per_block = 32;   ///< a multiple of 32
  std::uint8_t* shared = nullptr;    ///< the kernel's shared-memory array
  std::size_t shared_bytes = 0;      ///< dynamic shared memory of the launch
  std::size_t shared_capacity = 0;   ///< size of `shared`; the rest past shared_bytes is a guard band
  std::uint64_t seed = 1;            ///< scheduling order
  CpAsyncLanding landing = CpAsyncLanding::AtWait;
  SchedulePolicy schedule = SchedulePolicy::RandomThreads;
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
