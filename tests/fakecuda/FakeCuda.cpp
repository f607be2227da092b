// The fake driver's state and every exported entry point (see fakecuda.h).
// One mutex guards everything; each entry point takes it, decides its result
// the way the real driver documents it, records the call, and returns.
#include <cuda.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_set>
#include <vector>

#include "FakeDevices.h"
#include "KernelImage.h"
#include "TensorMapLimits.h"
#include "fakecuda.h"

using tilefuse::fakecuda::FakeDevice;
using tilefuse::fakecuda::KernelImage;
using tilefuse::fakecuda::KernelInfo;

struct CUctx_st {
  int device = 0;
  unsigned long long id = 0;  ///< what cuCtxGetId returns; new after a reset
  bool active = true;         ///< false after a primary-context reset, until retained
  bool destroyed = false;     ///< a reset that gave the device a new handle
  double legacy_clock_ms = 0; ///< the default stream's simulated time
};

struct CUmod_st {
  CUctx_st* context = nullptr;
  unsigned long long context_id = 0;
  bool unloaded = false;
  KernelImage image;
  std::string arch;
  std::map<std::string, std::unique_ptr<CUfunc_st>> functions;
};

struct CUfunc_st {
  CUmod_st* module = nullptr;
  std::string name;
  const KernelInfo* info = nullptr;
  int max_dynamic_shared = 0;
};

struct CUstream_st {
  CUctx_st* context = nullptr;
  double clock_ms = 0;
};

struct CUevent_st {
  double time_ms = 0;
  bool recorded = false;
};

namespace {

struct Device {
  FakeDevice spec;
  CUctx_st* primary = nullptr;
};

struct State {
  std::mutex mutex;
  bool initialized = false;
  int driver_version = 13000;
  bool recording = true;
  float kernel_time_ms = 0.01f;
  TfFakeLaunchHook hook = nullptr;
  void* hook_user = nullptr;
  std::vector<Device> devices;
  std::string config_error;
  unsigned long long next_context_id = 1;
  unsigned long long seq = 0;
  // Objects are never freed (a test fake): a stale handle stays readable, so
  // using it is reported as the error the real driver gives, not a crash.
  std::vector<std::unique_ptr<CUctx_st>> contexts;
  std::vector<std::unique_ptr<CUmod_st>> modules;
  std::unordered_set<const CUctx_st*> context_set;
  std::unordered_set<const CUmod_st*> module_set;
  std::unordered_set<const CUfunc_st*> function_set;
  std::unordered_set<const CUstream_st*> stream_set;
  std::unordered_set<const CUevent_st*> event_set;
  std::map<std::uintptr_t, std::size_t> allocations;  // base → bytes
  std::deque<TfFakeCall> calls;
  std::deque<TfFakeLaunch> launches;
  std::deque<TfFakeFuncAttribute> attributes;
  std::deque<TfFakeTensorMapEncode> encodes;
  std::deque<TfFakeModuleLoad> loads;
  std::atomic<unsigned long long> launches_accepted{0};
};

State& state() {
  static State* instance = new State();  // never destroyed: calls may come during exit
  return *instance;
}

thread_local CUctx_st* current_context = nullptr;
thread_local unsigned long long thread_number = 0;
std::atomic<unsigned long long> threads_seen{0};

unsigned long long this_thread() {
  if (!thread_number) thread_number = ++threads_seen;
  return thread_number;
}

void copy_name(char* out, std::size_t size, const std::string& name) {
  std::snprintf(out, size, "%s", name.c_str());
}

bool configure_locked(State& s, const std::string& spec) {
  std::string error;
  auto devices = tilefuse::fakecuda::parse_devices(spec, error);
  if (!devices) {
    s.config_error = "TILEFUSE_FAKE_CUDA_DEVICES: " + error;
    s.devices.clear();
    return false;
  }
  s.config_error.clear();
  s.devices.clear();
  for (const FakeDevice& d : *devices) s.devices.push_back({d, nullptr});
  for (auto& ctx : s.contexts) ctx->destroyed = true;
  for (auto& m : s.modules) m->unloaded = true;
  s.calls.clear();
  s.launches.clear();
  s.attributes.clear();
  s.encodes.clear();
  s.loads.clear();
  return true;
}

/// The state, configured from the environment on first use; locked.
struct Locked {
  State& s;
  std::lock_guard<std::mutex> lock;
  Locked() : s(state()), lock(s.mutex) {
    static bool configured = false;
    if (configured) return;
    configured = true;
    const char* devices = std::getenv("TILEFUSE_FAKE_CUDA_DEVICES");
    configure_locked(s, devices && *devices ? devices : "8.0");
    if (const char* version = std::getenv("TILEFUSE_FAKE_CUDA_DRIVER_VERSION"))
      s.driver_version = std::atoi(version);
  }
  State* operator->() { return &s; }

