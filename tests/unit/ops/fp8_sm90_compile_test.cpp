// Issue 16, CPU CI: every FP8 configuration of the sm_90a wgmma GEMM
// (templates/tilefuse/gemm_sm90.cuh with gemm_sm90_fp8.cuh) compiles with
// NVRTC with 0 spill bytes, no local memory, no ptxas performance warning
// (wgmma serialization) and setmaxnreg honoured; its PTX issues only FP8
// wgmmas (wgmma.mma_async m64nNk32 .e4m3.{e4m3,e5m2}), TMA copies and, for an
// e4m3 output, the saturating conversion and the amax reduction: the
// configurations the emulator runs (tests/emu/variants/Fp8Sm90Variants.cmake)
// and the tiles a launch of a large problem uses (the heuristic, fitted for
// Block128 and gated ops).
#include <gtest/gtest.h>

#include <cstdio>
#include <regex>

#include <fmt/format.h>

#include "compiler/Pipeline.h"
#include "compiler/Target/TargetInfo.h"
#include "compiler/Target/TilePruning.h"
#include "runtime/KernelCache.h"
#include "runtime/ops/Fp8Arguments.h"
#include "runtime/ops/KernelSource.h"

namespace tilefuse::ops {
namespace {

using compiler::Arch;
using compiler::DType;
using compiler::GroupLayout;
using compiler::KernelSpec;
using compiler::ScaleMode;
using compiler::TileConfig;

struct Fp8Sm90Config {
  const char* label;
  const char* expression;
  DType out = DType::BF16;
  bool b_e5m2 = false;
  ScaleMode scale = ScaleMode::PerTensor;
  bool amax = false;
  bool bias = false;
  int gate_interleave = 0;
  std::vector<std::string> rows = {}, cols = {};
  std::optional<TileConfig> tile = std::nullopt;  ///< unset: the launch heuristic for 4096^3
  GroupLayout grouped = GroupLayout::None;         ///< grouped FP8 (issue 16 item 4)
};

TileConfig tile(int bm, int bn, int wm, int wn, int stages, int group_m) {
  return TileConfig{bm, bn, 64, wm, wn, stages, 4, group_m};
}

// The emulated configurations (Fp8Sm90Variants.cmake), then the launch tiles.
const Fp8Sm90Config kConfigs[] = {
    {"pertensor_bias_bf16out", "gelu(x)", DType::BF16, false, ScaleMode::PerTensor, false, true, 0, {}, {},
     tile(128, 128, 128, 128, 4, 8)},
    {"e5m2b_f16out_coop", "x", DType::F16, true, ScaleMode::PerTensor, false, false, 0, {}, {},
     tile(128, 64, 64, 64, 3, 2)},
    {"block128_f32out", "gelu(x)", DType::F32, false, ScaleMode::Block128, false, false, 0, {}, {},
     tile(64, 128, 64, 128, 4, 8)},
    {"block128_e5m2b_coop", "silu(x)", DType::BF16, true, ScaleMode::Block128, false, false, 0, {}, {},
     tile(128, 64, 64, 64, 3, 8)},
    {"rowcol_scales", "gelu(x * sa * sb)", DType::BF16, false, ScaleMode::PerTensor, false, false, 0, {"sa"}, {"sb"},
     tile(128, 64, 64, 64, 3, 2)},
    {"swiglu", "silu(gate) * up", DType::BF16, false, ScaleMode::PerTensor, false, false, 0, {}, {},
     tile(64, 64, 64, 64, 3, 8)},
    {"geglu_interleave32_f32out", "gelu(gate) * up", DType::F32, false, ScaleMode::PerTensor, false, false, 32, {},
     {}, tile(128, 64, 64, 64, 2, 8)},
    {"e4m3out_amax", "gelu(x)", DType::E4M3, false, ScaleMode::PerTensor, true, true, 0, {}, {},
     tile(128, 128, 64, 128, 3, 8)},
    {"block128_e4m3out_amax", "x", DType::E4M3, false, ScaleMode::Block128, true, false, 0, {}, {},
     tile(64, 64, 64, 64, 3, 8)},
    {"launch_gelu_bias_bf16out", "gelu(x)", DType::BF16, false, ScaleMode::PerTensor, false, true},
    {"launch_e5m2b_f32out", "x", DType::F32, true},
    {"launch_swiglu", "swiglu", DType::BF16},
    {"launch_block128_bf16out", "gelu(x)", DType::BF16, false, ScaleMode::Block128},
    {"launch_e4m3out_amax", "gelu(x)", DType::E4M3, false, ScaleMode::PerTensor, true},
    {"launch_block128_e5m2b_e4m3out_amax", "x", DType::E4M3, true, ScaleMode::Block128, true},
    // Grouped FP8 (the emulated ones, then a launch tile).
    {"grouped_contiguous_block128_bias", "gelu(x)", DType::BF16, false, ScaleMode::Block128, false, true, 0, {}, {},
     tile(64, 128, 64, 128, 3, 8), GroupLayout::Contiguous},
    {"grouped_contiguous_swiglu_e4m3out_amax", "silu(gate) * up", DType::E4M3, false, ScaleMode::PerTensor, true,
     false, 0, {}, {}, tile(64, 64, 64, 64, 3, 8), GroupLayout::Contiguous},
    {"launch_grouped_contiguous_block128", "gelu(x)", DType::BF16, false, ScaleMode::Block128, false, true, 0, {},
     {}, std::nullopt, GroupLayout::Contiguous},
};

struct Job {
  std::string label;
  bool e4m3_out = false, amax = false, e5m2 = false;
  runtime::CacheRequest request;
};

Job make_job(const Fp8Sm90Config& c) {
  constexpr Arch kArch = Arch::Sm90a;
  Job job;
  job.label = c.label;
  job.e4m3_out = c.out == DType::E4M3;
  job.amax = c.amax;
  job.e5m2 = c.b_e5m2;
  KernelSpec spec;
  spec.expression = c.expression;
  spec.arch = kArch;
  spec.input_type = DType::E4M3;
  spec.output_type = c.out;
  if (c.b_e5m2) spec.b_type = DType::E5M2;
  spec.scale = c.scale;
  spec.amax = c.amax;
  spec.bias = c.bias;
  spec.b_col_major = true;
  spec.gate_interleave = c.gate_interleave;
  spec.row_inputs = c.rows;
  spec.col_inputs = c.cols;
  spec.grouped = c.grouped;
  const auto target = compiler::make_target(kArch);
  if (c.tile) {
    spec.tile = *c.tile;
    spec.tile->vector_width = target->accumulator_vector_width();
  } else {
    TileConfig t = target->default_tile(4096, 4096, 4096);
    const bool gated = std::string(c.expression).find("glu") != std::string::npos;
    if (gated) t = compiler::fit_tile_to_gated(*target, t);
    spec.tile = fit_tile_to_fp8(t, kArch, gated, c.scale);
  }
  if (c.scale == ScaleMode::Block128)
    if (auto why = block128_tile_rejection(*target, *spec.tile)) ADD_FAILURE() << job.label << ": " << *why;
  if (auto ok = check_fp8_spec(spec); !ok) {
    ADD_FAILURE() << job.label << ": " << ok.error().message;
    return job;
  }
  auto epilogue = compiler::compile(spec);
  if (!epilogue) {
    ADD_FAILURE() << job.label << ": " << epilogue.error().message;
    return job;
  }
  job.label += " tile " + compiler::to_string(epilogue->tile);
  job.request.source.name = "fp8_gemm_sm90.cu";
  job.request.source.code = gemm_kernel_source(spec, *epilogue);
  job.request.source.kernel_names = {kGemmKernelName};
  job.request.source.options.arch = compiler::to_string(kArch);
  job.request.precision_mode = "precise";
  return job;
}

/// wgmma.mma_async lines of `ptx` whose opcode is the FP8 one (B `b_type`).
int count_fp8_wgmma(const std::string& ptx, const char* b_type) {
  const std::regex fp8(fmt::format(R"(wgmma\.mma_async\.sync\.aligned\.m64n\d+k32\.f32\.e4m3\.{} )", b_type));
  return static_cast<int>(std::distance(std::sregex_iterator(ptx.begin(), ptx.end(), fp8), std::sregex_iterator()));
}

TEST(Fp8Sm90Compile, EveryConfigurationCompilesWithoutSpillsAndIssuesFp8Wgmmas) {
  std::vector<Job> jobs;
  for (const Fp8Sm90Config& c : kConfigs) jobs.push_back(make_job(c));
  std::vector<runtime::CacheRequest> requests;
  for (const Job& job : jobs) requests.push_back(job.request);
  runtime::KernelCache cache(runtime::KernelCacheOptions{.use_disk = false});
  auto results = cache.compile_many(requests);
  ASSERT_EQ(results.size(), jobs.size());
  for (std::size_t i = 0; i < jobs.size(); ++i) {
    const std::string& label = jobs[i].label;
    if (!results[i]) {
      ADD_FAILURE() << label << ": " << results[i].error().message << "\n"
                    << results[i].error().detail.substr(0, 4000);
      continue;
    }
    const runtime::Compiled& c = *results[i]->compiled;
    EXPECT_EQ(c.spill_bytes, 0) << label << " spills (" << c.registers << " registers)";
    EXPECT_EQ(c.stack_bytes, 0) << label;
    EXPECT_EQ(c.ptx_instructions.at("ld_local") + c.ptx_instructions.at("st_local"), 0) << label;
    // E.g. C7520 (wgmma serialized): correct but slow.
    EXPECT_TRUE(c.performance_warnings.empty()) << label << ": " << c.performance_warnings.front();
    // ptxas ignores setmaxnreg (C7508) when the roles are not one if/else.
    EXPECT_GT(c.ptx_instructions.at("setmaxnreg"), 0) << label;
    EXPECT_EQ(c.log.find("setmaxnreg"), std::string::npos) << label << ": " << c.log;
    EXPECT_GT(c.ptx_instructions.at("cp_async_bulk_tensor"), 0) << label;
    EXPECT_EQ(c.ptx_instructions.at("mma_sync"), 0) << label;
    const int fp8_wgmma = count_fp8_wgmma(c.ptx, jobs[i].e5m2 ? "e5m2" : "e4m3");
    EXPECT_GT(fp8_wgmma, 0) << label;
    EXPECT_EQ(fp8_wgmma, c.ptx_instructions.at("wgmma")) << label << ": every wgmma of an FP8 kernel is the FP8 one";
    if (jobs[i].e4m3_out) EXPECT_GT(c.ptx_instructions.at("cvt_e4m3"), 0) << label;
    else EXPECT_EQ(c.ptx_instructions.at("cvt_e4m3"), 0) << label;
    const bool reduces = c.ptx.find("redux.sync.max.u32") != std::string::npos &&
                         c.ptx.find("red.global.max.u32") != std::string::npos;
    EXPECT_EQ(reduces, jobs[i].amax) << label << ": the amax reduction exactly when the op has amax";
    std::printf("%s: %d registers, %d spill bytes, %.0f ms NVRTC\n", label.c_str(), c.registers, c.spill_bytes,
                results[i]->compile_ms);
  }
}

}  // namespace
}  // namespace tilefuse::ops
