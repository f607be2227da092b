// The CUDA driver loaded at run time: clear NoDevice errors without it, and
// (only where a GPU exists) the load → kernel → launch stages end to end.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <vector>

#include "runtime/Driver.h"
#include "runtime/Module.h"
#include "unit/runtime/HelperProcess.h"
#include "unit/runtime/SampleEpilogues.h"

namespace tilefuse::runtime {
namespace {

TEST(Driver, MissingLibraryIsNoDeviceWithAClearMessage) {
  auto api = load_driver("/nonexistent/libcuda.so.1");
  ASSERT_FALSE(api);
  EXPECT_EQ(api.error().code, ErrorCode::NoDevice);
  const std::string& m = api.error().message;
  EXPECT_NE(m.find("no CUDA driver/GPU found"), std::string::npos) << m;
  EXPECT_NE(m.find("/nonexistent/libcuda.so.1"), std::string::npos) << m;
  EXPECT_NE(m.find("CPU paths still work"), std::string::npos) << m;
}

TEST(Driver, LibraryWithoutEntryPointsIsADriverError) {
  auto api = load_driver("libz.so.1");  // loads, but is not a CUDA driver
  ASSERT_FALSE(api);
  EXPECT_EQ(api.error().code, ErrorCode::DriverError);
  EXPECT_NE(api.error().message.find("cuInit"), std::string::npos) << api.error().message;
}

TEST(Driver, MissingDriverFailsGpuPathsWhileNvrtcWorks) {
  // A fresh process: the process-wide driver is loaded once and kept.
  const pid_t pid =
      testing::spawn_helper("no-driver", {"TILEFUSE_LIBCUDA=/nonexistent/libcuda.so.1"});
  ASSERT_GT(pid, 0);
  EXPECT_EQ(testing::wait_helper(pid), 0) << "see the helper's message above";
}

TEST(Driver, ProcessDriverIsLoadedOrExplainsWhyNot) {
  auto api = driver();
  if (!api) {
    EXPECT_EQ(api.error().code, ErrorCode::NoDevice);
    EXPECT_NE(api.error().message.find("no CUDA driver/GPU found"), std::string::npos);
    EXPECT_NE(api.error().message.find(driver_library_path()), std::string::npos);
    return;
  }
  EXPECT_NE((*api)->cuLaunchKernel, nullptr);
  EXPECT_EQ(driver().value(), api.value()) << "loaded once";
}

TEST(Driver, ArchForComputeCapability) {
  EXPECT_EQ(*arch_for_compute_capability(8, 0), "sm_80");
  EXPECT_EQ(*arch_for_compute_capability(8, 6), "sm_86");
  EXPECT_EQ(*arch_for_compute_capability(8, 9), "sm_89");
  EXPECT_EQ(*arch_for_compute_capability(9, 0), "sm_90a");
  auto turing = arch_for_compute_capability(7, 5);
  ASSERT_FALSE(turing);
  EXPECT_EQ(turing.error().code, ErrorCode::Unsupported);
  EXPECT_NE(turing.error().message.find("7.5"), std::string::npos);
}

// ---- GPU only ------------------------------------------------------------------

float bf16_bits_to_float(unsigned short bits) {
  const uint32_t u = static_cast<uint32_t>(bits) << 16;
  float f;
  std::memcpy(&f, &u, sizeof(f));
  return f;
}

// Frees device memory when the test ends, whatever happens.
struct DeviceBuffer {
  const DriverApi* api = nullptr;
  CUdeviceptr ptr = 0;
  ~DeviceBuffer() {
    if (ptr) api->cuMemFree(ptr);
  }
};

TEST(DriverGpu, ElementwiseKernelMatchesFloat64Reference) {
  auto info = query_device(0);
  if (!info) GTEST_SKIP() << "needs a GPU: " << info.error().message;
  auto arch = arch_for_compute_capability(info->compute_major, info->compute_minor);
  if (!arch) GTEST_SKIP() << arch.error().message;
  EXPECT_GT(info->sm_count, 0);
  EXPECT_GT(info->shared_per_block_optin, 0);
  EXPECT_GT(info->l2_bytes, 0);
  EXPECT_GT(info->driver_version, 0);

  auto compiled = compile(testing::silu_source(*arch, 4, /*gated=*/true, /*out_bytes=*/2));
  ASSERT_TRUE(compiled) << compiled.error().message;
  auto loaded = Loaded::load(*compiled);
  ASSERT_TRUE(loaded) << loaded.error().message;
  auto kernel = loaded->kernel("tf_elementwise");
  ASSERT_TRUE(kernel) << kernel.error().message;
  const DriverApi& api = **driver();

  // n not a multiple of 4: the tail path runs too. Offsetting every pointer
  // by one element runs the unaligned (element-by-element) path.
  for (int offset : {0, 1}) {
    const long long n = 4099;
    std::vector<float> gate(n + 1), up(n + 1);
    for (long long i = 0; i <= n; ++i) {
      gate[i] = -20.0f + 40.0f * static_cast<float>(i) / n;
      up[i] = 0.5f + static_cast<float>(i % 7) * 0.25f;
    }
    DeviceBuffer d_gate{&api}, d_up{&api}, d_out{&api};
    ASSERT_EQ(api.cuMemAlloc(&d_gate.ptr, (n + 1) * 4), CUDA_SUCCESS);
    ASSERT_EQ(api.cuMemAlloc(&d_up.ptr, (n + 1) * 4), CUDA_SUCCESS);
    ASSERT_EQ(api.cuMemAlloc(&d_out.ptr, (n + 1) * 2), CUDA_SUCCESS);
    ASSERT_EQ(api.cuMemcpyHtoD(d_gate.ptr, gate.data(), (n + 1) * 4), CUDA_SUCCESS);
    ASSERT_EQ(api.cuMemcpyHtoD(d_up.ptr, up.data(), (n + 1) * 4), CUDA_SUCCESS);
    ASSERT_EQ(api.cuMemsetD8(d_out.ptr, 0xff, (n + 1) * 2), CUDA_SUCCESS);

    CUdeviceptr g = d_gate.ptr + offset * 4, u = d_up.ptr + offset * 4,
                o = d_out.ptr + offset * 2;
    struct {
      float alpha;
    } params{1.5f};
    void* args[] = {&g, &u, &o, const_cast<long long*>(&n), &params};
    LaunchConfig config;
    config.grid[0] = 8;  // fewer threads than groups: the grid-stride loop runs
    config.block[0] = 64;
    auto launched = launch(*kernel, config, nullptr, args);
    ASSERT_TRUE(launched) << launched.error().message;
    ASSERT_EQ(api.cuCtxSynchronize(), CUDA_SUCCESS);

    std::vector<unsigned short> out(n + 1);
    ASSERT_EQ(api.cuMemcpyDtoH(out.data(), d_out.ptr, (n + 1) * 2), CUDA_SUCCESS);
    if (offset == 1) {
      EXPECT_EQ(out[0], 0xffff) << "wrote before the output";
    } else {
      EXPECT_EQ(out[n], 0xffff) << "wrote past the output";
    }
    for (long long i = 0; i < n; ++i) {
      const double x = gate[i + offset];
      const double ref = 1.5 * x / (1.0 + std::exp(-x)) * up[i + offset];
      const double got = bf16_bits_to_float(out[i + offset]);
      // bf16 keeps 8 significant bits: half an ulp is 2^-8 relative.
      // fp32 arithmetic before the rounding adds a few fp32 ulps (2^-20 relative).
      EXPECT_NEAR(got, ref, std::abs(ref) * (0x1p-8 + 0x1p-20) + 1e-30)
          << "i=" << i << " offset=" << offset;
    }
  }
}

TEST(DriverGpu, UnknownKernelNameIsADriverErrorThatSaysWhy) {
  auto info = query_device(0);
  if (!info) GTEST_SKIP() << "needs a GPU: " << info.error().message;
  auto arch = arch_for_compute_capability(info->compute_major, info->compute_minor);
  if (!arch) GTEST_SKIP() << arch.error().message;
  auto compiled = compile(testing::silu_source(*arch));
  ASSERT_TRUE(compiled);
  auto loaded = Loaded::load(*compiled);
  ASSERT_TRUE(loaded) << loaded.error().message;
  auto kernel = loaded->kernel("no_such_kernel");
  ASSERT_FALSE(kernel);
  EXPECT_EQ(kernel.error().code, ErrorCode::DriverError);
  EXPECT_NE(kernel.error().message.find("no_such_kernel"), std::string::npos);
}

}  // namespace
}  // namespace tilefuse::runtime
