// tilefuse/gemm_sm90.cuh — the Hopper (sm_90a) GEMM driver: TMA loads into a
// shared-memory ring completing on mbarriers, wgmma from shared memory,
// warp-specialized (one producer warpgroup, two consumer warpgroups with
// setmaxnreg), persistent over output tiles, with the generated epilogue
// fused on the accumulators.
//
//   D = epilogue(alpha * A·B + bias + beta * C)            single
//   D = epilogue(A·W_gate, A·W_up)                          gated (A loaded once)
//
// Written once; the generator supplies, before including this file:
//   - the generated epilogue (TF_EPILOGUE_VEC == 4, tf_epilogue);
//   - struct TfGemmConfig (as for gemm_sm80.cuh): kBlockM, kBlockN, kBlockK,
//     kWarpM, kWarpN, kStages, kGroupM, kInputBf16, kBColMajor, kHasBias,
//     kHasResidual, kHasAux, kGateInterleave. Here kWarpM x kWarpN is the tile
//     of one CONSUMER WARPGROUP (the wgmma M x N it accumulates);
//   - tf::sm90::wgmma_m64k16(acc, desc_a, desc_b): wgmma.mma_async.m64nNk16
//     with N = kWarpN (runtime/ops/WgmmaSource.cpp generates it: its operand
//     list has one register per accumulator);
//   - FP8 inputs (TF_GEMM_FP8, struct TfFp8Config; gemm_sm90_fp8.cuh): e4m3 A,
//     e4m3/e5m2 B as N x K, per-tensor or Block128 scales, bf16 bias, e4m3
//     output with amax; the generated wrapper is then
//     wgmma_m64k32(acc, desc_a, desc_b, accumulate), m64nNk32.f32.e4m3.{e4m3,e5m2}.
//
// Schedules (chosen by the tile, see compiler/Target/TilePruning.h):
//   cooperative (kBlockM == 2 * kWarpM): both consumers work on one tile,
//       consumer c on rows [c * kWarpM, (c + 1) * kWarpM);
//   ping-pong (kBlockM == kWarpM): consumer c takes the block's tiles c, c+2,
//       c+4, ...; while one runs its epilogue (exp/tanh/erf on the SFU) the
//       other's wgmmas keep the tensor cores busy. The producer fills the ring
//       in tile order; an order barrier per consumer ("my mainloop is done")
//       makes the mainloops take turns. That is also what makes the ring's
//       parity waits exact: a consumer starts waiting on its tile's stages
//       only after every earlier stage was consumed, so no full barrier it
//       waits on can be two phases behind.
//
// Data path per k-tile (kBlockK = 64 16-bit slots: one 128-byte row of K,
// 64 16-bit or 128 FP8 elements):
//   producer thread: wait empty[s] → arrive.expect_tx(full[s]) → TMA A box
//   (kBlockM x 128 bytes) and B box(es) into stage s, 128-byte swizzled;
//   consumers: wait full[s] → 4 x wgmma m64nNk16 (FP8: m64nNk32) per 64 rows
//   → commit; the stage of the previous k-tile is released (arrive empty) once
//   at most one wgmma group is in flight. FP8 Block128: the k-tile's wgmmas
//   write a second accumulator set, promoted into the first with the k-tile's
//   scales after wgmma.wait_group 0 (then the stage is released at once).
// Tails: TMA zero-fills out-of-bounds boxes (M, N, K); the epilogue guards
// every store. Batches: the 5th (or 3rd) tensor-map coordinate.
//
// Grouped (TF_GEMM_GROUPED, tilefuse/grouped.cuh): the batch is the group
// (expert), and the tiles are those of every group in turn, found on the
// device from the group sizes. The producer and each consumer walk the
// block's tiles (blockIdx.x, + gridDim.x, ...) with a cursor each, so they
// see the same sequence without talking; the walk ends at the first tile
// past the last group (the host only bounds the count: some blocks may get
// no tile). A is one [T, K] map with global rows (contiguous; its batch
// coordinate stays 0) or [E, M_max, K] batched by group (masked); B is
// batched by group as a batched GEMM's. The epilogue stores rows below the
// group's end only.
//
// Host contract (runtime/ops/Sm90Params.cpp, GemmGeometry.cpp): the kernel's second parameter is
// TfSm90Params with tensor maps encoded for exactly these boxes; grid.x =
// min(tiles, SMs), 128 * 3 threads, kSmemBytes of dynamic shared memory.
#pragma once

