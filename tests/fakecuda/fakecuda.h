// libtilefuse_fakecuda.so: a recording stand-in for libcuda.so.1, for CPU
// tests and the launch-overhead benchmark. It exports every entry point of
// runtime/Driver.h's dlopen table (under the names <cuda.h>'s versioning
// macros give them: cuMemAlloc_v2, ...) plus the control API below, which a
// test reaches with dlsym on the same handle (tests/fakecuda/FakeCudaControl.h).
//
// Select it with TILEFUSE_CUDA_DRIVER=/path/libtilefuse_fakecuda.so.
//
// What it simulates (docs/architecture.md, "The fake CUDA driver"):
// - devices from $TILEFUSE_FAKE_CUDA_DEVICES, e.g. "8.0,9.0" or "8.6:84" or
//   "9.0:132:232448" (compute capability[:SMs[:opt-in shared bytes per block]]);
//   default "8.0". Shared-memory limits, SM count and L2 follow the compute
//   capability (A100, A10/RTX 3090, L4/RTX 4090, H100).
// - the driver version from $TILEFUSE_FAKE_CUDA_DRIVER_VERSION (default 13000)
//   or tf_fake_set_driver_version.
// - primary contexts, a current context per thread, and a primary-context
//   reset (what cudaDeviceReset does) that invalidates every module loaded in it.
// - modules: cuModuleLoadData accepts an ELF cubin or PTX text, reads the
//   architecture (the cubin's ELF flags, PTX .target), refuses an image the
//   device cannot run (CUDA_ERROR_NO_BINARY_FOR_GPU), and reads each kernel's
//   parameter layout, launch bound and static shared memory from the cubin's
//   .nv.info sections (or the PTX .entry declaration).
// - launches are checked like the real driver (current context, function of
//   that context, block within the launch bound, dynamic shared memory within
//   the function's attribute, parameters present) and recorded with their
//   parameter bytes; kernels are never executed (a test may install a hook).
// - cuTensorMapEncodeTiled checks the documented limits and writes a map whose
//   bytes identify the encode call.
// - memory is host memory (cuMemAlloc is aligned_alloc), so copies work.
#pragma once

#include <cuda.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define TF_FAKE_MAX_PARAMS 8
#define TF_FAKE_MAX_PARAM_BYTES 4096
#define TF_FAKE_NAME_BYTES 256

/// One driver call, in call order.
typedef struct TfFakeCall {
  unsigned long long seq;       ///< position in the call log (all records share it)
  char name[48];                ///< the exported symbol, e.g. "cuMemAlloc_v2"
  CUcontext context;            ///< the calling thread's current context at the call
  unsigned long long thread;    ///< a per-thread number (1, 2, ...: order of first call)
  int result;                   ///< CUresult returned
} TfFakeCall;

/// One cuLaunchKernel.
typedef struct TfFakeLaunch {
  unsigned long long seq;
  CUfunction function;
  char kernel[TF_FAKE_NAME_BYTES];   ///< the function's (lowered) name
  char module_arch[16];              ///< "sm_80", "sm_90", ... of the loaded image
  CUcontext context;                 ///< current at the launch (null: none)
  CUcontext function_context;        ///< the context the function's module lives in
  int device;                        ///< ordinal of the current context's device (-1: none)
  unsigned grid[3], block[3];
  unsigned shared_bytes;             ///< dynamic shared memory
  CUstream stream;
  int max_dynamic_shared_attribute;  ///< the function's CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES then
  int max_threads;                   ///< the kernel's launch bound (1024 without one)
  int param_count;                   ///< from the image
  unsigned param_offset[TF_FAKE_MAX_PARAMS], param_size[TF_FAKE_MAX_PARAMS];
  unsigned param_bytes;              ///< total parameter space
  unsigned char params[TF_FAKE_MAX_PARAM_BYTES];  ///< copied from kernelParams at the offsets above
  int result;
  char error[160];                   ///< why a launch was refused ("" on success)
} TfFakeLaunch;

/// One cuFuncSetAttribute.
typedef struct TfFakeFuncAttribute {
  unsigned long long seq;
  CUfunction function;
  char kernel[TF_FAKE_NAME_BYTES];
  int attribute;  ///< CUfunction_attribute
  int value;
  CUcontext context;
  int result;
} TfFakeFuncAttribute;

/// One cuTensorMapEncodeTiled, with the arguments as passed.
typedef struct TfFakeTensorMapEncode {
  unsigned long long seq;
  int data_type;  ///< CUtensorMapDataType
  unsigned rank;
  const void* global_address;
  cuuint64_t dims[5];
  cuuint64_t strides[4];  ///< rank - 1 of them are meaningful
  cuuint32_t box[5];
  cuuint32_t element_strides[5];
  int interleave, swizzle, l2_promotion, oob_fill;
  int result;
  char violation[160];         ///< the documented limit broken ("" if none)
  unsigned char map[128];      ///< what was written to *tensorMap on success
} TfFakeTensorMapEncode;

/// One cuModuleLoadData.
typedef struct TfFakeModuleLoad {
  unsigned long long seq;
  CUmodule module;
  CUcontext context;
  int is_ptx;
  char arch[16];  ///< "sm_80", "sm_90", ... ("" if unreadable)
  int result;
  char error[160];
} TfFakeModuleLoad;

/// A kernel "execution": called after each successful launch (outside the
/// driver's lock) while recording; device memory is host memory.
typedef void (*TfFakeLaunchHook)(const TfFakeLaunch* launch, void* user);

/// Replaces the simulated devices (same syntax as $TILEFUSE_FAKE_CUDA_DEVICES)
/// and forgets every context, module, allocation and record. 0 on success.
/// Only for a process whose tilefuse has not cached any context yet.
int tf_fake_configure(const char* devices);
void tf_fake_set_driver_version(int version);
/// Recording on (default) or off: off keeps only counters (no allocation per
/// call; the launch-overhead benchmark).
void tf_fake_set_recording(int on);
void tf_fake_set_launch_hook(TfFakeLaunchHook hook, void* user);
/// Simulated duration of every launch on its stream (what events measure).
void tf_fake_set_kernel_time_ms(float ms);
/// cuDevicePrimaryCtxReset(ordinal), as cudaDeviceReset does it: every module
/// of the primary context is invalid afterwards and the context is inactive
/// until retained again. new_handle = 0: the context keeps its handle (what
/// the real driver does) and gets a new id when reactivated; 1: the old handle
/// is destroyed and the next retain returns a new one. 0 on success.
int tf_fake_reset_primary_context(int ordinal, int new_handle);

void tf_fake_clear_log(void);
size_t tf_fake_call_count(void);
const TfFakeCall* tf_fake_call(size_t i);
size_t tf_fake_launch_count(void);
const TfFakeLaunch* tf_fake_launch(size_t i);
size_t tf_fake_func_attribute_count(void);
const TfFakeFuncAttribute* tf_fake_func_attribute(size_t i);
size_t tf_fake_tensor_map_count(void);
const TfFakeTensorMapEncode* tf_fake_tensor_map(size_t i);
size_t tf_fake_module_load_count(void);
const TfFakeModuleLoad* tf_fake_module_load(size_t i);
/// Launches accepted since the process started (counted with recording off too).
unsigned long long tf_fake_launches_accepted(void);
/// Bytes of the allocation `ptr` points into, or 0 if it is no device allocation.
size_t tf_fake_allocation_bytes(const void* ptr);

#ifdef __cplusplus
}
#endif
