// The emu:: instruction hooks declared in emu_cuda.h, run against the block
// that BlockRunner is executing: address and alignment checks as the PTX ISA
// states them, hazard tracking (SharedMemory.h) and the warp-wide semantics
// (WarpInstructions.h).
#include <algorithm>
#include <cstring>
#include <fmt/format.h>

#include "emu_cuda.h"
#include "emulator/BlockRunner.h"
#include "emulator/DeviceMemory.h"

namespace emu {
namespace {

void land(BlockRunner& runner, AsyncCopy& copy) {
  if (!copy.landed) runner.shared().on_copy_landed(copy.shared_offset, copy.data);
  copy.landed = true;
}

const char* ldmatrix_name(WarpOp op) { return op == WarpOp::LdmatrixTrans ? "ldmatrix.x4.trans" : "ldmatrix.x4"; }

/// ldmatrix.x4: lane 8j + r gives row r of matrix j; each matrix is one phase.
void count_ldmatrix(BlockRunner& runner, const WarpLanes& lanes) {
  ByteRange rows[kWarpSize];
  for (int lane = 0; lane < kWarpSize; ++lane) rows[lane] = {lanes[lane]->address, 16};
  const std::source_location& site = lanes[0]->site;
  runner.counters()->add_shared(ldmatrix_name(lanes[0]->op), site_label(site.file_name(), site.line()),
                                shared_request_cost(rows, 8), false);
}

void execute_ldmatrix(const WarpLanes& lanes, int warp) {
  BlockRunner& runner = BlockRunner::current();
  SharedMemory& shared = runner.shared();
  if (runner.counters()) count_ldmatrix(runner, lanes);
  Matrix8x8 matrices[4] = {};
  for (int lane = 0; lane < kWarpSize; ++lane) {
    const unsigned address = lanes[lane]->address;
    if (auto problem = shared.check_range(address, 16, 16); !problem.empty()) {
      runner.report(fmt::format("ldmatrix row address of lane {}: {}", lane, problem));
      continue;
    }
    if (auto problem = shared.on_ldmatrix_row(address, warp); !problem.empty()) runner.report(problem);
    std::memcpy(matrices[lane / 8][lane % 8].data(), shared.base() + address, 16);
  }
  unsigned out[kWarpSize][4];
  ldmatrix_x4(matrices, lanes[0]->op == WarpOp::LdmatrixTrans, out);
  for (int lane = 0; lane < kWarpSize; ++lane) std::memcpy(lanes[lane]->registers, out[lane], sizeof out[lane]);
}

void execute_mma(const WarpLanes& lanes, int /*warp*/) {
  unsigned a[kWarpSize][4], b[kWarpSize][2];
  float c[kWarpSize][4], d[kWarpSize][4];
  for (int lane = 0; lane < kWarpSize; ++lane) {
    std::memcpy(a[lane], lanes[lane]->a, sizeof a[lane]);
    std::memcpy(b[lane], lanes[lane]->b, sizeof b[lane]);
    std::memcpy(c[lane], lanes[lane]->d, sizeof c[lane]);
  }
  mma_m16n8k16(a, b, c, lanes[0]->op == WarpOp::MmaBf16, d);
  for (int lane = 0; lane < kWarpSize; ++lane) std::memcpy(lanes[lane]->d, d[lane], sizeof d[lane]);
}

void execute_mma_fp8(const WarpLanes& lanes, int /*warp*/) {
  unsigned a[kWarpSize][4], b[kWarpSize][2];
  float c[kWarpSize][4], d[kWarpSize][4];
  for (int lane = 0; lane < kWarpSize; ++lane) {
    std::memcpy(a[lane], lanes[lane]->a, sizeof a[lane]);
    std::memcpy(b[lane], lanes[lane]->b, sizeof b[lane]);
    std::memcpy(c[lane], lanes[lane]->d, sizeof c[lane]);
  }
  mma_m16n8k32_fp8(a, b, c, lanes[0]->op == WarpOp::MmaE4M3E5M2, d);
  for (int lane = 0; lane < kWarpSize; ++lane) std::memcpy(lanes[lane]->d, d[lane], sizeof d[lane]);
}

/// redux.sync.max.u32: every lane's `registers[0]` in, the maximum out.
void execute_redux_max(const WarpLanes& lanes, int /*warp*/) {
  unsigned result = 0;
  for (int lane = 0; lane < kWarpSize; ++lane) result = std::max(result, lanes[lane]->registers[0]);
  for (int lane = 0; lane < kWarpSize; ++lane) lanes[lane]->registers[0] = result;
}

void execute_nothing(const WarpLanes&, int) {}

}  // namespace

unsigned shared_address(const void* pointer) {
  BlockRunner& runner = BlockRunner::current();
  const auto* byte = static_cast<const std::uint8_t*>(pointer);
  const std::uint8_t* base = runner.shared().base();
  if (byte < base || byte > base + runner.shared().bytes()) {
    runner.report("cvta.to.shared of a pointer outside the block's shared memory");
    return 0;
  }
  return static_cast<unsigned>(byte - base);
}

void cp_async_16(unsigned shared_dst, const void* global_src, int valid_bytes, const std::source_location& site) {
  BlockRunner& runner = BlockRunner::current();
  // The global read (src-size bytes; none for a zero-filled chunk) and the
  // 16-byte shared write.
  runner.count_thread_access(MemorySpace::Global, "cp.async.cg 16B (global read)", site,
                             {reinterpret_cast<std::uintptr_t>(global_src),
                              static_cast<unsigned>(std::clamp(valid_bytes, 0, 16))});
  runner.count_thread_access(MemorySpace::Shared, "cp.async.cg 16B (shared write)", site, {shared_dst, 16});
  if (valid_bytes < 0 || valid_bytes > 16) {
    runner.report(fmt::format("cp.async src-size {} is outside 0..16", valid_bytes));
    return;
  }
  if (auto problem = runner.shared().check_range(shared_dst, 16, 16); !problem.empty()) {
    runner.report("cp.async destination: " + problem);
    return;
  }
  AsyncCopy copy;
  copy.shared_offset = shared_dst;
  if (valid_bytes > 0) {
    if (reinterpret_cast<std::uintptr_t>(global_src) % 16 != 0)
      runner.report(fmt::format("cp.async source {} is not 16-byte aligned", global_src));
    if (!is_device_readable(global_src, static_cast<std::size_t>(valid_bytes)))
      runner.report(fmt::format("cp.async reads {} bytes at {}, outside every buffer of the launch "
                                "(out-of-bounds global load)",
                                valid_bytes, global_src));
    else
      std::memcpy(copy.data, global_src, static_cast<std::size_t>(valid_bytes));
  }
  const int thread = runner.thread();
  if (auto problem = runner.shared().on_copy_issued(shared_dst, thread, thread / kWarpSize); !problem.empty())
    runner.report(problem);
  if (runner.landing() == CpAsyncLanding::AtIssue) land(runner, copy);
  runner.copies().issue(copy);
}

void cp_async_commit() { BlockRunner::current().copies().commit(); }

void cp_async_wait(int pending) {
  BlockRunner& runner = BlockRunner::current();
  for (AsyncCopy& copy : runner.copies().complete_all_but(pending)) {
    land(runner, copy);
    runner.shared().on_copy_completed(copy.shared_offset, runner.thread());
  }
}

void ldmatrix_x4(unsigned (&r)[4], unsigned shared_src, bool transpose, const std::source_location& site) {
  LaneOperation mine;
  mine.op = transpose ? WarpOp::LdmatrixTrans : WarpOp::Ldmatrix;
  mine.address = shared_src;
  mine.registers = r;
  mine.site = site;
  BlockRunner::current().warp_collective(mine, &execute_ldmatrix);
}

void st_shared_f32x2(unsigned shared_dst, float x, float y, const std::source_location& site) {
  BlockRunner& runner = BlockRunner::current();
  runner.count_thread_access(MemorySpace::Shared, "st.shared.v2.f32", site, {shared_dst, 8});
  if (auto problem = runner.shared().check_range(shared_dst, 8, 8); !problem.empty()) {
    runner.report("st.shared.v2.f32: " + problem);
    return;
  }
  if (auto problem = runner.async_proxy().on_generic_write(shared_dst, runner.thread()); !problem.empty())
    runner.report(problem);
  const float values[2] = {x, y};
  std::memcpy(runner.shared().base() + shared_dst, values, sizeof values);
}

float4 ld_shared_f32x4(unsigned shared_src, const std::source_location& site) {
  BlockRunner& runner = BlockRunner::current();
  runner.count_thread_access(MemorySpace::Shared, "ld.shared.v4.f32", site, {shared_src, 16});
  float4 v{};
  if (auto problem = runner.shared().check_range(shared_src, 16, 16); !problem.empty()) {
    runner.report("ld.shared.v4.f32: " + problem);
    return v;
  }
  std::memcpy(&v, runner.shared().base() + shared_src, sizeof v);
  return v;
}

void count_global_store(const void* address, unsigned bytes, const std::source_location& site) {
  static constexpr const char* kNames[] = {"", "st.global.b8", "st.global.b16", "", "st.global.b32", "", "", "",
                                           "st.global.v2.b32", "", "", "", "", "", "", "", "st.global.v4.b32"};
  BlockRunner& runner = BlockRunner::current();
  if (bytes == 0 || bytes > 16 || kNames[bytes][0] == '\0') {
    runner.report(fmt::format("st.global of {} bytes: not a width the GPU stores in one instruction", bytes));
    return;
  }
  runner.count_thread_access(MemorySpace::Global, kNames[bytes], site,
                             {reinterpret_cast<std::uintptr_t>(address), bytes});
}

void mma_m16n8k16(float (&d)[4], const unsigned (&a)[4], const unsigned (&b)[2], bool bf16) {
  LaneOperation mine;
  mine.op = bf16 ? WarpOp::MmaBf16 : WarpOp::MmaF16;
  mine.d = d;
  mine.a = a;
  mine.b = b;
  BlockRunner::current().warp_collective(mine, &execute_mma);
}

void mma_m16n8k32_fp8(float (&d)[4], const unsigned (&a)[4], const unsigned (&b)[2], bool b_e5m2) {
  LaneOperation mine;
  mine.op = b_e5m2 ? WarpOp::MmaE4M3E5M2 : WarpOp::MmaE4M3;
  mine.d = d;
  mine.a = a;
  mine.b = b;
  BlockRunner::current().warp_collective(mine, &execute_mma_fp8);
}

unsigned redux_max_u32(unsigned value) {
  LaneOperation mine;
  mine.op = WarpOp::ReduxMax;
  mine.registers = &value;
  BlockRunner::current().warp_collective(mine, &execute_redux_max);
  return value;
}

void red_max_u32(unsigned* address, unsigned value, const std::source_location& site) {
  BlockRunner& runner = BlockRunner::current();
  runner.count_thread_access(MemorySpace::Global, "red.global.max.u32", site,
                             {reinterpret_cast<std::uintptr_t>(address), 4});
  if (reinterpret_cast<std::uintptr_t>(address) % 4 != 0) {
    runner.report(fmt::format("red.global.max.u32 at {} is not 4-byte aligned", static_cast<void*>(address)));
    return;
  }
  if (!is_device_readable(address, 4)) {
    runner.report(fmt::format("red.global.max.u32 at {}: outside every buffer of the launch",
                              static_cast<void*>(address)));
    return;
  }
  *address = std::max(*address, value);
}

void syncthreads() { BlockRunner::current().block_barrier(); }

void syncwarp(unsigned mask) {
  BlockRunner& runner = BlockRunner::current();
  if (mask != 0xffffffffu) runner.report(fmt::format("__syncwarp({:#x}): the emulator only models the full mask", mask));
  LaneOperation mine;
  mine.op = WarpOp::SyncWarp;
  runner.warp_collective(mine, &execute_nothing);
}

}  // namespace emu
