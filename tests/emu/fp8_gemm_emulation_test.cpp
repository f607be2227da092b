// The FP8 configurations of templates/tilefuse/gemm_sm80.cuh (issue 16:
// mma.sync m16n8k32 e4m3 on sm_89 / sm_90; variants/Fp8Variants.cmake) on the
// CPU emulator, each checked end to end against the float64 reference of the
// same FP8 inputs and scales (GemmCase.h): per-tensor and Block128 scales,
// row/column scale vectors, e5m2 B, gated, bf16/f16/f32 and e4m3 outputs,
// tails in M, N and K (K a multiple of 16, as the host requires).
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
    {"127x255x48", {127, 255, 48}},
    {"200x136x208", {200, 136, 208}},  // K: one full 128 block and a 80-wide tail block
    {"64x64x256", {64, 64, 256, 1, false, true}},  // packed
    {"batch2_70x90x144", {70, 90, 144, 2}},
    {"batch2_shared_weights_33x72x32", {33, 72, 32, 2, true}},
};

const Execution kExecutions[] = {
    {"late_copies_random_threads", {1, CpAsyncLanding::AtWait, SchedulePolicy::RandomThreads}},
    {"early_copies_greedy_warps", {7, CpAsyncLanding::AtIssue, SchedulePolicy::GreedyWarps}},
};

class Fp8GemmEmulation : public ::testing::TestWithParam<SweepCase> {};

TEST_P(Fp8GemmEmulation, MatchesFloat64ReferenceOfTheSameFp8Inputs) { expect_case_matches_reference(GetParam()); }

INSTANTIATE_TEST_SUITE_P(Sm89, Fp8GemmEmulation, ::testing::ValuesIn(sweep_cases(kShapes, kExecutions)),
                         sweep_case_name);

const GemmVariant* find_variant(const std::string& name) {
  for (const GemmVariant& v : registered_variants())
    if (v.name == name) return &v;
  return nullptr;
}

/// What is exactly reproducible about an e4m3 output: the kernel's fp32
/// value v of each element (the same as an f32-output kernel of the same
/// tile computes: same inputs, mainloop and epilogue), D = e4m3(v · scale_d)
/// and amax = max |v| bit for bit. The float64 reference only bounds v.
/// Returns how many elements saturated (|v · scale_d| beyond 448).
std::size_t expect_twin_reproduces(const char* fp8_name, const char* f32_name, const CaseShape& shape) {
  const GemmVariant* quantised = find_variant(fp8_name);
  const GemmVariant* twin = find_variant(f32_name);
  if (!quantised || !twin) {
    ADD_FAILURE() << "variants " << fp8_name << " / " << f32_name << " are not registered";
    return 0;
  }
  const RunOptions options{3, CpAsyncLanding::AtWait, SchedulePolicy::RandomThreads};
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

TEST(Fp8GemmTwin, PerTensorE4m3OutputAndAmaxAreTheF32ValuesQuantised) {
  const std::size_t saturated =
      expect_twin_reproduces("fp8_gelu_e4m3out_amax", "fp8_gelu_f32out_amax_twin", {127, 255, 48}) +
      expect_twin_reproduces("fp8_gelu_e4m3out_amax", "fp8_gelu_f32out_amax_twin", {70, 90, 144, 2});
  EXPECT_GT(saturated, 0u) << "no value reached satfinite's clamp";
  ::testing::Test::RecordProperty("saturated", static_cast<int>(saturated));
}

TEST(Fp8GemmTwin, Block128E4m3OutputAndAmaxAreTheF32ValuesQuantised) {
  // K = 400: three full 128-blocks and a 16-wide tail; some values saturate.
  const std::size_t saturated =
      expect_twin_reproduces("fp8_block128_e4m3out_amax", "fp8_block128_f32out_amax_twin", {200, 136, 400});
  EXPECT_GT(saturated, 0u) << "no value reached satfinite's clamp";
  ::testing::Test::RecordProperty("saturated", static_cast<int>(saturated));
}

TEST(Fp8GemmEmulationSetup, EveryConfigurationIsRegistered) {
  EXPECT_EQ(registered_variants().size(), static_cast<std::size_t>(TILEFUSE_EMU_VARIANT_COUNT));
  bool per_tensor = false, block128 = false, e5m2 = false, gated = false, e4m3_out = false, amax = false, rows = false;
  for (const GemmVariant& v : registered_variants()) {
    EXPECT_TRUE(v.fp8) << v.name;
    per_tensor |= !v.block128;
    block128 |= v.block128;
    e5m2 |= v.b_e5m2;
    gated |= v.gated;
    e4m3_out |= v.out_e4m3;
    amax |= v.amax;
    rows |= !v.row_inputs.empty() && !v.col_inputs.empty();
  }
  EXPECT_TRUE(per_tensor && block128 && e5m2 && gated && e4m3_out && amax && rows);
}

}  // namespace
}  // namespace emu
