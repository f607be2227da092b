// The fake driver: modules, functions, launches and tensor maps (see fakecuda.h).
#include <algorithm>
#include <cstring>

#include "FakeState.h"
#include "TensorMapLimits.h"

using namespace tilefuse::fakecuda;

namespace {
int max_ptx_isa(int driver_version) {  // PTX ISA major*10+minor a driver JIT-compiles
  if (driver_version >= 13000) return 90;
  if (driver_version >= 12090) return 88;
  if (driver_version >= 12080) return 87;
  if (driver_version >= 12000) return 80 + std::min(5, driver_version % 1000 / 10);
  return 78;
}
}  // namespace

extern "C" {

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

}  // extern "C"
