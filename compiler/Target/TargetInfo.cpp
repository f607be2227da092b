// The GPU targets tilefuse generates code for. Every architecture difference
// (shared-memory budget, default tiling) is a member of one of these classes;
// callers only see the TargetInfo interface.
#include "compiler/Target/TargetInfo.h"

#include "compiler/Target/TilePruning.h"

#include <algorithm>

namespace tilefuse::compiler {
namespace {

constexpr int kKiB = 1024;
/// Hardware limit of registers per thread on sm_80 .. sm_90a.
constexpr int kMaxRegistersPerThread = 255;
/// mma.sync m16n8k16 leaves each thread pairs of adjacent output columns; the
/// GEMM epilogue swaps halves within a lane pair (one shuffle) so that every
/// thread owns 4 adjacent columns of one row: the epilogue runs on 4 values
/// and stores 8 bytes (bf16/f16) or 16 bytes (f32) at once.
constexpr int kEpilogueVectorWidth = 4;
/// Threadblock rasterization group (rows of blocks that sweep N together).
constexpr int kGroupM = 8;

/// A 256-wide, 64-deep B tile with 64x64 warp tiles (128 accumulators per
/// thread) spills registers: NVRTC for sm_80 reports spills for 64x256x64 and
/// 128x256x64, for sm_90a for 64x256x64 (tests/unit/ops/tile_space_compile_test).
/// The same blocks with smaller warp tiles or a 32-deep K tile do not.
bool spills_registers(int block_n, int block_k, int warp_m, int warp_n) {
  return block_n == 256 && block_k == 64 && warp_m * warp_n == 64 * 64;
}

/// The tile space common to the mma.sync / wgmma mainloops, pruned by the
/// target's shared-memory budget. Warp tiles are 32 or 64 on each side (a
/// multiple of the m16n8 instruction tile, at most 128 fp32 accumulators per
/// thread) and the block has 4 or 8 warps.
std::vector<TileConfig> enumerate_tiles(int shared_memory_limit, int vector_width) {
  std::vector<TileConfig> space;
  for (int block_m : {64, 128, 256})
    for (int block_n : {64, 128, 256})
      for (int block_k : {32, 64})
        for (int warp_m : {32, 64})
          for (int warp_n : {32, 64}) {
            if (block_m % warp_m != 0 || block_n % warp_n != 0) continue;
            int warps = (block_m / warp_m) * (block_n / warp_n);
            if (warps != 4 && warps != 8) continue;
            if (spills_registers(block_n, block_k, warp_m, warp_n)) continue;
            for (int stages = 2; stages <= 5; ++stages) {
              TileConfig t{block_m, block_n, block_k, warp_m, warp_n, stages, vector_width, kGroupM};
              if (tile_shared_bytes(t, /*gated=*/false) <= shared_memory_limit) space.push_back(t);
            }
          }
  return space;
}

/// Narrows the block (and its warp tile, keeping 4 warps) to 64 on a side the
/// problem does not fill: a 128-wide block on M = 16 wastes 7/8 of its MMAs.
TileConfig fit_to_shape(TileConfig t, long long m, long long n) {
  constexpr long long kSmall = 64;
  if (m > 0 && m <= kSmall) {
    t.block_m = 64;
    t.warp_m = 32;
  }
  if (n > 0 && n <= kSmall) {
    t.block_n = 64;
    t.warp_n = 32;
  }
  return t;
}

/// What differs between the multiprocessors of the targets (CUDA C
/// Programming Guide, "Technical Specifications per Compute Capability").
struct SmLimits {
  int shared_per_block_kib;  ///< opt-in maximum of one block
  int shared_per_sm_kib;
  int threads_per_sm;
};
constexpr SmLimits kSm80Limits{163, 164, 2048};   // A100
constexpr SmLimits kSm86Limits{99, 100, 1536};    // GA10x, and sm_89 (AD10x)
constexpr SmLimits kSm90Limits{227, 228, 2048};   // H100 / H200

/// Ampere, Ada, and Hopper's plain sm_90 target: mma.sync with cp.async
/// multistage pipelines.
class Sm80Target final : public TargetInfo {
 public:
  Sm80Target(Arch arch, std::string_view nvrtc_arch, SmLimits limits)
      : arch_(arch), nvrtc_arch_(nvrtc_arch), shared_memory_(limits.shared_per_block_kib * kKiB),
        limits_(limits) {}

