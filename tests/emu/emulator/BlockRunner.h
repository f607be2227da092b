// The fiber scheduler behind emu::launch (Launch.h): one block at a time,
// block barrier, warp and warpgroup rendezvous for collective instructions,
// per-thread cp.async queues, the block's shared memory, and the sm_90 state
// (mbarriers, asynchronous TMA completions, wgmma groups, async-proxy hazard
// tracking). Instructions.cpp and Sm90Instructions.cpp reach the running
// block through BlockRunner::current().
#pragma once

#include <ucontext.h>

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <source_location>
#include <string>
#include <vector>

#include "emulator/AsyncProxy.h"
#include "emulator/AccessCounters.h"
#include "emulator/CpAsyncQueue.h"
#include "emulator/Launch.h"
#include "emulator/Mbarrier.h"
#include "emulator/SharedMemory.h"
#include "emulator/WarpInstructions.h"

namespace emu {

enum class WarpOp {
  SyncWarp, Ldmatrix, LdmatrixTrans, MmaBf16, MmaF16,
  // sm_89 / sm_90: FP8 mma.sync (A e4m3; B e4m3 or e5m2), redux.sync.max.u32
  MmaE4M3, MmaE4M3E5M2, ReduxMax,
  // sm_90 (warp-collective: .sync.aligned per warp)
  WgmmaFence, WgmmaCommit, WgmmaWait,
  // sm_90 (warpgroup-collective: all 128 threads)
  WgmmaMma, SetMaxNRegInc, SetMaxNRegDec
};

/// What one lane brings to a warp-collective instruction.
struct LaneOperation {
  WarpOp op = WarpOp::SyncWarp;
  unsigned address = 0;              // ldmatrix: this lane's row address
  unsigned* registers = nullptr;     // ldmatrix: the 4 destination registers
  float* d = nullptr;                // mma: accumulators (in and out)
  const unsigned* a = nullptr;       // mma: A fragment (4 registers)
  const unsigned* b = nullptr;       // mma: B fragment (2 registers)
  // sm_90
  std::uint64_t desc_a = 0, desc_b = 0;  // wgmma: matrix descriptors
  int n = 0;                             // wgmma: N (d holds n / 2 floats); setmaxnreg: registers
  bool bf16 = true, b_mn_major = false;  // wgmma
  int pending = 0;                       // wgmma.wait_group N
  std::source_location site;         // where the kernel issued it (counters)
};
constexpr int kWarpgroupSize = 128;
using WarpLanes = LaneOperation* [kWarpSize];
using WarpgroupLanes = LaneOperation* [kWarpgroupSize];
/// Performs a collective once all 32 lanes arrived with the same operation.
using WarpExecutor = void (*)(const WarpLanes& lanes, int warp);
/// Returns false to keep the warpgroup waiting (retried by retry_blocked_warpgroups).
using WarpgroupExecutor = bool (*)(const WarpgroupLanes& lanes, int warpgroup);

/// One wgmma.mma_async of a warpgroup: issued when all 128 threads arrived,
/// computed and retired at the first wgmma.wait_group that covers it.
struct WgmmaOperation {
  std::uint64_t desc_a = 0, desc_b = 0;
  int n = 0;
  bool bf16 = true, b_mn_major = false;
  float* d[kWarpgroupSize] = {};          // each lane's n / 2 accumulators
  std::vector<unsigned> chunks_read;      // 16-byte shared chunks (hazard tracking)
  std::source_location site;              // where the kernel issued it (counters)
  bool retired = false;
};
using WgmmaGroup = std::vector<std::shared_ptr<WgmmaOperation>>;

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
  void warpgroup_collective(LaneOperation& mine, WarpgroupExecutor execute);

  // ---- sm_90 ----
  Mbarriers& mbarriers() { return mbarriers_; }
  AsyncProxy& async_proxy() { return async_proxy_; }
  /// Blocks this thread until phase parity `parity` of the mbarrier at
  /// `offset` completed (try_wait.parity in a loop); records the phases seen.
  void wait_mbarrier(unsigned offset, unsigned parity);
  /// Makes the threads waiting on the mbarrier at `offset` re-check it.
  void wake_mbarrier_waiters(unsigned offset);
  /// Phases of the mbarrier at `offset` that `thread` has seen complete.
  unsigned long long observed_phases(int thread, unsigned offset) const;
  /// Queues an asynchronous completion (a TMA copy landing): run at a later
  /// scheduling point drawn from the seed, or at once for CpAsyncLanding::AtIssue.
  void post_async(std::function<void()> completion);
  /// Per-warp wgmma state: uncommitted operations and committed groups.
  WgmmaGroup& wgmma_open(int warp) { return wgmma_[warp].open; }
  std::deque<WgmmaGroup>& wgmma_committed(int warp) { return wgmma_[warp].committed; }
  int& warpgroup_registers(int warpgroup) { return warpgroup_registers_[warpgroup]; }
  /// Registers of all warpgroups (setmaxnreg's budget is the 64K register file).
  int register_file_in_use() const {
    int total = 0;
    for (int r : warpgroup_registers_) total += r * kWarpgroupSize;
    return total;
  }
  /// Re-runs the warpgroup collectives whose executor declined (setmaxnreg.inc
  /// waiting for registers another warpgroup's setmaxnreg.dec frees).
  void retry_blocked_warpgroups();
  /// How shared offsets are named in reports ("full[2]"), from the launch.
  std::string name_shared(unsigned offset) const;

 private:
  enum class State { Runnable, Waiting, Exited };
  struct Fiber {
    ucontext_t context{};
    std::unique_ptr<char[]> stack;
    State state = State::Runnable;
    const char* waiting_on = "";
    CpAsyncQueue copies;
    bool waits_mbarrier = false;
    bool woken_by_mbarrier = false;  // SchedulePolicy::WokenFirst runs it next
    unsigned mbarrier = 0, parity = 0;
    std::map<unsigned, unsigned long long> observed;  // mbarrier offset -> phases seen complete
  };
  struct WarpWgmma {
    WgmmaGroup open;
    std::deque<WgmmaGroup> committed;
  };
  struct WarpgroupRendezvous {
    int arrived = 0;
    LaneOperation* lanes[kWarpgroupSize] = {};
    WarpgroupExecutor blocked = nullptr;  // an executor that declined, to retry
  };
  void finish_warpgroup(int group);
  struct Warp {
    int arrived = 0;
    LaneOperation* lanes[kWarpSize] = {};
  };

  static void fiber_entry();
  void wait(const char* what);
  void on_thread_exit();
  void release_barrier();
  std::string describe_waiting() const;
  void land_one_async();

  LaunchConfig config_;
  std::function<void()> body_;
  std::vector<Fiber> fibers_;
  std::vector<Warp> warps_;
  std::vector<WarpgroupRendezvous> warpgroups_;
  std::vector<WarpWgmma> wgmma_;
  std::vector<int> warpgroup_registers_;
  std::vector<std::function<void()>> async_pending_;
  Mbarriers mbarriers_;
  AsyncProxy async_proxy_;
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