#include "tilefuse/ptx_sm80.cuh"  // bf16/f16 conversions
#include "tilefuse/ptx_sm90.cuh"
#include "tilefuse/gemm_params.cuh"
#if defined(TF_GEMM_GROUPED)
#include "tilefuse/grouped.cuh"
#endif
#include "tilefuse/gemm_epilogue.cuh"
#include "tilefuse/watchdog_sm90.cuh"  // empty unless TILEFUSE_WATCHDOG

/// A CUtensorMap (opaque, 128 bytes; CUDA 13's cuda.h aligns it to 128) as
/// the kernel sees it.
struct alignas(128) TfTensorMap {
  unsigned long long opaque[16];
};

/// The sm90 kernel's second parameter (mirrored by runtime/ops/Sm90Params.h,
/// 512 bytes).
struct TfSm90Params {
  TfTensorMap a;     // A: dims {K, M, batch, 1, 1}
  TfTensorMap b;     // B (gate): see the loads below for its dims per layout
  TfTensorMap b_up;  // W_up for a gated op with separate weights; else a copy of b
  int batch_count;   // batches of this launch (tiles are batch-major)
  int a_batched;     // 1 when A's batch stride is non-zero, else 0 (A shared)
  int b_batched;     // same for B (and W_up)
};
static_assert(sizeof(TfSm90Params) == 512 && alignof(TfSm90Params) == 128,
              "TfSm90Params must match the host's Sm90KernelParams (runtime/ops/Sm90Params.h)");

