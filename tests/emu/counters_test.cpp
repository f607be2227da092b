// The emulator's memory-access counters (issue 14, item 5):
//  - AccessModel: the bank and sector model (AccessCounters.h) on patterns
//    whose cost is computed by hand in the comments;
//  - WarpRequestGrouping: per-thread accesses of small kernels grouped into
//    warp-level requests, whatever the fiber schedule;
//  - Sm80Counters: every configuration of gemm_sm80.cuh on full tiles of
//    dense tensors (N a multiple of 64), counted, written to
//    emu_counters.json (with a run with M, N and K tails, for reference), and
//    the targets checked: no bank conflict on the mainloop's ldmatrix reads
//    (for every configuration; the target names the default tiles, all four
//    of which are configurations), >= 90 % sector efficiency for the
//    epilogue's global stores (D and aux).
#include <gtest/gtest.h>

#include <fmt/format.h>

#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <set>

#include "GemmCase.h"
#include "emu_cuda.h"
#include "emulator/AccessCounters.h"
#include "emulator/DeviceMemory.h"
#include "emulator/Launch.h"
#include "tilefuse/ptx_sm80.cuh"

namespace emu {
namespace {

/// 32 lanes, lane l accessing `bytes` at address(l).
template <class Address>
std::vector<ByteRange> warp(unsigned bytes, Address address) {
  std::vector<ByteRange> lanes(32);
  for (unsigned l = 0; l < 32; ++l) lanes[l] = {static_cast<std::uint64_t>(address(l)), bytes};
  return lanes;
}

TEST(AccessModel, ColumnOfAFloatMatrixIs32WayConflict) {
  // Lane l reads float [l][0] of a 32x32 float matrix: 128-byte stride, every
  // lane in bank 0 with a different word: 32 passes where 1 is ideal.
  const SharedRequestCost cost = shared_request_cost(warp(4, [](unsigned l) { return l * 128; }), 32);
  EXPECT_EQ(cost.wavefronts, 32);
  EXPECT_EQ(cost.ideal_wavefronts, 1);
  EXPECT_EQ(cost.conflicts(), 31);
}

TEST(AccessModel, PaddedColumnAndBroadcastAreConflictFree) {
  // Row stride 33 floats: lane l's word is 33l, bank l % 32: all different.
  EXPECT_EQ(shared_request_cost(warp(4, [](unsigned l) { return l * 132; }), 32).wavefronts, 1);
  // Every lane reads the same word: one pass (broadcast).
  EXPECT_EQ(shared_request_cost(warp(4, [](unsigned) { return 256; }), 32).wavefronts, 1);
  // 16-bit accesses of consecutive halves: two lanes per word, 16 words, 1 pass.
  EXPECT_EQ(shared_request_cost(warp(2, [](unsigned l) { return l * 2; }), 32).wavefronts, 1);
  // Two lanes in bank 0 at different words (0 and 128): 2 passes.
  auto two = warp(4, [](unsigned l) { return l * 4; });
  two[1].address = 128;
  EXPECT_EQ(shared_request_cost(two, 32).wavefronts, 2);
}

TEST(AccessModel, Linear128BitAccessTakesFourWavefrontsWithoutConflict) {
  // 32 lanes x 16 bytes = 512 bytes: four quarter-warp phases of 128 bytes.
  const SharedRequestCost cost = shared_request_cost(warp(16, [](unsigned l) { return l * 16; }), 8);
  EXPECT_EQ(cost.wavefronts, 4);
  EXPECT_EQ(cost.ideal_wavefronts, 4);
  EXPECT_EQ(cost.conflicts(), 0);
  // Stride 32 bytes: in one phase lanes l and l + 4 share banks (256 bytes
  // span two 128-byte lines): 2 passes per phase.
  const SharedRequestCost strided = shared_request_cost(warp(16, [](unsigned l) { return l * 32; }), 8);
  EXPECT_EQ(strided.wavefronts, 8);
  EXPECT_EQ(strided.conflicts(), 4);
}

TEST(AccessModel, SixtyFourBitAccessesGoByHalfWarps) {
  EXPECT_EQ(lanes_per_phase_for_width(4), 32);
  EXPECT_EQ(lanes_per_phase_for_width(8), 16);
  EXPECT_EQ(lanes_per_phase_for_width(16), 8);
  // Linear: 2 phases of 128 bytes.
  EXPECT_EQ(shared_request_cost(warp(8, [](unsigned l) { return l * 8; }), 16).wavefronts, 2);
  // The epilogue staging store (gemm_sm80.cuh): lane = 4g + q writes floats
  // (g * stride + 2q, +1). Stride 72 (64 + 8 pad): g * 72 % 32 = 8g, so a
  // half-warp (g = 0..3) covers banks 0..31 once: 2 wavefronts.
  auto staging = [](int stride) {
    return warp(8, [stride](unsigned l) { return ((l / 4) * stride + 2 * (l % 4)) * 4; });
  };
  EXPECT_EQ(shared_request_cost(staging(72), 16).wavefronts, 2);
  // Without the pad (stride 64) the 4 rows of a half-warp hit the same 8
  // banks: 4 passes per phase, 8 in all, 6 conflicts.
  const SharedRequestCost unpadded = shared_request_cost(staging(64), 16);
  EXPECT_EQ(unpadded.wavefronts, 8);
  EXPECT_EQ(unpadded.conflicts(), 6);
}

/// ldmatrix.x4 row addresses of an A-like tile of 64-byte rows (4 chunks of
/// 16 bytes): lanes 0-15 rows 0-15 at chunk 0, lanes 16-31 the same rows at
/// chunk 1; `swizzle` maps (row, chunk) to the stored chunk.
template <class Swizzle>
std::vector<ByteRange> ldmatrix_rows_64_byte_tile(Swizzle swizzle) {
  return warp(16, [swizzle](unsigned l) {
    const unsigned row = l % 16, chunk = l / 16;
    return row * 64 + swizzle(row, chunk) * 16;
  });
}

TEST(AccessModel, LdmatrixOnUnswizzled64ByteRowsConflicts) {
  // Matrix j's 8 rows sit at r * 64 + c * 16: rows r and r + 2 share banks,
  // so each matrix's 8 rows need 4 passes: 16 wavefronts where 4 are ideal.
  const SharedRequestCost cost =
      shared_request_cost(ldmatrix_rows_64_byte_tile([](unsigned, unsigned chunk) { return chunk; }), 8);
  EXPECT_EQ(cost.wavefronts, 16);
  EXPECT_EQ(cost.ideal_wavefronts, 4);
  EXPECT_EQ(cost.conflicts(), 12);
}

TEST(AccessModel, LdmatrixOnSwizzled64ByteRowsIsConflictFree) {
  // gemm_sm80.cuh's swizzle for 4 chunks per row: chunk ^ ((row / 2) & 3).
  // Rows 2p, 2p + 1 fill the two halves of one 128-byte line, and the XOR
  // moves each pair of rows to a different 16-byte column: 8 distinct
  // 4-bank groups per matrix.
  const SharedRequestCost cost = shared_request_cost(
      ldmatrix_rows_64_byte_tile([](unsigned row, unsigned chunk) { return chunk ^ ((row / 2) & 3); }), 8);
  EXPECT_EQ(cost.wavefronts, 4);
  EXPECT_EQ(cost.conflicts(), 0);
}

TEST(AccessModel, GlobalSectorsPerRequest) {
  // 32 lanes x 4 bytes, 128-byte aligned: 4 sectors, all bytes used.
  GlobalRequestCost cost = global_request_cost(warp(4, [](unsigned l) { return 4096 + l * 4; }));
  EXPECT_EQ(cost.sectors, 4);
  EXPECT_EQ(cost.bytes, 128u);
  // Shifted by 16 bytes: the same 128 bytes straddle 5 sectors (80 %).
  cost = global_request_cost(warp(4, [](unsigned l) { return 4096 + 16 + l * 4; }));
  EXPECT_EQ(cost.sectors, 5);
  // One 2-byte element every 8 bytes (a scalar store per column of a 4-wide
  // bf16 vector): 256 bytes span 8 sectors, 64 bytes used (25 %).
  cost = global_request_cost(warp(2, [](unsigned l) { return 4096 + l * 8; }));
  EXPECT_EQ(cost.sectors, 8);
  EXPECT_EQ(cost.bytes, 64u);
  // Every lane stores the same 8 bytes: 1 sector, 8 distinct bytes.
  cost = global_request_cost(warp(8, [](unsigned) { return 4096 + 40; }));
  EXPECT_EQ(cost.sectors, 1);
  EXPECT_EQ(cost.bytes, 8u);
  // Lanes without bytes (a zero-filled cp.async) touch nothing.
  auto some = warp(16, [](unsigned l) { return 4096 + l * 16; });
  for (unsigned l = 8; l < 32; ++l) some[l].bytes = 0;
  cost = global_request_cost(some);
  EXPECT_EQ(cost.sectors, 4);
  EXPECT_EQ(cost.bytes, 128u);
  // Overlapping and nested ranges count their bytes and sectors once.
  std::vector<ByteRange> overlapping = {{4096, 16}, {4104, 16}, {4100, 4}, {4160, 8}};
  cost = global_request_cost(overlapping);
  EXPECT_EQ(cost.bytes, 32u);  // [4096, 4120) and [4160, 4168)
  EXPECT_EQ(cost.sectors, 2);  // sectors 128 and 130
}

TEST(AccessModel, TotalsAddUpPerInstructionAndSite) {
  AccessCounters counters;
  counters.add_shared("ld.shared.v4.f32", "k.cuh:1", {8, 4}, false);
  counters.add_shared("ld.shared.v4.f32", "k.cuh:2", {4, 4}, true);
  counters.add_global("st.global.b16", "k.cuh:3", {8, 64}, false);
  const AccessTotals shared = counters.instruction_totals(MemorySpace::Shared, "ld.shared.v4.f32");
  EXPECT_EQ(shared.requests, 2u);
  EXPECT_EQ(shared.partial_requests, 1u);
  EXPECT_EQ(shared.wavefronts, 12u);
  EXPECT_EQ(shared.conflicts(), 4u);
  EXPECT_EQ(shared.max_request_wavefronts, 8u);
  const AccessTotals global = counters.instruction_totals(MemorySpace::Global, "st.global.b16");
  EXPECT_DOUBLE_EQ(global.sector_efficiency(), 0.25);
  const nlohmann::json rows = counters.to_json();
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0]["site"], "k.cuh:1");  // shared first, then by instruction and site
  EXPECT_EQ(rows[0]["conflicts"], 4);
  EXPECT_EQ(rows[2]["space"], "global");
  EXPECT_EQ(rows[2]["sectors"], 8);
}

