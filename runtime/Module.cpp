#include "runtime/Module.h"

#include <fmt/format.h>

#include "runtime/ImageChoice.h"

namespace tilefuse::runtime {

struct ModuleHandle {
  const DriverApi* api = nullptr;
  CUcontext context = nullptr;
  CUmodule module = nullptr;
  ModuleHandle() = default;
  ModuleHandle(const ModuleHandle&) = delete;
  ModuleHandle& operator=(const ModuleHandle&) = delete;
  ~ModuleHandle() {
    // Unloading can only fail if the context is already gone (process
    // teardown); there is nobody to report that to and nothing to undo.
    if (module) api->cuModuleUnload(module);
  }
};

namespace {

// The module's context must be current on the calling thread.
Expected<void> ensure_current(const ModuleHandle& m) {
  CUcontext current = nullptr;
  if (CUresult r = m.api->cuCtxGetCurrent(&current); r != CUDA_SUCCESS)
    return driver_error(*m.api, r, "cuCtxGetCurrent");
  if (current != m.context)
    if (CUresult r = m.api->cuCtxSetCurrent(m.context); r != CUDA_SUCCESS)
      return driver_error(*m.api, r, "cuCtxSetCurrent");
  return {};
}

/// The image of `compiled` device `ordinal` can load (ImageChoice.h): its
/// cubin when the compute capability allows, else its PTX (a kernel forced
/// to sm_80 on a 9.0 device), else Unsupported saying what would run.
Expected<LoadableImage> image_for_device(const Compiled& compiled, int ordinal) {
  if (compiled.cubin.empty()) return LoadableImage::Ptx;
  if (compiled.arch.empty()) return LoadableImage::Cubin;  // built by hand: trust the caller
  auto target = parse_target_arch(compiled.arch);
  if (!target) return target.take_error();
  auto info = query_device(ordinal);
  if (!info) return info.take_error();
  const ComputeCapability device{info->compute_major, info->compute_minor};
  const LoadableImage image = loadable_image(*target, device);
  if (image == LoadableImage::None || (image == LoadableImage::Ptx && compiled.ptx.empty()))
    return make_error(ErrorCode::Unsupported, unloadable_explanation(compiled.arch, device, ordinal));
  return image;
}

}  // namespace

Expected<Loaded> Loaded::load(const Compiled& compiled, int ordinal) {
  auto api = driver();
  if (!api) return api.take_error();
  auto ctx = make_context_current(ordinal);
  if (!ctx) return ctx.take_error();
  if (compiled.cubin.empty() && compiled.ptx.empty())
    return make_error(ErrorCode::InvalidInput,
                      "cannot load a Compiled program with neither cubin nor PTX: compile it "
                      "with runtime::compile first");

  auto image = image_for_device(compiled, ordinal);
  if (!image) return image.take_error();
  auto handle = std::make_shared<ModuleHandle>();
  handle->api = *api;
  handle->context = *ctx;
  // cuModuleLoadData wants NUL-terminated PTX; std::string guarantees it.
  const bool ptx = *image == LoadableImage::Ptx;
  const void* data = ptx ? static_cast<const void*>(compiled.ptx.c_str()) : compiled.cubin.data();
  if (CUresult r = (*api)->cuModuleLoadData(&handle->module, data); r != CUDA_SUCCESS) {
    Error e = driver_error(**api, r, "cuModuleLoadData");
    e.message += fmt::format(" while loading a {} {} image on device {}: check that the "
                             "kernel was compiled for this GPU's architecture",
                             compiled.arch, ptx ? "PTX" : "cubin", ordinal);
    return e;
  }
  Loaded loaded;
  loaded.module_ = std::move(handle);
  loaded.lowered_names_ = compiled.lowered_names;
  return loaded;
}

CUmodule Loaded::module() const { return module_ ? module_->module : nullptr; }

Expected<Kernel> Loaded::kernel(std::string_view name_expression) const {
  std::string lowered(name_expression);
  for (const auto& [expr, low] : lowered_names_)
    if (expr == name_expression) lowered = low;
  Kernel k;
  if (CUresult r = module_->api->cuModuleGetFunction(&k.function_, module_->module,
                                                     lowered.c_str());
      r != CUDA_SUCCESS) {
    Error e = driver_error(*module_->api, r, fmt::format("cuModuleGetFunction('{}')", lowered));
    e.message += "; the name must be an extern \"C\" kernel or one of Source::kernel_names";
    return e;
  }
  k.module_ = module_;
  k.name_ = std::move(lowered);
  return k;
}

Expected<void> Kernel::set_max_dynamic_shared_bytes(int bytes) const {
  if (CUresult r = module_->api->cuFuncSetAttribute(
          function_, CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES, bytes);
      r != CUDA_SUCCESS)
    return driver_error(*module_->api, r,
                        fmt::format("cuFuncSetAttribute(MAX_DYNAMIC_SHARED_SIZE_BYTES={}) for {}",
                                    bytes, name_));
  return {};
}

Expected<void> launch(const Kernel& kernel, const LaunchConfig& config, CUstream stream,
                      void** args) {
  if (!kernel.function())
    return make_error(ErrorCode::InvalidInput,
                      "cannot launch an empty Kernel: get one from Loaded::kernel");
  const ModuleHandle& m = *kernel.module_;
  if (auto ok = ensure_current(m); !ok) return ok;
  if (CUresult r = m.api->cuLaunchKernel(kernel.function(), config.grid[0], config.grid[1],
                                         config.grid[2], config.block[0], config.block[1],
                                         config.block[2], config.dynamic_shared_bytes, stream,
                                         args, nullptr);
      r != CUDA_SUCCESS)
    return driver_error(*m.api, r,
                        fmt::format("cuLaunchKernel({}, grid {}x{}x{}, block {}x{}x{}, {} B "
                                    "dynamic shared)",
                                    kernel.name(), config.grid[0], config.grid[1], config.grid[2],
                                    config.block[0], config.block[1], config.block[2],
                                    config.dynamic_shared_bytes));
  return {};
}

}  // namespace tilefuse::runtime