namespace tf::sm90 {

using Cfg = TfGemmConfig;

constexpr int kBM = Cfg::kBlockM, kBN = Cfg::kBlockN, kBK = Cfg::kBlockK;
constexpr int kWM = Cfg::kWarpM, kWN = Cfg::kWarpN, kStages = Cfg::kStages;
constexpr int kConsumers = 2;                                  // consumer warpgroups
constexpr int kConsumersPerTile = (kBM / kWM) * (kBN / kWN);   // 2: cooperative, 1: ping-pong
constexpr bool kPingPong = kConsumersPerTile == 1;
constexpr int kThreads = 128 * (1 + kConsumers);
constexpr int kMI = kWM / 64;              // wgmma m64 row blocks per consumer
constexpr int kAccPerBlock = kWN / 2;      // fp32 accumulators per thread per m64 block
constexpr bool kGated = TF_EPILOGUE_GATED != 0;
constexpr int kNumB = kGated ? 2 : 1;
constexpr int kIB = Cfg::kGateInterleave;
/// kIB as a divisor: the kernel is no template, so NVRTC checks the kIB == 0
/// branches too and would warn of a division by zero.
constexpr int kIBDivisor = kIB > 0 ? kIB : 1;
/// Registers after setmaxnreg: 128 x 40 + 256 x 232 = 64512 <= 65536.
constexpr int kProducerRegisters = 40, kConsumerRegisters = 232;

static_assert(kBK == 64, "block_k must be 64: one 128-byte swizzled row of K (64 16-bit slots) per k-tile");
#if defined(TF_GEMM_FP8)
constexpr bool kFp8 = true, kBlock128 = TfFp8Config::kBlock128, kAmax = TfFp8Config::kAmax;
#else
constexpr bool kFp8 = false, kBlock128 = false, kAmax = false;
#endif
/// K elements of one k-tile: the 128 bytes of a swizzled row.
constexpr int kTileK = kFp8 ? 128 : 64;
static_assert(kBN == kWN, "consumers split the block along M only: warp_n must equal block_n");
static_assert(kConsumersPerTile == 1 || kConsumersPerTile == 2,
              "block_m must be warp_m (ping-pong) or 2 * warp_m (cooperative)");
static_assert(kWM == 64 || kWM == 128, "a consumer warpgroup covers 64 or 128 rows (m64 wgmmas)");
static_assert(kWN % 64 == 0 && kWN <= 256, "warp_n must be 64, 128, 192 or 256 (wgmma n <= 256, 64-wide B boxes)");
static_assert(kBM <= 256, "the A box has at most 256 rows");
static_assert(kStages >= 2 && kStages <= 8, "the TMA ring takes 2 to 8 stages");
static_assert(TF_EPILOGUE_VEC == 4, "the sm90 epilogue hands 4 adjacent columns to tf_epilogue");
static_assert(kIB == 0 || kIB % 8 == 0, "gate/up interleave block must be a multiple of 8");
static_assert(kIB == 0 || Cfg::kBColMajor || kIB % 64 == 0,
              "row-major interleaved B on sm_90a needs an interleave block that is a multiple of 64 "
              "(one 128-byte TMA box row); use a column-major B or a wider interleave");
static_assert(kIB == 0 || !Cfg::kBColMajor || kBN % kIB == 0 || kIB % kBN == 0,
              "column-major interleaved B: block_n and the interleave block must divide one another");
static_assert(!kGated || (!Cfg::kHasBias && !Cfg::kHasResidual && !Cfg::kHasAux),
              "a gated GEMM has no bias, residual or aux output");

// ---- shared memory -------------------------------------------------------------
// [ring: kStages x (A kBM x 128 B | B kBN x 128 B (| B_up))] [epilogue staging] [barriers]
constexpr int kAStageBytes = kBM * kBK * 2;
constexpr int kBStageBytes = kBN * kBK * 2;
constexpr int kStageBytes = kAStageBytes + kNumB * kBStageBytes;
constexpr int kRingBytes = kStages * kStageBytes;
/// Epilogue: each consumer warp stages 16 rows x kEpiCols accumulators (per B
/// operand) at a time; the 8-float row pad spreads a fragment store's rows
/// over the banks.
constexpr int kEpiCols = kGated ? 32 : 64;
constexpr int kEpiStride = kEpiCols + 8;
constexpr int kEpiFloatsPerWarp = kNumB * 16 * kEpiStride;
constexpr int kStagingBytes = kConsumers * 4 * kEpiFloatsPerWarp * 4;
constexpr int kBarrierBytes = (2 * kStages + kConsumers) * 8;  // full, empty, mainloop order
/// 1024: the dynamic shared memory base is rounded up to the 1024-byte
/// alignment of the 128-byte swizzle pattern.
constexpr int kSmemBytes = 1024 + kRingBytes + kStagingBytes + kBarrierBytes;
/// Bytes one stage's TMA copies deliver (boxes count whole, zero fill included).
constexpr unsigned kStageTxBytes = kStageBytes;
static_assert(kStageBytes % 1024 == 0, "stages must keep the 1024-byte swizzle alignment");
static_assert(kWN % kEpiCols == 0, "warp_n must be a multiple of the epilogue chunk");

/// One output tile: rows [m0, m0 + kBM) and columns [n0, n0 + kBN) of batch
/// (grouped: group) `batch`, of which rows >= row_end are no output's.
struct OutputTile {
  long long m0, n0, row_end;
  int batch;
};

#if !defined(TF_GEMM_GROUPED)
/// Output tile `t` (batch-major; inside a batch grouped like Triton's GROUP_M so
/// that kGroupM tile rows sweep N together and their panels stay in L2).
__device__ __forceinline__ OutputTile tile_coord(const TfGemmParams& p, unsigned tiles_m, unsigned tiles_n,
                                                 unsigned t) {
  // 32-bit: the host keeps tiles_m * tiles_n * batches below 2^31
  // (persistent_gemm_launch_config); a 64-bit division is a long instruction
  // sequence in both tile loops, and more code for NVRTC.
  const unsigned per_batch = tiles_m * tiles_n;
  const unsigned pid = t % per_batch;
  const unsigned per_group = Cfg::kGroupM * tiles_n;
  const unsigned first_m = (pid / per_group) * Cfg::kGroupM;
  const unsigned group_rows = tiles_m - first_m < Cfg::kGroupM ? tiles_m - first_m : Cfg::kGroupM;
  OutputTile c;
  c.m0 = static_cast<long long>(first_m + (pid % per_group) % group_rows) * kBM;
  c.n0 = static_cast<long long>((pid % per_group) / group_rows) * kBN;
  c.row_end = p.m;
  c.batch = static_cast<int>(t / per_batch);
  return c;
}
#endif

/// The launch's output tiles as one walker (the producer thread, or one
/// consumer warpgroup) visits them: find(t) is false past the last tile.
/// Every walker asks for increasing t (the grouped cursor only moves forward).
struct TileSchedule {
  unsigned tiles_n;
#if defined(TF_GEMM_GROUPED)
  grouped::TileCursor<kBM, kBN, Cfg::kGroupM> cursor;
#else
  unsigned tiles_m, tiles;
#endif

