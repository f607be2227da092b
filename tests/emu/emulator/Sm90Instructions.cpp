// The sm_90 instruction hooks declared in emu_cuda.h (mbarrier, TMA, wgmma,
// fences, setmaxnreg), run against the block BlockRunner is executing. The
// PTX semantics live in Mbarrier.h, TensorMap.h and Wgmma.h; this file adds
// the timing (TMA completing later, wgmma retiring at wgmma.wait_group) and
// the hazard checks (AsyncProxy.h).
//
// Every shared-memory access of the async proxy goes through one function:
// write_tma_chunk (a TMA copy's bytes landing) and read_wgmma_operand (one
// operand element of a wgmma: 2 bytes, or 1 for FP8). The counters (AccessCounters.h) count
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

constexpr int kWgmmaM = 64;
constexpr int kRegisterFile = 65536;

void write_tma_chunk(BlockRunner& runner, unsigned offset, const std::array<std::uint8_t, 16>& bytes) {
  std::memcpy(runner.shared().base() + offset, bytes.data(), 16);
}

double read_wgmma_operand(BlockRunner& runner, unsigned address, WgmmaOperand type) {
  return operand_value(runner.shared().base() + address, type);
}

void report_barrier_problem(BlockRunner& runner, const std::string& problem, unsigned bar) {
  if (!problem.empty()) runner.report(fmt::format("mbarrier {}: {}", runner.name_shared(bar), problem));
}

/// The addresses a wgmma reads: A (64 x K, K-major) then B (N x K), K = 16
/// (16-bit operands) or 32 (FP8): 32 bytes of K either way.
struct WgmmaAddresses {
  int k = 16;
  std::vector<unsigned> a, b;  // a[r * k + kk], b[n * k + kk]
};
WgmmaAddresses wgmma_addresses(const WgmmaOperation& op) {
  WgmmaAddresses out;
  out.k = wgmma_k(op.a_type);
  const unsigned bytes = operand_bytes(op.a_type);
  const MatrixDescriptor da = MatrixDescriptor::decode(op.desc_a), db = MatrixDescriptor::decode(op.desc_b);
  out.a.resize(static_cast<std::size_t>(kWgmmaM) * out.k);
  out.b.resize(static_cast<std::size_t>(op.n) * out.k);
  for (int r = 0; r < kWgmmaM; ++r)
    for (int k = 0; k < out.k; ++k) out.a[r * out.k + k] = operand_address(da, false, r, k, bytes);
  for (int n = 0; n < op.n; ++n)
    for (int k = 0; k < out.k; ++k) out.b[n * out.k + k] = operand_address(db, op.b_mn_major, n, k, bytes);
  return out;
}

/// The addresses of `addresses` (mn x k elements) as 16-bit units: FP8 rows
/// of 32 bytes are 16 units of two elements, the layout the core-matrix
/// model counts (an 8x8 core matrix of 16-bit elements = 8 rows of 16 bytes).
std::vector<unsigned> as_16bit_units(const std::vector<unsigned>& addresses, int k) {
  if (k == 16) return addresses;
  std::vector<unsigned> units;
  units.reserve(addresses.size() / 2);
  for (std::size_t i = 0; i < addresses.size(); i += 2) units.push_back(addresses[i]);
  return units;
}

/// The shared-memory wavefronts of a wgmma's operand reads: A (64 rows x 32
/// bytes) and B (N x 32 bytes), one request each.
void count_wgmma_operands(BlockRunner& runner, const WgmmaOperation& op, const WgmmaAddresses& at) {
  const std::string site = site_label(op.site.file_name(), op.site.line());
  constexpr int kUnitsOfK = 16;  // 32 bytes of K in 16-bit units
  runner.counters()->add_shared("wgmma.mma_async A (shared read)", site,
                                core_matrix_request_cost(as_16bit_units(at.a, at.k), kWgmmaM, kUnitsOfK), false);
  runner.counters()->add_shared("wgmma.mma_async B (shared read)", site,
                                core_matrix_request_cost(as_16bit_units(at.b, at.k), op.n, kUnitsOfK), false);
}

