// See FusedKernel.h.
#include "runtime/ops/FusedKernel.h"

#include <chrono>

#include "runtime/ops/KernelSource.h"

namespace tilefuse::ops {

Expected<FusedKernelBuild> build_fused_kernel(const compiler::KernelSpec& spec, KernelKind kind,
                                              runtime::KernelCache& cache) {
  const auto start = std::chrono::steady_clock::now();
  auto epilogue = compiler::compile(spec);
  if (!epilogue) return epilogue.take_error();
  FusedKernelBuild build;
  build.emit_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  build.epilogue = std::move(*epilogue);

  const bool gemm = kind == KernelKind::Gemm;
  build.source.name = gemm ? "tilefuse_gemm.cu" : "tilefuse_elementwise.cu";
  build.source.code = gemm ? gemm_kernel_source(spec, build.epilogue)
                           : elementwise_kernel_source(build.epilogue);
  build.source.kernel_names = {gemm ? kGemmKernelName : kElementwiseKernelName};
  build.source.options.arch = compiler::to_string(spec.arch);

  auto cached = cache.get_or_compile({build.source, compiler::to_string(spec.precision)});
  if (!cached) return cached.take_error();
  build.cache = std::move(*cached);
  return build;
}

}  // namespace tilefuse::ops
