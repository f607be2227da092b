// See BlockRunner.h.
#include "emulator/BlockRunner.h"

#include <algorithm>
#include <fmt/format.h>

#include "emu_cuda.h"

thread_local uint3 threadIdx;
thread_local uint3 blockIdx;
thread_local dim3 blockDim;
thread_local dim3 gridDim;

namespace emu {
namespace {

// Generous for the kernels under test (a few KiB of locals); untouched pages
// of the stacks are never faulted in.
constexpr std::size_t kStackBytes = 256 * 1024;
constexpr std::size_t kMaxViolationsKept = 16;

thread_local BlockRunner* t_current = nullptr;

const char* op_name(WarpOp op) {
  switch (op) {
    case WarpOp::SyncWarp: return "__syncwarp";
    case WarpOp::Ldmatrix: return "ldmatrix.x4";
    case WarpOp::LdmatrixTrans: return "ldmatrix.x4.trans";
    case WarpOp::MmaBf16: return "mma.m16n8k16.bf16";
    case WarpOp::MmaF16: return "mma.m16n8k16.f16";
    case WarpOp::MmaE4M3: return "mma.m16n8k32.e4m3.e4m3";
    case WarpOp::MmaE4M3E5M2: return "mma.m16n8k32.e4m3.e5m2";
    case WarpOp::ReduxMax: return "redux.sync.max.u32";
    case WarpOp::WgmmaFence: return "wgmma.fence";
    case WarpOp::WgmmaCommit: return "wgmma.commit_group";
    case WarpOp::WgmmaWait: return "wgmma.wait_group";
    case WarpOp::WgmmaMma: return "wgmma.mma_async";
    case WarpOp::SetMaxNRegInc: return "setmaxnreg.inc";
    case WarpOp::SetMaxNRegDec: return "setmaxnreg.dec";
  }
  return "?";
}

}  // namespace

/// Registers per thread a block of `threads` starts with when it needs the
/// whole register file (__launch_bounds__(threads, 1)): 64K / threads,
/// rounded down to the allocation unit of 8, at most 255.
int launch_registers(unsigned threads) { return std::min(255, static_cast<int>(65536 / threads) / 8 * 8); }

BlockRunner::BlockRunner(const LaunchConfig& config, const std::function<void()>& body)
    : config_(config), body_(body), fibers_(config.threads_per_block), warps_(config.threads_per_block / kWarpSize),
      warpgroups_((config.threads_per_block + kWarpgroupSize - 1) / kWarpgroupSize),
      wgmma_(config.threads_per_block / kWarpSize), random_(config.seed) {
  for (Fiber& f : fibers_) f.stack = std::make_unique_for_overwrite<char[]>(kStackBytes);
}

BlockRunner::~BlockRunner() = default;

BlockRunner& BlockRunner::current() { return *t_current; }

void BlockRunner::report(const std::string& message) {
  ++violation_count_;
  if (violations_.size() < kMaxViolationsKept)
    violations_.push_back(fmt::format("block ({}, {}) thread {}: {}", block_x_, block_y_, current_, message));
}

std::vector<std::string> BlockRunner::take_violations() {
  if (violation_count_ > violations_.size())
    violations_.push_back(fmt::format("... {} violations in all", violation_count_));
  violation_count_ = 0;
  return std::move(violations_);
}

void BlockRunner::fiber_entry() {
  BlockRunner& self = *t_current;
  self.body_();
  self.on_thread_exit();
  swapcontext(&self.fibers_[self.current_].context, &self.scheduler_);  // never resumed
}

void BlockRunner::run_block(unsigned block_x, unsigned block_y) {
  block_x_ = block_x;
  block_y_ = block_y;
  blockIdx = {block_x, block_y, 0};
  shared_.reset(config_.shared, config_.shared_bytes, config_.shared_capacity);
  mbarriers_.clear();
  async_proxy_.reset(config_.shared_bytes);
  async_pending_.clear();
  for (WarpWgmma& w : wgmma_) w = WarpWgmma{};
  for (WarpgroupRendezvous& g : warpgroups_) g = WarpgroupRendezvous{};
  warpgroup_registers_.assign(warpgroups_.size(), launch_registers(config_.threads_per_block));
  for (Fiber& f : fibers_) {
    f.state = State::Runnable;
    f.copies.clear();
    f.waits_mbarrier = false;
    f.woken_by_mbarrier = false;
    f.observed.clear();
    getcontext(&f.context);
    f.context.uc_stack.ss_sp = f.stack.get();
    f.context.uc_stack.ss_size = kStackBytes;
    f.context.uc_link = nullptr;
    makecontext(&f.context, &BlockRunner::fiber_entry, 0);
  }
  for (Warp& w : warps_) w = Warp{};
  if (config_.counters) requests_.reset(static_cast<int>(fibers_.size()));
  live_ = static_cast<int>(fibers_.size());
  barrier_arrived_ = 0;

  BlockRunner* outer = t_current;
  t_current = this;
  std::vector<int> runnable;
  for (;;) {
    runnable.clear();
    for (int i = 0; i < static_cast<int>(fibers_.size()); ++i)
      if (fibers_[i].state == State::Runnable) runnable.push_back(i);
    // Asynchronous copies land at points drawn from the seed, and always
    // before the block is declared stuck (the hardware completes them).
    const bool adversarial = config_.landing == CpAsyncLanding::NewestLast;
    if (!async_pending_.empty() && (runnable.empty() || (!adversarial && random_() % 4 == 0))) {
      land_one_async();
      continue;
    }
    if (runnable.empty()) break;
    if (config_.schedule == SchedulePolicy::WokenFirst) {
      std::vector<int> woken;
      for (int i : runnable)
        if (fibers_[i].woken_by_mbarrier) woken.push_back(i);
      if (!woken.empty()) runnable.swap(woken);
    }
    if (config_.schedule == SchedulePolicy::GreedyWarps) {
      // Stay in the warp that ran last while any of its lanes can run.
      const int warp = current_ / kWarpSize;
      std::vector<int> same_warp;
      for (int i : runnable)
        if (i / kWarpSize == warp) same_warp.push_back(i);
      if (!same_warp.empty()) runnable.swap(same_warp);
    }
    current_ = runnable[random_() % runnable.size()];
    threadIdx = {static_cast<unsigned>(current_), 0, 0};
    swapcontext(&scheduler_, &fibers_[current_].context);
  }
  if (live_ > 0) report("deadlock: " + describe_waiting());
  if (auto unbalanced = mbarriers_.unbalanced_at_exit([this](unsigned o) { return name_shared(o); });
      !unbalanced.empty() && live_ == 0)
    report(unbalanced);
  if (config_.counters) requests_.flush(*config_.counters);
  t_current = outer;
  if (auto problem = shared_.check_guard(); !problem.empty()) report(problem);
}

std::string BlockRunner::name_shared(unsigned offset) const {
  std::string name = config_.name_shared ? config_.name_shared(offset) : std::string();
  return name.empty() ? fmt::format("at shared offset {}", offset) : fmt::format("{} (shared offset {})", name, offset);
}

std::string BlockRunner::describe_waiting() const {
  std::string text;
  // mbarrier waits, as runs of consecutive threads waiting alike.
  for (std::size_t i = 0; i < fibers_.size();) {
    const Fiber& f = fibers_[i];
    if (f.state != State::Waiting || !f.waits_mbarrier) {
      ++i;
      continue;
    }
    std::size_t end = i + 1;
    while (end < fibers_.size() && fibers_[end].state == State::Waiting && fibers_[end].waits_mbarrier &&
           fibers_[end].mbarrier == f.mbarrier && fibers_[end].parity == f.parity)
      ++end;
    text += fmt::format("threads {}-{} wait for parity {} of mbarrier {}, which is {}; ", i, end - 1, f.parity,
                        name_shared(f.mbarrier), mbarriers_.describe(f.mbarrier));
    i = end;
  }
  for (std::size_t i = 0; i < fibers_.size(); i += kWarpSize) {
    int exited = 0;
    for (std::size_t l = i; l < i + kWarpSize; ++l) exited += fibers_[l].state == State::Exited;
    if (exited == kWarpSize) continue;
    text += fmt::format("warp {}: lane 0 waits in {}, {} lanes exited; ", i / kWarpSize,
                        fibers_[i].state == State::Waiting ? fibers_[i].waiting_on : "nothing", exited);
  }
  return text;
}

void BlockRunner::wait(const char* what) {
  Fiber& me = fibers_[current_];
  me.state = State::Waiting;
  me.waiting_on = what;
  swapcontext(&me.context, &scheduler_);
  // Resumed by the scheduler: threadIdx and current_ are this thread's again.
}

void BlockRunner::wait_mbarrier(unsigned offset, unsigned parity) {
  while (!mbarriers_.phase_done(offset, parity)) {
    Fiber& me = fibers_[current_];
    me.waits_mbarrier = true;
    me.mbarrier = offset;
    me.parity = parity;
    wait("mbarrier.try_wait.parity");
    fibers_[current_].waits_mbarrier = false;
    fibers_[current_].woken_by_mbarrier = false;
  }
  fibers_[current_].observed[offset] = mbarriers_.find(offset)->phase;
}

void BlockRunner::wake_mbarrier_waiters(unsigned offset) {
  for (Fiber& f : fibers_)
    if (f.state == State::Waiting && f.waits_mbarrier && f.mbarrier == offset) {
      f.state = State::Runnable;
      f.woken_by_mbarrier = true;
    }
}

unsigned long long BlockRunner::observed_phases(int thread, unsigned offset) const {
  const auto& seen = fibers_[thread].observed;
  auto it = seen.find(offset);
  return it == seen.end() ? 0 : it->second;
}

void BlockRunner::post_async(std::function<void()> completion) {
  if (config_.landing == CpAsyncLanding::AtIssue) completion();
  else async_pending_.push_back(std::move(completion));
}

void BlockRunner::land_one_async() {
  const std::size_t pick =
      config_.landing == CpAsyncLanding::NewestLast ? async_pending_.size() - 1 : random_() % async_pending_.size();
  std::function<void()> completion = std::move(async_pending_[pick]);
  async_pending_.erase(async_pending_.begin() + static_cast<std::ptrdiff_t>(pick));
  completion();
}

void BlockRunner::warpgroup_collective(LaneOperation& mine, WarpgroupExecutor execute) {
  const int group = current_ / kWarpgroupSize, lane = current_ % kWarpgroupSize;
  if ((group + 1) * kWarpgroupSize > static_cast<int>(fibers_.size())) {
    report(fmt::format("{} needs a whole warpgroup of 128 threads; the block has {}", op_name(mine.op), fibers_.size()));
    return;
  }
  WarpgroupRendezvous& g = warpgroups_[group];
  g.lanes[lane] = &mine;
  if (++g.arrived < kWarpgroupSize) {
    wait(op_name(mine.op));
    return;
  }
  bool converged = true;
  for (const LaneOperation* other : g.lanes) converged = converged && other->op == mine.op;
  if (!converged) {
    std::string ops;
    for (int l = 0; l < kWarpgroupSize; l += kWarpSize) ops += fmt::format("{} ", op_name(g.lanes[l]->op));
    report(fmt::format("divergent warpgroup {}: its threads meet at different collective instructions: {}", group, ops));
  } else if (!execute(g.lanes, group)) {
    g.blocked = execute;
    wait(op_name(mine.op));  // finish_warpgroup wakes every lane once a retry succeeds
    return;
  }
  finish_warpgroup(group);
}

void BlockRunner::finish_warpgroup(int group) {
  WarpgroupRendezvous& g = warpgroups_[group];
  g.arrived = 0;
  g.blocked = nullptr;
  for (int l = 0; l < kWarpgroupSize; ++l) {
    Fiber& f = fibers_[group * kWarpgroupSize + l];
    if (f.state == State::Waiting) f.state = State::Runnable;
  }
}

void BlockRunner::retry_blocked_warpgroups() {
  for (int group = 0; group < static_cast<int>(warpgroups_.size()); ++group) {
    WarpgroupRendezvous& g = warpgroups_[group];
    if (g.blocked && g.blocked(g.lanes, group)) finish_warpgroup(group);
  }
}

void BlockRunner::release_barrier() {
  for (Fiber& f : fibers_)
    if (f.state == State::Waiting && f.waiting_on == std::string_view("__syncthreads")) f.state = State::Runnable;
  barrier_arrived_ = 0;
  shared_.advance_epoch();
  if (live_ != static_cast<int>(fibers_.size()))
    report(fmt::format("__syncthreads completed after {} threads of the block exited (undefined behaviour)",
                       fibers_.size() - live_));
}

void BlockRunner::block_barrier() {
  if (config_.counters) requests_.on_sync(current_);
  if (++barrier_arrived_ == live_) {
    release_barrier();
    return;
  }
  wait("__syncthreads");
}

void BlockRunner::warp_collective(LaneOperation& mine, WarpExecutor execute) {
  const int warp = current_ / kWarpSize, lane = current_ % kWarpSize;
  Warp& w = warps_[warp];
  w.lanes[lane] = &mine;
  if (config_.counters) requests_.on_sync(current_);
  if (++w.arrived < kWarpSize) {
    wait(op_name(mine.op));
    return;
  }
  bool converged = true;
  for (const LaneOperation* other : w.lanes) converged = converged && other->op == mine.op;
  if (converged) {
    execute(w.lanes, warp);
  } else {
    std::string ops;
    for (const LaneOperation* other : w.lanes) ops += fmt::format("{} ", op_name(other->op));
    report(fmt::format("divergent warp {}: its lanes meet at different collective instructions: {}", warp, ops));
  }
  w.arrived = 0;
  for (int l = 0; l < kWarpSize; ++l) {
    Fiber& f = fibers_[warp * kWarpSize + l];
    if (f.state == State::Waiting) f.state = State::Runnable;
  }
}

void BlockRunner::on_thread_exit() {
  Fiber& me = fibers_[current_];
  if (const std::size_t left = me.copies.outstanding(); left > 0)
    report(fmt::format("exits with {} cp.async copies it never waited for (they may land at any time)", left));
  if (current_ % kWarpSize == 0) {
    const WarpWgmma& w = wgmma_[current_ / kWarpSize];
    std::size_t in_flight = w.open.size();
    for (const WgmmaGroup& group : w.committed)
      for (const auto& op : group) in_flight += !op->retired;
    if (in_flight > 0)
      report(fmt::format("warp {} exits with {} wgmma.mma_async never retired by wgmma.wait_group", current_ / kWarpSize,
                         in_flight));
  }
  me.state = State::Exited;
  --live_;
  if (barrier_arrived_ > 0 && barrier_arrived_ == live_) release_barrier();
}

std::vector<std::string> launch(const LaunchConfig& config, const std::function<void()>& thread_body) {
  if (config.threads_per_block == 0 || config.threads_per_block % kWarpSize != 0 || config.threads_per_block > 1024)
    return {fmt::format("launch: {} threads per block; the emulator needs a multiple of 32 up to 1024",
                        config.threads_per_block)};
  if (config.shared_capacity < config.shared_bytes)
    return {fmt::format("launch: {} bytes of dynamic shared memory do not fit the kernel's {}-byte array",
                        config.shared_bytes, config.shared_capacity)};
  BlockRunner runner(config, thread_body);
  gridDim = {config.grid_x, config.grid_y, 1};
  blockDim = {config.threads_per_block, 1, 1};
  for (unsigned y = 0; y < config.grid_y; ++y)
    for (unsigned x = 0; x < config.grid_x; ++x) runner.run_block(x, y);
  return runner.take_violations();
}

}  // namespace emu
