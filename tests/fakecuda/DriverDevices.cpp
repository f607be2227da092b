// The fake driver: initialisation, errors, devices and contexts (see fakecuda.h).
#include <algorithm>
#include <cstring>

#include "FakeState.h"

using namespace tilefuse::fakecuda;

extern "C" {

// ---- driver, devices ----------------------------------------------------------

CUresult CUDAAPI cuInit(unsigned int flags) {
  Locked fake;
  if (flags != 0) FAKE_DONE(CUDA_ERROR_INVALID_VALUE);
  if (!fake->config_error.empty()) FAKE_DONE(CUDA_ERROR_NO_DEVICE);
  fake->initialized = true;
  FAKE_DONE(CUDA_SUCCESS);
}

CUresult CUDAAPI cuDriverGetVersion(int* version) {
  Locked fake;
  if (!version) FAKE_DONE(CUDA_ERROR_INVALID_VALUE);
  *version = fake->driver_version;
  FAKE_DONE(CUDA_SUCCESS);
}

CUresult CUDAAPI cuGetErrorName(CUresult error, const char** name) {
  static const std::map<int, const char*> names = {
      {CUDA_SUCCESS, "CUDA_SUCCESS"},
      {CUDA_ERROR_INVALID_VALUE, "CUDA_ERROR_INVALID_VALUE"},
      {CUDA_ERROR_OUT_OF_MEMORY, "CUDA_ERROR_OUT_OF_MEMORY"},
      {CUDA_ERROR_NOT_INITIALIZED, "CUDA_ERROR_NOT_INITIALIZED"},
      {CUDA_ERROR_NO_DEVICE, "CUDA_ERROR_NO_DEVICE"},
      {CUDA_ERROR_INVALID_DEVICE, "CUDA_ERROR_INVALID_DEVICE"},
      {CUDA_ERROR_INVALID_IMAGE, "CUDA_ERROR_INVALID_IMAGE"},
      {CUDA_ERROR_INVALID_CONTEXT, "CUDA_ERROR_INVALID_CONTEXT"},
      {CUDA_ERROR_NO_BINARY_FOR_GPU, "CUDA_ERROR_NO_BINARY_FOR_GPU"},
      {CUDA_ERROR_INVALID_PTX, "CUDA_ERROR_INVALID_PTX"},
      {CUDA_ERROR_UNSUPPORTED_PTX_VERSION, "CUDA_ERROR_UNSUPPORTED_PTX_VERSION"},
      {CUDA_ERROR_INVALID_HANDLE, "CUDA_ERROR_INVALID_HANDLE"},
      {CUDA_ERROR_NOT_FOUND, "CUDA_ERROR_NOT_FOUND"},
      {CUDA_ERROR_CONTEXT_IS_DESTROYED, "CUDA_ERROR_CONTEXT_IS_DESTROYED"},
      {CUDA_ERROR_NOT_SUPPORTED, "CUDA_ERROR_NOT_SUPPORTED"},
  };
  auto it = names.find(error);
  if (!name) return CUDA_ERROR_INVALID_VALUE;
  *name = it == names.end() ? nullptr : it->second;
  return it == names.end() ? CUDA_ERROR_INVALID_VALUE : CUDA_SUCCESS;
}

CUresult CUDAAPI cuGetErrorString(CUresult error, const char** text) {
  static const std::map<int, const char*> texts = {
      {CUDA_SUCCESS, "no error"},
      {CUDA_ERROR_INVALID_VALUE, "invalid argument"},
      {CUDA_ERROR_OUT_OF_MEMORY, "out of memory"},
      {CUDA_ERROR_NOT_INITIALIZED, "initialization error"},
      {CUDA_ERROR_NO_DEVICE, "no CUDA-capable device is detected"},
      {CUDA_ERROR_INVALID_DEVICE, "invalid device ordinal"},
      {CUDA_ERROR_INVALID_IMAGE, "device kernel image is invalid"},
      {CUDA_ERROR_INVALID_CONTEXT, "invalid device context"},
      {CUDA_ERROR_NO_BINARY_FOR_GPU, "no kernel image is available for execution on the device"},
      {CUDA_ERROR_INVALID_PTX, "a PTX JIT compilation failed"},
      {CUDA_ERROR_UNSUPPORTED_PTX_VERSION, "the provided PTX was compiled with an unsupported toolchain."},
      {CUDA_ERROR_INVALID_HANDLE, "invalid resource handle"},
      {CUDA_ERROR_NOT_FOUND, "named symbol not found"},
      {CUDA_ERROR_CONTEXT_IS_DESTROYED, "context is destroyed"},
      {CUDA_ERROR_NOT_SUPPORTED, "operation not supported"},
  };
  auto it = texts.find(error);
  if (!text) return CUDA_ERROR_INVALID_VALUE;
  *text = it == texts.end() ? nullptr : it->second;
  return it == texts.end() ? CUDA_ERROR_INVALID_VALUE : CUDA_SUCCESS;
}

CUresult CUDAAPI cuDeviceGetCount(int* count) {
  Locked fake;
  if (!fake->initialized) FAKE_DONE(CUDA_ERROR_NOT_INITIALIZED);
  if (!count) FAKE_DONE(CUDA_ERROR_INVALID_VALUE);
  *count = static_cast<int>(fake->devices.size());
  FAKE_DONE(CUDA_SUCCESS);
}

CUresult CUDAAPI cuDeviceGet(CUdevice* device, int ordinal) {
  Locked fake;
  if (!fake->initialized) FAKE_DONE(CUDA_ERROR_NOT_INITIALIZED);
  if (!device) FAKE_DONE(CUDA_ERROR_INVALID_VALUE);
  if (ordinal < 0 || ordinal >= static_cast<int>(fake->devices.size())) FAKE_DONE(CUDA_ERROR_INVALID_DEVICE);
  *device = ordinal;
  FAKE_DONE(CUDA_SUCCESS);
}

CUresult CUDAAPI cuDeviceGetName(char* name, int length, CUdevice device) {
  Locked fake;
  if (!fake->initialized) FAKE_DONE(CUDA_ERROR_NOT_INITIALIZED);
  if (!name || length <= 0) FAKE_DONE(CUDA_ERROR_INVALID_VALUE);
  if (device < 0 || device >= static_cast<int>(fake->devices.size())) FAKE_DONE(CUDA_ERROR_INVALID_DEVICE);
  std::snprintf(name, static_cast<std::size_t>(length), "%s", fake->devices[device].spec.name.c_str());
  FAKE_DONE(CUDA_SUCCESS);
}

CUresult CUDAAPI cuDeviceGetAttribute(int* value, CUdevice_attribute attribute, CUdevice device) {
  Locked fake;
  if (!fake->initialized) FAKE_DONE(CUDA_ERROR_NOT_INITIALIZED);
  if (!value) FAKE_DONE(CUDA_ERROR_INVALID_VALUE);
  if (device < 0 || device >= static_cast<int>(fake->devices.size())) FAKE_DONE(CUDA_ERROR_INVALID_DEVICE);
  const FakeDevice& d = fake->devices[device].spec;
  switch (attribute) {
    case CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR: *value = d.major; break;
    case CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR: *value = d.minor; break;
    case CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT: *value = d.sm_count; break;
    case CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK: *value = d.shared_per_block; break;
    case CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN: *value = d.shared_per_block_optin; break;
    case CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_MULTIPROCESSOR: *value = d.shared_per_sm; break;
    case CU_DEVICE_ATTRIBUTE_L2_CACHE_SIZE: *value = d.l2_bytes; break;
    case CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_BLOCK: *value = 1024; break;
    case CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_MULTIPROCESSOR: *value = d.major == 8 && d.minor > 0 ? 1536 : 2048; break;
    case CU_DEVICE_ATTRIBUTE_WARP_SIZE: *value = 32; break;
    case CU_DEVICE_ATTRIBUTE_MAX_REGISTERS_PER_BLOCK:
    case CU_DEVICE_ATTRIBUTE_MAX_REGISTERS_PER_MULTIPROCESSOR: *value = 65536; break;
    case CU_DEVICE_ATTRIBUTE_MAX_GRID_DIM_X: *value = 2147483647; break;
    case CU_DEVICE_ATTRIBUTE_MAX_GRID_DIM_Y:
    case CU_DEVICE_ATTRIBUTE_MAX_GRID_DIM_Z: *value = 65535; break;
    case CU_DEVICE_ATTRIBUTE_CLOCK_RATE: *value = 1410000; break;          // kHz
    case CU_DEVICE_ATTRIBUTE_MEMORY_CLOCK_RATE: *value = 1593000; break;   // kHz
    case CU_DEVICE_ATTRIBUTE_GLOBAL_MEMORY_BUS_WIDTH: *value = 5120; break;
    default: FAKE_DONE(CUDA_ERROR_INVALID_VALUE);  // not simulated: say so rather than invent
  }
  FAKE_DONE(CUDA_SUCCESS);
}

// ---- contexts -------------------------------------------------------------------

CUresult CUDAAPI cuDevicePrimaryCtxRetain(CUcontext* context, CUdevice device) {
  Locked fake;
  if (!fake->initialized) FAKE_DONE(CUDA_ERROR_NOT_INITIALIZED);
  if (!context) FAKE_DONE(CUDA_ERROR_INVALID_VALUE);
  if (device < 0 || device >= static_cast<int>(fake->devices.size())) FAKE_DONE(CUDA_ERROR_INVALID_DEVICE);
  Device& d = fake->devices[device];
  if (!d.primary) {
    fake->contexts.push_back(std::make_unique<CUctx_st>());
    d.primary = fake->contexts.back().get();
    d.primary->device = device;
    d.primary->id = fake->next_context_id++;
    fake->context_set.insert(d.primary);
  } else if (!d.primary->active) {  // reactivated after a reset: a new context behind the same handle
    d.primary->active = true;
    d.primary->id = fake->next_context_id++;
  }
  *context = d.primary;
  FAKE_DONE(CUDA_SUCCESS);
}

CUresult CUDAAPI cuDevicePrimaryCtxReset(CUdevice device) {
  {
    Locked fake;
    if (!fake->initialized) FAKE_DONE(CUDA_ERROR_NOT_INITIALIZED);
    if (device < 0 || device >= static_cast<int>(fake->devices.size())) FAKE_DONE(CUDA_ERROR_INVALID_DEVICE);
  }
  const CUresult r = tf_fake_reset_primary_context(device, 0) == 0 ? CUDA_SUCCESS : CUDA_ERROR_INVALID_DEVICE;
  Locked fake;
  FAKE_DONE(r);
}

CUresult CUDAAPI cuCtxGetCurrent(CUcontext* context) {
  Locked fake;
  if (!fake->initialized) FAKE_DONE(CUDA_ERROR_NOT_INITIALIZED);
  if (!context) FAKE_DONE(CUDA_ERROR_INVALID_VALUE);
  *context = current_context;  // a reset does not clear it (the real driver does not either)
  FAKE_DONE(CUDA_SUCCESS);
}

CUresult CUDAAPI cuCtxSetCurrent(CUcontext context) {
  Locked fake;
  if (!fake->initialized) FAKE_DONE(CUDA_ERROR_NOT_INITIALIZED);
  if (context && !fake->context_set.count(context)) FAKE_DONE(CUDA_ERROR_INVALID_CONTEXT);
  if (context && context->destroyed) FAKE_DONE(CUDA_ERROR_CONTEXT_IS_DESTROYED);
  current_context = context;
  FAKE_DONE(CUDA_SUCCESS);
}

CUresult CUDAAPI cuCtxGetDevice(CUdevice* device) {
  Locked fake;
  if (CUresult r = fake.current_usable(); r != CUDA_SUCCESS) FAKE_DONE(r);
  if (!device) FAKE_DONE(CUDA_ERROR_INVALID_VALUE);
  *device = current_context->device;
  FAKE_DONE(CUDA_SUCCESS);
}

CUresult CUDAAPI cuCtxGetId(CUcontext context, unsigned long long* id) {
  Locked fake;
  if (!fake->initialized) FAKE_DONE(CUDA_ERROR_NOT_INITIALIZED);
  if (!id) FAKE_DONE(CUDA_ERROR_INVALID_VALUE);
  if (!context) context = current_context;
  if (!context || !fake->context_set.count(context)) FAKE_DONE(CUDA_ERROR_INVALID_CONTEXT);
  if (context->destroyed || !context->active) FAKE_DONE(CUDA_ERROR_CONTEXT_IS_DESTROYED);
  *id = context->id;
  FAKE_DONE(CUDA_SUCCESS);
}

CUresult CUDAAPI cuCtxSynchronize() {
  Locked fake;
  FAKE_DONE(fake.current_usable());
}

}  // extern "C"
