// tilefuse/gemm_sm80_fp8.cuh — the FP8 parts of the mma.sync GEMM
// (gemm_sm80.cuh includes it when the generated source defines TF_GEMM_FP8):
// scales, the Block128 promotion and the e4m3 output with amax. The numerics
// (what is rounded where) are in docs/fp8.md.
//
// With both operands K-major an FP8 tile has exactly the byte layout of a
// 16-bit one (a pair of FP8 values = one 16-bit slot), so the driver runs its
// cp.async / swizzle / ldmatrix code on slots with K counted in slots
// (k / 2), and only the MMA (m16n8k32) and these steps differ.
//
// Needs, before inclusion: TfFp8Config { kBE5M2, kBlock128, kOutE4M3, kAmax }
// from the generated source, and tf::sm80's tile constants.
#pragma once

#include "tilefuse/ptx_fp8.cuh"

namespace tf::sm80 {

using Fp8Cfg = TfFp8Config;

static_assert(Cfg::kBColMajor, "FP8 inputs need B K-major: pass B as N x K (b_col_major = true)");
static_assert(!kBackward, "the backward GEMM has no FP8 path");
static_assert(!Fp8Cfg::kBlock128 || 128 % (2 * kBK) == 0,
              "Block128: a k-tile (block_k 16-bit slots = 2 * block_k FP8 values) must divide 128");
static_assert(!Fp8Cfg::kBlock128 || !kGated, "Block128 scaling of a gated GEMM is not supported");
static_assert(!Fp8Cfg::kOutE4M3 || TF_EPILOGUE_OUT_BYTES == 4,
              "an e4m3 output takes the epilogue's fp32 values (scaled and quantised here)");
static_assert(!Fp8Cfg::kOutE4M3 || (!Cfg::kHasResidual && !Cfg::kHasAux), "an e4m3 output takes no C or aux");

/// FP8 elements per 16-bit slot of the shared-memory tiles.
constexpr int kSlotElements = 2;

/// scale_a · scale_b of a per-tensor launch (a null pointer is 1).
__device__ __forceinline__ float per_tensor_scale(const TfGemmParams& p) {
  const float a = p.fp8.scale_a ? *p.fp8.scale_a : 1.0f;
  const float b = p.fp8.scale_b ? *p.fp8.scale_b : 1.0f;
  return a * b;
}

/// Block128: the scales of k-tile `k_tile` for this thread's accumulator rows
/// (two per m16 tile: g and g + 8) and n8 tiles, loaded at the start of the
/// k-tile so that they arrive while the MMAs run. scale_a is
/// [ceil(K/128)][M] per batch, scale_b [ceil(N/128)][ceil(K/128)] per batch
/// (shared by every batch when B is: batch_stride_b == 0).
struct Block128Scales {
  float row[kMI][2];
  float col[kNI];

  __device__ __forceinline__ void load(const TfGemmParams& p, long long batch, long long m0, long long n0,
                                       int warp_m, int warp_n, int lane, int k_tile) {
    const long long k_blocks = (p.k + 127) / 128, n_blocks = (p.n + 127) / 128;
    const long long kb = static_cast<long long>(k_tile) * kBK * kSlotElements / 128;
    const float* sa = p.fp8.scale_a + (batch * k_blocks + kb) * p.m;
    const float* sb = p.fp8.scale_b + (p.batch_stride_b == 0 ? 0 : batch * n_blocks * k_blocks) + kb;
#pragma unroll
    for (int mi = 0; mi < kMI; ++mi)
#pragma unroll
      for (int h = 0; h < 2; ++h) {
        const long long r = m0 + warp_m * kWM + mi * 16 + lane / 4 + 8 * h;
        row[mi][h] = r < p.m ? sa[r] : 0.0f;
      }
#pragma unroll
    for (int ni = 0; ni < kNI; ++ni) {
      const long long c = n0 + warp_n * kWN + ni * 8;  // an n8 tile lies in one 128-column block
      col[ni] = c < p.n ? sb[(c / 128) * k_blocks] : 0.0f;
    }
  }

  /// acc += part · (scale_a · scale_b): the k-tile's fp32 partial sums
  /// promoted into the main accumulators, then `part` cleared. (A template:
  /// the driver's `part` has one element per dimension unless kBlock128.)
  template <class Part>
  __device__ __forceinline__ void promote(float (&acc)[kNumB][kMI][kNI][4], Part& part) const {
#pragma unroll
    for (int w = 0; w < kNumB; ++w)
#pragma unroll
      for (int mi = 0; mi < kMI; ++mi)
#pragma unroll
        for (int ni = 0; ni < kNI; ++ni)
#pragma unroll
          for (int r = 0; r < 4; ++r) {
            acc[w][mi][ni][r] += part[w][mi][ni][r] * (row[mi][r / 2] * col[ni]);
            part[w][mi][ni][r] = 0.0f;
          }
  }
};

#if TF_EPILOGUE_OUT_BYTES == 4  // the epilogue of an e4m3 output yields fp32
/// Stores the 4 outputs of one thread as e4m3(value · scale_d) (round to
/// nearest even, saturating at ±448) and folds max |value| of the columns
/// inside N into `amax_bits` (the bits of a non-negative float order like
/// the float; a NaN, above +inf, wins).
__device__ __forceinline__ void store_e4m3_outputs(void* d, long long row_offset, long long col, long long n,
                                                   const TfEpilogueOut& out, float scale_d, unsigned& amax_bits) {
  if constexpr (Fp8Cfg::kAmax) {
#pragma unroll
    for (int j = 0; j < 4; ++j) {
      const unsigned bits = col + j < n ? __float_as_uint(fabsf(out.v[j])) : 0u;
      amax_bits = bits > amax_bits ? bits : amax_bits;
    }
  }
  const unsigned packed =
      pack_e4m3x4(out.v[0] * scale_d, out.v[1] * scale_d, out.v[2] * scale_d, out.v[3] * scale_d);
  unsigned char* at = static_cast<unsigned char*>(d) + row_offset + col;
  if (col + 4 <= n) {
    st_global(reinterpret_cast<unsigned*>(at), packed);  // 4-byte aligned: ldd % 16 == 0, col % 4 == 0
  } else {
#pragma unroll
    for (int j = 0; j < 4; ++j)
      if (col + j < n) st_global(at + j, static_cast<unsigned char>(packed >> (8 * j)));
  }
}
#endif

/// The warp's max |value| into *amax (zeroed by the launch before the kernel).
__device__ __forceinline__ void reduce_amax(const TfGemmParams& p, unsigned amax_bits) {
  const unsigned warp_bits = warp_max_u32(amax_bits);
  if (threadIdx.x % 32 == 0) red_max_u32(reinterpret_cast<unsigned*>(p.fp8.amax), warp_bits);
}

}  // namespace tf::sm80