  CUresult done(const char* name, CUresult result) {
    if (s.recording) {
      TfFakeCall call{};
      call.seq = s.seq++;
      copy_name(call.name, sizeof(call.name), name);
      call.context = current_context;
      call.thread = this_thread();
      call.result = result;
      s.calls.push_back(call);
    }
    return result;
  }

  /// Why the current context cannot be used (CUDA_SUCCESS if it can).
  CUresult current_usable() const {
    if (!s.initialized) return CUDA_ERROR_NOT_INITIALIZED;
    if (!current_context) return CUDA_ERROR_INVALID_CONTEXT;
    if (current_context->destroyed || !current_context->active) return CUDA_ERROR_CONTEXT_IS_DESTROYED;
    return CUDA_SUCCESS;
  }

  bool function_usable(const CUfunc_st* f) const {
    if (!f || !s.function_set.count(f)) return false;
    const CUmod_st* m = f->module;
    return !m->unloaded && m->context->active && !m->context->destroyed && m->context->id == m->context_id;
  }

  /// The allocation holding [ptr, ptr + bytes), or false.
  bool in_allocation(std::uintptr_t ptr, std::size_t bytes) const {
    auto it = s.allocations.upper_bound(ptr);
    if (it == s.allocations.begin()) return false;
    --it;
    return ptr >= it->first && ptr + bytes <= it->first + it->second;
  }
};

#define FAKE_DONE(result) return fake.done(__func__, (result))

unsigned long long next_seq(State& s) { return s.seq++; }

int max_ptx_isa(int driver_version) {  // PTX ISA major*10+minor a driver JIT-compiles
  if (driver_version >= 13000) return 90;
  if (driver_version >= 12090) return 88;
  if (driver_version >= 12080) return 87;
  if (driver_version >= 12000) return 80 + std::min(5, driver_version % 1000 / 10);
  return 78;
}

}  // namespace

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

// ---- modules and functions ---------------------------------------------------------

CUresult CUDAAPI cuModuleLoadData(CUmodule* module, const void* image) {
  Locked fake;
  TfFakeModuleLoad record{};
  record.seq = next_seq(fake.s);
  record.context = current_context;
  auto finish = [&](CUresult r, const std::string& error) {
    record.result = r;
    copy_name(record.error, sizeof(record.error), error);
    if (fake->recording) fake->loads.push_back(record);
    return fake.done("cuModuleLoadData", r);
  };
  if (CUresult r = fake.current_usable(); r != CUDA_SUCCESS) return finish(r, "no usable current context");
  if (!module) return finish(CUDA_ERROR_INVALID_VALUE, "module is null");
  auto loaded = std::make_unique<CUmod_st>();
  std::string error;
  if (!tilefuse::fakecuda::parse_kernel_image(image, loaded->image, error))
    return finish(CUDA_ERROR_INVALID_IMAGE, error);
  const KernelImage& parsed = loaded->image;
  loaded->arch = "sm_" + std::to_string(parsed.sm) + (parsed.arch_specific ? "a" : "");
  record.is_ptx = parsed.is_ptx;
  copy_name(record.arch, sizeof(record.arch), loaded->arch);
  if (parsed.is_ptx && parsed.ptx_version > max_ptx_isa(fake->driver_version))
    return finish(CUDA_ERROR_UNSUPPORTED_PTX_VERSION, "PTX ISA newer than this driver");
  if (!parsed.is_ptx && parsed.cuda_api_version > fake->driver_version / 100)
    return finish(CUDA_ERROR_UNSUPPORTED_PTX_VERSION, "cubin from a toolkit newer than this driver");
  const FakeDevice& device = fake->devices[current_context->device].spec;
  if (!tilefuse::fakecuda::image_runs_on(parsed, device.major, device.minor))
    return finish(CUDA_ERROR_NO_BINARY_FOR_GPU, loaded->arch + " image on a " + std::to_string(device.major) + "." +
                                                    std::to_string(device.minor) + " device");
  loaded->context = current_context;
  loaded->context_id = current_context->id;
  *module = loaded.get();
  record.module = loaded.get();
  fake->module_set.insert(loaded.get());
  fake->modules.push_back(std::move(loaded));
  return finish(CUDA_SUCCESS, "");
}

