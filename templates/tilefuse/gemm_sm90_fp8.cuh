// tilefuse/gemm_sm90_fp8.cuh — the FP8 parts of the wgmma GEMM
// (gemm_sm90.cuh includes it when the generated source defines TF_GEMM_FP8):
// the rules of an FP8 tile and the Block128 promotion. The numerics (what is
// rounded where) are in docs/fp8.md.
//
// With 1-byte elements a 128-byte swizzled K row holds 128 FP8 values: the
// TMA boxes (CU_TENSOR_MAP_DATA_TYPE_UINT8, {128, rows}), the stage bytes and
// the descriptors are those of the 16-bit kernel, a k-tile covers 128 values
// of K, and each wgmma m64nNk32 e4m3 consumes 32 bytes of K (the k16 step of
// 16-bit operands). Block128 scales therefore change exactly once per k-tile.
//
// Needs, before inclusion: TfFp8Config { kBE5M2, kBlock128, kOutE4M3, kAmax }
// from the generated source, tf::sm90's tile constants, and the generated
// wgmma_m64k32 (runtime/ops/WgmmaSource.cpp).
#pragma once

#include "tilefuse/gemm_fp8_epilogue.cuh"

namespace tf::sm90 {

using Fp8Cfg = TfFp8Config;

static_assert(Cfg::kBColMajor, "FP8 wgmma reads both operands K-major: pass B as N x K (b_col_major = true)");
static_assert(kTileK == 128, "an FP8 k-tile is one 128-byte row: 128 values of K");
static_assert(!Fp8Cfg::kBlock128 || !kGated, "Block128 scaling of a gated GEMM is not supported");
static_assert(!Fp8Cfg::kBlock128 || 2 * kMI * kAccPerBlock <= 128,
              "Block128 holds two accumulator sets (the k-tile's partial sums and the total): "
              "warp_m x warp_n / 128 x 2 must be at most 128 per consumer thread (e.g. 64 x 128)");
static_assert(!Fp8Cfg::kOutE4M3 || TF_EPILOGUE_OUT_BYTES == 4,
              "an e4m3 output takes the epilogue's fp32 values (scaled and quantised by gemm_fp8_epilogue.cuh)");
static_assert(!Fp8Cfg::kOutE4M3 || (!Cfg::kHasResidual && !Cfg::kHasAux), "an e4m3 output takes no C or aux");

/// 128-column blocks of B a tile's columns [n0, n0 + kBN) touch: n0 is a
/// multiple of kBN (a multiple of 64), so the tile starts at 0 or 64 within
/// a block.
constexpr int kColumnBlocks = (kBN + 64 + 127) / 128;

/// The batch of scale_a: a contiguous grouped A is one [T, K] matrix whose
/// rows the kernel addresses globally (the expert only picks B), so its
/// scale_a is one [ceil(K/128)][T] array, not offset by the expert; masked
/// ([E][ceil(K/128)][M_max]) and batched launches step per batch.
__device__ __forceinline__ long long scale_a_batch(long long batch) {
#if defined(TF_GEMM_GROUPED) && TF_GEMM_GROUPED == 1
  (void)batch;
  return 0;
#else
  return batch;
#endif
}

/// Block128 (the DeepSeek-V3 recipe): the scales of one k-tile (= one 128-wide
/// K block `kb`) for this thread's accumulator rows (two per m64 block: g and
/// g + 8 of its warp's 16) and the B column blocks of the tile. scale_a is
/// [ceil(K/128)][M] per batch, scale_b [ceil(N/128)][ceil(K/128)] per batch
/// (shared by every batch when B is: batch_stride_b == 0). Grouped: the
/// batch is the expert; scale_b is per expert, scale_a follows A's rows
/// (scale_a_batch). Loaded before the
/// k-tile's full barrier wait, so that the loads overlap the wait and the wgmmas.
struct Block128Scales {
  float row[kMI][2];
  float col[kColumnBlocks];

  __device__ __forceinline__ void load(const TfGemmParams& p, long long batch, long long m0, long long n0,
                                       int row_offset, int warp, int lane, int kb) {
    const long long k_blocks = (p.k + 127) / 128, n_blocks = (p.n + 127) / 128;
    const float* sa = p.fp8.scale_a + (scale_a_batch(batch) * k_blocks + kb) * p.m;
    const float* sb = p.fp8.scale_b + (p.batch_stride_b == 0 ? 0 : batch * n_blocks * k_blocks) + kb;
#pragma unroll
    for (int mi = 0; mi < kMI; ++mi)
#pragma unroll
      for (int h = 0; h < 2; ++h) {
        const long long r = m0 + row_offset + mi * 64 + warp * 16 + lane / 4 + 8 * h;
        row[mi][h] = r < p.m ? sa[r] : 0.0f;
      }
    const long long first = n0 / 128;
#pragma unroll
    for (int i = 0; i < kColumnBlocks; ++i) col[i] = first + i < n_blocks ? sb[(first + i) * k_blocks] : 0.0f;
  }

  /// acc = fma(part, scale_a · scale_b, acc) for every accumulator: the
  /// k-tile's fp32 partial sums promoted with one rounding of the scale
  /// product and one of the fused multiply-add. Column 8j + 2t (+1) of the
  /// m64nN fragment lies in block (n0 % 128 + 8j) / 128 of the tile's blocks.
  __device__ __forceinline__ void promote(float (&acc)[kNumB][kMI][kAccPerBlock],
                                          const float (&part)[kNumB][kMI][kAccPerBlock], long long n0) const {
    const bool shifted = n0 % 128 != 0;  // the tile starts at column 64 of a block
#pragma unroll
    for (int j = 0; j < kAccPerBlock / 4; ++j) {
      const int low = 8 * j / 128, high = low + 1 < kColumnBlocks ? low + 1 : low;
      const bool crosses = 8 * j % 128 >= 64;  // with the 64-column shift, this group is in the next block
      const float c = crosses && shifted ? col[high] : col[low];
#pragma unroll
      for (int w = 0; w < kNumB; ++w)
#pragma unroll
        for (int mi = 0; mi < kMI; ++mi) {
          const float s0 = row[mi][0] * c, s1 = row[mi][1] * c;  // rows g and g + 8
#pragma unroll
          for (int e = 0; e < 4; ++e)
            acc[w][mi][4 * j + e] = fmaf(part[w][mi][4 * j + e], e < 2 ? s0 : s1, acc[w][mi][4 * j + e]);
        }
    }
  }
};

}  // namespace tf::sm90