/// Two warps, 1 KiB of shared memory, counted.
struct CountedBlock {
  alignas(128) std::uint8_t shared[1024 + 256];
  AccessCounters counters;
  std::vector<std::string> run(const std::function<void()>& body, SchedulePolicy schedule, std::uint64_t seed) {
    LaunchConfig config;
    config.threads_per_block = 64;
    config.shared = shared;
    config.shared_bytes = 1024;
    config.shared_capacity = sizeof shared;
    config.schedule = schedule;
    config.seed = seed;
    config.counters = &counters;
    return launch(config, body);
  }
};

TEST(WarpRequestGrouping, LanesOfOneInstructionFormOneRequestUnderEverySchedule) {
  // A launch buffer: the emulated st.global refuses stores outside every one.
  static GuardedBuffer storage(64 * 4 * sizeof(float));
  static float* const global = static_cast<float*>(storage.data());
  for (auto [schedule, seed] : {std::pair{SchedulePolicy::RandomThreads, 1},
                                std::pair{SchedulePolicy::RandomThreads, 5},
                                std::pair{SchedulePolicy::GreedyWarps, 3}}) {
    CountedBlock block;
    const auto violations = block.run(
        [&block] {
          const unsigned t = threadIdx.x, lane = t % 32, base = tf::shared_address(block.shared) + (t / 32) * 512;
          // Two executions of one site: two requests per warp, 2 wavefronts each.
          for (int i = 0; i < 2; ++i) tf::st_shared_f32x2(base + lane * 8 + i * 256, 1.0f, 2.0f);
          __syncwarp();
          // Lanes 16-31 stop after 2 of 3 iterations (as lanes past a tail):
          // 3 requests, the last with 16 lanes (partial).
          for (int it = 0; it < 3; ++it) {
            if (lane >= 16 && it == 2) break;
            (void)tf::ld_shared_f32x4(base + (lane % 16) * 16 + (it % 2) * 256);
          }
          // One float every 32 bytes: a sector per lane, 4 of its 32 bytes used.
          tf::st_global(&global[lane * 8 + (t / 32)], 1.0f);
        },
        schedule, static_cast<std::uint64_t>(seed));
    EXPECT_TRUE(violations.empty()) << violations.front();
    const AccessTotals st = block.counters.instruction_totals(MemorySpace::Shared, "st.shared.v2.f32");
    EXPECT_EQ(st.requests, 4u);  // 2 warps x 2
    EXPECT_EQ(st.wavefronts, 8u);
    EXPECT_EQ(st.conflicts(), 0u);
    EXPECT_EQ(st.partial_requests, 0u);
    const AccessTotals ld = block.counters.instruction_totals(MemorySpace::Shared, "ld.shared.v4.f32");
    EXPECT_EQ(ld.requests, 6u);
    EXPECT_EQ(ld.partial_requests, 2u);
    // Full requests: lanes l and l + 16 read the same 16 bytes; 4 phases,
    // phases 0/2 and 1/3 read the same 128 bytes, so 4 wavefronts, no
    // conflict. Partial ones: lanes 0-15, 2 phases.
    EXPECT_EQ(ld.wavefronts, 2u * (4 + 4) + 2u * 2);
    EXPECT_EQ(ld.conflicts(), 0u);
    const AccessTotals stores = block.counters.instruction_totals(MemorySpace::Global, "st.global.b32");
    EXPECT_EQ(stores.requests, 2u);
    EXPECT_EQ(stores.sectors, 64u);  // 32 lanes 32 bytes apart: one sector each, per warp
    EXPECT_DOUBLE_EQ(stores.sector_efficiency(), 4.0 / 32);
  }
}

