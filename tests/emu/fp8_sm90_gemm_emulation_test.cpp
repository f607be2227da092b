// The FP8 configurations of templates/tilefuse/gemm_sm90.cuh (issue 16:
// sm_90a wgmma m64nNk32 e4m3 through UINT8 TMA maps;
// variants/Fp8Sm90Variants.cmake) on the CPU emulator, each checked end to
// end against the float64 reference of the same FP8 inputs and scales
// (GemmCase.h): per-tensor and Block128 scales, row/column scale vectors,
// e5m2 B, gated (separate and interleaved weights), bf16/f16/f32 and e4m3
// outputs with amax, tails in M, N and K (K a multiple of 16, as the host
// requires), batches and shared weights, with the three sm_90a executions of
// gemm_sm90_emulation_test.cpp.
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstring>

#include "CaseSweep.h"
#include "dsl/Fp8.h"

namespace emu {
namespace {

const NamedShape kShapes[] = {
    {"1x1x16", {1, 1, 16}},
    {"127x255x48", {127, 255, 48}},      // one partial k-tile (K < 128)
    {"200x136x208", {200, 136, 208}},    // K: one full 128 block and an 80-wide tail block
    {"64x64x256", {64, 64, 256, 1, false, true}},  // packed
    {"batch2_70x90x144", {70, 90, 144, 2}},
    {"batch2_shared_weights_33x72x32", {33, 72, 32, 2, true}},
    // 9 k-tiles: the ring wraps inside one tile and a stage is released
    // while the next k-tile's wgmmas are in flight (per-tensor).
    {"deep_k_130x72x1040", {130, 72, 1040}},
};

const Execution kExecutions[] = {
    {"late_tma_random_threads_1sm", {1, CpAsyncLanding::AtWait, SchedulePolicy::RandomThreads, 1}},
    {"early_tma_greedy_warps_3sms", {7, CpAsyncLanding::AtIssue, SchedulePolicy::GreedyWarps, 3}},
    {"newest_tma_last_woken_first_1sm", {5, CpAsyncLanding::NewestLast, SchedulePolicy::WokenFirst, 1}},
};

class Fp8Sm90GemmEmulation : public ::testing::TestWithParam<SweepCase> {};

TEST_P(Fp8Sm90GemmEmulation, MatchesFloat64ReferenceOfTheSameFp8Inputs) { expect_case_matches_reference(GetParam()); }

INSTANTIATE_TEST_SUITE_P(Sm90a, Fp8Sm90GemmEmulation, ::testing::ValuesIn(sweep_cases(kShapes, kExecutions)),
                         sweep_case_name);

CaseShape grouped_shape(long long m_max, long long n, long long k, std::vector<long long> rows) {
  CaseShape s{m_max, n, k};
  s.group_rows = std::move(rows);
  return s;
}

// Grouped FP8 (the routings of gemm_sm90_grouped_emulation_test.cpp with K a
// multiple of 16): one expert takes every token; sizes 1, 7, 63, 129 with
// K = 144 (two k-tiles: scale_a's K-block stride is exercised); empty
// experts around tile multiples.
const NamedShape kGroupedShapes[] = {
    {"one_expert_takes_all_150x90x48", grouped_shape(150, 90, 48, {0, 0, 150, 0, 0})},
    {"sizes_1_7_63_129_x72x144", grouped_shape(129, 72, 144, {1, 7, 63, 129})},
    {"empty_around_tile_multiples_x136x32", grouped_shape(128, 136, 32, {0, 64, 0, 128, 0, 1})},
};

const Execution kGroupedExecutions[] = {
    {"early_tma_greedy_warps_3sms_reversed",
     {7, CpAsyncLanding::AtIssue, SchedulePolicy::GreedyWarps, 3, nullptr, /*reverse_blocks=*/true}},
};

class GroupedFp8Sm90GemmEmulation : public ::testing::TestWithParam<SweepCase> {};

TEST_P(GroupedFp8Sm90GemmEmulation, MatchesFloat64ReferenceOfTheSameFp8Inputs) {
  expect_case_matches_reference(GetParam());
}

// Empty when a mutation run builds one non-grouped variant (TILEFUSE_EMU_SM90_ONLY).
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(GroupedFp8Sm90GemmEmulation);
INSTANTIATE_TEST_SUITE_P(Sm90a, GroupedFp8Sm90GemmEmulation,
                         ::testing::ValuesIn(sweep_cases(kGroupedShapes, kGroupedExecutions, /*grouped=*/true)),
                         sweep_case_name);

const GemmVariant* find_variant(const std::string& name) {
  for (const GemmVariant& v : registered_variants())
    if (v.name == name) return &v;
  return nullptr;
}

/// What is exactly reproducible about an e4m3 output: the kernel's fp32
/// value v of each element (an f32-output kernel of the same tile computes
/// the same: same inputs, mainloop and epilogue), D = e4m3(v · scale_d) and
/// amax = max |v| bit for bit. The float64 reference only bounds v.
/// Returns how many elements saturated (|v · scale_d| beyond 448).
std::size_t expect_twin_reproduces(const char* fp8_name, const char* f32_name, const CaseShape& shape) {
  const GemmVariant* quantised = find_variant(fp8_name);
  const GemmVariant* twin = find_variant(f32_name);
  if (!quantised || !twin) {
    ADD_FAILURE() << "variants " << fp8_name << " / " << f32_name << " are not registered";
    return 0;
  }
  const RunOptions options{3, CpAsyncLanding::AtWait, SchedulePolicy::RandomThreads, 3};
  const CaseOutcome q = run_gemm_case(*quantised, shape, options);
  const CaseOutcome f = run_gemm_case(*twin, shape, options);
  for (const auto& failure : q.failures) ADD_FAILURE() << fp8_name << ": " << failure;
  for (const auto& failure : f.failures) ADD_FAILURE() << f32_name << ": " << failure;
  if (q.d_values.size() != f.d_values.size()) {
    ADD_FAILURE() << "D sizes differ";
    return 0;
  }
  std::uint32_t max_bits = 0;
  std::size_t mismatches = 0, saturated = 0;
  for (std::size_t i = 0; i < f.d_values.size(); ++i) {
    const float v = static_cast<float>(f.d_values[i]);  // exact: an f32 output read back
    max_bits = std::max(max_bits, std::bit_cast<std::uint32_t>(std::fabs(v)));
    const std::uint8_t want = tilefuse::dsl::float_to_fp8(v * kFp8ScaleD, tilefuse::dsl::Fp8Format::E4M3);
    const double want_value = tilefuse::dsl::fp8_to_double(want, tilefuse::dsl::Fp8Format::E4M3);
    saturated += std::fabs(want_value) == 448.0;
    if (q.d_values[i] != want_value && mismatches++ < 5)
      ADD_FAILURE() << fp8_name << " D[" << i << "] = " << q.d_values[i] << " but e4m3(" << v << " * scale_d) = " << want_value;
  }
  EXPECT_EQ(mismatches, 0u);
  EXPECT_EQ(std::bit_cast<std::uint32_t>(q.amax), max_bits)
      << fp8_name << " amax = " << q.amax << ", max |v| of the twin = " << std::bit_cast<float>(max_bits);
  EXPECT_GT(q.amax, 0.0f);
  // Most values convert; a saturated majority would make the check weak.
  EXPECT_LT(saturated, f.d_values.size() / 4);
  return saturated;
}

/// The twin checks run only when the variant filter (mutations) kept both variants.
bool twins_built() { return std::string(TILEFUSE_EMU_SM90_ONLY).empty(); }

TEST(Fp8Sm90GemmTwin, PerTensorE4m3OutputAndAmaxAreTheF32ValuesQuantised) {
  if (!twins_built()) GTEST_SKIP() << "variant filter " << TILEFUSE_EMU_SM90_ONLY;
  expect_twin_reproduces("fp8_sm90_gelu_e4m3out_amax", "fp8_sm90_gelu_f32out_amax_twin", {127, 255, 48});
  expect_twin_reproduces("fp8_sm90_gelu_e4m3out_amax", "fp8_sm90_gelu_f32out_amax_twin", {70, 90, 144, 2});
}

TEST(Fp8Sm90GemmTwin, Block128E4m3OutputAndAmaxAreTheF32ValuesQuantised) {
  if (!twins_built()) GTEST_SKIP() << "variant filter " << TILEFUSE_EMU_SM90_ONLY;
  // K = 400: three full 128-blocks and a 16-wide tail; some values saturate.
  const std::size_t saturated = expect_twin_reproduces("fp8_sm90_block128_e4m3out_amax",
                                                       "fp8_sm90_block128_f32out_amax_twin", {200, 136, 400});
  EXPECT_GT(saturated, 0u) << "no value reached satfinite's clamp";
  ::testing::Test::RecordProperty("saturated", static_cast<int>(saturated));
}

TEST(Fp8Sm90GemmEmulationSetup, EveryConfigurationIsRegistered) {
  EXPECT_EQ(registered_variants().size(), static_cast<std::size_t>(TILEFUSE_EMU_VARIANT_COUNT));
  if (!std::string(TILEFUSE_EMU_SM90_ONLY).empty()) return;
  bool per_tensor = false, block128 = false, e5m2 = false, gated = false, interleaved = false, e4m3_out = false;
  bool amax = false, rows = false, ping_pong = false, cooperative = false, out_f16 = false, out_f32 = false;
  bool grouped_block128 = false, grouped_e4m3_amax = false;
  for (const GemmVariant& v : registered_variants()) {
    EXPECT_TRUE(v.fp8 && v.b_col_major) << v.name;
    per_tensor |= !v.block128;
    block128 |= v.block128;
    e5m2 |= v.b_e5m2;
    gated |= v.gated && v.gate_interleave == 0;
    interleaved |= v.gate_interleave > 0;
    e4m3_out |= v.out_e4m3;
    amax |= v.amax;
    rows |= !v.row_inputs.empty() && !v.col_inputs.empty();
    ping_pong |= v.block_m == v.warp_m;
    cooperative |= v.block_m == 2 * v.warp_m;
    out_f16 |= v.out_bytes == 2 && !v.out_bf16;
    out_f32 |= v.out_bytes == 4;
    grouped_block128 |= v.grouped == 1 && v.block128;
    grouped_e4m3_amax |= v.grouped == 1 && v.gated && v.out_e4m3 && v.amax;
  }
  EXPECT_TRUE(grouped_block128 && grouped_e4m3_amax);
  EXPECT_TRUE(per_tensor && block128 && e5m2 && gated && interleaved && e4m3_out && amax && rows);
  EXPECT_TRUE(ping_pong && cooperative && out_f16 && out_f32);
}

}  // namespace
}  // namespace emu
