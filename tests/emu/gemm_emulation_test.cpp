// Runs every registered configuration of templates/tilefuse/gemm_sm80.cuh
// (variants/Variants.cmake) on the CPU emulator over shapes with M, N, K
// tails, batches and shared weights, and checks each run end to end
// (GemmCase.h). Two legal executions of each: copies landing as late as
// possible with threads interleaved at random, and copies landing at once
// with warps drifting apart as far as the barriers allow.
#include <gtest/gtest.h>

#include <fmt/format.h>

#include "GemmCase.h"

namespace emu {
namespace {

struct NamedShape {
  const char* name;
  CaseShape shape;
};

const NamedShape kShapes[] = {
    {"1x1x1", {1, 1, 1}},
    {"127x255x63", {127, 255, 63}},
    {"64x64x64", {64, 64, 64}},
    {"200x136x100", {200, 136, 100}},
    {"batch2_70x90x40", {70, 90, 40, 2}},
    {"batch2_shared_weights_33x72x24", {33, 72, 24, 2, true}},
    {"tall_600x40x24", {600, 40, 24}},  // more block rows than one raster group
};

/// The interleaved weight matrix holds whole gate/up blocks: the host rejects
/// N that is not a multiple of the block (runtime/ops/GemmArguments.cpp).
CaseShape fit_to_variant(CaseShape s, const GemmVariant& v) {
  if (v.gated && v.gate_interleave > 0) s.n = (s.n + v.gate_interleave - 1) / v.gate_interleave * v.gate_interleave;
  return s;
}

struct Execution {
  const char* name;
  RunOptions options;
};

const Execution kExecutions[] = {
    {"late_copies_random_threads", {1, CpAsyncLanding::AtWait, SchedulePolicy::RandomThreads}},
    {"early_copies_greedy_warps", {7, CpAsyncLanding::AtIssue, SchedulePolicy::GreedyWarps}},
};

struct Param {
  const GemmVariant* variant;
  const NamedShape* shape;
  const Execution* execution;
};

std::vector<Param> all_params() {
  std::vector<Param> params;
  for (const GemmVariant& v : registered_variants())
    for (const NamedShape& s : kShapes)
      for (const Execution& e : kExecutions) params.push_back({&v, &s, &e});
  return params;
}

void PrintTo(const Param& p, std::ostream* os) {
  *os << p.variant->name << " " << p.shape->name << " " << p.execution->name;
}

class GemmEmulation : public ::testing::TestWithParam<Param> {};

TEST_P(GemmEmulation, MatchesFloat64Reference) {
  const Param& p = GetParam();
  const CaseShape shape = fit_to_variant(p.shape->shape, *p.variant);
  const CaseOutcome outcome = run_gemm_case(*p.variant, shape, p.execution->options);
  std::string report;
  for (const std::string& failure : outcome.failures) report += "\n  " + failure;
  EXPECT_TRUE(outcome.failures.empty()) << p.variant->name << " on " << shape.m << "x" << shape.n << "x" << shape.k
                                        << " batch " << shape.batch << ":" << report;
  RecordProperty("relative_error", fmt::format("{:.3g}", outcome.relative_error));
}

INSTANTIATE_TEST_SUITE_P(Sm80, GemmEmulation, ::testing::ValuesIn(all_params()),
                         [](const ::testing::TestParamInfo<Param>& info) {
                           std::string name = fmt::format("{}_{}_{}", info.param.variant->name,
                                                          info.param.shape->name, info.param.execution->name);
                           for (char& ch : name)
                             if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
                           return name;
                         });

TEST(GemmEmulationSetup, EveryConfigurationIsRegistered) {
  // A translation unit that failed to register would silently shrink the sweep.
  EXPECT_EQ(registered_variants().size(), static_cast<std::size_t>(TILEFUSE_EMU_VARIANT_COUNT));
  bool gated = false, interleaved = false, col_major = false, row_major = false, f32_out = false, epilogue_inputs = false;
  bool gated_aux = false, gated_backward = false;
  for (const GemmVariant& v : registered_variants()) {
    gated |= v.gated && v.gate_interleave == 0;
    gated_aux |= v.gated && v.aux;
    gated_backward |= v.gated && v.backward;
    interleaved |= v.gate_interleave > 0;
    col_major |= v.b_col_major;
    row_major |= !v.b_col_major;
    f32_out |= v.out_bytes == 4;
    epilogue_inputs |= v.bias && v.residual && v.aux;
  }
  EXPECT_TRUE(gated && interleaved && col_major && row_major && f32_out && epilogue_inputs);
  EXPECT_TRUE(gated_aux && gated_backward);
}

}  // namespace
}  // namespace emu
