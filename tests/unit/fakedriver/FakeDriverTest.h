// Shared scaffolding of the fake-driver suite: the process's CUDA driver is
// libtilefuse_fakecuda.so with two devices (0: compute capability 8.0,
// 1: 9.0), kernels are compiled for real by NVRTC into one disk cache in the
// build tree (every test process reuses them), and what reached the driver is
// read back through the fake's control API.
//
// The expectations here are written from the kernels' contracts
// (templates/tilefuse/gemm_params.cuh, gemm_sm90.cuh, the CUDA driver API),
// not from the host code under test: the parameter bytes are packed by
// pack_expected_params below, field by field.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <cstring>
#include <string>
#include <vector>

#include "FakeCudaControl.h"
#include "TensorMapLimits.h"
#include "compiler/Target/TilePruning.h"
#include "runtime/Driver.h"
#include "tilefuse/tilefuse.hpp"

namespace tilefuse::fakedriver {

inline constexpr const char* kFakeDriverPath = TILEFUSE_FAKECUDA_PATH;
inline constexpr const char* kKernelCacheDir = TILEFUSE_FAKECUDA_CACHE_DIR;
inline constexpr int kSm80Device = 0, kSm90Device = 1;
inline constexpr int kSm90SmCount = 132;

// Before any test (and before tilefuse loads its driver, once per process).
inline const bool kFakeDriverSelected = [] {
  ::setenv("TILEFUSE_CUDA_DRIVER", kFakeDriverPath, 1);
  ::setenv("TILEFUSE_FAKE_CUDA_DEVICES", "8.0,9.0", 1);
  return true;
}();

inline const fakecuda::FakeCudaControl& fake() {
  static const fakecuda::FakeCudaControl control(kFakeDriverPath);
  return control;
}

/// The process driver (the fake); fails the test if tilefuse did not load it.
inline const runtime::DriverApi& driver_api() {
  auto api = runtime::driver();
  if (!api) throw std::runtime_error("the fake driver did not load: " + api.error().message);
  if ((*api)->library_path != kFakeDriverPath)
    throw std::runtime_error("tilefuse loaded " + (*api)->library_path + " instead of the fake driver");
  return **api;
}

/// What cudaSetDevice does: device `ordinal`'s primary context, current.
inline CUcontext use_device(int ordinal) {
  const runtime::DriverApi& api = driver_api();
  CUcontext ctx = nullptr;
  if (api.cuDevicePrimaryCtxRetain(&ctx, ordinal) != CUDA_SUCCESS || api.cuCtxSetCurrent(ctx) != CUDA_SUCCESS)
    throw std::runtime_error("cannot make the fake device's primary context current");
  return ctx;
}

/// Launches and compiles go through this runtime: the shared kernel cache,
/// the heuristic tile (no tuning database read).
inline Runtime heuristic_runtime() {
  return Runtime(RuntimeOptions{.cache_dir = std::string(kKernelCacheDir), .tuning = TuningMode::Heuristic});
}

/// Fake device memory (host memory behind the fake's cuMemAlloc), zeroed.
class DeviceMemory {
 public:
  explicit DeviceMemory(std::size_t bytes) : bytes_(bytes) {
    const runtime::DriverApi& api = driver_api();
    if (api.cuMemAlloc(&ptr_, bytes) != CUDA_SUCCESS || api.cuMemsetD8(ptr_, 0, bytes) != CUDA_SUCCESS)
      throw std::runtime_error("fake cuMemAlloc failed");
  }
  ~DeviceMemory() { driver_api().cuMemFree(ptr_); }
  DeviceMemory(const DeviceMemory&) = delete;
  DeviceMemory& operator=(const DeviceMemory&) = delete;
  void* get() const { return reinterpret_cast<void*>(ptr_); }
  std::size_t bytes() const { return bytes_; }