CUresult CUDAAPI cuModuleUnload(CUmodule module) {
  Locked fake;
  if (!fake->initialized) FAKE_DONE(CUDA_ERROR_NOT_INITIALIZED);
  if (!module || !fake->module_set.count(module) || module->unloaded) FAKE_DONE(CUDA_ERROR_INVALID_HANDLE);
  const bool stale = !module->context->active || module->context->destroyed || module->context->id != module->context_id;
  module->unloaded = true;
  FAKE_DONE(stale ? CUDA_ERROR_CONTEXT_IS_DESTROYED : CUDA_SUCCESS);
}

CUresult CUDAAPI cuModuleGetFunction(CUfunction* function, CUmodule module, const char* name) {
  Locked fake;
  if (!fake->initialized) FAKE_DONE(CUDA_ERROR_NOT_INITIALIZED);
  if (!function || !name) FAKE_DONE(CUDA_ERROR_INVALID_VALUE);
  if (!module || !fake->module_set.count(module) || module->unloaded) FAKE_DONE(CUDA_ERROR_INVALID_HANDLE);
  auto& functions = module->functions;
  if (auto it = functions.find(name); it != functions.end()) {
    *function = it->second.get();
    FAKE_DONE(CUDA_SUCCESS);
  }
  auto kernel = module->image.kernels.find(name);
  if (kernel == module->image.kernels.end()) FAKE_DONE(CUDA_ERROR_NOT_FOUND);
  auto f = std::make_unique<CUfunc_st>();
  f->module = module;
  f->name = name;
  f->info = &kernel->second;
  f->max_dynamic_shared = 48 * 1024 - kernel->second.static_shared_bytes;  // the driver's default
  *function = f.get();
  fake->function_set.insert(f.get());
  functions.emplace(name, std::move(f));
  FAKE_DONE(CUDA_SUCCESS);
}

CUresult CUDAAPI cuFuncGetAttribute(int* value, CUfunction_attribute attribute, CUfunction function) {
  Locked fake;
  if (!fake->initialized) FAKE_DONE(CUDA_ERROR_NOT_INITIALIZED);
  if (!value) FAKE_DONE(CUDA_ERROR_INVALID_VALUE);
  if (!fake.function_usable(function)) FAKE_DONE(CUDA_ERROR_INVALID_HANDLE);
  switch (attribute) {
    case CU_FUNC_ATTRIBUTE_MAX_THREADS_PER_BLOCK: *value = function->info->max_threads; break;
    case CU_FUNC_ATTRIBUTE_SHARED_SIZE_BYTES: *value = function->info->static_shared_bytes; break;
    case CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES: *value = function->max_dynamic_shared; break;
    case CU_FUNC_ATTRIBUTE_PTX_VERSION:
    case CU_FUNC_ATTRIBUTE_BINARY_VERSION: *value = function->module->image.sm; break;
    default: FAKE_DONE(CUDA_ERROR_INVALID_VALUE);
  }
  FAKE_DONE(CUDA_SUCCESS);
}

CUresult CUDAAPI cuFuncSetAttribute(CUfunction function, CUfunction_attribute attribute, int value) {
  Locked fake;
  TfFakeFuncAttribute record{};
  record.seq = next_seq(fake.s);
  record.function = function;
  record.attribute = attribute;
  record.value = value;
  record.context = current_context;
  auto finish = [&](CUresult r) {
    record.result = r;
    if (fake->recording) fake->attributes.push_back(record);
    return fake.done("cuFuncSetAttribute", r);
  };
  if (!fake->initialized) return finish(CUDA_ERROR_NOT_INITIALIZED);
  if (!fake.function_usable(function)) return finish(CUDA_ERROR_INVALID_HANDLE);
  copy_name(record.kernel, sizeof(record.kernel), function->name);
  if (attribute != CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES) return finish(CUDA_ERROR_INVALID_VALUE);
  const FakeDevice& device = fake->devices[function->module->context->device].spec;
  if (value < 0 || value > device.shared_per_block_optin - function->info->static_shared_bytes)
    return finish(CUDA_ERROR_INVALID_VALUE);
  function->max_dynamic_shared = value;
  return finish(CUDA_SUCCESS);
}

