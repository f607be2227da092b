// TargetInfo: the per-architecture facts the pipeline's tile selection and
// the autotuner read (shared-memory budgets, tile space, default tiles).
#include <gtest/gtest.h>

#include <algorithm>
#include <array>

#include "compiler/Target/TargetInfo.h"
#include "compiler/Target/TilePruning.h"

namespace tilefuse::compiler {
namespace {

constexpr std::array<Arch, 5> kArchs = {Arch::Sm80, Arch::Sm86, Arch::Sm89, Arch::Sm90, Arch::Sm90a};

long long shared_bytes(const TileConfig& t) {
  return static_cast<long long>(t.block_m + t.block_n) * t.block_k * 2 * t.stages;
}

bool contains(const std::vector<TileConfig>& space, const TileConfig& t) {
  return std::find(space.begin(), space.end(), t) != space.end();
}

TEST(TargetInfoTest, ArchitectureFacts) {
  EXPECT_EQ(make_target(Arch::Sm80)->max_shared_memory_per_block(), 163 * 1024);
  EXPECT_EQ(make_target(Arch::Sm86)->max_shared_memory_per_block(), 99 * 1024);
  EXPECT_EQ(make_target(Arch::Sm89)->max_shared_memory_per_block(), 99 * 1024);
  EXPECT_EQ(make_target(Arch::Sm90a)->max_shared_memory_per_block(), 227 * 1024);
  // Hopper's mma.sync target: sm_80's template and rules, Hopper's shared memory.
  EXPECT_EQ(make_target(Arch::Sm90)->max_shared_memory_per_block(), 227 * 1024);
  EXPECT_EQ(make_target(Arch::Sm90)->mainloop(), Mainloop::MmaSyncMultistage);
  EXPECT_EQ(make_target(Arch::Sm90)->default_tile(4096, 4096, 4096),
            make_target(Arch::Sm80)->default_tile(4096, 4096, 4096));
  EXPECT_EQ(make_target(Arch::Sm90)->shared_memory_per_sm(), 228 * 1024);
  EXPECT_EQ(make_target(Arch::Sm86)->shared_memory_per_sm(), 100 * 1024);
  EXPECT_EQ(make_target(Arch::Sm89)->max_threads_per_sm(), 1536);
  for (Arch arch : kArchs) {
    auto target = make_target(arch);
    EXPECT_EQ(target->arch(), arch);
    EXPECT_EQ(target->nvrtc_arch(), to_string(arch));
    EXPECT_EQ(target->accumulator_vector_width(), 4);
    EXPECT_EQ(target->max_registers_per_thread(), 255);
  }
}

TEST(TargetInfoTest, TileSpaceRespectsTheRules) {
  for (Arch arch : kArchs) {
    SCOPED_TRACE(to_string(arch));
    auto target = make_target(arch);
    auto space = target->tile_space();
    ASSERT_FALSE(space.empty());
    const bool wgmma = target->mainloop() == Mainloop::WgmmaWarpSpecialized;
    for (const TileConfig& t : space) {
      SCOPED_TRACE(to_string(t));
      EXPECT_TRUE(t.block_m == 64 || t.block_m == 128 || t.block_m == 256);
      EXPECT_TRUE(t.block_n == 64 || t.block_n == 128 || t.block_n == 256);
      EXPECT_TRUE(t.block_k == 32 || t.block_k == 64);
      if (wgmma) {
        // warp_m x warp_n is a consumer warpgroup's tile: one (ping-pong) or
        // two (cooperative) per block, at most 128 accumulators per thread.
        EXPECT_FALSE(tile_shape_rejection(target->mainloop(), t));
        EXPECT_TRUE(t.warps() == 1 || t.warps() == 2);
        EXPECT_LE(tile_accumulators_per_thread(target->mainloop(), t, false), kMaxAccumulatorsPerThread);
        EXPECT_LE(tile_shared_bytes(target->mainloop(), t, false), target->max_shared_memory_per_block());
        EXPECT_EQ(t.vector_width, target->accumulator_vector_width());
        continue;
      }
      EXPECT_TRUE(t.warps() == 4 || t.warps() == 8);
      EXPECT_EQ(t.block_m % t.warp_m, 0);
      EXPECT_EQ(t.block_n % t.warp_n, 0);
      EXPECT_GE(t.stages, 2);
      EXPECT_LE(t.stages, 5);
      EXPECT_LE(shared_bytes(t), target->max_shared_memory_per_block());
      EXPECT_EQ(t.vector_width, target->accumulator_vector_width());
    }
    // No duplicates.
    for (size_t i = 0; i < space.size(); ++i)
      for (size_t j = i + 1; j < space.size(); ++j) EXPECT_FALSE(space[i] == space[j]);
  }
}

TEST(TargetInfoTest, SharedMemoryPrunesTheSpace) {
  // 256x256x64 with 5 stages needs 320 KiB: nowhere. With 2 stages, 128 KiB:
  // only sm_80 and sm_90a.
  TileConfig big{256, 128, 64, 64, 64, 4, 4, 8};  // 192 KiB
  EXPECT_FALSE(contains(make_target(Arch::Sm80)->tile_space(), big));
  // (256x128x64 with 2 stages also needs 96 KiB for the mainloop, but its 8
  // warps stage 144 KiB of accumulators in the epilogue: not on sm_86.)
  TileConfig medium{128, 128, 64, 64, 64, 3, 4, 8};  // 96 KiB
  EXPECT_TRUE(contains(make_target(Arch::Sm80)->tile_space(), medium));
  EXPECT_TRUE(contains(make_target(Arch::Sm86)->tile_space(), medium));
  TileConfig ampere_only{256, 128, 64, 64, 64, 3, 4, 8};  // 144 KiB
  EXPECT_TRUE(contains(make_target(Arch::Sm80)->tile_space(), ampere_only));
  EXPECT_FALSE(contains(make_target(Arch::Sm86)->tile_space(), ampere_only));

  // A smaller budget gives a subset of the larger one's space (same mainloop).
  auto sm80 = make_target(Arch::Sm80)->tile_space();
  auto sm86 = make_target(Arch::Sm86)->tile_space();
  EXPECT_LT(sm86.size(), sm80.size());
  for (const TileConfig& t : sm86) EXPECT_TRUE(contains(sm80, t)) << to_string(t);

  // sm_90a (wgmma mainloop): a cooperative 256x128 block fits with 3 stages
  // (1 + 144 + 36 KiB + barriers) but not with 5 (241 KiB of ring alone).
  auto sm90 = make_target(Arch::Sm90a)->tile_space();
  EXPECT_TRUE(contains(sm90, TileConfig{256, 128, 64, 128, 128, 3, 4, 8}));
  EXPECT_FALSE(contains(sm90, TileConfig{256, 128, 64, 128, 128, 5, 4, 8}));
  EXPECT_EQ(tile_shared_bytes(Mainloop::WgmmaWarpSpecialized, TileConfig{256, 128, 64, 128, 128, 3, 4, 8}, false),
            1024 + 3 * (256 + 128) * 64 * 2 + 8 * 16 * 72 * 4 + 3 * 16 + 16);
}

TEST(TargetInfoTest, DefaultTilesAreInTheSpaceAndFitTheShape) {
  const std::array<std::array<long long, 3>, 8> shapes = {{{0, 0, 0},
                                                           {16, 14336, 4096},
                                                           {128, 11008, 4096},
                                                           {4096, 4096, 4096},
                                                           {16384, 28672, 8192},
                                                           {4096, 64, 4096},
                                                           {32, 32, 32},
                                                           {1024, 4096, 14336}}};
  for (Arch arch : kArchs) {
    auto target = make_target(arch);
    auto space = target->tile_space();
    for (const auto& [m, n, k] : shapes) {
      TileConfig t = target->default_tile(m, n, k);
      SCOPED_TRACE(std::string(to_string(arch)) + " " + to_string(t));
      EXPECT_TRUE(contains(space, t));
      // sm_90a's default is ping-pong: one consumer warpgroup tile per block.
      EXPECT_EQ(t.warps(), target->mainloop() == Mainloop::WgmmaWarpSpecialized ? 1 : 4);
      EXPECT_EQ(t.block_m, m > 0 && m <= 64 ? 64 : 128);
      EXPECT_EQ(t.block_n, n > 0 && n <= 64 ? 64 : 128);
    }
  }
  EXPECT_EQ(make_target(Arch::Sm80)->default_tile(0, 0, 0), (TileConfig{128, 128, 32, 64, 64, 3, 4, 8}));
  EXPECT_EQ(make_target(Arch::Sm90a)->default_tile(0, 0, 0), (TileConfig{128, 128, 64, 128, 128, 4, 4, 8}));
}

}  // namespace
}  // namespace tilefuse::compiler

namespace tilefuse::compiler {
namespace {

// Issue 13: the plain sm_90 target is a name like the others.
TEST(TargetInfoTest, EveryArchitectureNameRoundTrips) {
  EXPECT_STREQ(to_string(Arch::Sm90), "sm_90");
  for (Arch arch : kAllArchs) {
    auto parsed = parse_arch(to_string(arch));
    ASSERT_TRUE(parsed) << to_string(arch);
    EXPECT_EQ(*parsed, arch);
  }
  auto bad = parse_arch("sm_91");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("sm_90 or sm_90a"), std::string::npos) << bad.error().message;
}

}  // namespace
}  // namespace tilefuse::compiler
