// One compiled kernel of a MatmulOp: its (architecture, tile), built once
// through the kernel cache, then loaded once per CUDA context with its
// dynamic shared-memory opt-in set.
#pragma once

#include <cuda.h>

#include <memory>
#include <mutex>
#include <vector>

#include "compiler/Pipeline.h"
#include "runtime/KernelCache.h"
#include "runtime/Module.h"
#include "tilefuse/error.hpp"

namespace tilefuse::ops {

class GemmVariant {
 public:
  /// Compiles `spec` (whose arch and tile are set) through `cache`.
  /// `backward`: the backward GEMM of a `gradient` spec (BackwardKernelSource.h).
  static Expected<std::unique_ptr<GemmVariant>> build(const compiler::KernelSpec& spec, bool gated,
                                                      runtime::KernelCache& cache, bool backward = false);

  compiler::Arch arch() const { return arch_; }
  const compiler::TileConfig& tile() const { return tile_; }
  const runtime::Compiled& compiled() const { return *compiled_; }
  runtime::CacheOutcome cache_outcome() const { return cache_outcome_; }
  double compile_ms() const { return compile_ms_; }
  /// Dynamic shared memory of one launch, bytes.
  int shared_bytes() const { return shared_bytes_; }

  /// The kernel loaded in `context` (device `ordinal`'s primary context,
  /// whose cuCtxGetId is `context_id`), loading it on first use and again
  /// when the context was reset (same handle, new id). The reference stays
  /// valid while this exists.
  Expected<const runtime::Kernel*> kernel_for(CUcontext context, unsigned long long context_id, int ordinal);

 private:
  GemmVariant() = default;
  struct LoadedKernel {
    CUcontext context = nullptr;
    unsigned long long context_id = 0;
    runtime::Kernel kernel;
  };

  compiler::Arch arch_ = compiler::Arch::Sm80;
  compiler::TileConfig tile_;
  std::shared_ptr<const runtime::Compiled> compiled_;
  runtime::CacheOutcome cache_outcome_ = runtime::CacheOutcome::Miss;
  double compile_ms_ = 0;
  int shared_bytes_ = 0;

  std::mutex mutex_;
  /// Never shrinks: a kernel of a reset context stays (another thread may
  /// still hold it) until the variant goes.
  std::vector<std::unique_ptr<LoadedKernel>> loaded_;
};

}  // namespace tilefuse::ops
