// The CUDA driver, loaded at run time: dlopen("libcuda.so.1") once and one
// table of entry points. Nothing links libcuda, so the library, the CLI and
// the tests load and run their CPU paths on machines with no driver; only a
// GPU operation fails there, with a NoDevice error that says so.
#pragma once

#include <cuda.h>  // types and prototypes only; the symbols come from dlsym

#include <memory>
#include <string>
#include <string_view>

#include "tilefuse/error.hpp"

namespace tilefuse::runtime {

// Every driver entry point tilefuse calls. The names go through <cuda.h>'s
// versioning macros (cuMemAlloc → cuMemAlloc_v2), so the table holds exactly
// the versions this header was written for.
#define TILEFUSE_DRIVER_ENTRY_POINTS(X) \
  X(cuInit)                             \
  X(cuDriverGetVersion)                 \
  X(cuGetErrorName)                     \
  X(cuGetErrorString)                   \
  X(cuDeviceGet)                        \
  X(cuDeviceGetCount)                   \
  X(cuDeviceGetName)                    \
  X(cuDeviceGetAttribute)               \
  X(cuDevicePrimaryCtxRetain)           \
  X(cuCtxGetCurrent)                    \
  X(cuCtxSetCurrent)                    \
  X(cuCtxGetDevice)                     \
  X(cuCtxGetId)                         \
  X(cuCtxSynchronize)                   \
  X(cuModuleLoadData)                   \
  X(cuModuleUnload)                     \
  X(cuModuleGetFunction)                \
  X(cuFuncGetAttribute)                 \
  X(cuFuncSetAttribute)                 \
  X(cuLaunchKernel)                     \
  X(cuTensorMapEncodeTiled)             \
  X(cuMemAlloc)                         \
  X(cuMemFree)                          \
  X(cuMemcpyHtoD)                       \
  X(cuMemcpyDtoH)                       \
  X(cuMemsetD8)                         \
  X(cuMemsetD32Async)                   \
  X(cuStreamCreate)                     \
  X(cuStreamDestroy)                    \
  X(cuStreamSynchronize)                \
  X(cuEventCreate)                      \
  X(cuEventDestroy)                     \
  X(cuEventRecord)                      \
  X(cuEventSynchronize)                 \
  X(cuEventElapsedTime)

/// The one table of driver entry points.
struct DriverApi {
// `::name`, not `name`: inside the struct the member `name` would change the
// meaning of the name its own type was taken from, which GCC rejects
// ([basic.scope.class]); the global function is what is meant.
#define TILEFUSE_DRIVER_FIELD(name) decltype(&::name) name = nullptr;
  TILEFUSE_DRIVER_ENTRY_POINTS(TILEFUSE_DRIVER_FIELD)
#undef TILEFUSE_DRIVER_FIELD
  std::string library_path;  ///< what was dlopen'ed
};

/// The library the process driver comes from: $TILEFUSE_CUDA_DRIVER if set
/// (e.g. the fake driver of tests/fakecuda), else $TILEFUSE_LIBCUDA (the
/// older name; tests point it at a missing file), else "libcuda.so.1".
std::string driver_library_path();

/// Loads a driver library and fills a fresh table; does not call cuInit.
/// NoDevice when the library cannot be loaded; DriverError when its
/// cuDriverGetVersion reports a version older than the CUDA headers tilefuse
/// uses (asked first: "update the NVIDIA driver") or it lacks an entry point.
Expected<std::unique_ptr<DriverApi>> load_driver(const std::string& library_path);

/// The process-wide driver: loaded and cuInit'ed once (thread-safe) from
/// driver_library_path(); later calls return the same table or the same error.
Expected<const DriverApi*> driver();

/// A DriverError for a failed call: "<what> failed: CUDA_ERROR_X (text)".
Error driver_error(const DriverApi& api, CUresult result, std::string_view what);

/// What tilefuse needs to know about a GPU.
struct DeviceInfo {
  int ordinal = 0;
  std::string name;
  int compute_major = 0, compute_minor = 0;
  int sm_count = 0;
  int shared_per_block = 0;        ///< default limit, bytes
  int shared_per_block_optin = 0;  ///< with cuFuncSetAttribute opt-in, bytes
  int shared_per_sm = 0;
  int l2_bytes = 0;
  int driver_version = 0;          ///< e.g. 13000 for CUDA 13.0
};

Expected<int> device_count();
Expected<DeviceInfo> query_device(int ordinal = 0);

/// The NVRTC target for a compute capability: 8.0 → sm_80, 8.6 → sm_86,
/// 8.9 → sm_89, 9.0 → sm_90a (Hopper's wgmma/TMA need the "a" target).
/// Unsupported for anything else.
Expected<std::string> arch_for_compute_capability(int major, int minor);

/// Makes the device's primary context current on this thread (retained
/// once per device for the life of the process, and again after a
/// primary-context reset made the retained handle unusable) and returns it.
Expected<CUcontext> make_context_current(int ordinal = 0);

}  // namespace tilefuse::runtime