CUresult CUDAAPI cuLaunchKernel(CUfunction f, unsigned int grid_x, unsigned int grid_y, unsigned int grid_z,
                                unsigned int block_x, unsigned int block_y, unsigned int block_z,
                                unsigned int shared_bytes, CUstream stream, void** params, void** extra) {
  TfFakeLaunchHook hook = nullptr;
  void* hook_user = nullptr;
  const TfFakeLaunch* accepted = nullptr;
  CUresult result = CUDA_SUCCESS;
  {
    Locked fake;
    TfFakeLaunch* record = nullptr;
    // Recording off (the launch-overhead benchmark): checked, not kept, and
    // no names or parameter bytes copied, so that a call costs little more
    // than the lock.
    const bool keep = fake->recording;
    TfFakeLaunch scratch;
    if (keep) {
      fake->launches.emplace_back();
      record = &fake->launches.back();
    } else {
      record = &scratch;
    }
    record->seq = next_seq(fake.s);
    record->function = f;
    record->context = current_context;
    record->device = current_context ? current_context->device : -1;
    const unsigned grid[3] = {grid_x, grid_y, grid_z}, block[3] = {block_x, block_y, block_z};
    std::memcpy(record->grid, grid, sizeof(grid));
    std::memcpy(record->block, block, sizeof(block));
    record->shared_bytes = shared_bytes;
    record->stream = stream;
    auto refuse = [&](CUresult r, const char* why) {
      record->result = r;
      if (keep) copy_name(record->error, sizeof(record->error), why);
      return r;
    };
    result = [&]() -> CUresult {
      if (CUresult r = fake.current_usable(); r != CUDA_SUCCESS) return refuse(r, "no usable current context");
      if (!fake.function_usable(f)) return refuse(CUDA_ERROR_INVALID_HANDLE, "not a function of a live module");
      const KernelInfo& info = *f->info;
      if (keep) {
        copy_name(record->kernel, sizeof(record->kernel), f->name);
        copy_name(record->module_arch, sizeof(record->module_arch), f->module->arch);
      }
      record->function_context = f->module->context;
      record->max_dynamic_shared_attribute = f->max_dynamic_shared;
      record->max_threads = info.max_threads;
      if (f->module->context != current_context)
        return refuse(CUDA_ERROR_INVALID_HANDLE, "the function belongs to another context");
      if (extra) return refuse(CUDA_ERROR_NOT_SUPPORTED, "the fake driver takes parameters through kernelParams only");
      if (grid_x == 0 || grid_y == 0 || grid_z == 0 || grid_x > 2147483647u || grid_y > 65535 || grid_z > 65535)
        return refuse(CUDA_ERROR_INVALID_VALUE, "grid dimension out of range");
      const unsigned long long threads = 1ull * block_x * block_y * block_z;
      if (threads == 0 || block_x > 1024 || block_y > 1024 || block_z > 64 || threads > 1024)
        return refuse(CUDA_ERROR_INVALID_VALUE, "block dimension out of range");
      if (threads > static_cast<unsigned long long>(info.max_threads))
        return refuse(CUDA_ERROR_INVALID_VALUE, "block larger than the kernel's launch bound");
      if (static_cast<int>(shared_bytes) > f->max_dynamic_shared)
        return refuse(CUDA_ERROR_INVALID_VALUE,
                      "dynamic shared memory above CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES");
      if (stream && stream != CU_STREAM_LEGACY && stream != CU_STREAM_PER_THREAD &&
          (!fake->stream_set.count(stream) || stream->context != current_context))
        return refuse(CUDA_ERROR_INVALID_HANDLE, "not a stream of the current context");
      if (!info.params.empty() && !params) return refuse(CUDA_ERROR_INVALID_VALUE, "kernelParams is null");
      record->param_count = static_cast<int>(std::min<std::size_t>(info.params.size(), TF_FAKE_MAX_PARAMS));
      record->param_bytes = info.param_bytes;
      for (int i = 0; i < record->param_count; ++i) {
        const auto& p = info.params[i];
        record->param_offset[i] = p.offset;
        record->param_size[i] = p.size;
        if (!params[i]) return refuse(CUDA_ERROR_INVALID_VALUE, "a kernelParams entry is null");
        if (keep && p.offset + p.size <= TF_FAKE_MAX_PARAM_BYTES)
          std::memcpy(record->params + p.offset, params[i], p.size);
      }
      return CUDA_SUCCESS;
    }();
    record->result = result;
    if (result == CUDA_SUCCESS) {
      ++fake->launches_accepted;
      double& clock = stream && stream != CU_STREAM_LEGACY && stream != CU_STREAM_PER_THREAD
                          ? stream->clock_ms
                          : current_context->legacy_clock_ms;
      clock += fake->kernel_time_ms;
      if (fake->recording) {
        hook = fake->hook;
        hook_user = fake->hook_user;
        accepted = record;  // deque elements stay put while others are appended
      }
    }
    fake.done("cuLaunchKernel", result);
  }
  if (hook && accepted) hook(accepted, hook_user);
  return result;
}

