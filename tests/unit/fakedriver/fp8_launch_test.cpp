// An FP8 op (issue 16) through the real launch path on the fake Hopper
// (compute capability 9.0): the mma.sync kernel for sm_90 is chosen (no FP8
// wgmma yet), amax is zeroed by a cuMemsetD32Async on the launch's stream
// before the kernel, and TfFp8Params trails TfGemmParams.
#include "FakeDriverTest.h"

namespace tilefuse::fakedriver {
namespace {

class Fp8Launch : public FakeDriverTest {
 protected:
  void SetUp() override {
    FakeDriverTest::SetUp();
    context_ = use_device(kSm90Device);
  }
  CUcontext context_ = nullptr;
};

TEST_F(Fp8Launch, AmaxIsZeroedBeforeTheSm90KernelAndTheScalesTrailTheParameters) {
  Runtime rt = heuristic_runtime();
  MatmulOptions options{.activation = "gelu(x)", .dtype = DType::E4M3, .out_dtype = DType::E4M3,
                        .b_col_major = true};
  options.amax = true;
  auto op = rt.matmul(options);
  ASSERT_TRUE(op) << op.error().message;
  const long long m = 200, n = 144, k = 96;  // K % 16 == 0; FP8 rows (A, B, e4m3 D) of 16-byte multiples
  DeviceMemory a(m * k), b(n * k), d(m * n), scales(3 * sizeof(float)), amax(sizeof(float));
  const float nonzero = 7.0f;
  ASSERT_EQ(driver_api().cuMemcpyHtoD(reinterpret_cast<CUdeviceptr>(amax.get()), &nonzero, sizeof nonzero),
            CUDA_SUCCESS);
  const float* scale = static_cast<const float*>(scales.get());

  MatmulArgs args{.a = a.get(), .b = b.get(), .d = d.get(), .shape = {m, n, k}};
  args.scale_a = scale;
  args.scale_b = scale + 1;
  args.scale_d = scale + 2;
  args.amax = static_cast<float*>(amax.get());
  fake().tf_fake_clear_log();
  auto launched = (*op)(nullptr, args);
  ASSERT_TRUE(launched) << launched.error().message;

  auto all = launches();
  ASSERT_EQ(all.size(), 1u);
  const TfFakeLaunch& launch = *all[0];
  expect_launch_invariants(launch);
  EXPECT_EQ(std::string(launch.module_arch), "sm_90") << "FP8 runs the mma.sync kernel on Hopper";
  // The memset comes first, on the same stream, and zeroed the float.
  bool memset_before_launch = false;
  for (std::size_t i = 0; i < fake().tf_fake_call_count(); ++i) {
    const TfFakeCall* call = fake().tf_fake_call(i);
    if (std::string(call->name) == "cuMemsetD32Async" && call->seq < launch.seq && call->result == CUDA_SUCCESS)
      memset_before_launch = true;
  }
  EXPECT_TRUE(memset_before_launch) << "no cuMemsetD32Async(amax) before the kernel";
  float after = -1;
  ASSERT_EQ(driver_api().cuMemcpyDtoH(&after, reinterpret_cast<CUdeviceptr>(amax.get()), sizeof after), CUDA_SUCCESS);
  EXPECT_EQ(after, 0.0f);

  // TfGemmParams: 168 fixed bytes, an empty epilogue struct (1 byte, padded
  // to 176), then TfFp8Params: scale_a, scale_b, scale_d, amax.
  ASSERT_EQ(launch.param_count, 1);
  ASSERT_EQ(launch.param_size[0], 176u + 32u) << "sizeof(TfGemmParams) with TfFp8Params in the cubin";
  const unsigned char* p = launch.params + launch.param_offset[0];
  const void* trailing[4];
  std::memcpy(trailing, p + 176, sizeof trailing);
  EXPECT_EQ(trailing[0], args.scale_a);
  EXPECT_EQ(trailing[1], args.scale_b);
  EXPECT_EQ(trailing[2], args.scale_d);
  EXPECT_EQ(trailing[3], args.amax);
  long long ks[3];
  std::memcpy(ks, p + 56, sizeof ks);
  EXPECT_EQ(ks[2], k) << "K in FP8 elements (the kernel halves it into 16-bit slots)";
}

}  // namespace
}  // namespace tilefuse::fakedriver
