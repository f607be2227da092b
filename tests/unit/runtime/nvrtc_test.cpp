// NVRTC from memory: the embedded elementwise template compiles for the
// supported targets without spilling; failures carry log, options, source.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "runtime/EmbeddedFiles.h"
#include "runtime/Nvrtc.h"
#include "unit/runtime/SampleEpilogues.h"

namespace tilefuse::runtime {
namespace {

using testing::silu_source;

TEST(EmbeddedFiles, ContainElementwiseTemplateVerbatim) {
  bool found = false;
  for (const auto& f : embedded_files()) {
    if (f.name != "tilefuse/elementwise.cuh") continue;
    found = true;
    std::ifstream in(std::string(TILEFUSE_SOURCE_DIR) + "/templates/tilefuse/elementwise.cuh");
    std::stringstream disk;
    disk << in.rdbuf();
    EXPECT_EQ(f.content, disk.str());
  }
  EXPECT_TRUE(found);
}

struct Variant {
  const char* arch;
  int vec;
  bool gated;
  int out_bytes;
};

class ElementwiseCompile : public ::testing::TestWithParam<Variant> {};

TEST_P(ElementwiseCompile, CompilesWithoutSpills) {
  const Variant v = GetParam();
  auto compiled = compile(silu_source(v.arch, v.vec, v.gated, v.out_bytes));
  ASSERT_TRUE(compiled) << compiled.error().message << "\n" << compiled.error().detail;
  EXPECT_EQ(compiled->arch, v.arch);
  EXPECT_FALSE(compiled->cubin.empty());
  EXPECT_NE(compiled->ptx.find(".entry tf_elementwise"), std::string::npos);
  EXPECT_NE(compiled->ptx.find(std::string(".target ") + v.arch), std::string::npos);
  EXPECT_EQ(compiled->ptx.back(), '\n') << "PTX must not carry NVRTC's trailing NUL";
  ASSERT_EQ(compiled->kernels.size(), 1u) << compiled->log;
  EXPECT_EQ(compiled->kernels[0].name, "tf_elementwise");
  EXPECT_GT(compiled->registers, 0) << compiled->log;
  EXPECT_EQ(compiled->spill_bytes, 0) << compiled->log;
  EXPECT_EQ(compiled->stack_bytes, 0) << compiled->log;
  EXPECT_EQ(compiled->ptx_instructions.at("ld_local"), 0);
  EXPECT_EQ(compiled->ptx_instructions.at("st_local"), 0);
  EXPECT_GT(compiled->nvrtc_ms, 0.0);
  ASSERT_EQ(compiled->lowered_names.size(), 1u);
  EXPECT_EQ(compiled->lowered_name("tf_elementwise"), "tf_elementwise");
}

TEST_P(ElementwiseCompile, UsesVectorLoadsAndStores) {
  const Variant v = GetParam();
  auto compiled = compile(silu_source(v.arch, v.vec, v.gated, v.out_bytes));
  ASSERT_TRUE(compiled) << compiled.error().message;
  if (v.vec == 1) {  // one element per step: nothing to vectorize
    EXPECT_EQ(compiled->ptx.find("ld.global.nc.v"), std::string::npos);
    return;
  }
  const int load_width = v.vec > 4 ? 4 : v.vec;
  EXPECT_NE(compiled->ptx.find(fmt::format("ld.global.nc.v{}.f32", load_width)),
            std::string::npos);
  const std::string store = v.out_bytes == 2
                                ? fmt::format("st.global.v{}.u16", v.vec > 4 ? 4 : v.vec)
                                : fmt::format("st.global.v{}.f32", load_width);
  // bf16 x8 is 16 bytes: ptxas may pick v4.u32 / v2.u64 packing instead.
  if (!(v.out_bytes == 2 && v.vec == 8))
    EXPECT_NE(compiled->ptx.find(store), std::string::npos) << store;
}

INSTANTIATE_TEST_SUITE_P(
    Targets, ElementwiseCompile,
    ::testing::Values(Variant{"sm_80", 4, false, 2}, Variant{"sm_80", 4, true, 2},
                      Variant{"sm_80", 8, true, 2}, Variant{"sm_80", 2, false, 4},
                      Variant{"sm_80", 1, false, 2}, Variant{"sm_86", 4, false, 2},
                      Variant{"sm_89", 4, true, 2}, Variant{"sm_90", 4, false, 2}, Variant{"sm_90a", 4, false, 2},
                      Variant{"sm_90a", 4, true, 2}, Variant{"sm_90a", 4, false, 4}),
    [](const auto& info) {
      return fmt::format("{}_v{}{}_o{}", info.param.arch, info.param.vec,
                         info.param.gated ? "_gated" : "", info.param.out_bytes);
    });

TEST(Compile, RejectsUnsupportedArch) {
  auto compiled = compile(silu_source("sm_75"));
  ASSERT_FALSE(compiled);
  EXPECT_EQ(compiled.error().code, ErrorCode::InvalidInput);
  EXPECT_NE(compiled.error().message.find("sm_75"), std::string::npos);
  EXPECT_NE(compiled.error().message.find("sm_90a"), std::string::npos);
}

TEST(Compile, FailureCarriesLogOptionsAndSavedSource) {
  Source bad;
  bad.name = "broken.cu";
  bad.code = "extern \"C\" __global__ void k(float* p) { p[0] = undefined_name; }\n";
  bad.options.arch = "sm_80";
  bad.options.extra = {"--use_fast_math"};
  auto compiled = compile(bad);
  ASSERT_FALSE(compiled);
  const Error& e = compiled.error();
  EXPECT_EQ(e.code, ErrorCode::CompileFailed);
  EXPECT_NE(e.detail.find("undefined_name"), std::string::npos) << e.detail;
  EXPECT_NE(e.message.find("--gpu-architecture=sm_80"), std::string::npos) << e.message;
  EXPECT_NE(e.message.find("--use_fast_math"), std::string::npos) << e.message;
  // The message names the saved file; it holds exactly the source.
  const auto at = e.message.find("saved to ");
  ASSERT_NE(at, std::string::npos) << e.message;
  const auto start = at + std::string("saved to ").size();
  const std::string path = e.message.substr(start, e.message.find(' ', start) - start);
  std::ifstream saved(path);
  ASSERT_TRUE(saved.good()) << path;
  std::stringstream content;
  content << saved.rdbuf();
  EXPECT_EQ(content.str(), bad.code);
  std::filesystem::remove(path);
}

TEST(Compile, LowersTemplateKernelNames) {
  Source s;
  s.name = "templated.cu";
  s.code = "template <int N> __global__ void scale(float* p) { p[threadIdx.x] *= N; }\n";
  s.kernel_names = {"scale<3>"};
  s.options.arch = "sm_80";
  auto compiled = compile(s);
  ASSERT_TRUE(compiled) << compiled.error().message << compiled.error().detail;
  const std::string lowered = compiled->lowered_name("scale<3>");
  EXPECT_EQ(lowered, "_Z5scaleILi3EEvPf");
  EXPECT_NE(compiled->ptx.find(".entry " + lowered), std::string::npos);
}

TEST(Compile, OptionsAreExplicitAndIncludeNoPaths) {
  CompileOptions o{"sm_90a", {"--use_fast_math"}};
  const auto opts = nvrtc_options(o);
  EXPECT_EQ(opts.front(), "--gpu-architecture=sm_90a");
  EXPECT_EQ(opts.back(), "--use_fast_math");
  for (const auto& opt : opts) EXPECT_FALSE(opt.starts_with("-I")) << opt;
  EXPECT_NE(std::find(opts.begin(), opts.end(), "--ptxas-options=-v"), opts.end());
}

TEST(Compile, PrewarmIsIdempotentAndCompileStillWorks) {
  prewarm_nvrtc();
  prewarm_nvrtc();  // concurrent with the compile below: NVRTC is thread-safe
  auto compiled = compile(silu_source("sm_80"));
  ASSERT_TRUE(compiled) << compiled.error().message;
  EXPECT_EQ(compiled->spill_bytes, 0);
}

TEST(Compile, NvrtcVersionIsMajorDotMinor) {
  const std::string v = nvrtc_version();
  ASSERT_NE(v.find('.'), std::string::npos) << v;
  EXPECT_GE(std::stoi(v), 12) << v;
}

}  // namespace
}  // namespace tilefuse::runtime