  __device__ __forceinline__ TileSchedule(const TfGemmParams& p, const TfSm90Params& tma) {
    tiles_n = static_cast<unsigned>((p.n + kBN - 1) / kBN);
#if defined(TF_GEMM_GROUPED)
    (void)tma;
#else
    tiles_m = static_cast<unsigned>((p.m + kBM - 1) / kBM);
    tiles = tiles_m * tiles_n * static_cast<unsigned>(tma.batch_count);
#endif
  }

  __device__ __forceinline__ bool find(const TfGemmParams& p, unsigned t, OutputTile& out) {
#if defined(TF_GEMM_GROUPED)
    if (!cursor.seek(p, tiles_n, t)) return false;
    const grouped::GroupTile g = cursor.tile(tiles_n, t);
    out.m0 = g.m0, out.n0 = g.n0, out.row_end = g.row_end, out.batch = g.group;
#else
    if (t >= tiles) return false;
    out = tile_coord(p, tiles_m, tiles_n, t);
#endif
    return true;
  }
};

/// The B box(es) of operand `which` (0 gate, 1 up) for output columns
/// [n0, n0 + kBN) and K rows [k0, k0 + kTileK) → stage buffer `dst`.
///   col-major B (N x K):  one box {64 K, kBN rows}; interleaved: the map is
///       {K, IB, 2, N/IB, batch} and the box {64, min(IB, kBN), 1, kBN/IB or 1, 1}.
///   row-major B (K x N):  kBN/64 boxes {64 N, 64 K}, each a 64-column block
///       (MN-major for wgmma); interleaved: the map is {IB, 2, N/IB, K, batch}.
__device__ __forceinline__ void load_b(const TfTensorMap* map, unsigned dst, unsigned bar, long long n0,
                                       int k0, int which, int batch) {
  if constexpr (Cfg::kBColMajor) {
    if constexpr (kIB == 0) {
      tma_load_5d(dst, map, bar, k0, static_cast<int>(n0), batch, 0, 0);
    } else {
      tma_load_5d(dst, map, bar, k0, static_cast<int>(n0 % kIBDivisor), which, static_cast<int>(n0 / kIBDivisor), batch);
    }
  } else {
#pragma unroll
    for (int j = 0; j < kBN / 64; ++j) {
      const long long n = n0 + 64 * j;
      const unsigned chunk = dst + j * kBK * 128;
      if constexpr (kIB == 0) {
        tma_load_5d(chunk, map, bar, static_cast<int>(n), k0, batch, 0, 0);
      } else {
        tma_load_5d(chunk, map, bar, static_cast<int>(n % kIBDivisor), which, static_cast<int>(n / kIBDivisor), k0, batch);
      }
    }
  }
}

/// The barrier a wait is on (named in the watchdog's report).
enum WaitOn : int { kWaitFull = 0, kWaitEmpty = 1, kWaitOrder = 2 };

/// Every barrier wait of the kernel goes through here. Built with
/// TILEFUSE_WATCHDOG (tilefuse/watchdog_sm90.cuh) the wait is bounded and, past
/// the bound, reports the waiter and traps; otherwise it is mbarrier_wait and
/// the other arguments compile to nothing (the PTX is that of a plain wait).
/// `role`: -1 producer, 0/1 consumer; `stage`: ring stage (order: its consumer).
__device__ __forceinline__ void wait_barrier(unsigned bar, unsigned parity, int role, WaitOn on, int stage,
                                             unsigned tile) {
#if defined(TILEFUSE_WATCHDOG) && TILEFUSE_WATCHDOG
  watchdog::bounded_wait(bar, parity, role, on, stage, tile);
#else
  (void)role, (void)on, (void)stage, (void)tile;
  mbarrier_wait(bar, parity);
#endif
}

/// wgmma descriptor of B for k-step `ks` (32 bytes of K: 16 16-bit or 32 FP8
/// rows) of the stage at `b`.
__device__ __forceinline__ unsigned long long b_descriptor(unsigned b, int ks) {
  if constexpr (Cfg::kBColMajor) return smem_descriptor(b + ks * 32, 16, 1024);  // K-major
  else return smem_descriptor(b + ks * 16 * 128, kBK * 128, 1024);              // N-major
}

}  // namespace tf::sm90

