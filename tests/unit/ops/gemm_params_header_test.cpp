// Both sides of the TfGemmParams layout pinned (issue 13): the device header
// templates/tilefuse/gemm_params.cuh static_asserts its size against
// kTfGemmParamsEpilogueOffset (NVRTC has no offsetof), which (1) the host
// compiler checks here by including the same header, together with every
// field's offset against the host mirror runtime/ops/GemmParams.h; and
// (2) NVRTC enforces: a header whose layout drifts no longer compiles.
#include <gtest/gtest.h>

#include <cstddef>
#include <string>

#include "runtime/EmbeddedFiles.h"
#include "runtime/Nvrtc.h"
#include "runtime/ops/GemmParams.h"

// The generated epilogue defines this before the header; three parameters.
struct TfEpilogueParams {
  float p0, p1, p2;
};
#include "templates/tilefuse/gemm_params.cuh"

namespace tilefuse::ops {
namespace {

#define TF_SAME_OFFSET(field) \
  static_assert(offsetof(TfGemmParams, field) == offsetof(GemmParams, field), #field " differs")
TF_SAME_OFFSET(a);
TF_SAME_OFFSET(b);
TF_SAME_OFFSET(b_up);
TF_SAME_OFFSET(d);
TF_SAME_OFFSET(bias);
TF_SAME_OFFSET(c);
TF_SAME_OFFSET(aux);
TF_SAME_OFFSET(m);
TF_SAME_OFFSET(n);
TF_SAME_OFFSET(k);
TF_SAME_OFFSET(lda);
TF_SAME_OFFSET(ldb);
TF_SAME_OFFSET(ldc);
TF_SAME_OFFSET(ldd);
TF_SAME_OFFSET(ld_aux);
TF_SAME_OFFSET(batch_stride_a);
TF_SAME_OFFSET(batch_stride_b);
TF_SAME_OFFSET(batch_stride_c);
TF_SAME_OFFSET(batch_stride_d);
TF_SAME_OFFSET(batch_stride_aux);
TF_SAME_OFFSET(alpha);
TF_SAME_OFFSET(beta);
#undef TF_SAME_OFFSET
static_assert(offsetof(TfGemmParams, epilogue) == kEpilogueParamsOffset);
static_assert(kTfGemmParamsEpilogueOffset == kEpilogueParamsOffset);
static_assert(sizeof(TfGemmParams) == kernel_params_bytes(3));
static_assert(alignof(TfGemmParams) == kGemmParamsAlign);

std::string embedded(std::string_view name) {
  for (const auto& file : runtime::embedded_files())
    if (file.name == name) return std::string(file.content);
  return {};
}

runtime::Source probe(std::string header) {
  runtime::Source source;
  source.name = "gemm_params_layout.cu";
  source.code = "struct TfEpilogueParams { float p0; };\n" + header +
                "\nextern \"C\" __global__ void f(const TfGemmParams p, long long* out) { *out = p.m; }\n";
  source.options.arch = "sm_80";
  return source;
}

TEST(GemmParamsHeader, NvrtcAcceptsTheHeaderAndRejectsALayoutThatDrifts) {
  const std::string header = embedded("tilefuse/gemm_params.cuh");
  ASSERT_FALSE(header.empty()) << "tilefuse/gemm_params.cuh is not embedded";
  auto good = runtime::compile(probe(header));
  ASSERT_TRUE(good) << good.error().message << "\n" << good.error().detail;

  // One more field after aux moves m and everything after it.
  std::string drifted = header;
  const std::string aux = "void* aux;";
  const auto at = drifted.find(aux);
  ASSERT_NE(at, std::string::npos);
  drifted.insert(at + aux.size(), " int added_by_mistake;");
  auto bad = runtime::compile(probe(drifted));
  ASSERT_FALSE(bad) << "a TfGemmParams with another layout compiled: the device-side asserts are missing";
  EXPECT_NE(bad.error().detail.find("TfGemmParams: 168 bytes of fixed fields"), std::string::npos)
      << bad.error().detail;
}

// An FP8 kernel's header (TF_GEMM_FP8 defined) compiles with its TfFp8Params
// block, and a TfFp8Params that grows is rejected by the size assert.
TEST(GemmParamsHeader, NvrtcChecksTheFp8Block) {
  const std::string header = "#define TF_GEMM_FP8 1\n" + embedded("tilefuse/gemm_params.cuh");
  auto good = runtime::compile(probe(header));
  ASSERT_TRUE(good) << good.error().message << "\n" << good.error().detail;
  std::string drifted = header;
  const std::string amax = "float* amax;";
  const auto at = drifted.find(amax);
  ASSERT_NE(at, std::string::npos);
  drifted.insert(at + amax.size(), " float added_by_mistake;");
  auto bad = runtime::compile(probe(drifted));
  ASSERT_FALSE(bad) << "a TfFp8Params with another layout compiled";
  EXPECT_NE(bad.error().detail.find("TfFp8Params: 4 pointers"), std::string::npos) << bad.error().detail;
}

}  // namespace
}  // namespace tilefuse::ops