CUresult CUDAAPI cuTensorMapEncodeTiled(CUtensorMap* map, CUtensorMapDataType type, cuuint32_t rank, void* address,
                                        const cuuint64_t* dims, const cuuint64_t* strides, const cuuint32_t* box,
                                        const cuuint32_t* element_strides, CUtensorMapInterleave interleave,
                                        CUtensorMapSwizzle swizzle, CUtensorMapL2promotion l2,
                                        CUtensorMapFloatOOBfill fill) {
  Locked fake;
  TfFakeTensorMapEncode record{};
  record.seq = next_seq(fake.s);
  record.data_type = type;
  record.rank = rank;
  record.global_address = address;
  for (unsigned i = 0; i < std::min<unsigned>(rank, 5); ++i) {
    if (dims) record.dims[i] = dims[i];
    if (box) record.box[i] = box[i];
    if (element_strides) record.element_strides[i] = element_strides[i];
    if (strides && i + 1 < rank) record.strides[i] = strides[i];
  }
  record.interleave = interleave;
  record.swizzle = swizzle;
  record.l2_promotion = l2;
  record.oob_fill = fill;
  const std::string violation = tilefuse::fakecuda::tensor_map_violation(
      {map, type, rank, address, dims, strides, box, element_strides, interleave, swizzle, l2, fill});
  copy_name(record.violation, sizeof(record.violation), violation);
  record.result = violation.empty() ? CUDA_SUCCESS : CUDA_ERROR_INVALID_VALUE;
  if (violation.empty()) {
    // An opaque map whose bytes name this encode (seq) and its address, so
    // a test can find which encode a kernel parameter carries.
    std::memset(record.map, 0, sizeof(record.map));
    const unsigned long long magic = 0x70614d656b614654ull;  // "TFakeMap"
    std::memcpy(record.map, &magic, 8);
    std::memcpy(record.map + 8, &record.seq, 8);
    std::memcpy(record.map + 16, &address, sizeof(address));
    std::memcpy(record.map + 24, record.dims, sizeof(record.dims));
    std::memcpy(record.map + 64, record.box, sizeof(record.box));
    std::memcpy(map, record.map, sizeof(record.map));
  }
  if (fake->recording) fake->encodes.push_back(record);
  return fake.done("cuTensorMapEncodeTiled", static_cast<CUresult>(record.result));
}

// ---- memory, streams, events ---------------------------------------------------------

CUresult CUDAAPI cuMemAlloc(CUdeviceptr* ptr, size_t bytes) {
  Locked fake;
  if (CUresult r = fake.current_usable(); r != CUDA_SUCCESS) FAKE_DONE(r);
  if (!ptr || bytes == 0) FAKE_DONE(CUDA_ERROR_INVALID_VALUE);
  const std::size_t rounded = (bytes + 255) / 256 * 256;
  void* memory = std::aligned_alloc(256, rounded);
  if (!memory) FAKE_DONE(CUDA_ERROR_OUT_OF_MEMORY);
  fake->allocations[reinterpret_cast<std::uintptr_t>(memory)] = bytes;
  *ptr = reinterpret_cast<CUdeviceptr>(memory);
  FAKE_DONE(CUDA_SUCCESS);
}

CUresult CUDAAPI cuMemFree(CUdeviceptr ptr) {
  Locked fake;
  if (CUresult r = fake.current_usable(); r != CUDA_SUCCESS) FAKE_DONE(r);
  auto it = fake->allocations.find(static_cast<std::uintptr_t>(ptr));
  if (it == fake->allocations.end()) FAKE_DONE(CUDA_ERROR_INVALID_VALUE);
  std::free(reinterpret_cast<void*>(ptr));
  fake->allocations.erase(it);
  FAKE_DONE(CUDA_SUCCESS);
}