TEST(WarpRequestGrouping, ASkippedInstructionDoesNotShiftTheRequestsAfterASynchronizingPoint) {
  static GuardedBuffer storage(64 * 2 * sizeof(float2));
  static float2* const global = static_cast<float2*>(storage.data());
  CountedBlock block;
  const auto violations = block.run(
      [] {
        const unsigned t = threadIdx.x, lane = t % 32;
        float2* mine = global + (t / 32) * 64;
        // Round 0: lanes 0-15 store 8 bytes every 16 (16 lanes x 16 bytes:
        // 8 sectors, 128 bytes); round 1: all 32 lanes store contiguously (8
        // sectors, 256 bytes). Grouped by execution count alone, lanes 16-31's
        // round-1 store would join lanes 0-15's round-0 request (12 sectors).
        for (int round = 0; round < 2; ++round) {
          if (lane < 16 || round == 1) tf::st_global(&mine[round == 0 ? 2 * lane : lane], float2{1.0f, 2.0f});
          __syncwarp();
        }
      },
      SchedulePolicy::GreedyWarps, 11);
  EXPECT_TRUE(violations.empty()) << violations.front();
  const AccessTotals stores = block.counters.instruction_totals(MemorySpace::Global, "st.global.v2.b32");
  EXPECT_EQ(stores.requests, 4u);  // 2 warps x 2 rounds
  EXPECT_EQ(stores.partial_requests, 2u);
  EXPECT_EQ(stores.sectors, 2u * (8 + 8));
  EXPECT_EQ(stores.bytes, 2u * (128 + 256));
}

