// The host's TfGemmParams bytes: the layout computed on the host must be the
// one NVRTC gives the real gemm_params.cuh, for 0 (empty struct), 1, 2, 3 and
// the maximum number of epilogue parameters.
#include <gtest/gtest.h>

#include <cstddef>
#include <cstring>
#include <regex>
#include <vector>

#include <fmt/format.h>

#include "runtime/Nvrtc.h"
#include "runtime/ops/GemmParams.h"

namespace tilefuse::ops {
namespace {

template <typename T>
T read_at(const KernelParamBuffer& buffer, size_t offset) {
  T value;
  std::memcpy(&value, buffer.bytes + offset, sizeof(T));
  return value;
}

GemmParams distinct_params() {
  GemmParams p;
  p.a = reinterpret_cast<const void*>(0x1000);
  p.b = reinterpret_cast<const void*>(0x2000);
  p.b_up = reinterpret_cast<const void*>(0x3000);
  p.d = reinterpret_cast<void*>(0x4000);
  p.bias = reinterpret_cast<const void*>(0x5000);
  p.c = reinterpret_cast<const void*>(0x6000);
  p.aux = reinterpret_cast<void*>(0x7000);
  p.m = 11, p.n = 12, p.k = 13;
  p.lda = 21, p.ldb = 22, p.ldc = 23, p.ldd = 24, p.ld_aux = 25;
  p.batch_stride_a = 31, p.batch_stride_b = 32, p.batch_stride_c = 33, p.batch_stride_d = 34,
  p.batch_stride_aux = 35;
  p.alpha = 0.5f, p.beta = -2.0f;
  return p;
}

TEST(GemmParams, PackedBytesHoldEveryFieldAtItsOffset) {
  const float values[] = {1.5f, -3.25f, 7.0f};
  KernelParamBuffer buffer;
  pack_kernel_params(distinct_params(), values, buffer);
  EXPECT_EQ(buffer.size, 184u);  // 168 + 12 = 180, rounded to 8
  EXPECT_EQ(read_at<const void*>(buffer, 0), reinterpret_cast<const void*>(0x1000));
  EXPECT_EQ(read_at<const void*>(buffer, 16), reinterpret_cast<const void*>(0x3000));
  EXPECT_EQ(read_at<void*>(buffer, 48), reinterpret_cast<void*>(0x7000));
  EXPECT_EQ(read_at<long long>(buffer, 56), 11);
  EXPECT_EQ(read_at<long long>(buffer, 72), 13);
  EXPECT_EQ(read_at<long long>(buffer, 80), 21);
  EXPECT_EQ(read_at<long long>(buffer, 112), 25);
  EXPECT_EQ(read_at<long long>(buffer, 120), 31);
  EXPECT_EQ(read_at<long long>(buffer, 152), 35);
  EXPECT_EQ(read_at<float>(buffer, 160), 0.5f);
  EXPECT_EQ(read_at<float>(buffer, 164), -2.0f);
  EXPECT_EQ(read_at<float>(buffer, 168), 1.5f);
  EXPECT_EQ(read_at<float>(buffer, 172), -3.25f);
  EXPECT_EQ(read_at<float>(buffer, 176), 7.0f);
  EXPECT_EQ(read_at<unsigned>(buffer, 180), 0u) << "tail padding is zeroed";
}

TEST(GemmParams, WithoutParametersTheEmptyEpilogueStructStillTakesItsByte) {
  KernelParamBuffer buffer;
  pack_kernel_params(distinct_params(), {}, buffer);
  EXPECT_EQ(buffer.size, 176u);  // 168 + 1 (empty struct), rounded to 8
  EXPECT_EQ(read_at<float>(buffer, 164), -2.0f);
  EXPECT_EQ(read_at<unsigned long long>(buffer, 168), 0u);
}

TEST(GemmParams, BufferHoldsTheMaximumParameterCount) {
  std::vector<float> values(kMaxEpilogueParams);
  for (size_t i = 0; i < values.size(); ++i) values[i] = static_cast<float>(i) + 0.5f;
  KernelParamBuffer buffer;
  pack_kernel_params(distinct_params(), values, buffer);
  EXPECT_EQ(buffer.size, kernel_params_bytes(kMaxEpilogueParams));
  EXPECT_EQ(read_at<float>(buffer, 168 + 4 * (kMaxEpilogueParams - 1)), values.back());
  // With the most row and column inputs too (issue 15), the buffer is full.
  OperandVectors vectors;
  vectors.rows = vectors.cols = kMaxRowColInputs;
  for (int k = 0; k < kMaxRowColInputs; ++k) vectors.col_batch_stride[k] = 1000 + k;
  pack_kernel_params(distinct_params(), values, buffer, vectors);
  EXPECT_EQ(buffer.size + sizeof(Fp8Params), sizeof(buffer.bytes));
  EXPECT_EQ(read_at<long long>(buffer, buffer.size - 8), 1000 + kMaxRowColInputs - 1);
  // ... and with the FP8 block (issue 16) after them, the buffer is full.
  float amax = 0;
  const Fp8Params fp8{nullptr, nullptr, nullptr, &amax};
  pack_kernel_params(distinct_params(), values, buffer, vectors, &fp8);
  EXPECT_EQ(buffer.size, sizeof(buffer.bytes));
  EXPECT_EQ(read_at<long long>(buffer, sizeof(buffer.bytes) - 40), 1000 + kMaxRowColInputs - 1);
  EXPECT_EQ(read_at<float*>(buffer, sizeof(buffer.bytes) - 8), &amax);
}

// What NVRTC makes of the real gemm_params.cuh with a TfEpilogueParams of
// `count` floats: sizeof/alignof by static_assert, and each field's offset
// read from the PTX of a kernel that loads just that field
// (`ld.param.u64 %rd1, [f_m_param_0+56]`; NVRTC has no offsetof).
struct FieldProbe {
  std::string field;   // member expression on TfGemmParams
  const char* type;    // its C++ type
  size_t host_offset;  // what the host computed
};

std::vector<FieldProbe> field_probes(size_t count) {
  std::vector<FieldProbe> probes = {
      {"a", "const unsigned short*", offsetof(GemmParams, a)},
      {"b_up", "const unsigned short*", offsetof(GemmParams, b_up)},
      {"aux", "void*", offsetof(GemmParams, aux)},
      {"m", "long long", offsetof(GemmParams, m)},
      {"k", "long long", offsetof(GemmParams, k)},
      {"lda", "long long", offsetof(GemmParams, lda)},
      {"ld_aux", "long long", offsetof(GemmParams, ld_aux)},
      {"batch_stride_a", "long long", offsetof(GemmParams, batch_stride_a)},
      {"batch_stride_aux", "long long", offsetof(GemmParams, batch_stride_aux)},
      {"alpha", "float", offsetof(GemmParams, alpha)},
      {"beta", "float", offsetof(GemmParams, beta)}};
  if (count > 0) {
    probes.push_back({"epilogue.p0", "float", kEpilogueParamsOffset});
    if (count > 1)
      probes.push_back({fmt::format("epilogue.p{}", count - 1), "float", kEpilogueParamsOffset + 4 * (count - 1)});
  }
  return probes;
}

std::string kernel_name(const FieldProbe& probe) {
  std::string name = fmt::format("f_{}", probe.field);
  for (char& c : name)
    if (c == '.') c = '_';
  return name;
}

std::string layout_probe(size_t count) {
  std::string code;
  for (size_t i = 0; i < count; ++i) code += fmt::format(" float p{};", i);
  code = fmt::format("struct TfEpilogueParams {{{}}};\n#include \"tilefuse/gemm_params.cuh\"\n", code);
  code += fmt::format("static_assert(sizeof(TfGemmParams) == {}, \"size\");\n", kernel_params_bytes(count));
  code += fmt::format("static_assert(alignof(TfGemmParams) == {}, \"alignment\");\n", kGemmParamsAlign);
  for (const FieldProbe& probe : field_probes(count))
    code += fmt::format("extern \"C\" __global__ void {}(const TfGemmParams p, {}* out) {{ *out = p.{}; }}\n",
                        kernel_name(probe), probe.type, probe.field);
  return code;
}

/// Offset of the ld.param of `kernel`'s first parameter in `ptx`, or -1.
long long loaded_offset(const std::string& ptx, const std::string& kernel) {
  const std::regex load("ld\\.param\\.[a-z0-9]+\\s+%[a-z0-9]+,\\s*\\[" + kernel + "_param_0(\\+(\\d+))?\\]");
  std::smatch match;
  if (!std::regex_search(ptx, match, load)) return -1;
  return match[2].matched ? std::stoll(match[2].str()) : 0;
}

TEST(GemmParams, HostLayoutMatchesTheDeviceStructCompiledByNvrtc) {
  for (size_t count : {size_t{0}, size_t{1}, size_t{2}, size_t{3}, kMaxEpilogueParams}) {
    runtime::Source source;
    source.name = fmt::format("layout_probe_{}.cu", count);
    source.code = layout_probe(count);
    source.options.arch = "sm_80";
    auto compiled = runtime::compile(source);
    ASSERT_TRUE(compiled) << count << " parameters: " << compiled.error().message << "\n"
                          << compiled.error().detail;
    for (const FieldProbe& probe : field_probes(count)) {
      const std::string kernel = kernel_name(probe);
      EXPECT_NE(compiled->ptx.find(fmt::format(".param .align {} .b8 {}_param_0[{}]", kGemmParamsAlign, kernel,
                                               kernel_params_bytes(count))),
                std::string::npos)
          << kernel << ": the PTX parameter has another size or alignment";
      EXPECT_EQ(loaded_offset(compiled->ptx, kernel), static_cast<long long>(probe.host_offset))
          << count << " parameters, field " << probe.field;
    }
  }
}

TEST(GemmParams, ProbeFailsWhenTheSizeIsWrong) {
  // The size check is only evidence if a wrong expectation fails to compile.
  runtime::Source source;
  source.name = "layout_probe_wrong.cu";
  source.code = layout_probe(3);
  const std::string right = fmt::format("sizeof(TfGemmParams) == {}", kernel_params_bytes(3));
  source.code.replace(source.code.find(right), right.size(), "sizeof(TfGemmParams) == 180");
  source.options.arch = "sm_80";
  auto compiled = runtime::compile(source);
  ASSERT_FALSE(compiled);
  EXPECT_NE(compiled.error().detail.find("size"), std::string::npos) << compiled.error().detail;
}

}  // namespace
}  // namespace tilefuse::ops
