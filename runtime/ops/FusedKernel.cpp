// See FusedKernel.h.
#include "runtime/ops/FusedKernel.h"

#include <chrono>

#include "runtime/ops/BackwardKernelSource.h"
#include "runtime/ops/Fp8Arguments.h"
#include "runtime/ops/KernelSource.h"

namespace tilefuse::ops {

namespace {

/// The epilogue of `spec`; an FP8 spec without a forced tile gets the tile
/// the compiler chooses fitted for FP8 (fit_tile_to_fp8, as
/// MatmulState::tile_for does for launches) and is compiled again with it.
Expected<compiler::CompiledEpilogue> compile_epilogue(compiler::KernelSpec spec) {
  auto epilogue = compiler::compile(spec);
  if (!epilogue || spec.tile || !compiler::is_fp8(spec.input_type)) return epilogue;
  const compiler::TileConfig fitted =
      fit_tile_to_fp8(epilogue->tile, spec.arch, epilogue->inputs == dsl::InputKind::Gated, spec.scale);
  if (fitted == epilogue->tile) return epilogue;
  spec.tile = fitted;
  return compiler::compile(spec);
}

}  // namespace

runtime::Source fused_kernel_source(const compiler::KernelSpec& spec, const compiler::CompiledEpilogue& epilogue,
                                    KernelKind kind) {
  const bool gemm = kind == KernelKind::Gemm;
  runtime::Source source;
  source.name = gemm ? "tilefuse_gemm.cu" : "tilefuse_elementwise.cu";
  source.code = gemm ? gemm_kernel_source(spec, epilogue) : elementwise_kernel_source(epilogue);
  source.kernel_names = {gemm ? kGemmKernelName : kElementwiseKernelName};
  source.options.arch = compiler::to_string(spec.arch);
  return source;
}

Expected<FusedKernelBuild> build_fused_kernel(const compiler::KernelSpec& spec, KernelKind kind,
                                              runtime::KernelCache& cache) {
  if (kind != KernelKind::Elementwise)
    if (auto ok = check_fp8_spec(spec); !ok) return ok.take_error();
  const auto start = std::chrono::steady_clock::now();
  auto epilogue = compile_epilogue(spec);
  if (!epilogue) return epilogue.take_error();
  FusedKernelBuild build;
  build.emit_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  build.epilogue = std::move(*epilogue);

  if (kind == KernelKind::BackwardGemm) {
    auto code = backward_gemm_kernel_source(spec, build.epilogue);
    if (!code) return code.take_error();
    build.source.name = "tilefuse_backward_gemm.cu";
    build.source.code = std::move(*code);
    build.source.kernel_names = {kBackwardGemmKernelName};
    build.source.options.arch = compiler::to_string(spec.arch);
  } else {
    build.source = fused_kernel_source(spec, build.epilogue, kind);
  }

  auto cached = cache.get_or_compile({build.source, compiler::to_string(spec.precision)});
  if (!cached) return cached.take_error();
  build.cache = std::move(*cached);
  return build;
}

}  // namespace tilefuse::ops