CUresult CUDAAPI cuMemcpyHtoD(CUdeviceptr dst, const void* src, size_t bytes) {
  Locked fake;
  if (CUresult r = fake.current_usable(); r != CUDA_SUCCESS) FAKE_DONE(r);
  if (!fake.in_allocation(dst, bytes) || (!src && bytes)) FAKE_DONE(CUDA_ERROR_INVALID_VALUE);
  std::memcpy(reinterpret_cast<void*>(dst), src, bytes);
  FAKE_DONE(CUDA_SUCCESS);
}

CUresult CUDAAPI cuMemcpyDtoH(void* dst, CUdeviceptr src, size_t bytes) {
  Locked fake;
  if (CUresult r = fake.current_usable(); r != CUDA_SUCCESS) FAKE_DONE(r);
  if (!fake.in_allocation(src, bytes) || (!dst && bytes)) FAKE_DONE(CUDA_ERROR_INVALID_VALUE);
  std::memcpy(dst, reinterpret_cast<const void*>(src), bytes);
  FAKE_DONE(CUDA_SUCCESS);
}

CUresult CUDAAPI cuMemsetD8(CUdeviceptr dst, unsigned char value, size_t count) {
  Locked fake;
  if (CUresult r = fake.current_usable(); r != CUDA_SUCCESS) FAKE_DONE(r);
  if (!fake.in_allocation(dst, count)) FAKE_DONE(CUDA_ERROR_INVALID_VALUE);
  std::memset(reinterpret_cast<void*>(dst), value, count);
  FAKE_DONE(CUDA_SUCCESS);
}

CUresult CUDAAPI cuStreamCreate(CUstream* stream, unsigned int flags) {
  Locked fake;
  if (CUresult r = fake.current_usable(); r != CUDA_SUCCESS) FAKE_DONE(r);
  if (!stream || (flags & ~static_cast<unsigned>(CU_STREAM_NON_BLOCKING))) FAKE_DONE(CUDA_ERROR_INVALID_VALUE);
  auto* s = new CUstream_st{current_context, current_context->legacy_clock_ms};
  fake->stream_set.insert(s);
  *stream = s;
  FAKE_DONE(CUDA_SUCCESS);
}

CUresult CUDAAPI cuStreamDestroy(CUstream stream) {
  Locked fake;
  if (!fake->initialized) FAKE_DONE(CUDA_ERROR_NOT_INITIALIZED);
  if (!fake->stream_set.erase(stream)) FAKE_DONE(CUDA_ERROR_INVALID_HANDLE);
  delete stream;
  FAKE_DONE(CUDA_SUCCESS);
}

CUresult CUDAAPI cuStreamSynchronize(CUstream stream) {
  Locked fake;
  if (CUresult r = fake.current_usable(); r != CUDA_SUCCESS) FAKE_DONE(r);
  if (stream && stream != CU_STREAM_LEGACY && stream != CU_STREAM_PER_THREAD && !fake->stream_set.count(stream))
    FAKE_DONE(CUDA_ERROR_INVALID_HANDLE);
  FAKE_DONE(CUDA_SUCCESS);
}

CUresult CUDAAPI cuEventCreate(CUevent* event, unsigned int) {
  Locked fake;
  if (CUresult r = fake.current_usable(); r != CUDA_SUCCESS) FAKE_DONE(r);
  if (!event) FAKE_DONE(CUDA_ERROR_INVALID_VALUE);
  auto* e = new CUevent_st{};
  fake->event_set.insert(e);
  *event = e;
  FAKE_DONE(CUDA_SUCCESS);
}

CUresult CUDAAPI cuEventDestroy(CUevent event) {
  Locked fake;
  if (!fake->event_set.erase(event)) FAKE_DONE(CUDA_ERROR_INVALID_HANDLE);
  delete event;
  FAKE_DONE(CUDA_SUCCESS);
}