/// Computes a wgmma (its operands as shared memory holds them now) into the
/// accumulators of all 128 lanes and ends its reads.
void retire(BlockRunner& runner, WgmmaOperation& op) {
  if (op.retired) return;
  op.retired = true;
  const WgmmaAddresses at = wgmma_addresses(op);
  if (runner.counters()) count_wgmma_operands(runner, op, at);
  std::vector<double> a(at.a.size()), b(at.b.size());
  for (std::size_t i = 0; i < a.size(); ++i) a[i] = read_wgmma_operand(runner, at.a[i], op.a_type);
  for (std::size_t i = 0; i < b.size(); ++i) b[i] = read_wgmma_operand(runner, at.b[i], op.b_type);
  // Exact products and sum in float64 (FP8 and 16-bit products are exact in
  // it), rounded to fp32 once per instruction; scale-d 0 drops d.
  const int kk = at.k;
  for (int lane = 0; lane < kWarpgroupSize; ++lane) {
    const int warp = lane / kWarpSize, g = (lane % kWarpSize) / 4, t = lane % 4;
    float* d = op.d[lane];
    for (int j = 0; j < op.n / 8; ++j)
      for (int e = 0; e < 4; ++e) {
        const int row = 16 * warp + g + (e >= 2 ? 8 : 0), col = 8 * j + 2 * t + (e % 2);
        double sum = op.accumulate ? d[4 * j + e] : 0.0;
        for (int k = 0; k < kk; ++k) sum += a[row * kk + k] * b[col * kk + k];
        d[4 * j + e] = static_cast<float>(sum);
      }
  }
  for (unsigned chunk : op.chunks_read) runner.async_proxy().on_wgmma_retired(chunk);
}