  Arch arch() const override { return arch_; }
  std::string_view nvrtc_arch() const override { return nvrtc_arch_; }
  Mainloop mainloop() const override { return Mainloop::MmaSyncMultistage; }
  int max_shared_memory_per_block() const override { return shared_memory_; }
  int shared_memory_per_sm() const override { return limits_.shared_per_sm_kib * kKiB; }
  int max_threads_per_sm() const override { return limits_.threads_per_sm; }
  int max_registers_per_thread() const override { return kMaxRegistersPerThread; }
  int accumulator_vector_width() const override { return kEpilogueVectorWidth; }
  std::vector<TileConfig> tile_space() const override {
    return enumerate_tiles(shared_memory_, accumulator_vector_width());
  }
  /// 128x128x32 with four 64x64 warps and 3 stages. Its ring is 48 KiB but
  /// the epilogue stages the 4 warps' 64 x (64 + 8) fp32 accumulators in the
  /// same buffer, so a block takes 72 KiB (tile_shared_bytes): two blocks
  /// per SM on sm_80 (164 KiB), three on sm_90 (228 KiB), one on sm_86/89
  /// (100 KiB; blocks_per_sm, tested in gemm_geometry_test). Any 128x128
  /// block stages at least 64 KiB of fp32, so two blocks on sm_86/89 would
  /// need a smaller tile (a tuning decision, not the heuristic's).
  TileConfig default_tile(long long m, long long n, long long /*k*/) const override {
    TileConfig t{128, 128, 32, 64, 64, 3, accumulator_vector_width(), kGroupM};
    return fit_to_shape(t, m, n);
  }

 private:
  Arch arch_;
  std::string_view nvrtc_arch_;
  int shared_memory_;
  SmLimits limits_;
};

/// The wgmma mainloop's tiles (templates/tilefuse/gemm_sm90.cuh): a consumer
/// warpgroup holds warp_m x warp_n = 64 or 128 rows x 64..256 columns, at most
/// 128 fp32 accumulators per thread (setmaxnreg gives consumers 232
/// registers); the block is that tile (ping-pong: two consumers on
/// alternating tiles) or two of them stacked in M (cooperative). block_k is
/// 64 (one 128-byte swizzled row); 3 to 5 stages as shared memory allows.
std::vector<TileConfig> enumerate_wgmma_tiles(const TargetInfo& target) {
  std::vector<TileConfig> space;
  for (int consumers_per_tile : {1, 2})  // 1: ping-pong, 2: cooperative
    for (int warp_m : {64, 128})
      for (int block_n : {64, 128, 256}) {
        if (warp_m * block_n / 128 > kMaxAccumulatorsPerThread) continue;
        for (int stages = 3; stages <= 5; ++stages) {
          const TileConfig t{warp_m * consumers_per_tile, block_n, 64, warp_m, block_n, stages,
                             target.accumulator_vector_width(), kGroupM};
          if (tile_shared_bytes(target.mainloop(), t, /*gated=*/false) <= target.max_shared_memory_per_block())
            space.push_back(t);
        }
      }
  return space;
}

/// Hopper: TMA + wgmma, warp-specialized and persistent (gemm_sm90.cuh).
class Sm90Target final : public TargetInfo {
 public:
  Arch arch() const override { return Arch::Sm90a; }
  std::string_view nvrtc_arch() const override { return "sm_90a"; }
  Mainloop mainloop() const override { return Mainloop::WgmmaWarpSpecialized; }
  int max_shared_memory_per_block() const override { return kSm90Limits.shared_per_block_kib * kKiB; }
  int shared_memory_per_sm() const override { return kSm90Limits.shared_per_sm_kib * kKiB; }
  int max_threads_per_sm() const override { return kSm90Limits.threads_per_sm; }
  int max_registers_per_thread() const override { return kMaxRegistersPerThread; }
  int accumulator_vector_width() const override { return kEpilogueVectorWidth; }
  std::vector<TileConfig> tile_space() const override { return enumerate_wgmma_tiles(*this); }
  /// Ping-pong 128x128x64, 4 stages (165 KiB): each consumer holds a whole
  /// 128x128 tile (128 accumulators), so one consumer's epilogue runs while
  /// the other's wgmmas use the tensor cores. Problems at most 64 high get
  /// 64-row tiles, at most 64 wide 64-column tiles.
  TileConfig default_tile(long long m, long long n, long long /*k*/) const override {
    TileConfig t{128, 128, 64, 128, 128, 4, accumulator_vector_width(), kGroupM};
    constexpr long long kSmall = 64;
    if (m > 0 && m <= kSmall) t.block_m = t.warp_m = 64;
    if (n > 0 && n <= kSmall) t.block_n = t.warp_n = 64;
    return t;
  }
};

}  // namespace

std::unique_ptr<TargetInfo> make_target(Arch arch) {
  switch (arch) {
    case Arch::Sm80: return std::make_unique<Sm80Target>(Arch::Sm80, "sm_80", kSm80Limits);
    case Arch::Sm86: return std::make_unique<Sm80Target>(Arch::Sm86, "sm_86", kSm86Limits);
    case Arch::Sm89: return std::make_unique<Sm80Target>(Arch::Sm89, "sm_89", kSm86Limits);
    // The mma.sync kernel on Hopper: sm_80's rules, Hopper's shared memory.
    case Arch::Sm90: return std::make_unique<Sm80Target>(Arch::Sm90, "sm_90", kSm90Limits);
    case Arch::Sm90a: return std::make_unique<Sm90Target>();
  }
  // Unreachable for valid enum values; a cast-in integer still gets a target.
  return std::make_unique<Sm80Target>(Arch::Sm80, "sm_80", kSm80Limits);
}

}  // namespace tilefuse::compiler
