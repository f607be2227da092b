// The sm_90 part of the emulator: the mbarrier phase/tx-count rules, the
// tensor map (encode checks, box read with 128-byte swizzle, element
// strides and out-of-bounds fill), wgmma from TMA-written shared memory for
// both B majors with the K-step advance, and the hazards the emulator must
// report on small hand-written warpgroup kernels (issue 14, item 2).
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include "emu_cuda.h"
#include "emulator/DeviceMemory.h"
#include "emulator/HalfFloat.h"
#include "emulator/Launch.h"
#include "emulator/Mbarrier.h"
#include "emulator/TensorMap.h"

namespace emu {
namespace {

bool any_contains(const std::vector<std::string>& list, const std::string& text) {
  for (const std::string& s : list)
    if (s.find(text) != std::string::npos) return true;
  return false;
}
std::string joined(const std::vector<std::string>& list) {
  std::string out;
  for (const std::string& s : list) out += "\n  " + s;
  return out;
}

// ---- mbarrier -------------------------------------------------------------------

TEST(Mbarrier, PhaseCompletesWhenArrivalsAndTxCountReachZero) {
  Mbarriers bars;
  bool completed = false;
  ASSERT_EQ(bars.init(64, 2), "");
  EXPECT_TRUE(bars.phase_done(64, 1));   // a fresh barrier: "phase of parity 1" counts as completed
  EXPECT_FALSE(bars.phase_done(64, 0));
  ASSERT_EQ(bars.arrive(64, completed), "");
  EXPECT_FALSE(completed);
  ASSERT_EQ(bars.expect_tx(64, 100), "");
  ASSERT_EQ(bars.arrive(64, completed), "");
  EXPECT_FALSE(completed) << "all arrivals but 100 bytes outstanding";
  ASSERT_EQ(bars.complete_tx(64, 60, completed, false), "");
  EXPECT_FALSE(completed);
  ASSERT_EQ(bars.complete_tx(64, 40, completed, false), "");
  EXPECT_TRUE(completed);
  EXPECT_TRUE(bars.phase_done(64, 0));
  EXPECT_FALSE(bars.phase_done(64, 1));
  EXPECT_EQ(bars.find(64)->pending, 2u);
  EXPECT_EQ(bars.find(64)->tx, 0);
}

TEST(Mbarrier, BytesMayLandBeforeTheyAreExpected) {
  Mbarriers bars;
  bool completed = false;
  ASSERT_EQ(bars.init(0, 1), "");
  ASSERT_EQ(bars.complete_tx(0, 256, completed, false), "");  // tx-count -256: allowed
  EXPECT_FALSE(completed);
  ASSERT_EQ(bars.expect_tx(0, 256), "");
  ASSERT_EQ(bars.arrive(0, completed), "");
  EXPECT_TRUE(completed);
}

TEST(Mbarrier, ReportsMisuse) {
  Mbarriers bars;
  bool completed = false;
  EXPECT_NE(bars.arrive(8, completed), "");              // never initialised
  EXPECT_NE(bars.init(4, 1), "");                        // misaligned
  ASSERT_EQ(bars.init(8, 1), "");
  EXPECT_NE(bars.complete_tx(8, 16, completed, true), "");  // no fence.mbarrier_init
  ASSERT_EQ(bars.init(16, 1), "");
  ASSERT_EQ(bars.expect_tx(16, 32), "");
  ASSERT_EQ(bars.arrive(16, completed), "");
  EXPECT_NE(bars.arrive(16, completed), "") << "a second arrival of a count-1 barrier waiting for bytes";
  EXPECT_NE(bars.unbalanced_at_exit([](unsigned) { return std::string("b"); }), "");
}

// ---- tensor map ---------------------------------------------------------------------

TEST(TensorMap, EncodeChecksTheDriverRules) {
  alignas(16) static std::uint16_t data[64 * 64];
  CUtensorMap map;
  const cuuint64_t dims[2] = {64, 64};
  const cuuint32_t box[2] = {64, 64}, unit[2] = {1, 1};
  const cuuint64_t bad_stride[1] = {120};
  EXPECT_EQ(fake_encode_tiled(&map, CU_TENSOR_MAP_DATA_TYPE_BFLOAT16, 2, data, dims, bad_stride, box, unit,
                              CU_TENSOR_MAP_INTERLEAVE_NONE, CU_TENSOR_MAP_SWIZZLE_128B,
                              CU_TENSOR_MAP_L2_PROMOTION_NONE, CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE),
            CUDA_ERROR_INVALID_VALUE);
  EXPECT_NE(last_encode_error().find("globalStrides[0]"), std::string::npos);
  const cuuint64_t stride[1] = {128};
  const cuuint32_t wide_box[2] = {128, 8};  // 256 bytes inner: more than the 128-byte swizzle span
  EXPECT_EQ(fake_encode_tiled(&map, CU_TENSOR_MAP_DATA_TYPE_BFLOAT16, 2, data, dims, stride, wide_box, unit,
                              CU_TENSOR_MAP_INTERLEAVE_NONE, CU_TENSOR_MAP_SWIZZLE_128B,
                              CU_TENSOR_MAP_L2_PROMOTION_NONE, CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE),
            CUDA_ERROR_INVALID_VALUE);
  ASSERT_EQ(fake_encode_tiled(&map, CU_TENSOR_MAP_DATA_TYPE_BFLOAT16, 2, data, dims, stride, box, unit,
                              CU_TENSOR_MAP_INTERLEAVE_NONE, CU_TENSOR_MAP_SWIZZLE_128B,
                              CU_TENSOR_MAP_L2_PROMOTION_NONE, CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE),
            CUDA_SUCCESS);
  TensorMapArguments decoded;
  ASSERT_TRUE(decode_tensor_map(&map, decoded));
  EXPECT_EQ(decoded.rank, 2u);
  EXPECT_EQ(decoded.strides[0], 128u);
  EXPECT_EQ(decoded.box_bytes(), 64u * 64 * 2);
}

bool always_readable(const void*, std::size_t) { return true; }

TEST(TensorMap, BoxIsSwizzledIn1024ByteAtomsAndZeroFilledOutOfBounds) {
  // A 10-row x 64-column tensor of element indices; a 16-row box from row 0:
  // rows 10..15 lie outside and read zero.
  alignas(16) static std::uint16_t data[10 * 64];
  for (int i = 0; i < 10 * 64; ++i) data[i] = static_cast<std::uint16_t>(i + 1);
  TensorMapArguments map;
  map.rank = 2;
  map.address = data;
  map.dims = {64, 10, 1, 1, 1};
  map.strides = {128, 0, 0, 0};
  map.box = {64, 16, 1, 1, 1};
  map.swizzle = CU_TENSOR_MAP_SWIZZLE_128B;
  const int coords[5] = {0, 0, 0, 0, 0};
  const TensorBox box = read_tensor_box(map, 2048, coords, &always_readable);
  ASSERT_EQ(box.problem, "");
  EXPECT_EQ(box.bytes, 16u * 128);
  std::vector<std::uint16_t> shared(4096 / 2, 0xffff);
  for (std::size_t c = 0; c < box.chunks.size(); ++c) std::memcpy(&shared[box.chunk_offsets[c] / 2], box.chunks[c].data(), 16);
  for (int row = 0; row < 16; ++row)
    for (int col = 0; col < 64; ++col) {
      const unsigned logical = 2048 + row * 128 + col * 2;
      const unsigned chunk = (col / 8) ^ (row % 8);  // the 128B pattern: 16-byte chunk XOR row within 8
      const unsigned physical = 2048 + row * 128 + chunk * 16 + (col % 8) * 2;
      EXPECT_EQ(swizzle_address(logical, CU_TENSOR_MAP_SWIZZLE_128B), physical);
      const std::uint16_t want = row < 10 ? static_cast<std::uint16_t>(row * 64 + col + 1) : 0;
      ASSERT_EQ(shared[physical / 2], want) << "row " << row << " col " << col;
    }
  // NaN fill instead of zeros, and element strides (every 2nd row).
  map.oob = CU_TENSOR_MAP_FLOAT_OOB_FILL_NAN_REQUEST_ZERO_FMA;
  map.element_strides = {1, 2, 1, 1, 1};
  const int from_row_4[5] = {0, 4, 0, 0, 0};
  const TensorBox strided = read_tensor_box(map, 0, from_row_4, &always_readable);
  EXPECT_EQ(strided.bytes, 8u * 128);  // ceil(16 / 2) rows: rows 4, 6, 8, then 10.. outside
  std::uint16_t first_of_row_1, first_of_row_3;
  // chunks[] are in box order (8 chunks per 128-byte box row); their offsets are swizzled.
  std::memcpy(&first_of_row_1, strided.chunks[8].data(), 2);   // box row 1 = tensor row 6
  std::memcpy(&first_of_row_3, strided.chunks[24].data(), 2);  // box row 3 = tensor row 10: outside
  EXPECT_EQ(first_of_row_1, 6 * 64 + 1);
  EXPECT_TRUE(std::isnan(bf16_to_float(first_of_row_3)));
}

// ---- warpgroup kernels -------------------------------------------------------------

/// Descriptor bits as templates/tilefuse/ptx_sm90.cuh builds them (128B swizzle).
std::uint64_t descriptor(unsigned address, unsigned leading, unsigned stride) {
  return ((address & 0x3FFFF) >> 4) | (static_cast<std::uint64_t>((leading & 0x3FFFF) >> 4) << 16) |
         (static_cast<std::uint64_t>((stride & 0x3FFFF) >> 4) << 32) | (1ull << 62);
}

CUtensorMap encode_2d(const void* data, cuuint64_t inner, cuuint64_t outer, cuuint64_t row_bytes, cuuint32_t box_inner,
                      cuuint32_t box_outer) {
  CUtensorMap map;
  const cuuint64_t dims[2] = {inner, outer}, strides[1] = {row_bytes};
  const cuuint32_t box[2] = {box_inner, box_outer}, unit[2] = {1, 1};
  EXPECT_EQ(fake_encode_tiled(&map, CU_TENSOR_MAP_DATA_TYPE_BFLOAT16, 2, const_cast<void*>(data), dims, strides, box,
                              unit, CU_TENSOR_MAP_INTERLEAVE_NONE, CU_TENSOR_MAP_SWIZZLE_128B,
                              CU_TENSOR_MAP_L2_PROMOTION_NONE, CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE),
            CUDA_SUCCESS)
      << last_encode_error();
  return map;
}

/// One warpgroup (or more) with 32 KiB of 1024-aligned shared memory.
struct Warpgroups {
  alignas(1024) std::uint8_t shared[32768 + 1024];
  std::vector<std::string> run(const std::function<void()>& body, CpAsyncLanding landing = CpAsyncLanding::AtWait,
                               unsigned threads = 128, std::function<std::string(unsigned)> names = {}) {
    LaunchConfig config;
    config.threads_per_block = threads;
    config.shared = shared;
    config.shared_bytes = 32768;
    config.shared_capacity = sizeof shared;
    config.landing = landing;
    config.seed = 3;
    config.name_shared = std::move(names);
    return launch(config, body);
  }
};

constexpr unsigned kA = 0, kB = 8192, kBar = 8192 + 16384;
constexpr int kM = 64, kK = 64;

/// 64 x 64 A (row-major) times B (64 x N) through TMA + 4 wgmma k16 steps.
struct ProductKernel {
  int n = 64;
  bool b_mn_major = false;
  std::unique_ptr<GuardedBuffer> a_buffer, b_buffer;
  std::vector<double> a, b;  // a[m * K + k], b[k * n + j]
  std::vector<float> result; // [m * n + j]
  CUtensorMap map_a{}, map_b{};

