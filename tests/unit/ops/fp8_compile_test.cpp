// Issue 16, CPU CI: every FP8 configuration of the mma.sync GEMM compiles with
// NVRTC for sm_89 and sm_90 with 0 spill bytes, and its PTX has the FP8
// tensor-core MMA (mma.sync.m16n8k32 e4m3) and, for an e4m3 output, the
// saturating conversion: the configurations the emulator runs
// (tests/emu/variants/Fp8Variants.cmake) and the tiles a launch of a large
// problem uses (the heuristic, fitted for Block128).
#include <gtest/gtest.h>

#include <cstdio>

#include <fmt/format.h>

#include "compiler/Pipeline.h"
#include "compiler/Target/TargetInfo.h"
#include "compiler/Target/TilePruning.h"
#include "runtime/KernelCache.h"
#include "runtime/ops/Fp8Arguments.h"
#include "runtime/ops/KernelSource.h"
#include "runtime/tune/KernelSignature.h"

namespace tilefuse::ops {
namespace {

using compiler::Arch;
using compiler::DType;
using compiler::KernelSpec;
using compiler::ScaleMode;
using compiler::TileConfig;

struct Fp8Config {
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
};

TileConfig tile(int bm, int bn, int bk, int wm, int wn, int stages, int group_m) {
  return TileConfig{bm, bn, bk, wm, wn, stages, 4, group_m};
}

// The emulated configurations (Fp8Variants.cmake), then the launch tiles.
const Fp8Config kConfigs[] = {
    {"pertensor_bias_bf16out", "gelu(x)", DType::BF16, false, ScaleMode::PerTensor, false, true, 0, {}, {},
     tile(64, 64, 32, 32, 32, 3, 8)},
    {"e5m2b_f16out_bk64", "x", DType::F16, true, ScaleMode::PerTensor, false, false, 0, {}, {},
     tile(64, 64, 64, 32, 32, 2, 8)},
    {"block128_f32out", "gelu(x)", DType::F32, false, ScaleMode::Block128, false, false, 0, {}, {},
     tile(64, 64, 32, 32, 32, 3, 8)},
    {"block128_bk16", "x", DType::BF16, false, ScaleMode::Block128, false, false, 0, {}, {},
     tile(64, 64, 16, 32, 32, 4, 8)},
    {"block128_e5m2b_128x64", "silu(x)", DType::BF16, true, ScaleMode::Block128, false, false, 0, {}, {},
     tile(128, 64, 32, 64, 32, 3, 8)},
    {"rowcol_scales", "gelu(x * sa * sb)", DType::BF16, false, ScaleMode::PerTensor, false, false, 0, {"sa"}, {"sb"},
     tile(64, 64, 32, 32, 32, 3, 8)},
    {"swiglu", "silu(gate) * up", DType::BF16, false, ScaleMode::PerTensor, false, false, 0, {}, {},
     tile(64, 64, 32, 32, 32, 3, 8)},
    {"geglu_interleave32", "gelu(gate) * up", DType::F32, false, ScaleMode::PerTensor, false, false, 32, {}, {},
     tile(64, 64, 32, 32, 32, 2, 8)},
    {"e4m3out_amax", "gelu(x)", DType::E4M3, false, ScaleMode::PerTensor, true, true, 0, {}, {},
     tile(64, 64, 32, 32, 32, 3, 8)},
    {"block128_e4m3out_amax", "x", DType::E4M3, false, ScaleMode::Block128, true, false, 0, {}, {},
     tile(128, 64, 32, 64, 32, 3, 8)},
    {"launch_gelu_bias_bf16out", "gelu(x)", DType::BF16, false, ScaleMode::PerTensor, false, true},
    {"launch_swiglu", "swiglu", DType::BF16},
    {"launch_block128_bf16out", "gelu(x)", DType::BF16, false, ScaleMode::Block128},
    {"launch_e4m3out_amax", "gelu(x)", DType::E4M3, false, ScaleMode::PerTensor, true},
    {"launch_block128_e4m3out_amax", "x", DType::E4M3, true, ScaleMode::Block128, true},
};

/// Accumulator sets of a configuration: x2 gated, x2 Block128.
int accumulator_sets(const Fp8Config& c) {
  const bool gated = std::string(c.expression).find("glu") != std::string::npos ||
                     std::string(c.expression).find("gate") != std::string::npos;
  return (gated ? 2 : 1) * (c.scale == ScaleMode::Block128 ? 2 : 1);
}

/// An emulated tile beyond `arch`'s FP8 budget is refused by the launch
/// path (MatmulState::tile_for); it is compiled only where it is launchable.
bool launchable(const Fp8Config& c, Arch arch) {
  return !c.tile || compiler::tile_accumulators_per_thread(*c.tile, false) * accumulator_sets(c) <=
                        fp8_max_accumulators_per_thread(arch, accumulator_sets(c));
}

struct Job {
  std::string label;
  bool e4m3_out = false;
  runtime::CacheRequest request;
};

Job make_job(const Fp8Config& c, Arch arch) {
  Job job;
  job.label = fmt::format("{} {}", c.label, compiler::to_string(arch));
  job.e4m3_out = c.out == DType::E4M3;
  KernelSpec spec;
  spec.expression = c.expression;
  spec.arch = arch;
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
  const auto target = compiler::make_target(arch);
  if (c.tile) {
    spec.tile = *c.tile;
    spec.tile->vector_width = target->accumulator_vector_width();
  } else {  // as MatmulState::tile_for chooses it
    TileConfig t = target->default_tile(4096, 4096, 4096);
    const bool gated = accumulator_sets(c) % 2 == 0 && c.scale != ScaleMode::Block128;
    if (gated) t = compiler::fit_tile_to_gated(*target, t);
    spec.tile = fit_tile_to_fp8(t, arch, gated, c.scale);
  }
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
  job.request.source.name = "fp8_gemm.cu";
  job.request.source.code = gemm_kernel_source(spec, *epilogue);
  job.request.source.kernel_names = {kGemmKernelName};
  job.request.source.options.arch = compiler::to_string(arch);
  job.request.precision_mode = "precise";
  return job;
}

TEST(Fp8Compile, EveryConfigurationCompilesWithoutSpillsAndUsesTheFp8Instructions) {
  std::vector<Job> jobs;
  for (Arch arch : {Arch::Sm89, Arch::Sm90})
    for (const Fp8Config& c : kConfigs) {
      if (launchable(c, arch)) jobs.push_back(make_job(c, arch));
      else std::printf("%s on %s: not launchable there (the tile is refused), not compiled\n", c.label,
                       compiler::to_string(arch));
    }
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
    EXPECT_EQ(c.ptx_instructions.at("ld_local") + c.ptx_instructions.at("st_local"), 0) << label;
    EXPECT_GT(c.ptx_instructions.at("mma_sync_fp8"), 0) << label;
    EXPECT_EQ(c.ptx_instructions.at("mma_sync_fp8"), c.ptx_instructions.at("mma_sync"))
        << label << ": every MMA of an FP8 kernel is the FP8 one";
    EXPECT_GT(c.ptx_instructions.at("ldmatrix"), 0) << label;
    if (jobs[i].e4m3_out) EXPECT_GT(c.ptx_instructions.at("cvt_e4m3"), 0) << label;
    else EXPECT_EQ(c.ptx_instructions.at("cvt_e4m3"), 0) << label;
    std::printf("%s: %d registers, %d spill bytes, %.0f ms NVRTC\n", label.c_str(), c.registers, c.spill_bytes,
                results[i]->compile_ms);
  }
}

TEST(Fp8Source, TheWgmmaTargetAndSixteenBitKernelsAreUnchanged) {
  KernelSpec spec;
  spec.expression = "gelu(x)";
  spec.arch = Arch::Sm89;
  spec.b_col_major = true;
  auto epilogue = compiler::compile(spec);
  ASSERT_TRUE(epilogue) << epilogue.error().message;
  const std::string bf16 = gemm_kernel_source(spec, *epilogue);
  EXPECT_EQ(bf16.find("TF_GEMM_FP8"), std::string::npos) << "a 16-bit kernel's source (its cache key) is as before";
  spec.input_type = DType::E4M3;
  const std::string fp8 = gemm_kernel_source(spec, *epilogue);
  EXPECT_NE(fp8.find("#define TF_GEMM_FP8 1"), std::string::npos);
  EXPECT_NE(fp8.find("kBlock128 = false"), std::string::npos);
  spec.scale = ScaleMode::Block128;
  const std::string block128 = gemm_kernel_source(spec, *epilogue);
  EXPECT_NE(block128.find("kBlock128 = true"), std::string::npos) << "the scale mode is part of the kernel cache key";
  spec.arch = Arch::Sm90a;
  EXPECT_FALSE(check_fp8_spec(spec));
}

TEST(Fp8Source, TuningSignatureSeparatesTheFp8Options) {
  KernelSpec spec;
  spec.expression = "gelu(x)";
  spec.b_col_major = true;
  const std::string bf16 = tune::kernel_signature(spec);
  spec.input_type = DType::E4M3;
  const std::string fp8 = tune::kernel_signature(spec);
  EXPECT_NE(fp8, bf16);
  spec.scale = ScaleMode::Block128;
  const std::string block128 = tune::kernel_signature(spec);
  EXPECT_NE(block128, fp8);
  spec.b_type = DType::E5M2;
  EXPECT_NE(tune::kernel_signature(spec), block128);
  spec.amax = true;
  spec.output_type = DType::E4M3;
  EXPECT_NE(tune::kernel_description(spec).find("amax"), std::string::npos) << tune::kernel_description(spec);
}

}  // namespace
}  // namespace tilefuse::ops
