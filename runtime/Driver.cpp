#include "runtime/Driver.h"

#include <dlfcn.h>

#include <cstdlib>
#include <mutex>
#include <vector>

#include <fmt/format.h>

namespace tilefuse::runtime {
namespace {

#define TILEFUSE_STRINGIFY_EXPANDED(x) TILEFUSE_STRINGIFY(x)
#define TILEFUSE_STRINGIFY(x) #x

Error no_driver(const std::string& path, const std::string& why) {
  return make_error(ErrorCode::NoDevice,
                    fmt::format("no CUDA driver/GPU found: {} could not be loaded ({}); GPU "
                                "operations are unavailable, CPU paths still work",
                                path, why));
}

Expected<const DriverApi*> load_process_driver() {
  auto loaded = load_driver(driver_library_path());
  if (!loaded) return loaded.take_error();
  const DriverApi* api = loaded->release();  // lives for the process
  if (CUresult r = api->cuInit(0); r != CUDA_SUCCESS) {
    Error e = driver_error(*api, r, "cuInit");
    return make_error(ErrorCode::NoDevice,
                      fmt::format("no CUDA driver/GPU found: {} loaded but {}; GPU operations "
                                  "are unavailable, CPU paths still work",
                                  api->library_path, e.message));
  }
  return api;
}

int attribute(const DriverApi& api, CUdevice dev, CUdevice_attribute attr, Error* failure) {
  int value = 0;
  if (CUresult r = api.cuDeviceGetAttribute(&value, attr, dev); r != CUDA_SUCCESS && failure)
    *failure = driver_error(api, r, fmt::format("cuDeviceGetAttribute({})", static_cast<int>(attr)));
  return value;
}

}  // namespace

std::string driver_library_path() {
  for (const char* variable : {"TILEFUSE_CUDA_DRIVER", "TILEFUSE_LIBCUDA"})
    if (const char* path = std::getenv(variable); path && *path) return path;
  return "libcuda.so.1";
}

Expected<std::unique_ptr<DriverApi>> load_driver(const std::string& library_path) {
  // RTLD_LOCAL: the driver's symbols must not satisfy anyone else's lookups.
  void* handle = ::dlopen(library_path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle) {
    const char* why = ::dlerror();
    return no_driver(library_path, why ? why : "dlopen failed");
  }
  // Asked before anything else: a driver older than the CUDA headers also
  // lacks entry points or refuses the kernels NVRTC writes, and either of
  // those messages would point the user elsewhere.
  using DriverGetVersion = CUresult (*)(int*);
  if (auto get_version = reinterpret_cast<DriverGetVersion>(::dlsym(handle, "cuDriverGetVersion"))) {
    int version = 0;
    if (get_version(&version) == CUDA_SUCCESS && version < CUDA_VERSION) {
      ::dlclose(handle);
      return make_error(ErrorCode::DriverError,
                        fmt::format("the CUDA driver {} is version {}.{}, older than the CUDA {}.{} this build "
                                    "needs: update the NVIDIA driver (CUDA {}.{} needs the 580 series or newer)",
                                    library_path, version / 1000, version % 1000 / 10, CUDA_VERSION / 1000,
                                    CUDA_VERSION % 1000 / 10, CUDA_VERSION / 1000, CUDA_VERSION % 1000 / 10));
    }
  }
  auto api = std::make_unique<DriverApi>();
  api->library_path = library_path;
  std::vector<std::string> missing;
#define TILEFUSE_DRIVER_RESOLVE(name)                                                    \
  api->name = reinterpret_cast<decltype(api->name)>(                                     \
      ::dlsym(handle, TILEFUSE_STRINGIFY_EXPANDED(name)));                               \
  if (!api->name) missing.emplace_back(TILEFUSE_STRINGIFY_EXPANDED(name));
  TILEFUSE_DRIVER_ENTRY_POINTS(TILEFUSE_DRIVER_RESOLVE)
#undef TILEFUSE_DRIVER_RESOLVE
  if (!missing.empty()) {
    ::dlclose(handle);
    return make_error(ErrorCode::DriverError,
                      fmt::format("the CUDA driver {} lacks {} entry point(s) ({}{}); it is older "
                                  "than CUDA {}.{}: update the NVIDIA driver",
                                  library_path, missing.size(), missing.front(),
                                  missing.size() > 1 ? ", ..." : "", CUDA_VERSION / 1000,
                                  CUDA_VERSION % 1000 / 10));
  }
  // The handle stays open for the life of the table: unloading libcuda while
  // contexts exist is undefined, and the process driver is never unloaded.
  return api;
}

Expected<const DriverApi*> driver() {
  static const Expected<const DriverApi*> process_driver = load_process_driver();
  return process_driver;
}

Error driver_error(const DriverApi& api, CUresult result, std::string_view what) {
  const char* name = nullptr;
  const char* text = nullptr;
  if (api.cuGetErrorName) api.cuGetErrorName(result, &name);
  if (api.cuGetErrorString) api.cuGetErrorString(result, &text);
  return make_error(ErrorCode::DriverError,
                    fmt::format("{} failed: {} ({})", what,
                                name ? name : fmt::format("CUresult {}", static_cast<int>(result)),
                                text ? text : "no description"));
}

Expected<int> device_count() {
  auto api = driver();
  if (!api) return api.take_error();
  int count = 0;
  if (CUresult r = (*api)->cuDeviceGetCount(&count); r != CUDA_SUCCESS)
    return driver_error(**api, r, "cuDeviceGetCount");
  return count;
}

Expected<DeviceInfo> query_device(int ordinal) {
  auto count = device_count();
  if (!count) return count.take_error();
  if (ordinal < 0 || ordinal >= *count)
    return make_error(ErrorCode::NoDevice,
                      fmt::format("no CUDA device {}: the driver reports {} device(s)", ordinal,
                                  *count));
  const DriverApi& api = **driver();
  CUdevice dev = 0;
  if (CUresult r = api.cuDeviceGet(&dev, ordinal); r != CUDA_SUCCESS)
    return driver_error(api, r, "cuDeviceGet");

  DeviceInfo info;
  info.ordinal = ordinal;
  char name[256] = {};
  if (CUresult r = api.cuDeviceGetName(name, sizeof(name), dev); r != CUDA_SUCCESS)
    return driver_error(api, r, "cuDeviceGetName");
  info.name = name;
  Error failure;  // message stays empty unless an attribute query fails
  info.compute_major = attribute(api, dev, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, &failure);
  info.compute_minor = attribute(api, dev, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, &failure);
  info.sm_count = attribute(api, dev, CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT, &failure);
  info.shared_per_block =
      attribute(api, dev, CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK, &failure);
  info.shared_per_block_optin =
      attribute(api, dev, CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN, &failure);
  info.shared_per_sm =
      attribute(api, dev, CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_MULTIPROCESSOR, &failure);
  info.l2_bytes = attribute(api, dev, CU_DEVICE_ATTRIBUTE_L2_CACHE_SIZE, &failure);
  if (!failure.message.empty()) return failure;
  if (CUresult r = api.cuDriverGetVersion(&info.driver_version); r != CUDA_SUCCESS)
    return driver_error(api, r, "cuDriverGetVersion");
  return info;
}

Expected<std::string> arch_for_compute_capability(int major, int minor) {
  const int cc = major * 10 + minor;
  switch (cc) {
    case 80: return std::string("sm_80");
    case 86: return std::string("sm_86");
    case 89: return std::string("sm_89");
    case 90: return std::string("sm_90a");
    default: break;
  }
  return make_error(ErrorCode::Unsupported,
                    fmt::format("compute capability {}.{} is not supported: tilefuse generates "
                                "code for 8.0 (sm_80), 8.6 (sm_86), 8.9 (sm_89) and 9.0 (sm_90a)",
                                major, minor));
}

Expected<CUcontext> make_context_current(int ordinal) {
  auto api_or = driver();
  if (!api_or) return api_or.take_error();
  const DriverApi& api = **api_or;

  // Primary contexts are retained once per device and never released: they
  // are shared with every other user of the runtime API in the process. A
  // primary-context reset (cudaDeviceReset) leaves the retained handle
  // inactive or destroyed; cuCtxGetId then fails and it is retained again
  // (which reactivates it, or gives the device's new one).
  static std::mutex mutex;
  static std::vector<CUcontext> retained;
  CUcontext ctx = nullptr;
  {
    std::lock_guard lock(mutex);
    unsigned long long id = 0;
    if (ordinal >= 0 && static_cast<size_t>(ordinal) < retained.size() && retained[ordinal] &&
        api.cuCtxGetId(retained[ordinal], &id) == CUDA_SUCCESS) {
      ctx = retained[ordinal];
    } else {
      auto count = device_count();
      if (!count) return count.take_error();
      if (ordinal < 0 || ordinal >= *count)
        return make_error(ErrorCode::NoDevice,
                          fmt::format("no CUDA device {}: the driver reports {} device(s)",
                                      ordinal, *count));
      CUdevice dev = 0;
      if (CUresult r = api.cuDeviceGet(&dev, ordinal); r != CUDA_SUCCESS)
        return driver_error(api, r, "cuDeviceGet");
      if (CUresult r = api.cuDevicePrimaryCtxRetain(&ctx, dev); r != CUDA_SUCCESS)
        return driver_error(api, r, "cuDevicePrimaryCtxRetain");
      if (retained.size() <= static_cast<size_t>(ordinal)) retained.resize(ordinal + 1, nullptr);
      retained[ordinal] = ctx;
    }
  }
  CUcontext current = nullptr;
  if (CUresult r = api.cuCtxGetCurrent(&current); r != CUDA_SUCCESS)
    return driver_error(api, r, "cuCtxGetCurrent");
  if (current != ctx)
    if (CUresult r = api.cuCtxSetCurrent(ctx); r != CUDA_SUCCESS)
      return driver_error(api, r, "cuCtxSetCurrent");
  return ctx;
}

}  // namespace tilefuse::runtime
