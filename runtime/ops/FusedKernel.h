// The ops facade's build step: KernelSpec → generated CUDA (compiler) →
// cached NVRTC compile (runtime). The only place compiler and JIT meet.
#pragma once

#include <string>

#include "compiler/Pipeline.h"
#include "runtime/KernelCache.h"

namespace tilefuse::ops {

/// BackwardGemm: dZ = (alpha·A·B) ⊙ act'(aux) from a KernelSpec with
/// `gradient` (runtime/ops/BackwardKernelSource.h; mma.sync on every arch).
enum class KernelKind { Gemm, Elementwise, BackwardGemm };

struct FusedKernelBuild {
  compiler::CompiledEpilogue epilogue;  ///< every IR stage and the epilogue CUDA
  runtime::Source source;               ///< the full translation unit handed to NVRTC
  runtime::CacheResult cache;           ///< compiled code, hit/miss, timings
  double emit_ms = 0;                   ///< DSL → MLIR pipeline → CUDA text
};

/// The NVRTC source of the fused kernel of `kind` for `spec`, whose epilogue
/// `epilogue` was compiled from it. Everything that compiles a fused kernel
/// goes through this (the cache key hashes it: one spelling, one entry).
runtime::Source fused_kernel_source(const compiler::KernelSpec& spec, const compiler::CompiledEpilogue& epilogue,
                                    KernelKind kind);

/// Emits and compiles (through `cache`) the fused kernel for `spec`.
Expected<FusedKernelBuild> build_fused_kernel(const compiler::KernelSpec& spec, KernelKind kind,
                                              runtime::KernelCache& cache);

}  // namespace tilefuse::ops