bool execute_wgmma(const WarpgroupLanes& lanes, int warpgroup) {
  BlockRunner& runner = BlockRunner::current();
  const LaneOperation& first = *lanes[0];
  for (int l = 1; l < kWarpgroupSize; ++l)
    if (lanes[l]->desc_a != first.desc_a || lanes[l]->desc_b != first.desc_b || lanes[l]->n != first.n ||
        lanes[l]->accumulate != first.accumulate) {
      runner.report(fmt::format("wgmma.mma_async of warpgroup {}: thread {} passes other descriptors, N or scale-d "
                                "than thread 0 (they must be uniform)",
                                warpgroup, l));
      return true;
    }
  const int k = wgmma_k(first.a_type);
  if (first.n < 8 || first.n > 256 || first.n % 8 != 0) {
    runner.report(fmt::format("wgmma.mma_async m64n{}k{}: N must be a multiple of 8 in 8..256", first.n, k));
    return true;
  }
  if (operand_bytes(first.a_type) != operand_bytes(first.b_type) ||
      (operand_bytes(first.a_type) == 2 && first.a_type != first.b_type)) {
    runner.report(fmt::format("wgmma.mma_async .{}.{}: no such instruction (16-bit operands have one type; FP8 "
                              "mixes e4m3 and e5m2 only)",
                              to_string(first.a_type), to_string(first.b_type)));
    return true;
  }
  if (k == 32 && first.b_mn_major) {
    runner.report("wgmma.mma_async with FP8 operands: B must be K-major (the PTX ISA has no transpose for .e4m3/.e5m2)");
    return true;
  }
  auto op = std::make_shared<WgmmaOperation>();
  op->desc_a = first.desc_a;
  op->desc_b = first.desc_b;
  op->n = first.n;
  op->a_type = first.a_type;
  op->b_type = first.b_type;
  op->b_mn_major = first.b_mn_major;
  op->accumulate = first.accumulate;
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
      const unsigned bytes = operand_bytes(op->a_type);
      if (auto problem = runner.shared().check_range(address, bytes, bytes); !problem.empty()) {
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

namespace {
void issue_wgmma(float* d, int n, std::uint64_t desc_a, std::uint64_t desc_b, WgmmaOperand a_type,
                 WgmmaOperand b_type, bool b_mn_major, bool accumulate, const Site& site) {
  LaneOperation mine;
  mine.site = site;
  mine.op = WarpOp::WgmmaMma;
  mine.d = d;
  mine.n = n;
  mine.desc_a = desc_a;
  mine.desc_b = desc_b;
  mine.a_type = a_type;
  mine.b_type = b_type;
  mine.b_mn_major = b_mn_major;
  mine.accumulate = accumulate;
  BlockRunner::current().warpgroup_collective(mine, &execute_wgmma);
}
}  // namespace

void wgmma_m64k16(float* d, int n, std::uint64_t desc_a, std::uint64_t desc_b, bool bf16, bool b_mn_major,
                  const Site& site) {
  const WgmmaOperand type = bf16 ? WgmmaOperand::BF16 : WgmmaOperand::F16;
  issue_wgmma(d, n, desc_a, desc_b, type, type, b_mn_major, true, site);
}

void wgmma_m64k32_fp8(float* d, int n, std::uint64_t desc_a, std::uint64_t desc_b, bool b_e5m2, bool accumulate,
                      const Site& site) {
  issue_wgmma(d, n, desc_a, desc_b, WgmmaOperand::E4M3, b_e5m2 ? WgmmaOperand::E5M2 : WgmmaOperand::E4M3, false,
              accumulate, site);
}

namespace {
thread_local GeneratedWgmma t_generated;

/// Whether the kernel's call fits the wrapper the host generated (reported if not).
bool matches_generated(int registers, int k) {
  if (t_generated.n == 0) {
    BlockRunner::current().report(fmt::format("wgmma_m64k{}: no generated wgmma wrapper was set for this launch", k));
    return false;
  }
  if (wgmma_k(t_generated.a_type) != k) {
    BlockRunner::current().report(fmt::format("the kernel calls wgmma_m64k{}, but the generated wrapper is "
                                              "m64n{}k{}.f32.{}.{}",
                                              k, t_generated.n, wgmma_k(t_generated.a_type),
                                              to_string(t_generated.a_type), to_string(t_generated.b_type)));
    return false;
  }
  if (registers * 2 != t_generated.n) {
    BlockRunner::current().report(fmt::format("wgmma_m64k{}: the kernel passes {} accumulators, the generated "
                                              "m64n{}k{} wrapper takes {}",
                                              k, registers, t_generated.n, k, t_generated.n / 2));
    return false;
  }
  return true;
}
}  // namespace

void set_generated_wgmma(const GeneratedWgmma& wrapper) { t_generated = wrapper; }

void wgmma_m64k16_generated(float* d, int registers, std::uint64_t desc_a, std::uint64_t desc_b, const Site& site) {
  if (!matches_generated(registers, 16)) return;
  issue_wgmma(d, t_generated.n, desc_a, desc_b, t_generated.a_type, t_generated.b_type, t_generated.b_mn_major, true,
              site);
}

void wgmma_m64k32_generated(float* d, int registers, std::uint64_t desc_a, std::uint64_t desc_b, bool accumulate,
                            const Site& site) {
  if (!matches_generated(registers, 32)) return;
  issue_wgmma(d, t_generated.n, desc_a, desc_b, t_generated.a_type, t_generated.b_type, t_generated.b_mn_major,
              accumulate, site);
}

void setmaxnreg(int registers, bool increase) {
  LaneOperation mine;
  mine.op = increase ? WarpOp::SetMaxNRegInc : WarpOp::SetMaxNRegDec;
  mine.n = registers;
  BlockRunner::current().warpgroup_collective(mine, &execute_setmaxnreg);
}

}  // namespace emu
