// The emulator itself: fp16/bf16 conversions, ldmatrix + mma composing to a
// matrix product (both B layouts), and the hazards it must report on small
// hand-written kernels (missing wait, missing barrier, out-of-bounds source,
// divergent warp, deadlock).
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include "emu_cuda.h"
#include "emulator/DeviceMemory.h"
#include "emulator/HalfFloat.h"
#include "emulator/Launch.h"

namespace emu {
namespace {

TEST(HalfFloat, RoundsToNearestEvenAndKeepsNaN) {
  EXPECT_EQ(float_to_bf16(1.0f), 0x3f80);
  EXPECT_EQ(float_to_bf16(1.0f + 1.0f / 256), 0x3f80);       // tie → even (down)
  EXPECT_EQ(float_to_bf16(1.0f + 3.0f / 256), 0x3f82);       // tie → even (up)
  EXPECT_EQ(float_to_bf16(1.0f + 1.5f / 256), 0x3f81);       // above the tie
  EXPECT_EQ(float_to_bf16(-INFINITY), 0xff80);
  EXPECT_TRUE(std::isnan(bf16_to_float(float_to_bf16(std::bit_cast<float>(0x7f800001u)))));
  EXPECT_EQ(float_to_f16(1.0f + 1.0f / 2048), 0x3c00);       // tie → even
  EXPECT_EQ(float_to_f16(65520.0f), 0x7c00);                 // rounds to inf
  EXPECT_TRUE(std::isnan(f16_to_float(float_to_f16(NAN))));
  EXPECT_EQ(f16_to_float(0x0001), std::ldexp(1.0f, -24));    // subnormal, exact
}

/// A kernel with one warp and 1 KiB of shared memory.
struct OneWarp {
  alignas(128) std::uint8_t shared[1024 + 256];
  std::vector<std::string> run(const std::function<void()>& body, CpAsyncLanding landing = CpAsyncLanding::AtWait) {
    LaunchConfig config;
    config.threads_per_block = 32;
    config.shared = shared;
    config.shared_bytes = 1024;
    config.shared_capacity = sizeof shared;
    config.landing = landing;
    return launch(config, body);
  }
};

// 16x16 A (row-major), B as 8x16 (N x K) and as 16x8 (K x N): both must give A·B.
TEST(WarpInstructions, LdmatrixAndMmaComputeTheProduct) {
  GuardedBuffer global(1024);
  auto* g = static_cast<std::uint16_t*>(global.data());
  double a[16][16], b[16][8];
  for (int i = 0; i < 16; ++i)
    for (int k = 0; k < 16; ++k) a[i][k] = bf16_to_float(g[i * 16 + k] = float_to_bf16(0.25f * ((i * 7 + k * 3) % 11 - 5)));
  for (int k = 0; k < 16; ++k)
    for (int n = 0; n < 8; ++n) {
      b[k][n] = bf16_to_float(float_to_bf16(0.5f * ((k * 5 + n * 13) % 9 - 4)));
      g[256 + n * 16 + k] = float_to_bf16(static_cast<float>(b[k][n]));  // N x K at element 256
      g[384 + k * 8 + n] = float_to_bf16(static_cast<float>(b[k][n]));   // K x N at element 384
    }
  for (bool transposed_b : {false, true}) {
    float result[16][8] = {};
    OneWarp warp;
    auto violations = warp.run([&] {
      const unsigned lane = threadIdx.x;
      const unsigned base = shared_address(warp.shared);
      for (unsigned chunk = lane; chunk < 64; chunk += 32) cp_async_16(base + chunk * 16, g + chunk * 8, 16);
      cp_async_commit();
      cp_async_wait(0);
      __syncthreads();
      unsigned ra[4], rb[4];
      ldmatrix_x4(ra, base + (lane % 16) * 32 + (lane / 16) * 16, false);
      if (transposed_b)
        ldmatrix_x4(rb, base + 768 + (8 * ((lane / 8) % 2) + lane % 8) * 16, true);
      else
        ldmatrix_x4(rb, base + 512 + (lane % 8) * 32 + ((lane / 8) % 2) * 16, false);
      float d[4] = {};
      const unsigned bfrag[2] = {rb[0], rb[1]};
      mma_m16n8k16(d, ra, bfrag, true);
      const unsigned row = lane / 4, col = 2 * (lane % 4);
      result[row][col] = d[0], result[row][col + 1] = d[1];
      result[row + 8][col] = d[2], result[row + 8][col + 1] = d[3];
    });
    EXPECT_TRUE(violations.empty()) << violations.front();
    for (int i = 0; i < 16; ++i)
      for (int n = 0; n < 8; ++n) {
        double want = 0.0;
        for (int k = 0; k < 16; ++k) want += a[i][k] * b[k][n];
        EXPECT_EQ(result[i][n], static_cast<float>(want)) << "transposed_b=" << transposed_b << " at " << i << "," << n;
      }
  }
}

bool mentions(const std::vector<std::string>& violations, const char* text) {
  for (const auto& v : violations)
    if (v.find(text) != std::string::npos) return true;
  return false;
}

/// Copies 512 bytes to shared memory, then reads them with ldmatrix.
std::vector<std::string> copy_then_read(bool wait, bool barrier, const void* source) {
  OneWarp warp;
  return warp.run([&] {
    const unsigned lane = threadIdx.x, base = shared_address(warp.shared);
    cp_async_16(base + lane * 16, static_cast<const std::uint8_t*>(source) + lane * 16, 16);
    cp_async_commit();
    if (wait) cp_async_wait(0);
    if (barrier) __syncthreads();
    unsigned r[4];
    ldmatrix_x4(r, base + lane * 16, false);
  });
}

TEST(Hazards, ReportsMissingWaitAndMissingBarrier) {
  GuardedBuffer global(512);
  EXPECT_TRUE(copy_then_read(true, true, global.data()).empty());
  EXPECT_TRUE(mentions(copy_then_read(false, true, global.data()), "in flight"));
  EXPECT_TRUE(mentions(copy_then_read(true, false, global.data()), "no __syncthreads since"));
}

TEST(Hazards, ReportsOutOfBoundsSourceAndUnwrittenShared) {
  GuardedBuffer global(256);  // half of what copy_then_read reads
  EXPECT_TRUE(mentions(copy_then_read(true, true, global.data()), "outside every buffer"));
  OneWarp warp;
  auto violations = warp.run([&] {
    unsigned r[4];
    ldmatrix_x4(r, shared_address(warp.shared) + threadIdx.x * 16, false);
  });
  EXPECT_TRUE(mentions(violations, "no cp.async wrote"));
}

TEST(Hazards, ReportsOverwriteOfAStageAnotherWarpReads) {
  GuardedBuffer global(512);
  alignas(128) std::uint8_t shared[1024 + 256];
  LaunchConfig config;
  config.threads_per_block = 64;
  config.shared = shared;
  config.shared_bytes = 1024;
  config.shared_capacity = sizeof shared;
  auto violations = launch(config, [&] {
    const unsigned t = threadIdx.x, base = shared_address(shared);
    if (t < 32) cp_async_16(base + t * 16, static_cast<const std::uint8_t*>(global.data()) + t * 16, 16);
    cp_async_commit();
    cp_async_wait(0);
    __syncthreads();
    unsigned r[4];
    if (t < 32) ldmatrix_x4(r, base + t * 16, false);                 // warp 0 reads the stage...
    else cp_async_16(base + (t - 32) * 16, global.data(), 16);         // ...warp 1 refills it, no barrier
    cp_async_commit();
    cp_async_wait(0);
  });
  // Whichever order the scheduler picked, the unsynchronized pair is a race:
  // the refill came after the read (write-after-read) or before it (in flight,
  // or completed with no barrier before the read).
  EXPECT_TRUE(mentions(violations, "write-after-read") || mentions(violations, "in flight") ||
              mentions(violations, "no __syncthreads since"))
      << violations.size();
}

TEST(Hazards, ReportsDivergenceDeadlockAndUnwaitedCopies) {
  GuardedBuffer global(512);
  OneWarp warp;
  auto divergent = warp.run([&] {
    unsigned r[4] = {};
    const unsigned b[2] = {};
    float d[4] = {};
    if (threadIdx.x < 16) mma_m16n8k16(d, r, b, true);
    else __syncwarp();
  });
  EXPECT_TRUE(mentions(divergent, "divergent warp"));
  auto deadlock = warp.run([&] {
    if (threadIdx.x != 3) __syncwarp();
  });
  EXPECT_TRUE(mentions(deadlock, "deadlock"));
  auto unwaited = warp.run([&] {
    cp_async_16(shared_address(warp.shared) + threadIdx.x * 16, global.data(), 16);
    cp_async_commit();
  });
  EXPECT_TRUE(mentions(unwaited, "never waited for"));
}

}  // namespace
}  // namespace emu