  ProductKernel(int n_, bool mn_major) : n(n_), b_mn_major(mn_major) {
    a_buffer = std::make_unique<GuardedBuffer>(kM * kK * 2);
    b_buffer = std::make_unique<GuardedBuffer>(kK * n * 2);
    auto* ga = static_cast<std::uint16_t*>(a_buffer->data());
    auto* gb = static_cast<std::uint16_t*>(b_buffer->data());
    a.resize(kM * kK);
    b.resize(kK * n);
    for (int i = 0; i < kM; ++i)
      for (int k = 0; k < kK; ++k) a[i * kK + k] = bf16_to_float(ga[i * kK + k] = float_to_bf16(0.125f * ((i * 7 + k * 3) % 13 - 6)));
    for (int k = 0; k < kK; ++k)
      for (int j = 0; j < n; ++j) {
        const std::uint16_t bits = float_to_bf16(0.25f * ((k * 5 + j * 11) % 9 - 4));
        b[k * n + j] = bf16_to_float(bits);
        if (b_mn_major) gb[k * n + j] = bits;  // K x N, N contiguous
        else gb[j * kK + k] = bits;            // N x K, K contiguous
      }
    map_a = encode_2d(ga, kK, kM, kK * 2, 64, 64);
    map_b = b_mn_major ? encode_2d(gb, n, kK, n * 2, 64, 64) : encode_2d(gb, kK, n, kK * 2, 64, n);
    result.assign(kM * n, NAN);
  }
  unsigned b_bytes() const { return kK * n * 2; }

