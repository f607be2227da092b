// Issue 8, CPU CI: the backward kernels compile with NVRTC for sm_80 and
// sm_90a with 0 spill bytes: the backward GEMM (dZ = (dY·Wᵀ) ⊙ act'(z), z read
// from aux; mma.sync path) for single-input built-ins in precise and fast
// mode, the gated backward GEMM (dgate, dup from dH and aux = [gate | up]),
// the element-wise backward (single and gated: dgate, dup), and on sm_80 the
// gated forward that stores aux = [gate | up] for it.
#include <gtest/gtest.h>

#include <fmt/format.h>

#include "compiler/Pipeline.h"
#include "compiler/Target/TargetInfo.h"
#include "compiler/Target/TilePruning.h"
#include "runtime/KernelCache.h"
#include "runtime/ops/BackwardKernelSource.h"
#include "runtime/ops/KernelSource.h"

namespace tilefuse::ops {
namespace {

using compiler::Arch;
using compiler::KernelSpec;
using compiler::Precision;

struct Job {
  std::string label;
  runtime::CacheRequest request;
  bool gemm = true;
};

Job gemm_job(const std::string& expression, Arch arch, Precision precision, bool b_col_major) {
  KernelSpec spec;
  spec.expression = expression;
  spec.arch = arch;
  spec.precision = precision;
  spec.b_col_major = b_col_major;
  spec = backward_gemm_spec(spec, 4096, 4096, 4096);
  Job job;
  job.label = fmt::format("backward gemm {} {} {}{}", expression, compiler::to_string(arch),
                          compiler::to_string(precision), b_col_major ? " col-major B" : "");
  auto epilogue = compiler::compile(spec);
  if (!epilogue) {
    ADD_FAILURE() << job.label << ": " << epilogue.error().message;
    return job;
  }
  auto source = backward_gemm_kernel_source(spec, *epilogue);
  if (!source) {
    ADD_FAILURE() << job.label << ": " << source.error().message;
    return job;
  }
  job.request.source.name = "backward_gemm.cu";
  job.request.source.code = *source;
  job.request.source.kernel_names = {kBackwardGemmKernelName};
  job.request.source.options.arch = compiler::to_string(arch);
  job.request.precision_mode = compiler::to_string(precision);
  return job;
}

/// The gated forward with aux on the mma.sync template (sm_80 only: the
/// sm_90a kernel has no aux store and the runtime rejects the combination).
Job gated_forward_aux_job(const std::string& expression, Precision precision) {
  KernelSpec spec;
  spec.expression = expression;
  spec.arch = Arch::Sm80;
  spec.precision = precision;
  spec.aux = true;
  spec.tile = compiler::fit_tile_to_gated(*compiler::make_target(Arch::Sm80),
                                          compiler::make_target(Arch::Sm80)->default_tile(4096, 4096, 4096));
  Job job;
  job.label = fmt::format("gated forward with aux {} sm_80 {}", expression, compiler::to_string(precision));
  auto epilogue = compiler::compile(spec);
  if (!epilogue) {
    ADD_FAILURE() << job.label << ": " << epilogue.error().message;
    return job;
  }
  job.request.source.name = "gemm.cu";
  job.request.source.code = gemm_kernel_source(spec, *epilogue);
  job.request.source.kernel_names = {kGemmKernelName};
  job.request.source.options.arch = compiler::to_string(Arch::Sm80);
  job.request.precision_mode = compiler::to_string(precision);
  return job;
}

Job elementwise_job(const std::string& expression, Arch arch, Precision precision) {
  KernelSpec spec;
  spec.expression = expression;
  spec.arch = arch;
  spec.precision = precision;
  spec.gradient = true;
  Job job;
  job.gemm = false;
  job.label = fmt::format("backward elementwise {} {} {}", expression, compiler::to_string(arch),
                          compiler::to_string(precision));
  auto epilogue = compiler::compile(spec);
  if (!epilogue) {
    ADD_FAILURE() << job.label << ": " << epilogue.error().message;
    return job;
  }
  auto source = backward_elementwise_kernel_source(*epilogue);
  if (!source) {
    ADD_FAILURE() << job.label << ": " << source.error().message;
    return job;
  }
  const bool gated = epilogue->inputs == dsl::InputKind::Gated;
  job.request.source.name = "backward_elementwise.cu";
  job.request.source.code = *source;
  job.request.source.kernel_names = {gated ? kElementwiseGatedBackwardKernelName : kElementwiseBackwardKernelName};
  job.request.source.options.arch = compiler::to_string(arch);
  job.request.precision_mode = compiler::to_string(precision);
  return job;
}

class BackwardCompile : public ::testing::TestWithParam<Arch> {};

TEST_P(BackwardCompile, BackwardKernelsCompileWithoutSpills) {
  const Arch arch = GetParam();
  std::vector<Job> jobs;
  for (const char* expression : {"gelu", "silu", "relu", "gelu_tanh", "mish"})
    for (Precision precision : {Precision::Precise, Precision::Fast})
      jobs.push_back(gemm_job(expression, arch, precision, /*b_col_major=*/false));
  jobs.push_back(gemm_job("quick_gelu", arch, Precision::Precise, /*b_col_major=*/true));
  for (const char* expression : {"swiglu", "geglu"})
    for (Precision precision : {Precision::Precise, Precision::Fast})
      jobs.push_back(gemm_job(expression, arch, precision, /*b_col_major=*/precision == Precision::Fast));
  if (arch == Arch::Sm80) {
    jobs.push_back(gated_forward_aux_job("swiglu", Precision::Precise));
    jobs.push_back(gated_forward_aux_job("geglu", Precision::Fast));
  }
  for (const char* expression : {"gelu", "swiglu", "geglu", "reglu"})
    for (Precision precision : {Precision::Precise, Precision::Fast})
      jobs.push_back(elementwise_job(expression, arch, precision));

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
    if (jobs[i].gemm) {
      EXPECT_GT(c.ptx_instructions.at("mma_sync"), 0) << label;
      EXPECT_GT(c.ptx_instructions.at("ldmatrix"), 0) << label;
    }
    std::printf("%s: %d registers\n", label.c_str(), c.registers);
  }
}

INSTANTIATE_TEST_SUITE_P(Arch, BackwardCompile, ::testing::Values(Arch::Sm80, Arch::Sm90a),
                         [](const auto& info) { return info.param == Arch::Sm80 ? "sm80" : "sm90a"; });

TEST(BackwardSource, GatedGemmCallsBothPartialsOnTheMmaSyncTemplate) {
  KernelSpec spec = backward_gemm_spec(KernelSpec{.expression = "swiglu"}, 128, 128, 128);
  auto epilogue = compiler::compile(spec);
  ASSERT_TRUE(epilogue) << epilogue.error().message;
  auto source = backward_gemm_kernel_source(spec, *epilogue);
  ASSERT_TRUE(source) << source.error().message;
  for (const char* needle : {"tf_epilogue_dgate(", "tf_epilogue_dup(", "#define TF_EPILOGUE_GATED 1",
                             "#define TF_EPILOGUE_GRAD 1", "kGateInterleave = 0", "tilefuse/gemm_sm80.cuh"})
    EXPECT_NE(source->find(needle), std::string::npos) << needle;
}

TEST(BackwardSource, ForwardEpilogueIsRejected) {
  KernelSpec spec{.expression = "gelu"};
  auto epilogue = compiler::compile(spec);
  ASSERT_TRUE(epilogue) << epilogue.error().message;
  auto source = backward_elementwise_kernel_source(*epilogue);
  ASSERT_FALSE(source);
  EXPECT_EQ(source.error().code, ErrorCode::InvalidInput);
}

}  // namespace
}  // namespace tilefuse::ops