#if defined(TF_GEMM_FP8)
#include "tilefuse/gemm_sm90_fp8.cuh"
#endif

namespace tf::sm90 {

/// The wgmmas of one k-tile of consumer rows [row_offset, row_offset + kWM)
/// into `acc`: kBK / 16 steps of 32 bytes of K. `overwrite`: the first step
/// ignores what `acc` held (scale-d 0; FP8 Block128's partial sums).
__device__ __forceinline__ void mma_k_tile(float (&acc)[kNumB][kMI][kAccPerBlock], unsigned a_stage,
                                           const unsigned (&b_stage)[kNumB], int row_offset, bool overwrite) {
#pragma unroll
  for (int ks = 0; ks < kBK / 16; ++ks)
#pragma unroll
    for (int w = 0; w < kNumB; ++w) {
      const unsigned long long desc_b = b_descriptor(b_stage[w], ks);
#pragma unroll
      for (int mi = 0; mi < kMI; ++mi) {
        const unsigned a_rows = a_stage + (row_offset + mi * 64) * 128;
        const unsigned long long desc_a = smem_descriptor(a_rows + ks * 32, 16, 1024);
#if defined(TF_GEMM_FP8)
        wgmma_m64k32(acc[w][mi], desc_a, desc_b, overwrite && ks == 0 ? 0 : 1);
#else
        (void)overwrite;
        wgmma_m64k16(acc[w][mi], desc_a, desc_b);
#endif
      }
    }
}

/// Orders the accumulators' register accesses around asynchronous wgmmas.
__device__ __forceinline__ void fence_accumulators(float (&acc)[kNumB][kMI][kAccPerBlock]) {
#pragma unroll
  for (int w = 0; w < kNumB; ++w)
#pragma unroll
    for (int mi = 0; mi < kMI; ++mi)
#pragma unroll
      for (int i = 0; i < kAccPerBlock; ++i) fence_operand(acc[w][mi][i]);
}

}  // namespace tf::sm90