CUresult CUDAAPI cuEventRecord(CUevent event, CUstream stream) {
  Locked fake;
  if (CUresult r = fake.current_usable(); r != CUDA_SUCCESS) FAKE_DONE(r);
  if (!fake->event_set.count(event)) FAKE_DONE(CUDA_ERROR_INVALID_HANDLE);
  const bool legacy = !stream || stream == CU_STREAM_LEGACY || stream == CU_STREAM_PER_THREAD;
  if (!legacy && !fake->stream_set.count(stream)) FAKE_DONE(CUDA_ERROR_INVALID_HANDLE);
  event->time_ms = legacy ? current_context->legacy_clock_ms : stream->clock_ms;
  event->recorded = true;
  FAKE_DONE(CUDA_SUCCESS);
}

CUresult CUDAAPI cuEventSynchronize(CUevent event) {
  Locked fake;
  if (!fake->event_set.count(event)) FAKE_DONE(CUDA_ERROR_INVALID_HANDLE);
  FAKE_DONE(CUDA_SUCCESS);
}

CUresult CUDAAPI cuEventElapsedTime(float* ms, CUevent start, CUevent end) {
  Locked fake;
  if (!ms) FAKE_DONE(CUDA_ERROR_INVALID_VALUE);
  if (!fake->event_set.count(start) || !fake->event_set.count(end)) FAKE_DONE(CUDA_ERROR_INVALID_HANDLE);
  if (!start->recorded || !end->recorded) FAKE_DONE(CUDA_ERROR_INVALID_HANDLE);
  *ms = static_cast<float>(end->time_ms - start->time_ms);
  FAKE_DONE(CUDA_SUCCESS);
}

// ---- the control API ------------------------------------------------------------------

int tf_fake_configure(const char* devices) {
  Locked fake;
  return configure_locked(fake.s, devices ? devices : "8.0") ? 0 : -1;
}

void tf_fake_set_driver_version(int version) { Locked().s.driver_version = version; }
void tf_fake_set_recording(int on) { Locked().s.recording = on != 0; }
void tf_fake_set_kernel_time_ms(float ms) { Locked().s.kernel_time_ms = ms; }

void tf_fake_set_launch_hook(TfFakeLaunchHook hook, void* user) {
  Locked fake;
  fake->hook = hook;
  fake->hook_user = user;
}

int tf_fake_reset_primary_context(int ordinal, int new_handle) {
  Locked fake;
  if (ordinal < 0 || ordinal >= static_cast<int>(fake->devices.size())) return -1;
  Device& d = fake->devices[ordinal];
  if (!d.primary) return 0;
  d.primary->active = false;  // every module loaded in it is stale from now on
  if (new_handle) {
    d.primary->destroyed = true;
    d.primary = nullptr;
  }
  return 0;
}

void tf_fake_clear_log() {
  Locked fake;
  fake->calls.clear();
  fake->launches.clear();
  fake->attributes.clear();
  fake->encodes.clear();
  fake->loads.clear();
}

size_t tf_fake_call_count() { return Locked().s.calls.size(); }
const TfFakeCall* tf_fake_call(size_t i) {
  Locked fake;
  return i < fake->calls.size() ? &fake->calls[i] : nullptr;
}
size_t tf_fake_launch_count() { return Locked().s.launches.size(); }
const TfFakeLaunch* tf_fake_launch(size_t i) {
  Locked fake;
  return i < fake->launches.size() ? &fake->launches[i] : nullptr;
}
size_t tf_fake_func_attribute_count() { return Locked().s.attributes.size(); }
const TfFakeFuncAttribute* tf_fake_func_attribute(size_t i) {
  Locked fake;
  return i < fake->attributes.size() ? &fake->attributes[i] : nullptr;
}
size_t tf_fake_tensor_map_count() { return Locked().s.encodes.size(); }
const TfFakeTensorMapEncode* tf_fake_tensor_map(size_t i) {
  Locked fake;
  return i < fake->encodes.size() ? &fake->encodes[i] : nullptr;
}
size_t tf_fake_module_load_count() { return Locked().s.loads.size(); }
const TfFakeModuleLoad* tf_fake_module_load(size_t i) {
  Locked fake;
  return i < fake->loads.size() ? &fake->loads[i] : nullptr;
}
unsigned long long tf_fake_launches_accepted() { return state().launches_accepted.load(); }

size_t tf_fake_allocation_bytes(const void* ptr) {
  Locked fake;
  const auto p = reinterpret_cast<std::uintptr_t>(ptr);
  auto it = fake->allocations.upper_bound(p);
  if (it == fake->allocations.begin()) return 0;
  --it;
  return p < it->first + it->second ? it->second : 0;
}

}  // extern "C"