  void load(unsigned bytes_to_expect) {
    mbarrier_arrive_expect_tx(kBar, bytes_to_expect);
    const int origin[5] = {0, 0, 0, 0, 0};
    tma_load(2, kA, &map_a, kBar, origin);
    if (b_mn_major) {
      for (int j = 0; j < n / 64; ++j) {
        const int at[5] = {64 * j, 0, 0, 0, 0};
        tma_load(2, kB + j * 64 * 128, &map_b, kBar, at);
      }
    } else {
      tma_load(2, kB, &map_b, kBar, origin);
    }
  }
  void multiply(float* acc, int k_steps = 4, unsigned k_step_bytes = 32) {
    wgmma_fence();
    for (int ks = 0; ks < k_steps; ++ks) {
      const std::uint64_t da = descriptor(kA + ks * k_step_bytes, 16, 1024);
      const std::uint64_t db = b_mn_major ? descriptor(kB + ks * 16 * 128, 64 * 128, 1024)
                                          : descriptor(kB + ks * k_step_bytes, 16, 1024);
      wgmma_m64k16(acc, n, da, db, true, b_mn_major);
    }
    wgmma_commit();
  }
  void store(const float* acc) {
    const int t = static_cast<int>(threadIdx.x) % 128, warp = t / 32, g = (t % 32) / 4, q = t % 4;
    for (int j = 0; j < n / 8; ++j)
      for (int e = 0; e < 4; ++e)
        result[(16 * warp + g + (e >= 2 ? 8 : 0)) * n + 8 * j + 2 * q + e % 2] = acc[4 * j + e];
  }
  /// The whole correct kernel.
  std::function<void()> body() {
    return [this] {
      if (threadIdx.x == 0) {
        mbarrier_init(kBar, 1);
        fence_mbarrier_init();
      }
      __syncthreads();
      if (threadIdx.x == 0) load(kM * kK * 2 + b_bytes());
      mbarrier_wait(kBar, 0);
      std::vector<float> acc(n / 2, 0.0f);
      multiply(acc.data());
      wgmma_wait(0);
      store(acc.data());
    };
  }
  double max_error() const {
    double worst = 0;
    for (int i = 0; i < kM; ++i)
      for (int j = 0; j < n; ++j) {
        double want = 0;
        for (int k = 0; k < kK; ++k) want += a[i * kK + k] * b[k * n + j];
        worst = std::max(worst, std::fabs(result[i * n + j] - want));
      }
    return worst;
  }
};

TEST(Wgmma, KMajorAndMnMajorBComputeTheProductThroughTheSwizzle) {
  for (bool mn_major : {false, true})
    for (CpAsyncLanding landing : {CpAsyncLanding::AtWait, CpAsyncLanding::AtIssue}) {
      ProductKernel kernel(128, mn_major);
      Warpgroups block;
      const auto violations = block.run(kernel.body(), landing);
      EXPECT_TRUE(violations.empty()) << joined(violations);
      EXPECT_LT(kernel.max_error(), 1e-4) << (mn_major ? "MN-major" : "K-major") << " B";
    }
}

TEST(Wgmma, KStepOf64BytesReadsTheWrongColumns) {
  ProductKernel kernel(64, false);
  Warpgroups block;
  const auto violations = block.run([&] {
    if (threadIdx.x == 0) {
      mbarrier_init(kBar, 1);
      fence_mbarrier_init();
    }
    __syncthreads();
    if (threadIdx.x == 0) kernel.load(kM * kK * 2 + kernel.b_bytes());
    mbarrier_wait(kBar, 0);
    std::vector<float> acc(32, 0.0f);
    kernel.multiply(acc.data(), 2, 64);  // 2 steps of 64 bytes: K 0..15 and 32..47 only
    wgmma_wait(0);
    kernel.store(acc.data());
  });
  EXPECT_TRUE(violations.empty()) << joined(violations);
  EXPECT_GT(kernel.max_error(), 0.1);
}

TEST(Sm90Hazards, WgmmaBeforeTheFullBarrierCompletedIsReported) {
  ProductKernel kernel(64, false);
  Warpgroups block;
  const auto violations = block.run([&] {
    if (threadIdx.x == 0) {
      mbarrier_init(kBar, 1);
      fence_mbarrier_init();
    }
    __syncthreads();
    if (threadIdx.x == 0) kernel.load(kM * kK * 2 + kernel.b_bytes());
    std::vector<float> acc(32, 0.0f);
    kernel.multiply(acc.data());  // no mbarrier_wait
    wgmma_wait(0);
    mbarrier_wait(kBar, 0);
  });
  EXPECT_TRUE(any_contains(violations, "wgmma reads shared offset")) << joined(violations);
}

TEST(Sm90Hazards, TmaOverwritingAStageAWgmmaInFlightReadsIsReported) {
  ProductKernel kernel(64, false);
  Warpgroups block;
  const auto violations = block.run([&] {
    if (threadIdx.x == 0) {
      mbarrier_init(kBar, 1);
      fence_mbarrier_init();
    }
    __syncthreads();
    if (threadIdx.x == 0) kernel.load(kM * kK * 2 + kernel.b_bytes());
    mbarrier_wait(kBar, 0);
    std::vector<float> acc(32, 0.0f);
    kernel.multiply(acc.data());
    if (threadIdx.x == 0) kernel.load(kM * kK * 2 + kernel.b_bytes());  // refill before wgmma.wait_group
    wgmma_wait(0);
    mbarrier_wait(kBar, 1);
  });
  EXPECT_TRUE(any_contains(violations, "a wgmma in flight still reads")) << joined(violations);
}

TEST(Sm90Hazards, GenericWriteReadByWgmmaNeedsFenceProxyAsync) {
  for (bool fenced : {false, true}) {
    Warpgroups block;
    std::vector<std::uint8_t> zeros(32);
    const auto violations = block.run([&] {
      // Each thread writes its part of A (64 x 128 bytes) and B (64 x 128 bytes) with st.shared.
      for (unsigned at = threadIdx.x * 8; at < 16384; at += 128 * 8) st_shared_f32x2(at, 0.0f, 0.0f);
      if (fenced) fence_proxy_async();
      __syncthreads();
      std::vector<float> acc(32, 0.0f);
      wgmma_fence();
      wgmma_m64k16(acc.data(), 64, descriptor(kA, 16, 1024), descriptor(kB, 16, 1024), true, false);
      wgmma_commit();
      wgmma_wait(0);
    });
    EXPECT_EQ(any_contains(violations, "without fence.proxy.async"), !fenced) << joined(violations);
  }
}

TEST(Sm90Hazards, UnbalancedTransactionCountDeadlocksWithEachWaiterDescribed) {
  ProductKernel kernel(64, false);
  Warpgroups block;
  auto names = [](unsigned offset) { return offset == kBar ? std::string("full[0] (stage 0)") : std::string(); };
  const auto violations = block.run(
      [&] {
        if (threadIdx.x == 0) {
          mbarrier_init(kBar, 1);
          fence_mbarrier_init();
        }
        __syncthreads();
        if (threadIdx.x == 0) kernel.load(kM * kK * 2 + kernel.b_bytes() + 8192);  // one box too many
        mbarrier_wait(kBar, 0);
      },
      CpAsyncLanding::AtWait, 128, names);
  EXPECT_TRUE(any_contains(violations, "deadlock")) << joined(violations);
  EXPECT_TRUE(any_contains(violations, "threads 0-127 wait for parity 0 of mbarrier full[0] (stage 0)"))
      << joined(violations);
  EXPECT_TRUE(any_contains(violations, "tx-count 8192")) << joined(violations);
}

TEST(Sm90Hazards, TransactionCountLeftOverAtExitIsReported) {
  ProductKernel kernel(64, false);
  Warpgroups block;
  const auto violations = block.run([&] {
    if (threadIdx.x == 0) {
      mbarrier_init(kBar, 1);
      fence_mbarrier_init();
    }
    __syncthreads();
    if (threadIdx.x == 0) kernel.load(kM * kK * 2);  // B's box not announced: the phase completes early
    mbarrier_wait(kBar, 0);
  });
  EXPECT_TRUE(any_contains(violations, "never balanced")) << joined(violations);
}

TEST(Sm90Hazards, SetmaxnregLegality) {
  Warpgroups block;
  auto violations = block.run(
      [] {
        if (threadIdx.x < 128) setmaxnreg(40, false);
        else setmaxnreg(232, true);
      },
      CpAsyncLanding::AtWait, 384);
  EXPECT_TRUE(violations.empty()) << joined(violations);
  // An inc waits for the registers a dec frees; 128 x 40 + 256 x 240 > 65536 never fit.
  violations = block.run(
      [] {
        if (threadIdx.x < 128) setmaxnreg(40, false);
        else setmaxnreg(240, true);
      },
      CpAsyncLanding::AtWait, 384);
  EXPECT_TRUE(any_contains(violations, "deadlock")) << joined(violations);
  EXPECT_TRUE(any_contains(violations, "waits in setmaxnreg.inc")) << joined(violations);
  violations = block.run([] { setmaxnreg(200, false); }, CpAsyncLanding::AtWait, 384);  // dec above 168
  EXPECT_TRUE(any_contains(violations, "dec must not raise")) << joined(violations);
}

}  // namespace
}  // namespace emu