extern "C" __global__ void __launch_bounds__(tf::sm90::kThreads, 1)
    tf_gemm(const TfGemmParams p, const __grid_constant__ TfSm90Params tma) {
  using namespace tf;
  using namespace tf::sm90;
  extern __shared__ __align__(1024) unsigned char tf_smem[];

  const unsigned s_base = (shared_address(tf_smem) + 1023u) & ~1023u;
  auto s_a = [&](int stage) { return s_base + stage * kStageBytes; };
  auto s_b = [&](int which, int stage) { return s_base + stage * kStageBytes + kAStageBytes + which * kBStageBytes; };
  const unsigned s_barriers = s_base + kRingBytes + kStagingBytes;
  auto full = [&](int stage) { return s_barriers + stage * 8; };
  auto empty = [&](int stage) { return s_barriers + (kStages + stage) * 8; };
  // order(c) completes a phase each time consumer c finishes a mainloop (ping-pong).
  auto order = [&](int consumer) { return s_barriers + (2 * kStages + consumer) * 8; };

  const int warpgroup = threadIdx.x / 128;
  if (threadIdx.x == 0) {
    tma_prefetch_descriptor(&tma.a);
    tma_prefetch_descriptor(&tma.b);
    if constexpr (kGated && kIB == 0) tma_prefetch_descriptor(&tma.b_up);
#pragma unroll 1
    for (int s = 0; s < kStages; ++s) {
      mbarrier_init(full(s), 1);                   // the producer's arrive.expect_tx
      mbarrier_init(empty(s), kConsumersPerTile);  // one arrival per consumer that read it
    }
    mbarrier_init(order(0), 1);
    mbarrier_init(order(1), 1);
    fence_barrier_init();
  }
  __syncthreads();

  const int k_tiles = static_cast<int>((p.k + kTileK - 1) / kTileK);

  if (warpgroup == 0) {
    // ---- producer: one thread issues every TMA copy --------------------------
    setmaxnreg_dec<kProducerRegisters>();
    if (threadIdx.x == 0) {
      int stage = 0;
      unsigned phase = 0;
      TileSchedule schedule(p, tma);
      OutputTile tc;
#pragma unroll 1
      for (unsigned t = blockIdx.x; schedule.find(p, t, tc); t += gridDim.x) {
        const int a_batch = tc.batch * tma.a_batched, b_batch = tc.batch * tma.b_batched;
#pragma unroll 1
        for (int kt = 0; kt < k_tiles; ++kt) {
          wait_barrier(empty(stage), phase ^ 1, -1, kWaitEmpty, stage, t);
          mbarrier_arrive_expect_tx(full(stage), kStageTxBytes);
          const int k0 = kt * kTileK;
          tma_load_5d(s_a(stage), &tma.a, full(stage), k0, static_cast<int>(tc.m0), a_batch, 0, 0);
          load_b(&tma.b, s_b(0, stage), full(stage), tc.n0, k0, 0, b_batch);
          if constexpr (kGated)
            load_b(kIB == 0 ? &tma.b_up : &tma.b, s_b(1, stage), full(stage), tc.n0, k0, 1, b_batch);
          if (++stage == kStages) {
            stage = 0;
            phase ^= 1;
          }
        }
      }
    }
    return;
  }

  // ---- consumers ----------------------------------------------------------------
  setmaxnreg_inc<kConsumerRegisters>();
  const int consumer = warpgroup - 1;
  const int wg_thread = threadIdx.x % 128, warp = wg_thread / 32, lane = threadIdx.x % 32;
  // Ping-pong: tiles c, c+2, ... of this block; cooperative: every tile, rows by consumer.
  const int tile_step = kPingPong ? 2 : 1;
  const int row_offset = kPingPong ? 0 : consumer * kWM;
  const unsigned s_staging = s_base + kRingBytes + (consumer * 4 + warp) * kEpiFloatsPerWarp * 4;

  float acc[kNumB][kMI][kAccPerBlock];
#if defined(TF_GEMM_FP8)
  // Block128: the k-tile's partial sums (unused, and optimised away, otherwise).
  float part[kNumB][kMI][kAccPerBlock];
  if constexpr (kBlock128) {  // defined values for the wgmmas' register operands (scale-d 0 ignores them)
#pragma unroll
    for (int mi = 0; mi < kMI; ++mi)
#pragma unroll
      for (int i = 0; i < kAccPerBlock; ++i) part[0][mi][i] = 0.0f;
  }
  [[maybe_unused]] const float tensor_scale = kBlock128 ? 1.0f : fp8::per_tensor_scale(p);
  epilogue::Fp8OutputState fp8_output;
  if constexpr (epilogue::kOutE4M3) fp8_output.scale_d = fp8::output_scale(p);
#define TF_FP8_OUTPUT_ARG , &fp8_output
#else
#define TF_FP8_OUTPUT_ARG
#endif
  unsigned local = kPingPong ? consumer : 0;  // index of the tile among this block's tiles
  unsigned turn = 0;                          // this consumer's tiles so far
  TileSchedule schedule(p, tma);
  OutputTile tc;
#pragma unroll 1
  for (unsigned t = blockIdx.x + local * gridDim.x; schedule.find(p, t, tc);
       t += tile_step * gridDim.x, local += tile_step, ++turn) {
    // Ping-pong turn taking: consumer 1's n-th mainloop follows consumer 0's
    // n-th, consumer 0's n-th (n >= 1) follows consumer 1's (n-1)-th. Neither
    // can run two turns ahead, so the parity of the turn identifies the phase.
    // The block's tiles are a prefix of its sequence (local 0, 1, ..., L-1;
    // grouped too: a tile exists iff its index is below the device-side
    // total), consumer 0 taking the even ones: consumer 1's n-th tile exists
    // only if consumer 0's n-th does, consumer 0's n-th only if consumer 1's
    // (n-1)-th does, so every turn waited for is taken, and a consumer whose
    // sequence ended (or never began: a block with no tile, or one tile)
    // leaves without waiting.
    if constexpr (kPingPong) {
      if (consumer == 1) wait_barrier(order(0), turn & 1, consumer, kWaitOrder, 0, t);
      else if (turn > 0) wait_barrier(order(1), (turn - 1) & 1, consumer, kWaitOrder, 1, t);
    }
    // The ring position of this tile's first k-tile: every tile has k_tiles.
    const long long ring = static_cast<long long>(local) * k_tiles;
    int stage = static_cast<int>(ring % kStages);
    unsigned phase = static_cast<unsigned>((ring / kStages) & 1);

#pragma unroll
    for (int w = 0; w < kNumB; ++w)
#pragma unroll
      for (int mi = 0; mi < kMI; ++mi)
#pragma unroll
        for (int i = 0; i < kAccPerBlock; ++i) acc[w][mi][i] = 0.0f;

    int previous = -1;
#pragma unroll 1
    for (int kt = 0; kt < k_tiles; ++kt) {
      unsigned b_stage[kNumB];
#pragma unroll
      for (int w = 0; w < kNumB; ++w) b_stage[w] = s_b(w, stage);
#if defined(TF_GEMM_FP8)
      if constexpr (kBlock128) {
        // One k-tile is one 128-wide K block: its scales, loaded while the
        // stage lands; its wgmmas start from zero (scale-d 0) into `part`,
        // promoted into `acc` once they have retired; the stage is then read.
        Block128Scales scales;
        scales.load(p, tc.batch, tc.m0, tc.n0, row_offset, warp, lane, kt);
        wait_barrier(full(stage), phase, consumer, kWaitFull, stage, t);
        fence_accumulators(part);
        wgmma_fence();
        mma_k_tile(part, s_a(stage), b_stage, row_offset, true);
        wgmma_commit();
        fence_accumulators(part);
        wgmma_wait<0>();
        fence_accumulators(part);
        if (wg_thread == 0) mbarrier_arrive(empty(stage));
        scales.promote(acc, part, tc.n0);
        if (++stage == kStages) {
          stage = 0;
          phase ^= 1;
        }
        continue;
      }
#endif
      wait_barrier(full(stage), phase, consumer, kWaitFull, stage, t);
      fence_accumulators(acc);
      wgmma_fence();
      mma_k_tile(acc, s_a(stage), b_stage, row_offset, false);
      wgmma_commit();
      fence_accumulators(acc);
      // At most this k-tile's group in flight: the previous stage is read.
      wgmma_wait<1>();
      if (previous >= 0 && wg_thread == 0) mbarrier_arrive(empty(previous));
      previous = stage;
      if (++stage == kStages) {
        stage = 0;
        phase ^= 1;
      }
    }
    if constexpr (!kBlock128) {  // Block128 released every stage in its loop
      wgmma_wait<0>();
      fence_accumulators(acc);
      if (wg_thread == 0) mbarrier_arrive(empty(previous));
    }
    if constexpr (kPingPong)
      if (wg_thread == 0) mbarrier_arrive(order(consumer));  // the other consumer's turn

    // ---- fused epilogue --------------------------------------------------------
    // Fragment of m64nN: warp `warp` holds rows 16*warp + lane/4 (+8), columns
    // 8j + 2*(lane%4) (+1) in acc[4j .. 4j+3]. Each warp parks one slice of
    // 16 rows x kEpiCols of them in its staging area, then walks the slice 4
    // adjacent columns per lane with stores covering whole row segments.
    // One rolled loop over the kMI x kChunks slices compiles the activation
    // once (an unrolled loop had kMI x kChunks copies: ~70 ms of NVRTC time
    // for gelu); the accumulators are registers, so the slice's staging stores
    // are picked by an unrolled compare. Staging goes through st/ld.shared asm
    // (see st_shared_f32x2).
    const int group = lane / 4, quad_lane = lane % 4;
    constexpr int kChunks = kWN / kEpiCols;
#pragma unroll 1
    for (int slice = 0; slice < kMI * kChunks; ++slice) {
#pragma unroll
      for (int mi = 0; mi < kMI; ++mi)
#pragma unroll
        for (int chunk = 0; chunk < kChunks; ++chunk) {
          if (slice != mi * kChunks + chunk) continue;
#pragma unroll
          for (int w = 0; w < kNumB; ++w)
#pragma unroll
            for (int j = 0; j < kEpiCols / 8; ++j) {
              const int i = (chunk * kEpiCols / 8 + j) * 4;
              const unsigned at = s_staging + (w * 16 * kEpiStride + group * kEpiStride + j * 8 + 2 * quad_lane) * 4;
              st_shared_f32x2(at, acc[w][mi][i], acc[w][mi][i + 1]);
              st_shared_f32x2(at + 8 * kEpiStride * 4, acc[w][mi][i + 2], acc[w][mi][i + 3]);
            }
        }
      __syncwarp();
      const int mi = slice / kChunks, chunk = slice % kChunks;
      const long long row0 = tc.m0 + row_offset + mi * 64 + warp * 16;
      const long long col0 = tc.n0 + chunk * kEpiCols;
#if defined(TF_EPILOGUE_ROW_INPUTS)
      // A lane's 4 columns stay the same for every step of this chunk
      // (kEpiCols divides 128): load its column inputs once, here.
      static_assert(128 % kEpiCols == 0, "a lane's epilogue columns must not change between steps");
      float column_values[TF_OPERAND_SLOTS(TF_EPILOGUE_COL_INPUTS)][4];
      tf::load_column_operands(p, tc.batch, col0 + (lane * 4) % kEpiCols, column_values);
#define TF_COLUMN_VALUES_ARG , column_values
#else
#define TF_COLUMN_VALUES_ARG
#endif
#pragma unroll 1
      for (int it = 0; it < 16 * kEpiCols / 128; ++it) {
        const int index = (it * 32 + lane) * 4;
        const int r = index / kEpiCols, c = index % kEpiCols;
        const long long row = row0 + r, col = col0 + c;
        if (row >= tc.row_end || col >= p.n) continue;  // tails; grouped: the group's last row
        const float4 staged = ld_shared_f32x4(s_staging + (r * kEpiStride + c) * 4);
        float x[4] = {staged.x, staged.y, staged.z, staged.w};
        float up[4] = {0.0f, 0.0f, 0.0f, 0.0f};
        if constexpr (kGated) {
          const float4 staged_up = ld_shared_f32x4(s_staging + ((16 + r) * kEpiStride + c) * 4);
          up[0] = staged_up.x, up[1] = staged_up.y, up[2] = staged_up.z, up[3] = staged_up.w;
        }
#if defined(TF_GEMM_FP8)
        if constexpr (!kBlock128) {  // per-tensor: acc · fp32(scale_a · scale_b)
#pragma unroll
          for (int j = 0; j < 4; ++j) x[j] *= tensor_scale, up[j] *= tensor_scale;
        }
#endif
        epilogue::finish(p, tc.batch, row, col, x, up TF_COLUMN_VALUES_ARG TF_FP8_OUTPUT_ARG);
      }
#undef TF_COLUMN_VALUES_ARG
      __syncwarp();  // the slice is read before the next one overwrites it
    }
  }
#if defined(TF_GEMM_FP8)
  if constexpr (kAmax) fp8::reduce_amax(p, fp8_output.amax_bits);
#endif
#undef TF_FP8_OUTPUT_ARG
}