// ---- the sm80 template's configurations -------------------------------------

/// The default tiles of the sm_80 target (compiler/Target/TargetInfo.cpp:
/// 128x128x32, 64x64 warps, 3 stages, narrowed to 64 on a side the problem
/// does not fill).
bool is_default_tile(const GemmVariant& v) {
  const bool narrow_m = v.block_m == 64 && v.warp_m == 32, wide_m = v.block_m == 128 && v.warp_m == 64;
  const bool narrow_n = v.block_n == 64 && v.warp_n == 32, wide_n = v.block_n == 128 && v.warp_n == 64;
  return (narrow_m || wide_m) && (narrow_n || wide_n) && v.block_k == 32 && v.stages == 3;
}

/// Two block rows and columns of full tiles, K over stages + 1 k-tiles, dense.
CaseShape full_tiles(const GemmVariant& v) {
  CaseShape s;
  s.m = 2 * v.block_m;
  s.n = 2 * v.block_n;
  s.k = (v.stages + 1) * v.block_k;
  s.packed = true;
  return s;
}

/// M, N and K tails (reported, no target): N rounded up to the gate/up
/// interleave block, as the host requires.
CaseShape tails(const GemmVariant& v) {
  CaseShape s{200, 136, 104};
  if (v.gated && v.gate_interleave > 0) s.n = (s.n + v.gate_interleave - 1) / v.gate_interleave * v.gate_interleave;
  s.packed = true;
  return s;
}

