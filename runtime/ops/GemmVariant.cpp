// See GemmVariant.h.
#include "runtime/ops/GemmVariant.h"

#include <fmt/format.h>

#include "runtime/ops/FusedKernel.h"
#include "runtime/ops/GemmGeometry.h"
#include "runtime/ops/KernelSource.h"

namespace tilefuse::ops {

Expected<std::unique_ptr<GemmVariant>> GemmVariant::build(const compiler::KernelSpec& spec, bool gated,
                                                          runtime::KernelCache& cache, bool backward) {
  auto built = build_fused_kernel(spec, backward ? KernelKind::BackwardGemm : KernelKind::Gemm, cache);
  if (!built) return built.take_error();
  std::unique_ptr<GemmVariant> variant(new GemmVariant());
  variant->arch_ = spec.arch;
  variant->tile_ = built->epilogue.tile;
  variant->compiled_ = built->cache.compiled;
  variant->cache_outcome_ = built->cache.outcome;
  variant->compile_ms_ = built->cache.compile_ms;
  // Backward kernels are built on the mma.sync template on every target.
  const compiler::Mainloop mainloop =
      backward ? compiler::Mainloop::MmaSyncMultistage : compiler::make_target(spec.arch)->mainloop();
  variant->shared_bytes_ = static_cast<int>(compiler::tile_shared_bytes(mainloop, variant->tile_, gated));
  return variant;
}

Expected<const runtime::Kernel*> GemmVariant::kernel_for(CUcontext context, unsigned long long context_id,
                                                         int ordinal) {
  std::lock_guard lock(mutex_);
  for (const auto& loaded : loaded_)
    if (loaded->context == context && loaded->context_id == context_id) return &loaded->kernel;

  auto module = runtime::Loaded::load(*compiled_, ordinal);
  if (!module) return module.take_error();
  auto kernel = module->kernel(kGemmKernelName);
  if (!kernel) return kernel.take_error();
  // Above 48 KiB a launch needs the opt-in; set once per loaded kernel.
  if (auto ok = kernel->set_max_dynamic_shared_bytes(shared_bytes_); !ok) {
    Error e = ok.take_error();
    e.message += fmt::format(" (tile {} needs {} bytes of shared memory; choose a smaller tile or "
                             "fewer stages)",
                             compiler::to_string(tile_), shared_bytes_);
    return e;
  }
  auto entry = std::make_unique<LoadedKernel>();
  entry->context = context;
  entry->context_id = context_id;
  entry->kernel = std::move(*kernel);
  loaded_.push_back(std::move(entry));
  return &loaded_.back()->kernel;
}

}  // namespace tilefuse::ops
