// See BlockRunner.h.
#include "emulator/BlockRunner.h"

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
  }
  return "?";
}

}  // namespace

BlockRunner::BlockRunner(const LaunchConfig& config, const std::function<void()>& body)
    : config_(config), body_(body), fibers_(config.threads_per_block), warps_(config.threads_per_block / kWarpSize),
      random_(config.seed) {
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
  for (Fiber& f : fibers_) {
    f.state = State::Runnable;
    f.copies.clear();
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
    if (runnable.empty()) break;
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
  if (config_.counters) requests_.flush(*config_.counters);
  t_current = outer;
  if (auto problem = shared_.check_guard(); !problem.empty()) report(problem);
}

std::string BlockRunner::describe_waiting() const {
  std::string text;
  for (std::size_t i = 0; i < fibers_.size(); i += kWarpSize) {
    int exited = 0;
    for (std::size_t l = i; l < i + kWarpSize; ++l) exited += fibers_[l].state == State::Exited;
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
