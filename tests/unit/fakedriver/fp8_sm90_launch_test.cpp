// Issue 16: an FP8 op on a compute capability 9.0 device through the real
// Runtime::matmul launch path. With the architecture left unset the wgmma
// kernel (sm_90a) runs it; A and B are UINT8 tensor maps whose K boxes are
// one 128-byte row (128 FP8 values); TfGemmParams ends with TfFp8Params (the
// scale and amax pointers); amax is zeroed in stream order before the launch.
#include "FakeDriverTest.h"

namespace tilefuse::fakedriver {
namespace {

constexpr std::size_t kMapA = 0, kMapB = 128;  // TfSm90Params (gemm_sm90.cuh)

/// The recorded encode whose map bytes sit at `offset` of parameter 1.
const TfFakeTensorMapEncode* map_at(const TfFakeLaunch& launch, std::size_t offset) {
  const unsigned char* map = launch.params + launch.param_offset[1] + offset;
  for (const TfFakeTensorMapEncode* e : tensor_map_encodes())
    if (e->result == CUDA_SUCCESS && std::memcmp(e->map, map, 128) == 0) return e;
  return nullptr;
}

class Fp8Sm90Launch : public FakeDriverTest {
 protected:
  void SetUp() override {
    FakeDriverTest::SetUp();
    use_device(kSm90Device);
  }
};

TEST_F(Fp8Sm90Launch, WgmmaKernelWithUint8MapsFp8ParamsAndAZeroedAmax) {
  Runtime rt = heuristic_runtime();
  MatmulOptions o;
  o.activation = "gelu(x)";
  o.dtype = DType::E4M3;
  o.b_col_major = true;
  o.out_dtype = DType::E4M3;
  o.amax = true;
  auto op = rt.matmul(o);
  ASSERT_TRUE(op) << op.error().message;
  const long long m = 200, n = 136, k = 208, lda = 224, ldb = 240, ldd = 144;  // FP8: multiples of 16
  DeviceMemory a(m * lda), b(n * ldb), d(m * ldd), scales(3 * 4), amax(4);
  const unsigned stale = 0x7f7f7f7fu;  // what a previous launch could have left
  std::memcpy(amax.get(), &stale, 4);
  auto kernel = op->compile({m, n, k}, Arch::Sm90a);  // the tile the launch uses
  ASSERT_TRUE(kernel) << kernel.error().message;
  EXPECT_GT(kernel->ptx_instructions.at("wgmma"), 0);
  MatmulArgs args{.a = a.get(), .b = b.get(), .d = d.get(), .shape = {m, n, k}, .lda = lda, .ldb = ldb, .ldd = ldd};
  const float* s = static_cast<const float*>(scales.get());
  args.scale_a = s, args.scale_b = s + 1, args.scale_d = s + 2;
  args.amax = static_cast<float*>(amax.get());
  ASSERT_TRUE((*op)(nullptr, args)) << "launch failed";

  unsigned after;
  std::memcpy(&after, amax.get(), 4);
  EXPECT_EQ(after, 0u) << "amax is zeroed before the kernel reduces into it";
  auto all = launches();
  ASSERT_EQ(all.size(), 1u);
  const TfFakeLaunch& l = *all[0];
  expect_launch_invariants(l);
  // Two parameters: the wgmma kernel (the sm_90 mma.sync kernel takes one).
  ASSERT_EQ(l.param_count, 2) << "on Hopper an FP8 op runs the wgmma kernel (TfGemmParams, TfSm90Params)";
  EXPECT_EQ(l.block[0], 384u);
  // TfGemmParams: 168 fixed bytes, the empty epilogue struct padded to 176,
  // then TfFp8Params {scale_a, scale_b, scale_d, amax}.
  ASSERT_EQ(l.param_size[0], 176u + 32u);
  const void* fp8[4];
  std::memcpy(fp8, l.params + l.param_offset[0] + 176, sizeof fp8);
  EXPECT_EQ(fp8[0], s);
  EXPECT_EQ(fp8[1], s + 1);
  EXPECT_EQ(fp8[2], s + 2);
  EXPECT_EQ(fp8[3], amax.get());

  expect_tensor_maps_within_limits();
  const TfFakeTensorMapEncode* map_a = map_at(l, kMapA);
  const TfFakeTensorMapEncode* map_b = map_at(l, kMapB);
  ASSERT_NE(map_a, nullptr);
  ASSERT_NE(map_b, nullptr);
  for (const TfFakeTensorMapEncode* map : {map_a, map_b}) {
    EXPECT_EQ(map->data_type, CU_TENSOR_MAP_DATA_TYPE_UINT8);
    EXPECT_EQ(map->dims[0], static_cast<cuuint64_t>(k)) << "K innermost in bytes";
    EXPECT_EQ(map->box[0], 128u) << "one 128-byte swizzled row of K";
    EXPECT_EQ(map->swizzle, CU_TENSOR_MAP_SWIZZLE_128B);
  }
  EXPECT_EQ(map_a->dims[1], static_cast<cuuint64_t>(m));
  EXPECT_EQ(map_a->strides[0], static_cast<cuuint64_t>(lda)) << "one byte per element";
  EXPECT_EQ(map_a->box[1], static_cast<cuuint32_t>(kernel->tile.block_m));
  EXPECT_EQ(map_b->dims[1], static_cast<cuuint64_t>(n)) << "B is N x K";
  EXPECT_EQ(map_b->strides[0], static_cast<cuuint64_t>(ldb));
  EXPECT_EQ(map_b->box[1], static_cast<cuuint32_t>(kernel->tile.block_n));
}

}  // namespace
}  // namespace tilefuse::fakedriver
