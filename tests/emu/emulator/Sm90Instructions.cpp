// The sm_90 instruction hooks declared in emu_cuda.h (mbarrier, TMA, wgmma,
// fences, setmaxnreg), run against the block BlockRunner is executing. The
// PTX semantics live in Mbarrier.h, TensorMap.h and Wgmma.h; this file adds
// the timing (TMA completing later, wgmma retiring at wgmma.wait_group) and
// the hazard checks (AsyncProxy.h).
//
// Every shared-memory access of the async proxy goes through one function:
// write_tma_chunk (a TMA copy's bytes landing) and read_wgmma_operand (one
// 16-bit operand element of a wgmma). The counters (AccessCounters.h) count
// each wgmma's operand reads where it reads them (retire: one request per
// operand, one phase per core matrix) and each TMA box's global reads where
// it is issued (tma_load). The shared-memory side of a box is not counted:
// the box is written densely in 16-byte chunks and every swizzle mode only
// permutes the chunks of a 128-byte line, so each 128 bytes of a box fill
// one 128-byte line: one wavefront each, by construction.
#include <algorithm>
#include <cstring>
#include <fmt/format.h>
#include <set>

#include "emu_cuda.h"
#include "emulator/BlockRunner.h"
#include "emulator/DeviceMemory.h"
#include "emulator/TensorMap.h"
#include "emulator/Wgmma.h"