bool is_ldmatrix(const std::string& instruction) { return instruction.starts_with("ldmatrix"); }
bool is_global_store(const std::string& instruction) { return instruction.starts_with("st.global"); }

nlohmann::json run_counted(const GemmVariant& v, const CaseShape& shape, const char* label, AccessCounters& counters) {
  RunOptions options;
  options.counters = &counters;
  const CaseOutcome outcome = run_gemm_case(v, shape, options);
  std::string report;
  for (const std::string& failure : outcome.failures) report += "\n  " + failure;
  EXPECT_TRUE(outcome.failures.empty()) << v.name << " " << label << ":" << report;
  return {{"shape", label},
          {"m", shape.m},
          {"n", shape.n},
          {"k", shape.k},
          {"summary", counters.summary_json()},
          {"per_site", counters.to_json()}};
}

TEST(Sm80Counters, TargetsOnFullTilesAndReportWritten) {
  nlohmann::json configurations = nlohmann::json::array();
  std::set<std::pair<int, int>> default_tiles;  // block_m, block_n
  for (const GemmVariant& v : registered_variants()) {
    if (v.grouped) continue;  // same mainloop and epilogue stores; its cases need group sizes
    AccessCounters full, tail;
    nlohmann::json entry = {
        {"name", v.name},
        {"tile", fmt::format("{}x{}x{}, warp {}x{}, {} stages", v.block_m, v.block_n, v.block_k, v.warp_m, v.warp_n,
                             v.stages)},
        {"default_tile", is_default_tile(v)},
        {"b_layout", v.b_col_major ? "col-major (N x K)" : "row-major (K x N)"},
        {"gated", v.gated},
        {"backward", v.backward},
        {"out_bytes", v.out_bytes},
        {"runs", {run_counted(v, full_tiles(v), "full_tiles", full), run_counted(v, tails(v), "tails", tail)}}};
    configurations.push_back(entry);
    if (is_default_tile(v)) default_tiles.insert({v.block_m, v.block_n});

    // Full tiles: every lane takes part in every request (the grouping of
    // per-thread accesses into warp requests is then exact, WarpRequestGrouper).
    for (const auto& [key, t] : full.totals())
      EXPECT_EQ(t.partial_requests, 0u) << v.name << ": " << key.instruction << " at " << key.site;
    bool saw_ldmatrix = false, saw_store = false;
    for (const auto& [key, t] : full.totals()) {
      // The target is for the default tiles; every configuration is held to
      // it (the swizzle is meant to work for all of them).
      if (is_ldmatrix(key.instruction)) {
        saw_ldmatrix = true;
        EXPECT_EQ(t.conflicts(), 0u) << v.name << (is_default_tile(v) ? " (a default tile)" : "") << ": "
                                     << key.instruction << " at " << key.site << ": " << t.wavefronts
                                     << " wavefronts for " << t.requests << " requests";
      }
      if (is_global_store(key.instruction)) {
        saw_store = true;
        EXPECT_GE(t.sector_efficiency(), 0.9) << v.name << ": " << key.instruction << " at " << key.site << ": "
                                              << t.bytes << " bytes in " << t.sectors << " sectors";
      }
    }
    EXPECT_TRUE(saw_ldmatrix && saw_store) << v.name << ": the counters saw no ldmatrix or no global store";
  }
  EXPECT_EQ(default_tiles, (std::set<std::pair<int, int>>{{64, 64}, {64, 128}, {128, 64}, {128, 128}}))
      << "every default tile of the sm_80 target must be among the configurations (variants/Variants.cmake)";

  const nlohmann::json report = {
      {"description",
       "gemm_sm80.cuh under the CPU emulator (tests/emu): per configuration and run, per instruction (summary) "
       "and per instruction and call site (per_site): warp-level requests, shared-memory wavefronts (conflicts = "
       "wavefronts beyond one per 128-byte phase) and 32-byte global sectors (efficiency = bytes used / "
       "(sectors x 32)); model in tests/emu/emulator/AccessCounters.h"},
      {"configurations", configurations}};
  std::ofstream out(TILEFUSE_EMU_COUNTERS_JSON);
  out << report.dump(1) << "\n";
  EXPECT_TRUE(out.good()) << "could not write " << TILEFUSE_EMU_COUNTERS_JSON;
  std::cout << "counters written to " << TILEFUSE_EMU_COUNTERS_JSON << "\n";
}

}  // namespace
}  // namespace emu
