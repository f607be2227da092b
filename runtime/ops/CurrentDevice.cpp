// See CurrentDevice.h.
#include "runtime/ops/CurrentDevice.h"

#include <mutex>
#include <vector>

#include <fmt/format.h>

#include "runtime/Driver.h"

namespace tilefuse::ops {
namespace {

struct DeviceTable {
  std::mutex mutex;
  std::vector<CurrentDevice> known;  // one entry per context handle seen (its latest id)
};

DeviceTable& table() {
  static DeviceTable instance;
  return instance;
}

Expected<CurrentDevice> describe(const runtime::DriverApi& api, CUcontext context, unsigned long long context_id) {
  CUdevice device = 0;
  if (CUresult r = api.cuCtxGetDevice(&device); r != CUDA_SUCCESS)
    return runtime::driver_error(api, r, "cuCtxGetDevice");
  const int ordinal = static_cast<int>(device);  // CUdevice handles are ordinals

  // Kernels are loaded into the primary context (runtime::Loaded::load);
  // make_context_current makes it current, so put the caller's back.
  auto primary = runtime::make_context_current(ordinal);
  if (!primary) return primary.take_error();
  if (*primary != context) {
    api.cuCtxSetCurrent(context);
    return make_error(ErrorCode::Unsupported,
                      fmt::format("the current CUDA context is not device {}'s primary context; "
                                  "tilefuse launches in primary contexts (those the CUDA runtime "
                                  "API uses): make it current with cuDevicePrimaryCtxRetain and "
                                  "cuCtxSetCurrent, or call cudaSetDevice({})",
                                  ordinal, ordinal));
  }
  auto info = runtime::query_device(ordinal);
  if (!info) return info.take_error();
  auto arch_name = runtime::arch_for_compute_capability(info->compute_major, info->compute_minor);
  if (!arch_name) return arch_name.take_error();
  auto arch = compiler::parse_arch(*arch_name);
  if (!arch) return arch.take_error();
  return CurrentDevice{context, context_id, ordinal, *arch, info->shared_per_block_optin, info->sm_count};
}

/// The device of a context this table has described, if any.
std::optional<int> known_ordinal(CUcontext context) {
  DeviceTable& t = table();
  std::lock_guard lock(t.mutex);
  for (const CurrentDevice& d : t.known)
    if (d.context == context) return d.ordinal;
  return std::nullopt;
}

}  // namespace

Expected<CurrentDevice> current_device() {
  auto api = runtime::driver();
  if (!api) return api.take_error();
  CUcontext context = nullptr;
  if (CUresult r = (*api)->cuCtxGetCurrent(&context); r != CUDA_SUCCESS)
    return runtime::driver_error(**api, r, "cuCtxGetCurrent");
  if (!context) {  // like the CUDA runtime: device 0 unless the caller chose one
    auto primary = runtime::make_context_current(0);
    if (!primary) return primary.take_error();
    context = *primary;
  }
  unsigned long long id = 0;
  if (CUresult r = (*api)->cuCtxGetId(context, &id); r != CUDA_SUCCESS) {
    // The current context is unusable. cudaDeviceReset leaves the thread's
    // current context naming the reset primary context (the CUDA runtime
    // retains it again on its next call): do the same for one we know.
    const std::optional<int> ordinal = known_ordinal(context);
    if (!ordinal)
      return runtime::driver_error(**api, r,
                                   "cuCtxGetId of the current context (destroyed? make a live context "
                                   "current, e.g. with cudaSetDevice)");
    auto primary = runtime::make_context_current(*ordinal);
    if (!primary) return primary.take_error();
    context = *primary;
    if (CUresult again = (*api)->cuCtxGetId(context, &id); again != CUDA_SUCCESS)
      return runtime::driver_error(**api, again, "cuCtxGetId after retaining the reset primary context");
  }
  DeviceTable& t = table();
  std::lock_guard lock(t.mutex);
  for (const CurrentDevice& d : t.known)
    if (d.context == context && d.context_id == id) return d;
  auto described = describe(**api, context, id);
  if (!described) return described.take_error();
  for (CurrentDevice& d : t.known)
    if (d.context == context) return d = *described;  // the handle's context was reset
  t.known.push_back(*described);
  return *described;
}

std::optional<int> launch_device_ordinal() {
  auto api = runtime::driver();
  if (!api) return std::nullopt;
  CUcontext context = nullptr;
  if ((*api)->cuCtxGetCurrent(&context) != CUDA_SUCCESS) return std::nullopt;
  if (!context) {
    auto count = runtime::device_count();
    return count && *count > 0 ? std::optional<int>(0) : std::nullopt;
  }
  if (auto ordinal = known_ordinal(context)) return ordinal;
  CUdevice device = 0;
  if ((*api)->cuCtxGetDevice(&device) != CUDA_SUCCESS) return std::nullopt;
  return static_cast<int>(device);
}

}  // namespace tilefuse::ops