namespace emu {
namespace {

constexpr int kWgmmaM = 64, kWgmmaK = 16;
constexpr int kRegisterFile = 65536;

void write_tma_chunk(BlockRunner& runner, unsigned offset, const std::array<std::uint8_t, 16>& bytes) {
  std::memcpy(runner.shared().base() + offset, bytes.data(), 16);
}

std::uint16_t read_wgmma_operand(BlockRunner& runner, unsigned address) {
  std::uint16_t bits;
  std::memcpy(&bits, runner.shared().base() + address, 2);
  return bits;
}

void report_barrier_problem(BlockRunner& runner, const std::string& problem, unsigned bar) {
  if (!problem.empty()) runner.report(fmt::format("mbarrier {}: {}", runner.name_shared(bar), problem));
}

/// The addresses a wgmma reads: A (64 x 16, K-major) then B (N x 16).
struct WgmmaAddresses {
  std::vector<unsigned> a, b;  // a[r * 16 + k], b[n * 16 + k]
};
WgmmaAddresses wgmma_addresses(const WgmmaOperation& op) {
  WgmmaAddresses out;
  const MatrixDescriptor da = MatrixDescriptor::decode(op.desc_a), db = MatrixDescriptor::decode(op.desc_b);
  out.a.resize(kWgmmaM * kWgmmaK);
  out.b.resize(static_cast<std::size_t>(op.n) * kWgmmaK);
  for (int r = 0; r < kWgmmaM; ++r)
    for (int k = 0; k < kWgmmaK; ++k) out.a[r * kWgmmaK + k] = operand_address(da, false, r, k);
  for (int n = 0; n < op.n; ++n)
    for (int k = 0; k < kWgmmaK; ++k) out.b[n * kWgmmaK + k] = operand_address(db, op.b_mn_major, n, k);
  return out;
}

/// The shared-memory wavefronts of a wgmma's operand reads: A (64 x 16) and
/// B (N x 16), one request each.
void count_wgmma_operands(BlockRunner& runner, const WgmmaOperation& op, const WgmmaAddresses& at) {
  const std::string site = site_label(op.site.file_name(), op.site.line());
  runner.counters()->add_shared("wgmma.mma_async A (shared read)", site,
                                core_matrix_request_cost(at.a, kWgmmaM, kWgmmaK), false);
  runner.counters()->add_shared("wgmma.mma_async B (shared read)", site, core_matrix_request_cost(at.b, op.n, kWgmmaK),
                                false);
}

/// Computes a wgmma (its operands as shared memory holds them now) into the
/// accumulators of all 128 lanes and ends its reads.
void retire(BlockRunner& runner, WgmmaOperation& op) {
  if (op.retired) return;
  op.retired = true;
  const WgmmaAddresses at = wgmma_addresses(op);
  if (runner.counters()) count_wgmma_operands(runner, op, at);
  std::vector<double> a(at.a.size()), b(at.b.size());
  for (std::size_t i = 0; i < a.size(); ++i) a[i] = operand_value(read_wgmma_operand(runner, at.a[i]), op.bf16);
  for (std::size_t i = 0; i < b.size(); ++i) b[i] = operand_value(read_wgmma_operand(runner, at.b[i]), op.bf16);
  for (int lane = 0; lane < kWarpgroupSize; ++lane) {
    const int warp = lane / kWarpSize, g = (lane % kWarpSize) / 4, t = lane % 4;
    float* d = op.d[lane];
    for (int j = 0; j < op.n / 8; ++j)
      for (int e = 0; e < 4; ++e) {
        const int row = 16 * warp + g + (e >= 2 ? 8 : 0), col = 8 * j + 2 * t + (e % 2);
        double sum = d[4 * j + e];
        for (int k = 0; k < kWgmmaK; ++k) sum += a[row * kWgmmaK + k] * b[col * kWgmmaK + k];
        d[4 * j + e] = static_cast<float>(sum);
      }
  }
  for (unsigned chunk : op.chunks_read) runner.async_proxy().on_wgmma_retired(chunk);
}

bool execute_wgmma(const WarpgroupLanes& lanes, int warpgroup) {
  BlockRunner& runner = BlockRunner::current();
  const LaneOperation& first = *lanes[0];
  for (int l = 1; l < kWarpgroupSize; ++l)
    if (lanes[l]->desc_a != first.desc_a || lanes[l]->desc_b != first.desc_b || lanes[l]->n != first.n) {
      runner.report(fmt::format("wgmma.mma_async of warpgroup {}: thread {} passes other descriptors or N than "
                                "thread 0 (they must be uniform)",
                                warpgroup, l));
      return true;
    }
  if (first.n < 8 || first.n > 256 || first.n % 8 != 0) {
    runner.report(fmt::format("wgmma.mma_async m64n{}k16: N must be a multiple of 8 in 8..256", first.n));
    return true;
  }
  auto op = std::make_shared<WgmmaOperation>();
  op->desc_a = first.desc_a;
  op->desc_b = first.desc_b;
  op->n = first.n;
  op->bf16 = first.bf16;
  op->b_mn_major = first.b_mn_major;
  op->site = first.site;
  for (int l = 0; l < kWarpgroupSize; ++l) op->d[l] = lanes[l]->d;
  for (std::uint64_t desc : {first.desc_a, first.desc_b}) {
    const MatrixDescriptor d = MatrixDescriptor::decode(desc);
    if (d.base_offset != 0) runner.report("wgmma descriptor with a non-zero matrix base offset (not modelled)");
  }

  const WgmmaAddresses at = wgmma_addresses(*op);
  std::set<unsigned> chunks;
  for (const auto* list : {&at.a, &at.b})
    for (unsigned address : *list) {
      if (auto problem = runner.shared().check_range(address, 2, 2); !problem.empty()) {
        runner.report("wgmma operand: " + problem);
        return true;
      }
      chunks.insert(address / 16 * 16);
    }
  auto observed = [&](unsigned barrier) {
    unsigned long long fewest = ~0ull;
    for (int l = 0; l < kWarpgroupSize; ++l)
      fewest = std::min(fewest, runner.observed_phases(warpgroup * kWarpgroupSize + l, barrier));
    return fewest;
  };
  bool reported = false;
  for (unsigned chunk : chunks) {
    const std::string problem = runner.async_proxy().on_wgmma_read(chunk, observed);
    if (!problem.empty() && !reported) {
      runner.report(fmt::format("warpgroup {}: {}", warpgroup, problem));
      reported = true;  // one report per wgmma: the rest of its chunks say the same
    }
  }
  op->chunks_read.assign(chunks.begin(), chunks.end());
  for (int w = 0; w < kWarpgroupSize / kWarpSize; ++w)
    runner.wgmma_open(warpgroup * (kWarpgroupSize / kWarpSize) + w).push_back(op);
  return true;
}

void execute_wgmma_commit(const WarpLanes&, int warp) {
  BlockRunner& runner = BlockRunner::current();
  runner.wgmma_committed(warp).push_back(std::move(runner.wgmma_open(warp)));
  runner.wgmma_open(warp).clear();
}

void execute_wgmma_wait(const WarpLanes& lanes, int warp) {
  BlockRunner& runner = BlockRunner::current();
  const int pending = lanes[0]->pending;
  auto& groups = runner.wgmma_committed(warp);
  while (static_cast<int>(groups.size()) > pending) {
    for (auto& op : groups.front()) retire(runner, *op);
    groups.pop_front();
  }
}

void execute_nothing(const WarpLanes&, int) {}

/// setmaxnreg.{inc,dec}.sync.aligned.u32: the warpgroup's registers per
/// thread become `n`. An inc that the register file cannot serve yet waits
/// (returns false) for another warpgroup's dec.
bool execute_setmaxnreg(const WarpgroupLanes& lanes, int warpgroup) {
  BlockRunner& runner = BlockRunner::current();
  const int wanted = lanes[0]->n;
  const bool increase = lanes[0]->op == WarpOp::SetMaxNRegInc;
  int& current = runner.warpgroup_registers(warpgroup);
  for (int l = 1; l < kWarpgroupSize; ++l)
    if (lanes[l]->n != wanted) {
      runner.report(fmt::format("setmaxnreg in warpgroup {}: thread {} asks for {} registers, thread 0 for {} (the "
                                "count must be uniform)",
                                warpgroup, l, lanes[l]->n, wanted));
      return true;
    }
  if (wanted < 24 || wanted > 256 || wanted % 8 != 0) {
    runner.report(fmt::format("setmaxnreg {}: the register count must be a multiple of 8 in 24..256", wanted));
    return true;
  }
  if (increase ? wanted < current : wanted > current) {
    runner.report(fmt::format("setmaxnreg.{} {} in warpgroup {}, which holds {} registers per thread: {} must not {}",
                              increase ? "inc" : "dec", wanted, warpgroup, current, increase ? "inc" : "dec",
                              increase ? "lower the count" : "raise the count"));
    return true;
  }
  if (increase && runner.register_file_in_use() + (wanted - current) * kWarpgroupSize > kRegisterFile)
    return false;  // waits for registers a setmaxnreg.dec frees
  current = wanted;
  if (!increase) runner.retry_blocked_warpgroups();
  return true;
}

}  // namespace

void mbarrier_init(unsigned bar, unsigned count) {
  BlockRunner& runner = BlockRunner::current();
  if (auto problem = runner.shared().check_range(bar, 8, 8); !problem.empty()) {
    runner.report("mbarrier.init: " + problem);
    return;
  }
  report_barrier_problem(runner, runner.mbarriers().init(bar, count), bar);
}

void fence_mbarrier_init() { BlockRunner::current().mbarriers().fence_init(); }

void mbarrier_arrive(unsigned bar) {
  BlockRunner& runner = BlockRunner::current();
  bool completed = false;
  report_barrier_problem(runner, runner.mbarriers().arrive(bar, completed), bar);
  if (completed) runner.wake_mbarrier_waiters(bar);
}

void mbarrier_arrive_expect_tx(unsigned bar, unsigned bytes) {
  BlockRunner& runner = BlockRunner::current();
  report_barrier_problem(runner, runner.mbarriers().expect_tx(bar, bytes), bar);
  bool completed = false;
  report_barrier_problem(runner, runner.mbarriers().arrive(bar, completed), bar);
  if (completed) runner.wake_mbarrier_waiters(bar);
}

void mbarrier_wait(unsigned bar, unsigned parity) { BlockRunner::current().wait_mbarrier(bar, parity); }

void tma_load(int dims, unsigned dst, const void* map, unsigned bar, const int (&coords)[5], const Site& site) {
  BlockRunner& runner = BlockRunner::current();
  TensorMapArguments args;
  if (!decode_tensor_map(map, args)) {
    runner.report(fmt::format("cp.async.bulk.tensor.{}d: {} holds no tensor map encoded by cuTensorMapEncodeTiled",
                              dims, map));
    return;
  }
  if (static_cast<int>(args.rank) != dims) {
    runner.report(fmt::format("cp.async.bulk.tensor.{}d on a tensor map of rank {}", dims, args.rank));
    return;
  }
  if (auto problem = runner.shared().check_range(dst, args.box_bytes(), 16); !problem.empty()) {
    runner.report("cp.async.bulk.tensor destination: " + problem);
    return;
  }
  if (!runner.mbarriers().find(bar)) {
    runner.report(fmt::format("cp.async.bulk.tensor completes on {}, which no mbarrier.init set up", runner.name_shared(bar)));
    return;
  }
  auto box = std::make_shared<TensorBox>(read_tensor_box(args, dst, coords, &is_device_readable));
  if (!box->problem.empty()) runner.report(box->problem);
  if (runner.counters())
    runner.counters()->add_global("cp.async.bulk.tensor (global read)", site_label(site.file_name(), site.line()),
                                  global_request_cost(box->global_reads), false);
  bool reported = false;
  for (unsigned chunk : box->chunk_offsets)
    if (auto problem = runner.async_proxy().on_tma_issued(chunk); !problem.empty() && !reported) {
      runner.report(problem);
      reported = true;
    }
  const int issuer = runner.thread();
  BlockRunner* block = &runner;
  runner.post_async([block, box, bar, issuer] {
    const unsigned long long phase = block->mbarriers().find(bar)->phase;
    for (std::size_t c = 0; c < box->chunk_offsets.size(); ++c) {
      write_tma_chunk(*block, box->chunk_offsets[c], box->chunks[c]);
      block->async_proxy().on_tma_landed(box->chunk_offsets[c], bar, phase);
    }
    bool completed = false;
    const std::string problem =
        block->mbarriers().complete_tx(bar, static_cast<unsigned>(box->bytes), completed, /*from_async_proxy=*/true);
    if (!problem.empty())
      block->report(fmt::format("TMA copy issued by thread {}: mbarrier {}: {}", issuer, block->name_shared(bar), problem));
    if (completed) block->wake_mbarrier_waiters(bar);
  });
}

void tma_prefetch_descriptor(const void* map) {
  TensorMapArguments args;
  if (!decode_tensor_map(map, args))
    BlockRunner::current().report(fmt::format("prefetch.tensormap: {} holds no encoded tensor map", map));
}

void fence_proxy_async() {
  BlockRunner& runner = BlockRunner::current();
  runner.async_proxy().on_fence_proxy_async(runner.thread());
}

void wgmma_fence() {
  LaneOperation mine;
  mine.op = WarpOp::WgmmaFence;
  BlockRunner::current().warp_collective(mine, &execute_nothing);
}

void wgmma_commit() {
  LaneOperation mine;
  mine.op = WarpOp::WgmmaCommit;
  BlockRunner::current().warp_collective(mine, &execute_wgmma_commit);
}

void wgmma_wait(int pending) {
  LaneOperation mine;
  mine.op = WarpOp::WgmmaWait;
  mine.pending = pending;
  BlockRunner::current().warp_collective(mine, &execute_wgmma_wait);
}

void wgmma_m64k16(float* d, int n, std::uint64_t desc_a, std::uint64_t desc_b, bool bf16, bool b_mn_major,
                  const Site& site) {
  LaneOperation mine;
  mine.site = site;
  mine.op = WarpOp::WgmmaMma;
  mine.d = d;
  mine.n = n;
  mine.desc_a = desc_a;
  mine.desc_b = desc_b;
  mine.bf16 = bf16;
  mine.b_mn_major = b_mn_major;
  BlockRunner::current().warpgroup_collective(mine, &execute_wgmma);
}

namespace {
struct GeneratedWgmma {
  int n = 0;
  bool bf16 = true, b_mn_major = false;
};
thread_local GeneratedWgmma t_generated;
}  // namespace

void set_generated_wgmma(int n, bool bf16, bool b_mn_major) { t_generated = {n, bf16, b_mn_major}; }

void wgmma_m64k16_generated(float* d, int registers, std::uint64_t desc_a, std::uint64_t desc_b, const Site& site) {
  if (t_generated.n == 0) {
    BlockRunner::current().report("wgmma_m64k16: no generated wgmma wrapper was set for this launch");
    return;
  }
  if (registers * 2 != t_generated.n) {
    BlockRunner::current().report(fmt::format("wgmma_m64k16: the kernel passes {} accumulators, the generated "
                                              "m64n{}k16 wrapper takes {}",
                                              registers, t_generated.n, t_generated.n / 2));
    return;
  }
  wgmma_m64k16(d, t_generated.n, desc_a, desc_b, t_generated.bf16, t_generated.b_mn_major, site);
}

void setmaxnreg(int registers, bool increase) {
  LaneOperation mine;
  mine.op = increase ? WarpOp::SetMaxNRegInc : WarpOp::SetMaxNRegDec;
  mine.n = registers;
  BlockRunner::current().warpgroup_collective(mine, &execute_setmaxnreg);
}

}  // namespace emu
