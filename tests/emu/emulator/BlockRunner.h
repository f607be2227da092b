// The fiber scheduler behind emu::launch (Launch.h): one block at a time,
// block barrier, warp rendezvous for collective instructions, per-thread
// cp.async queues and the block's shared memory. Instructions.cpp reaches the
// running block through BlockRunner::current().
#pragma once

#include <ucontext.h>

#include <functional>
#include <memory>
#include <random>
#include <source_location>
#include <string>
#include <vector>

#include "emulator/AccessCounters.h"
#include "emulator/CpAsyncQueue.h"
#include "emulator/Launch.h"
#include "emulator/SharedMemory.h"
#include "emulator/WarpInstructions.h"

namespace emu {

enum class WarpOp { SyncWarp, Ldmatrix, LdmatrixTrans, MmaBf16, MmaF16 };

/// What one lane brings to a warp-collective instruction.
struct LaneOperation {
  WarpOp op = WarpOp::SyncWarp;
  unsigned address = 0;              // ldmatrix: this lane's row address
  unsigned* registers = nullptr;     // ldmatrix: the 4 destination registers
  float* d = nullptr;                // mma: accumulators (in and out)
  const unsigned* a = nullptr;       // mma: A fragment (4 registers)
  const unsigned* b = nullptr;       // mma: B fragment (2 registers)
  std::source_location site;         // where the kernel issued it (counters)
};
using WarpLanes = LaneOperation* [kWarpSize];
/// Performs a collective once all 32 lanes arrived with the same operation.
using WarpExecutor = void (*)(const WarpLanes& lanes, int warp);

class BlockRunner {
 public:
  BlockRunner(const LaunchConfig& config, const std::function<void()>& body);
  ~BlockRunner();

  void run_block(unsigned block_x, unsigned block_y);
  std::vector<std::string> take_violations();

  /// The runner of the block executing on this OS thread (only inside a launch).
  static BlockRunner& current();

  int thread() const { return current_; }
  SharedMemory& shared() { return shared_; }
  CpAsyncQueue& copies() { return fibers_[current_].copies; }
  CpAsyncLanding landing() const { return config_.landing; }
  /// Records a violation, prefixed with the block and thread.
  void report(const std::string& message);

  /// The launch's counters; null when the launch counts nothing.
  AccessCounters* counters() const { return config_.counters; }
  /// Notes one thread's part of a warp-level memory request (st.shared,
  /// ld.shared, cp.async, st.global) when counting; see WarpRequestGrouper.
  void count_thread_access(MemorySpace space, const char* instruction, const std::source_location& site,
                           ByteRange range) {
    if (config_.counters) requests_.record(current_, space, instruction, site, range);
  }

  void block_barrier();
  void warp_collective(LaneOperation& mine, WarpExecutor execute);

 private:
  enum class State { Runnable, Waiting, Exited };
  struct Fiber {
    ucontext_t context{};
    std::unique_ptr<char[]> stack;
    State state = State::Runnable;
    const char* waiting_on = "";
    CpAsyncQueue copies;
  };
  struct Warp {
    int arrived = 0;
    LaneOperation* lanes[kWarpSize] = {};
  };

  static void fiber_entry();
  void wait(const char* what);
  void on_thread_exit();
  void release_barrier();
  std::string describe_waiting() const;

  LaunchConfig config_;
  std::function<void()> body_;
  std::vector<Fiber> fibers_;
  std::vector<Warp> warps_;
  SharedMemory shared_;
  WarpRequestGrouper requests_;
  ucontext_t scheduler_{};
  std::mt19937_64 random_;
  int current_ = 0;
  int live_ = 0;
  int barrier_arrived_ = 0;
  unsigned block_x_ = 0, block_y_ = 0;
  std::vector<std::string> violations_;
  std::size_t violation_count_ = 0;
};

}  // namespace emu
