// The memory-access counters of the sm_90a emulation (issue 14, item 5):
//  - Sm90AccessModel: the wgmma operand model (core_matrix_request_cost,
//    AccessCounters.h) on the shared-memory layouts the kernel's descriptors
//    describe, for every default tile, and on layouts that must conflict;
//    the global sectors of TMA boxes, partly out of bounds;
//  - Sm90Counters: every configuration of gemm_sm90.cuh on full tiles of
//    dense tensors (N a multiple of 64), counted, written to
//    emu_counters_sm90.json (with a run with M, N and K tails, for
//    reference), and the targets checked: no bank conflict on the mainloop's
//    shared-memory reads (wgmma operands), >= 90 % sector efficiency for the
//    epilogue's global stores, and every epilogue request (st/ld.shared
//    staging, st.global) made by all 32 lanes, its staging conflict-free.
#include <gtest/gtest.h>

#include <fmt/format.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <tuple>

#include "GemmCase.h"
#include "emu_cuda.h"
#include "emulator/AccessCounters.h"
#include "emulator/TensorMap.h"
#include "emulator/Wgmma.h"
#include "tilefuse/ptx_sm90.cuh"

namespace emu {
namespace {

constexpr int kK = 16;  // K of one wgmma

/// Element addresses of a wgmma operand of `mn` rows (A) or columns (B) x 16
/// K, read through `desc` (AccessCounters.h: core_matrix_request_cost).
std::vector<unsigned> operand_addresses(std::uint64_t desc, bool mn_major, int mn) {
  const MatrixDescriptor d = MatrixDescriptor::decode(desc);
  std::vector<unsigned> addresses;
  for (int r = 0; r < mn; ++r)
    for (int k = 0; k < kK; ++k)
      addresses.push_back(operand_address(d, mn_major, static_cast<unsigned>(r), static_cast<unsigned>(k)));
  return addresses;
}

TEST(Sm90AccessModel, KernelOperandLayoutsAreConflictFreeForEveryDefaultTile) {
  // The descriptors gemm_sm90.cuh builds (tf::sm90::smem_descriptor is the
  // production function, copied at configure time), for the default sm_90a
  // tiles (compiler/Target/TargetInfo.cpp: 128x128 ping-pong, narrowed to 64
  // rows and/or 64 columns): A K-major (the consumer's mi-th 64-row block,
  // k-step ks advancing 32 bytes in the 128-byte swizzled row), B K-major
  // (column-major B) or N-major (row-major B: 64-column blocks of
  // 64 K x 128 bytes).
  constexpr unsigned kStage = 2048;  // a 1024-aligned stage
  for (const auto& [block_m, block_n] : {std::pair{128, 128}, {64, 128}, {128, 64}, {64, 64}}) {
    const unsigned a = kStage, b = kStage + static_cast<unsigned>(block_m) * 64 * 2;
    for (int ks = 0; ks < 4; ++ks) {
      for (int mi = 0; mi < block_m / 64; ++mi) {
        const std::uint64_t desc = tf::sm90::smem_descriptor(a + mi * 64 * 128 + ks * 32, 16, 1024);
        const SharedRequestCost cost = core_matrix_request_cost(operand_addresses(desc, false, 64), 64, kK);
        EXPECT_EQ(cost.wavefronts, 16) << block_m << "x" << block_n << " A mi " << mi << " ks " << ks;
        EXPECT_EQ(cost.conflicts(), 0);
      }
      for (bool b_col_major : {true, false}) {
        const std::uint64_t desc = b_col_major ? tf::sm90::smem_descriptor(b + ks * 32, 16, 1024)
                                               : tf::sm90::smem_descriptor(b + ks * 16 * 128, 64 * 128, 1024);
        const SharedRequestCost cost =
            core_matrix_request_cost(operand_addresses(desc, !b_col_major, block_n), block_n, kK);
        EXPECT_EQ(cost.wavefronts, block_n / 8 * 2) << block_m << "x" << block_n << " B ks " << ks
                                                     << (b_col_major ? " K-major" : " N-major");
        EXPECT_EQ(cost.conflicts(), 0);
      }
    }
  }
}

TEST(Sm90AccessModel, UnswizzledRowsOf128BytesConflict) {
  // The A tile as plain 128-byte rows (a 64-element-wide box written with
  // SWIZZLE_NONE and read without the XOR): a core matrix's 8 rows are 128
  // bytes apart, all in the same 4 banks: 8 wavefronts each, 7 of them
  // conflicts, 16 core matrices.
  std::vector<unsigned> rows;
  for (unsigned r = 0; r < 64; ++r)
    for (unsigned k = 0; k < kK; ++k) rows.push_back(2048 + r * 128 + k * 2);
  const SharedRequestCost cost = core_matrix_request_cost(rows, 64, kK);
  EXPECT_EQ(cost.wavefronts, 128);
  EXPECT_EQ(cost.ideal_wavefronts, 16);
  EXPECT_EQ(cost.conflicts(), 112);
  // The same rows through the 128B swizzle (Swizzle<3,4,3>): conflict-free.
  for (unsigned& address : rows) address = swizzle_address(address, CU_TENSOR_MAP_SWIZZLE_128B);
  EXPECT_EQ(core_matrix_request_cost(rows, 64, kK).conflicts(), 0);
}

TEST(Sm90AccessModel, CanonicalUnswizzledCoreMatricesAreConflictFree) {
  // SWIZZLE_NONE's canonical K-major layout stores each core matrix as 128
  // contiguous bytes (rows 16 bytes apart; LBO between the two K halves, SBO
  // between 8-row groups): one wavefront per core matrix. (Its cost on the
  // GPU is elsewhere: TMA boxes 16 bytes wide.)
  MatrixDescriptor none;
  none.start = 2048;
  none.leading = 128;
  none.stride = 256;
  std::vector<unsigned> addresses;
  for (unsigned r = 0; r < 64; ++r)
    for (unsigned k = 0; k < kK; ++k) addresses.push_back(operand_address(none, false, r, k));
  const SharedRequestCost cost = core_matrix_request_cost(addresses, 64, kK);
  EXPECT_EQ(cost.wavefronts, 16);
  EXPECT_EQ(cost.conflicts(), 0);
}

TEST(Sm90AccessModel, TmaBoxSectorsCountOnlyInBoundsBytes) {
  // A 10 x 100 bf16 tensor with 256-byte rows, box 64 x 8.
  alignas(256) static std::uint16_t data[10 * 128] = {};
  CUtensorMap map;
  const cuuint64_t dims[2] = {100, 10}, strides[1] = {256};
  const cuuint32_t box[2] = {64, 8}, unit[2] = {1, 1};
  ASSERT_EQ(fake_encode_tiled(&map, CU_TENSOR_MAP_DATA_TYPE_BFLOAT16, 2, data, dims, strides, box, unit,
                              CU_TENSOR_MAP_INTERLEAVE_NONE, CU_TENSOR_MAP_SWIZZLE_128B,
                              CU_TENSOR_MAP_L2_PROMOTION_NONE, CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE),
            CUDA_SUCCESS)
      << last_encode_error();
  TensorMapArguments args;
  ASSERT_TRUE(decode_tensor_map(&map, args));
  auto readable = [](const void*, std::size_t) { return true; };
  // In bounds: 8 rows x 128 bytes, 128-byte aligned: 4 sectors a row, all used.
  const TensorBox inside = read_tensor_box(args, 0, {0, 0}, readable);
  GlobalRequestCost cost = global_request_cost(inside.global_reads);
  EXPECT_EQ(cost.sectors, 32);
  EXPECT_EQ(cost.bytes, 1024u);
  // At (64, 4): columns 64..99 (72 bytes at row offset 128: sectors 4..6) of
  // rows 4..9; the rest of the box is zero-filled, not read.
  const TensorBox corner = read_tensor_box(args, 0, {64, 4}, readable);
  cost = global_request_cost(corner.global_reads);
  EXPECT_EQ(cost.sectors, 6 * 3);
  EXPECT_EQ(cost.bytes, 6u * 72);
  EXPECT_EQ(corner.bytes, 1024u);  // the transaction still counts the whole box
  // Entirely out of bounds: nothing read.
  EXPECT_EQ(global_request_cost(read_tensor_box(args, 0, {128, 0}, readable).global_reads).sectors, 0);
}

// ---- the sm_90a template's configurations -------------------------------------

/// The default sm_90a tiles (compiler/Target/TargetInfo.cpp): ping-pong
/// (block_m == warp_m), 64 or 128 rows and columns, block_k 64. The default
/// has 4 stages; the emulated narrow tiles have 3 (the number of stages moves
/// a stage's base by multiples of 1024 bytes and changes no request).
bool is_default_tile(const GemmVariant& v) {
  auto side = [](int x) { return x == 64 || x == 128; };
  return v.block_m == v.warp_m && side(v.block_m) && side(v.block_n) && v.warp_n == v.block_n && v.block_k == 64;
}

/// Two block rows and columns of full tiles, K over stages + 1 k-tiles (the
/// ring wraps), dense.
CaseShape full_tiles(const GemmVariant& v) {
  CaseShape s;
  s.m = 2 * v.block_m;
  s.n = 2 * v.block_n;
  s.k = (v.stages + 1) * v.block_k;
  s.packed = true;
  return s;
}

/// M, N and K tails (reported, no target).
CaseShape tails(const GemmVariant& v) {
  CaseShape s{200, 136, 104};
  if (v.gated && v.gate_interleave > 0) s.n = (s.n + v.gate_interleave - 1) / v.gate_interleave * v.gate_interleave;
  s.packed = true;
  return s;
}

bool is_wgmma_read(const std::string& instruction) { return instruction.starts_with("wgmma.mma_async"); }
bool is_tma(const std::string& instruction) { return instruction.starts_with("cp.async.bulk.tensor"); }
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

TEST(Sm90Counters, TargetsOnFullTilesAndReportWritten) {
  if (!std::string(TILEFUSE_EMU_SM90_ONLY).empty()) GTEST_SKIP() << "built with a subset of the sm_90a variants";
  nlohmann::json configurations = nlohmann::json::array();
  std::set<std::pair<int, int>> default_tiles;  // block_m, block_n
  for (const GemmVariant& v : registered_variants()) {
    if (v.grouped) continue;  // same mainloop and epilogue stores; its cases need group sizes
    AccessCounters full, tail;
    nlohmann::json entry = {
        {"name", v.name},
        {"tile", fmt::format("{}x{}x{}, warpgroup {}x{}, {} stages, {}", v.block_m, v.block_n, v.block_k, v.warp_m,
                             v.warp_n, v.stages, v.block_m == v.warp_m ? "ping-pong" : "cooperative")},
        {"default_tile", is_default_tile(v)},
        {"b_layout", v.b_col_major ? "col-major (N x K)" : "row-major (K x N)"},
        {"gated", v.gated},
        {"gate_interleave", v.gate_interleave},
        {"out_bytes", v.out_bytes},
        {"runs", {run_counted(v, full_tiles(v), "full_tiles", full), run_counted(v, tails(v), "tails", tail)}}};
    configurations.push_back(entry);
    if (is_default_tile(v)) default_tiles.insert({v.block_m, v.block_n});

    // Full tiles: every lane of every epilogue request takes part
    // (WarpRequestGrouper); wgmma and TMA requests are never partial.
    for (const auto& [key, t] : full.totals())
      EXPECT_EQ(t.partial_requests, 0u) << v.name << ": " << key.instruction << " at " << key.site;
    std::set<std::string> seen;
    for (const auto& [key, t] : full.totals()) {
      seen.insert(is_global_store(key.instruction) ? "st.global" : key.instruction);
      // The target names the default tiles; every configuration is held to
      // it (the 128-byte swizzle is meant to work for all of them).
      if (is_wgmma_read(key.instruction))
        EXPECT_EQ(t.conflicts(), 0u) << v.name << (is_default_tile(v) ? " (a default tile)" : "") << ": "
                                     << key.instruction << " at " << key.site << ": " << t.wavefronts
                                     << " wavefronts for " << t.requests << " requests";
      // Not an issue target: the epilogue staging's row pad (kEpiStride in
      // gemm_sm90.cuh) exists to keep these conflict-free.
      if (key.instruction == "st.shared.v2.f32" || key.instruction == "ld.shared.v4.f32")
        EXPECT_EQ(t.conflicts(), 0u) << v.name << ": epilogue staging " << key.instruction << " at " << key.site
                                     << ": " << t.wavefronts << " wavefronts for " << t.requests << " requests";
      if (is_global_store(key.instruction))
        EXPECT_GE(t.sector_efficiency(), 0.9) << v.name << ": " << key.instruction << " at " << key.site << ": "
                                              << t.bytes << " bytes in " << t.sectors << " sectors";
    }
    for (const char* expected : {"wgmma.mma_async A (shared read)", "wgmma.mma_async B (shared read)",
                                 "cp.async.bulk.tensor (global read)", "st.shared.v2.f32", "ld.shared.v4.f32",
                                 "st.global"})
      EXPECT_TRUE(seen.contains(expected)) << v.name << ": the counters saw no " << expected;
  }
  // 128x64 ping-pong is not among the emulated configurations (each costs CI
  // build time); its operand layouts are checked by
  // Sm90AccessModel.KernelOperandLayoutsAreConflictFreeForEveryDefaultTile.
  EXPECT_EQ(default_tiles, (std::set<std::pair<int, int>>{{64, 64}, {64, 128}, {128, 128}}))
      << "the default sm_90a tiles emulated (variants/Sm90Variants.cmake) changed";

  const nlohmann::json report = {
      {"description",
       "gemm_sm90.cuh under the CPU emulator (tests/emu): per configuration and run, per instruction (summary) "
       "and per instruction and call site (per_site): requests, shared-memory wavefronts (wgmma operands: one "
       "request per operand per wgmma, one ideal wavefront per 8x8 core matrix; epilogue st/ld.shared: one per "
       "128-byte phase; conflicts = wavefronts beyond the ideal) and 32-byte global sectors (TMA: one request "
       "per box, in-bounds bytes; st.global: per warp; efficiency = bytes used / (sectors x 32)); model in "
       "tests/emu/emulator/AccessCounters.h"},
      {"configurations", configurations}};
  std::ofstream out(TILEFUSE_EMU_COUNTERS_SM90_JSON);
  out << report.dump(1) << "\n";
  EXPECT_TRUE(out.good()) << "could not write " << TILEFUSE_EMU_COUNTERS_SM90_JSON;
  std::cout << "counters written to " << TILEFUSE_EMU_COUNTERS_SM90_JSON << "\n";
}

}  // namespace
}  // namespace emu
