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
  std::vector<CurrentDevice> known;  // one entry per context seen
};

DeviceTable& table() {
  static DeviceTable instance;
  return instance;
}

Expected<CurrentDevice> describe(const runtime::DriverApi& api, CUcontext context) {
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
  return CurrentDevice{context, ordinal, *arch, info->shared_per_block_optin, info->sm_count};
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
  DeviceTable& t = table();
  std::lock_guard lock(t.mutex);
  for (const CurrentDevice& d : t.known)
    if (d.context == context) return d;
  auto described = describe(**api, context);
  if (!described) return described.take_error();
  t.known.push_back(*described);
  return *described;
}

}  // namespace tilefuse::ops