 private:
  CUdeviceptr ptr_ = 0;
  std::size_t bytes_;
};

/// Every argument of a launch with the leading dimensions and batch strides
/// resolved (what the kernel reads).
struct ResolvedArgs {
  const void *a = nullptr, *b = nullptr, *b_up = nullptr;
  void* d = nullptr;
  const void *bias = nullptr, *c = nullptr;
  void* aux = nullptr;
  long long m = 0, n = 0, k = 0, lda = 0, ldb = 0, ldc = 0, ldd = 0, ld_aux = 0;
  long long stride_a = 0, stride_b = 0, stride_c = 0, stride_d = 0, stride_aux = 0;
  float alpha = 1, beta = 1;
  int batch = 1;
};

/// TfGemmParams (templates/tilefuse/gemm_params.cuh) as the kernel lays it
/// out: 7 pointers, 13 long longs, alpha, beta, then one float per runtime
/// parameter (an empty struct of 1 byte without any), the whole padded to 8.
inline std::vector<unsigned char> pack_expected_params(const ResolvedArgs& r, const std::vector<float>& epilogue) {
  const std::size_t end = 168 + (epilogue.empty() ? 1 : 4 * epilogue.size());
  std::vector<unsigned char> bytes((end + 7) / 8 * 8, 0);
  auto put = [&](std::size_t offset, const void* value, std::size_t size) {
    std::memcpy(bytes.data() + offset, value, size);
  };
  const void* pointers[7] = {r.a, r.b, r.b_up, r.d, r.bias, r.c, r.aux};
  put(0, pointers, sizeof(pointers));
  const long long longs[13] = {r.m,        r.n,        r.k,        r.lda,      r.ldb,      r.ldc,        r.ldd,
                               r.ld_aux,   r.stride_a, r.stride_b, r.stride_c, r.stride_d, r.stride_aux};
  put(56, longs, sizeof(longs));
  put(160, &r.alpha, 4);
  put(164, &r.beta, 4);
  for (std::size_t i = 0; i < epilogue.size(); ++i) put(168 + 4 * i, &epilogue[i], 4);
  return bytes;
}

inline long long ceil_div(long long a, long long b) { return (a + b - 1) / b; }

/// All launches recorded since the log was cleared.
inline std::vector<const TfFakeLaunch*> launches() {
  std::vector<const TfFakeLaunch*> out;
  for (std::size_t i = 0; i < fake().tf_fake_launch_count(); ++i) out.push_back(fake().tf_fake_launch(i));
  return out;
}

inline std::vector<const TfFakeTensorMapEncode*> tensor_map_encodes() {
  std::vector<const TfFakeTensorMapEncode*> out;
  for (std::size_t i = 0; i < fake().tf_fake_tensor_map_count(); ++i) out.push_back(fake().tf_fake_tensor_map(i));
  return out;
}

/// What every launch must satisfy, whatever the kernel: accepted by the
/// driver, a current context that owns the function, and the dynamic
/// shared-memory opt-in set to exactly the launch's amount before the
/// function's first launch.
inline void expect_launch_invariants(const TfFakeLaunch& launch) {
  SCOPED_TRACE(std::string("launch of ") + launch.kernel);
  EXPECT_EQ(launch.result, CUDA_SUCCESS) << "the driver refused the launch: " << launch.error;
  EXPECT_NE(launch.context, nullptr) << "no current context at the launch";
  EXPECT_EQ(launch.context, launch.function_context) << "the function belongs to another context";
  // The first launch of this function, and the attribute calls before it.
  unsigned long long first_launch = launch.seq;
  for (const TfFakeLaunch* l : launches())
    if (l->function == launch.function) first_launch = std::min(first_launch, l->seq);
  bool set_before = false;
  for (std::size_t i = 0; i < fake().tf_fake_func_attribute_count(); ++i) {
    const TfFakeFuncAttribute& a = *fake().tf_fake_func_attribute(i);
    if (a.function != launch.function || a.attribute != CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES) continue;
    EXPECT_EQ(a.result, CUDA_SUCCESS);
    if (a.seq < first_launch) {
      set_before = true;
      EXPECT_EQ(static_cast<unsigned>(a.value), launch.shared_bytes)
          << "MAX_DYNAMIC_SHARED_SIZE_BYTES differs from the launch's dynamic shared memory";
    }
  }
  EXPECT_TRUE(set_before) << "no cuFuncSetAttribute(MAX_DYNAMIC_SHARED_SIZE_BYTES) before the first launch";
}

/// Every recorded cuTensorMapEncodeTiled within the documented limits.
inline void expect_tensor_maps_within_limits() {
  for (const TfFakeTensorMapEncode* e : tensor_map_encodes()) {
    cuuint64_t dims[5], strides[4];
    cuuint32_t box[5], element_strides[5];
    std::memcpy(dims, e->dims, sizeof(dims));
    std::memcpy(strides, e->strides, sizeof(strides));
    std::memcpy(box, e->box, sizeof(box));
    std::memcpy(element_strides, e->element_strides, sizeof(element_strides));
    alignas(128) static unsigned char map[128];
    const std::string violation = fakecuda::tensor_map_violation({map, e->data_type, e->rank, e->global_address, dims,
                                                                  strides, box, element_strides, e->interleave,
                                                                  e->swizzle, e->l2_promotion, e->oob_fill});
    EXPECT_EQ(violation, "") << "encode #" << e->seq;
    EXPECT_EQ(e->result, CUDA_SUCCESS) << "encode #" << e->seq << ": " << e->violation;
    EXPECT_EQ(e->interleave, CU_TENSOR_MAP_INTERLEAVE_NONE);
    EXPECT_EQ(e->swizzle, CU_TENSOR_MAP_SWIZZLE_128B) << "the wgmma descriptors assume 128-byte swizzle";
    EXPECT_EQ(e->oob_fill, CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE) << "out-of-bounds elements must read as zero";
    for (unsigned i = 0; i < e->rank; ++i) EXPECT_EQ(e->element_strides[i], 1u) << "dimension " << i;
  }
}

/// Clears the fake's log at the start of each test.
class FakeDriverTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(kFakeDriverSelected);
    driver_api();
    fake().tf_fake_set_launch_hook(nullptr, nullptr);
    fake().tf_fake_clear_log();
  }
};

}  // namespace tilefuse::fakedriver
