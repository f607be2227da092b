// Which library tilefuse loads as its driver, and what it says about one it
// cannot use: the fake driver's own behaviour is checked here too (it must
// export the whole table and read real NVRTC images the way the driver does).
#include <dlfcn.h>

#include "FakeDriverTest.h"
#include "runtime/Nvrtc.h"
#include "unit/runtime/SampleEpilogues.h"
#include "unit/runtime/TestEnvironment.h"

namespace tilefuse::fakedriver {
namespace {

using runtime::testing::ScopedEnv;
using DriverSelection = FakeDriverTest;

TEST_F(DriverSelection, CudaDriverVariableComesFirstThenLibcuda) {
  {
    ScopedEnv driver("TILEFUSE_CUDA_DRIVER", "/a/libfake.so");
    ScopedEnv libcuda("TILEFUSE_LIBCUDA", "/b/libcuda.so.1");
    EXPECT_EQ(runtime::driver_library_path(), "/a/libfake.so");
  }
  {
    ScopedEnv driver("TILEFUSE_CUDA_DRIVER", nullptr);
    ScopedEnv libcuda("TILEFUSE_LIBCUDA", "/b/libcuda.so.1");
    EXPECT_EQ(runtime::driver_library_path(), "/b/libcuda.so.1");
  }
  {
    ScopedEnv driver("TILEFUSE_CUDA_DRIVER", "");
    ScopedEnv libcuda("TILEFUSE_LIBCUDA", nullptr);
    EXPECT_EQ(runtime::driver_library_path(), "libcuda.so.1");
  }
}

TEST_F(DriverSelection, TheFakeExportsEveryEntryPointOfTheTable) {
  auto api = runtime::load_driver(kFakeDriverPath);
  ASSERT_TRUE(api) << api.error().message;
  EXPECT_EQ(driver_api().library_path, kFakeDriverPath) << "the process driver is the fake";
}

TEST_F(DriverSelection, PreCuda13DriverIsRefusedWithAnUpdateMessage) {
  fake().tf_fake_set_driver_version(12040);
  auto api = runtime::load_driver(kFakeDriverPath);
  fake().tf_fake_set_driver_version(13000);
  ASSERT_FALSE(api) << "a CUDA 12.4 driver cannot load CUDA 13.0 NVRTC output: it must be refused at load";
  EXPECT_EQ(api.error().code, ErrorCode::DriverError);
  const std::string& m = api.error().message;
  EXPECT_NE(m.find("12.4"), std::string::npos) << m;
  EXPECT_NE(m.find("older than the CUDA 13.0 this build needs"), std::string::npos) << m;
  EXPECT_NE(m.find("update the NVIDIA driver"), std::string::npos) << m;
  EXPECT_EQ(m.find("architecture"), std::string::npos) << m;
}

TEST_F(DriverSelection, AnImageForAnotherArchitectureFailsToLoadLikeOnTheDevice) {
  auto compiled = runtime::compile(runtime::testing::silu_source("sm_90a"));
  ASSERT_TRUE(compiled) << compiled.error().message;
  ASSERT_FALSE(compiled->cubin.empty());
  use_device(kSm80Device);
  const runtime::DriverApi& api = driver_api();
  CUmodule module = nullptr;
  EXPECT_EQ(api.cuModuleLoadData(&module, compiled->cubin.data()), CUDA_ERROR_NO_BINARY_FOR_GPU);
  ASSERT_GE(fake().tf_fake_module_load_count(), 1u);
  EXPECT_STREQ(fake().tf_fake_module_load(0)->arch, "sm_90") << "read from the cubin's ELF flags";
  use_device(kSm90Device);
  ASSERT_EQ(api.cuModuleLoadData(&module, compiled->cubin.data()), CUDA_SUCCESS);
  CUfunction f = nullptr;
  EXPECT_EQ(api.cuModuleGetFunction(&f, module, "no_such_kernel"), CUDA_ERROR_NOT_FOUND);
  std::string lowered = "tf_elementwise";
  for (const auto& [expression, name] : compiled->lowered_names)
    if (expression == "tf_elementwise") lowered = name;
  ASSERT_EQ(api.cuModuleGetFunction(&f, module, lowered.c_str()), CUDA_SUCCESS);
  // Without the shared-memory opt-in a launch above 48 KiB is refused.
  void* no_args[8] = {};
  EXPECT_EQ(api.cuLaunchKernel(f, 1, 1, 1, 32, 1, 1, 64 * 1024, nullptr, no_args, nullptr), CUDA_ERROR_INVALID_VALUE);
  EXPECT_EQ(api.cuModuleUnload(module), CUDA_SUCCESS);
}

TEST_F(DriverSelection, ATensorMapBreakingADocumentedLimitIsRefused) {
  const runtime::DriverApi& api = driver_api();
  alignas(128) CUtensorMap map;
  alignas(16) static unsigned short data[64 * 64];
  const cuuint64_t dims[2] = {64, 64};
  const cuuint32_t box[2] = {64, 64}, ones[2] = {1, 1};
  const cuuint64_t good_stride[1] = {128}, odd_stride[1] = {136 - 2};
  EXPECT_EQ(api.cuTensorMapEncodeTiled(&map, CU_TENSOR_MAP_DATA_TYPE_BFLOAT16, 2, data, dims, good_stride, box, ones,
                                       CU_TENSOR_MAP_INTERLEAVE_NONE, CU_TENSOR_MAP_SWIZZLE_128B,
                                       CU_TENSOR_MAP_L2_PROMOTION_L2_256B, CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE),
            CUDA_SUCCESS);
  EXPECT_EQ(api.cuTensorMapEncodeTiled(&map, CU_TENSOR_MAP_DATA_TYPE_BFLOAT16, 2, data, dims, odd_stride, box, ones,
                                       CU_TENSOR_MAP_INTERLEAVE_NONE, CU_TENSOR_MAP_SWIZZLE_128B,
                                       CU_TENSOR_MAP_L2_PROMOTION_L2_256B, CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE),
            CUDA_ERROR_INVALID_VALUE);
  const cuuint32_t wide_box[2] = {128, 64};  // 256 bytes inner: over the 128B swizzle span
  EXPECT_EQ(api.cuTensorMapEncodeTiled(&map, CU_TENSOR_MAP_DATA_TYPE_BFLOAT16, 2, data, dims, good_stride, wide_box,
                                       ones, CU_TENSOR_MAP_INTERLEAVE_NONE, CU_TENSOR_MAP_SWIZZLE_128B,
                                       CU_TENSOR_MAP_L2_PROMOTION_L2_256B, CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE),
            CUDA_ERROR_INVALID_VALUE);
  auto encodes = tensor_map_encodes();
  ASSERT_EQ(encodes.size(), 3u);
  EXPECT_STREQ(encodes[1]->violation, "globalStrides[0] = 134 is not a multiple of 16");
  EXPECT_NE(std::string(encodes[2]->violation).find("swizzle span"), std::string::npos) << encodes[2]->violation;
}

}  // namespace
}  // namespace tilefuse::fakedriver
