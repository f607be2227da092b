// tilefuse/gemm_sm80.cuh — the mma.sync GEMM driver (sm_80 and newer) with the
// generated epilogue fused on the accumulators in registers.
//
//   D = epilogue(alpha * A·B + bias + beta * C)            single
//   D = epilogue(A·W_gate, A·W_up)                          gated (A loaded once);
//                                                           kHasAux: aux = [gate | up], M x 2N
//   D = epilogue(alpha * A·B, z = aux)                      backward (TF_EPILOGUE_GRAD):
//                                                           dZ = (dY·Wᵀ) ⊙ act'(z)
//   D = [dgate | dup](alpha * A·B, aux = [gate | up])       gated backward: M x 2N
//
// Written once; the generator only supplies, before including this file:
//   - the generated epilogue (tilefuse/epilogue_support.cuh + tf_epilogue, see
//     compiler/Target/CudaEmitter.cpp), with TF_EPILOGUE_VEC == 4;
//   - struct TfGemmConfig { static constexpr ... } with the tile parameters:
//       kBlockM, kBlockN, kBlockK, kWarpM, kWarpN, kStages, kGroupM,
//       kInputBf16, kBColMajor, kHasBias, kHasResidual, kHasAux, kGateInterleave.
//
// Data path per k-tile: cp.async (16 B, zero-filled past M/N/K) → swizzled
// shared memory ring of kStages tiles → ldmatrix → mma.sync.m16n8k16 (fp32
// accumulate). Epilogue: accumulators staged through shared memory, then each
// lane applies the activation to 4 adjacent columns of one row at a time and
// stores 8 bytes (16-bit out) or 16 bytes (fp32 out); a warp covers whole
// row segments.
//
// Preconditions the host checks (runtime/ops/GemmArguments.cpp): 16-byte aligned
// A, B, D, C, aux; lda, ldb, ldc, ldd, ld_aux multiples of 8 elements; bias
// 8-byte aligned. Any M, N, K >= 1.
#pragma once

#include "tilefuse/ptx_sm80.cuh"
#include "tilefuse/gemm_params.cuh"
#include "tilefuse/gemm_epilogue_io.cuh"

namespace tf::sm80 {

using Cfg = TfGemmConfig;
using namespace tf::gemm_io;  // input_to_float, output_to_float, store_output_element, store_outputs

constexpr int kBM = Cfg::kBlockM, kBN = Cfg::kBlockN, kBK = Cfg::kBlockK;
constexpr int kWM = Cfg::kWarpM, kWN = Cfg::kWarpN, kStages = Cfg::kStages;
constexpr int kWarpsM = kBM / kWM, kWarpsN = kBN / kWN;
constexpr int kThreads = kWarpsM * kWarpsN * 32;
constexpr int kMI = kWM / 16;     // m16 tiles per warp
constexpr int kNI = kWN / 8;      // n8 tiles per warp
constexpr int kKSteps = kBK / 16; // k16 steps per k-tile
constexpr bool kGated = TF_EPILOGUE_GATED != 0;
#if defined(TF_EPILOGUE_GRAD) && TF_EPILOGUE_GRAD
constexpr bool kBackward = true;
#else
constexpr bool kBackward = false;
#endif
// A gated forward multiplies by W_gate and W_up; a gated backward has one
// product dH = alpha·A·B and reads gate and up from aux.
constexpr int kNumB = kGated && !kBackward ? 2 : 1;
constexpr int kAStage = kBM * kBK;  // elements of one A stage
constexpr int kBStage = kBN * kBK;  // elements of one B stage (per operand)
constexpr int kChunksPerRowA = kBK / 8;                          // 16-byte chunks
constexpr int kChunksPerRowB = Cfg::kBColMajor ? kBK / 8 : kBN / 8;

static_assert(kBM % kWM == 0 && kBN % kWN == 0, "block tile must be a multiple of the warp tile");
static_assert(kWM % 16 == 0, "warp_m must be a multiple of 16 (mma m16)");
static_assert(kWN % 16 == 0, "warp_n must be a multiple of 16 (ldmatrix.x4 loads two n8 tiles)");
static_assert(kBK % 16 == 0, "block_k must be a multiple of 16 (mma k16)");
static_assert(kStages >= 2 && kStages <= 5, "the cp.async pipeline takes 2 to 5 stages");
static_assert(kThreads >= 64 && kThreads <= 512, "2 to 16 warps per block");
static_assert((kBM * kChunksPerRowA) % kThreads == 0, "A tile chunks must split evenly over threads");
static_assert((kBStage / 8) % kThreads == 0, "B tile chunks must split evenly over threads");
static_assert(TF_EPILOGUE_VEC == 4, "the sm80 epilogue hands 4 adjacent columns to tf_epilogue");
static_assert(Cfg::kGateInterleave == 0 || Cfg::kGateInterleave % 8 == 0,
              "gate/up interleave block must be a multiple of 8 (one 16-byte chunk)");
static_assert(!kGated || (!Cfg::kHasBias && !Cfg::kHasResidual),
              "a gated GEMM has no bias or residual (aux stores [gate | up])");
#if defined(TF_EPILOGUE_GRAD) && TF_EPILOGUE_GRAD
// Backward GEMM (a tilefuse-differentiate epilogue): dZ = tf_epilogue(alpha·A·B, z)
// = (alpha·dY·Wᵀ) ⊙ act'(z), with z the forward's pre-activation read from
// p.aux (the tensor the forward's aux option wrote: ld_aux, batch_stride_aux,
// in the output dtype). Gated: dH = alpha·A·B, gate = aux[row, c], up =
// aux[row, N + c] (the gated forward's aux layout), D[row, c] = dgate and
// D[row, N + c] = dup (tf_epilogue_dgate / tf_epilogue_dup).
static_assert(Cfg::kGateInterleave == 0, "a backward GEMM has one weight operand (no gate/up interleave)");
static_assert(!Cfg::kHasBias && !Cfg::kHasResidual && !Cfg::kHasAux,
              "a backward GEMM reads z from p.aux and takes no bias, residual or aux output");
#endif

constexpr int kMainloopSmemBytes = kStages * (kAStage + kNumB * kBStage) * 2;
// Epilogue staging: per warp, kNumB tiles of kWM rows x (kWN + 8) floats. The
// 8-float pad puts the 8 rows of one fragment store on different banks.
constexpr int kStageStride = kWN + 8;
constexpr int kStageFloatsPerWarp = kNumB * kWM * kStageStride;
constexpr int kEpilogueSmemBytes = kWarpsM * kWarpsN * kStageFloatsPerWarp * 4;
constexpr int kEpilogueIterations = kWM * kWN / (32 * 4);  // 4 columns per lane per step
/// Dynamic shared memory of one block; the host computes the same number
/// (runtime/ops, gemm_shared_memory_bytes) and the generated source
/// static_asserts that the two agree.
constexpr int kSmemBytes = kMainloopSmemBytes > kEpilogueSmemBytes ? kMainloopSmemBytes : kEpilogueSmemBytes;
static_assert((kWM * kWN) % 128 == 0, "the epilogue walks the warp tile 128 values (4 per lane) at a time");

/// XOR swizzle of 16-byte chunks so that the 8 row addresses of one ldmatrix
/// (and the 8 chunks of one cp.async phase) hit 8 different bank groups.
template <int kChunksPerRow>
__device__ __forceinline__ int swizzle(int row, int chunk) {
  constexpr int kMask = (kChunksPerRow < 8 ? kChunksPerRow : 8) - 1;
  constexpr int kRowsPerLine = kChunksPerRow < 8 ? 8 / kChunksPerRow : 1;  // rows per 128 B
  return chunk ^ ((row / kRowsPerLine) & kMask);
}

/// Grouped rasterization (as Triton's GROUP_M): kGroupM block-rows walk N
/// together so their A panels and the shared B panel stay in L2.
__device__ __forceinline__ void block_origin(const TfGemmParams& p, long long& m0, long long& n0) {
  const long long tiles_m = (p.m + kBM - 1) / kBM;
  const long long tiles_n = (p.n + kBN - 1) / kBN;
  const long long pid = blockIdx.x;
  const long long per_group = static_cast<long long>(Cfg::kGroupM) * tiles_n;
  const long long first_m = (pid / per_group) * Cfg::kGroupM;
  const long long group_rows = tiles_m - first_m < Cfg::kGroupM ? tiles_m - first_m : Cfg::kGroupM;
  m0 = (first_m + (pid % per_group) % group_rows) * kBM;
  n0 = ((pid % per_group) / group_rows) * kBN;
}

/// Row (col-major B) or column (row-major B) of the weight matrix holding
/// output feature `n` of the gate (which = 0) or up (which = 1) operand.
/// Interleaved layout: blocks of kGateInterleave gate features, then the same
/// number of up features, repeating.
__device__ __forceinline__ long long weight_index(long long n, int which) {
  if constexpr (Cfg::kGateInterleave == 0) {
    return n;
  } else {
    constexpr long long kIB = Cfg::kGateInterleave > 0 ? Cfg::kGateInterleave : 1;
    return (n / kIB) * 2 * kIB + which * kIB + n % kIB;
  }
}

__device__ __forceinline__ int valid_bytes(long long remaining_elements) {
  return remaining_elements >= 8 ? 16 : (remaining_elements > 0 ? static_cast<int>(remaining_elements) * 2 : 0);
}

/// A k-tile [m0, m0+BM) x [k0, k0+BK) → shared (row = m, K contiguous).
__device__ __forceinline__ void load_a_tile(const TfGemmParams& p, const unsigned short* a,
                                            unsigned s_a, long long m0, long long k0) {
  constexpr int kChunks = kBM * kChunksPerRowA;
#pragma unroll
  for (int i = 0; i < kChunks / kThreads; ++i) {
    const int chunk = threadIdx.x + i * kThreads;
    const int row = chunk / kChunksPerRowA, col_chunk = chunk % kChunksPerRowA;
    const long long gm = m0 + row, gk = k0 + col_chunk * 8;
    const int bytes = gm < p.m ? valid_bytes(p.k - gk) : 0;
    const unsigned short* src = bytes ? a + gm * p.lda + gk : a;
    cp_async_16(s_a + (row * kBK + swizzle<kChunksPerRowA>(row, col_chunk) * 8) * 2, src, bytes);
  }
}

/// B k-tile of operand `which` → shared: N x K (K contiguous) for col-major
/// B, K x N (N contiguous) for row-major B.
__device__ __forceinline__ void load_b_tile(const TfGemmParams& p, const unsigned short* b,
                                            unsigned s_b, long long n0, long long k0, int which) {
  constexpr int kChunks = kBStage / 8;
#pragma unroll
  for (int i = 0; i < kChunks / kThreads; ++i) {
    const int chunk = threadIdx.x + i * kThreads;
    const int row = chunk / kChunksPerRowB, col_chunk = chunk % kChunksPerRowB;
    int bytes;
    const unsigned short* src;
    if constexpr (Cfg::kBColMajor) {
      const long long gn = n0 + row, gk = k0 + col_chunk * 8;
      bytes = gn < p.n ? valid_bytes(p.k - gk) : 0;
      src = bytes ? b + weight_index(gn, which) * p.ldb + gk : b;
      cp_async_16(s_b + (row * kBK + swizzle<kChunksPerRowB>(row, col_chunk) * 8) * 2, src, bytes);
    } else {
      const long long gk = k0 + row, gn = n0 + col_chunk * 8;
      bytes = gk < p.k ? valid_bytes(p.n - gn) : 0;
      src = bytes ? b + gk * p.ldb + weight_index(gn, which) : b;
      cp_async_16(s_b + (row * kBN + swizzle<kChunksPerRowB>(row, col_chunk) * 8) * 2, src, bytes);
    }
  }
}

/// A fragments of k-step `ks` for this warp's kMI m16 tiles.
__device__ __forceinline__ void load_a_fragments(unsigned (&frag)[kMI][4], unsigned s_a, int warp_m,
                                                 int ks, int lane) {
#pragma unroll
  for (int mi = 0; mi < kMI; ++mi) {
    const int row = warp_m * kWM + mi * 16 + (lane % 16);
    const int chunk = ks * 2 + lane / 16;
    ldmatrix_x4(frag[mi], s_a + (row * kBK + swizzle<kChunksPerRowA>(row, chunk) * 8) * 2);
  }
}

/// B fragments of k-step `ks` for this warp's kNI n8 tiles (two per ldmatrix).
__device__ __forceinline__ void load_b_fragments(unsigned (&frag)[kNI][2], unsigned s_b, int warp_n,
                                                 int ks, int lane) {
#pragma unroll
  for (int nj = 0; nj < kNI / 2; ++nj) {
    unsigned r[4];
    if constexpr (Cfg::kBColMajor) {
      const int row = warp_n * kWN + nj * 16 + (lane % 8) + (lane / 16) * 8;
      const int chunk = ks * 2 + (lane / 8) % 2;
      ldmatrix_x4(r, s_b + (row * kBK + swizzle<kChunksPerRowB>(row, chunk) * 8) * 2);
    } else {
      const int row = ks * 16 + (lane % 16);
      const int chunk = (warp_n * kWN + nj * 16) / 8 + lane / 16;
      ldmatrix_x4_trans(r, s_b + (row * kBN + swizzle<kChunksPerRowB>(row, chunk) * 8) * 2);
    }
    frag[2 * nj][0] = r[0];
    frag[2 * nj][1] = r[1];
    frag[2 * nj + 1][0] = r[2];
    frag[2 * nj + 1][1] = r[3];
  }
}

}  // namespace tf::sm80

extern "C" __global__ void __launch_bounds__(tf::sm80::kThreads, 1)
    tf_gemm(const TfGemmParams p) {
  using namespace tf;
  using namespace tf::sm80;
  extern __shared__ __align__(128) unsigned char tf_smem[];

  long long m0, n0;
  block_origin(p, m0, n0);
  if (m0 >= p.m || n0 >= p.n) return;
  const long long batch = blockIdx.y;
  const unsigned short* a = p.a + batch * p.batch_stride_a;
  const unsigned short* b_ops[2] = {p.b + batch * p.batch_stride_b,
                                    kNumB == 2 && Cfg::kGateInterleave == 0 ? p.b_up + batch * p.batch_stride_b
                                                                        : p.b + batch * p.batch_stride_b};

  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  const int warp_m = warp / kWarpsN, warp_n = warp % kWarpsN;
  const unsigned s_base = shared_address(tf_smem);
  // Layout: [A stages][B(gate) stages][B(up) stages]
  auto s_a = [&](int stage) { return s_base + stage * kAStage * 2; };
  auto s_b = [&](int which, int stage) {
    return s_base + (kStages * kAStage + (which * kStages + stage) * kBStage) * 2;
  };

  float acc[kNumB][kMI][kNI][4];
#pragma unroll
  for (int w = 0; w < kNumB; ++w)
#pragma unroll
    for (int mi = 0; mi < kMI; ++mi)
#pragma unroll
      for (int ni = 0; ni < kNI; ++ni)
#pragma unroll
        for (int r = 0; r < 4; ++r) acc[w][mi][ni][r] = 0.0f;

  const int k_tiles = static_cast<int>((p.k + kBK - 1) / kBK);
  auto load_stage = [&](int stage, int k_tile) {
    const long long k0 = static_cast<long long>(k_tile) * kBK;
    load_a_tile(p, a, s_a(stage), m0, k0);
#pragma unroll
    for (int w = 0; w < kNumB; ++w) load_b_tile(p, b_ops[w], s_b(w, stage), n0, k0, w);
  };

  // Prologue: kStages - 1 tiles in flight. Every iteration commits exactly one
  // group (possibly empty) so wait_group counts stay uniform.
#pragma unroll
  for (int s = 0; s < kStages - 1; ++s) {
    if (s < k_tiles) load_stage(s, s);
    cp_async_commit();
  }

  for (int kt = 0; kt < k_tiles; ++kt) {
    cp_async_wait<kStages - 2>();  // tile kt has landed (for this thread)
    __syncthreads();               // ... for all threads; and stage (kt-1) is free
    const int next = kt + kStages - 1;
    if (next < k_tiles) load_stage(next % kStages, next);
    cp_async_commit();

    const int stage = kt % kStages;
#pragma unroll
    for (int ks = 0; ks < kKSteps; ++ks) {
      unsigned a_frag[kMI][4];
      load_a_fragments(a_frag, s_a(stage), warp_m, ks, lane);
#pragma unroll
      for (int w = 0; w < kNumB; ++w) {
        unsigned b_frag[kNI][2];
        load_b_fragments(b_frag, s_b(w, stage), warp_n, ks, lane);
#pragma unroll
        for (int mi = 0; mi < kMI; ++mi)
#pragma unroll
          for (int ni = 0; ni < kNI; ++ni) mma_m16n8k16<Cfg::kInputBf16>(acc[w][mi][ni], a_frag[mi], b_frag[ni]);
      }
    }
  }
  cp_async_wait<0>();

  // ---- fused epilogue ------------------------------------------------------
  // Each warp parks its fp32 accumulators in its own slice of shared memory
  // (the mainloop ring is free now), then walks them 4 adjacent columns per
  // lane in a rolled loop: the activation is compiled once instead of once per
  // fragment (NVRTC time grows with every inlined erfcf/expf), and a warp's
  // stores cover whole 128-byte row segments.
  __syncthreads();  // every warp is done reading the ring
  float* stage = reinterpret_cast<float*>(tf_smem) + warp * kStageFloatsPerWarp;
  const int group = lane / 4, quad_lane = lane % 4;
#pragma unroll
  for (int w = 0; w < kNumB; ++w)
#pragma unroll
    for (int mi = 0; mi < kMI; ++mi)
#pragma unroll
      for (int ni = 0; ni < kNI; ++ni) {
        float* at = stage + w * kWM * kStageStride + (mi * 16 + group) * kStageStride + ni * 8 + 2 * quad_lane;
        *reinterpret_cast<float2*>(at) = make_float2(acc[w][mi][ni][0], acc[w][mi][ni][1]);
        *reinterpret_cast<float2*>(at + 8 * kStageStride) = make_float2(acc[w][mi][ni][2], acc[w][mi][ni][3]);
      }
  __syncwarp();

  void* d = static_cast<char*>(p.d) + batch * p.batch_stride_d * TF_EPILOGUE_OUT_BYTES;
  const long long warp_row0 = m0 + warp_m * kWM, warp_col0 = n0 + warp_n * kWN;
#pragma unroll 1
  for (int it = 0; it < kEpilogueIterations; ++it) {
    const int index = (it * 32 + lane) * 4;
    const int r = index / kWN, c = index % kWN;  // this lane's 4 columns of warp-tile row r
    const long long row = warp_row0 + r, col = warp_col0 + c;
    if (row >= p.m || col >= p.n) continue;
    float x[4];
    const float4 staged = *reinterpret_cast<const float4*>(stage + r * kStageStride + c);
    x[0] = staged.x, x[1] = staged.y, x[2] = staged.z, x[3] = staged.w;
    TfEpilogueOut out;
#if TF_EPILOGUE_GATED && defined(TF_EPILOGUE_GRAD) && TF_EPILOGUE_GRAD
    // Gated backward: D row = [dgate (N) | dup (N)]. The dup half starts N
    // elements in, so its 4-element vector store is aligned only if 4 | N.
    float gate[4], up[4];
#pragma unroll
    for (int j = 0; j < 4; ++j) {
      const long long cj = col + j;
      const long long aux_row = batch * p.batch_stride_aux + row * p.ld_aux;
      x[j] = p.alpha * x[j];
      gate[j] = cj < p.n ? output_to_float(p.aux, aux_row + cj) : 0.0f;
      up[j] = cj < p.n ? output_to_float(p.aux, aux_row + p.n + cj) : 0.0f;
    }
    store_outputs(d, row * p.ldd, col, p.n, tf_epilogue_dgate(x, gate, up, p.epilogue));
    out = tf_epilogue_dup(x, gate, up, p.epilogue);
    store_outputs(d, row * p.ldd + p.n, col, p.n, out, p.n % 4 == 0);
    continue;
#elif TF_EPILOGUE_GATED
    float up[4];
    const float4 staged_up = *reinterpret_cast<const float4*>(stage + kWM * kStageStride + r * kStageStride + c);
    up[0] = staged_up.x, up[1] = staged_up.y, up[2] = staged_up.z, up[3] = staged_up.w;
    if constexpr (Cfg::kHasAux) {
      // The pre-activations the backward needs: aux row = [gate (N) | up (N)].
      const long long aux_row = batch * p.batch_stride_aux + row * p.ld_aux;
#pragma unroll
      for (int j = 0; j < 4; ++j)
        if (col + j < p.n) {
          store_output_element(p.aux, aux_row + col + j, x[j]);
          store_output_element(p.aux, aux_row + p.n + col + j, up[j]);
        }
    }
    out = tf_epilogue(x, up, p.epilogue);
#elif defined(TF_EPILOGUE_GRAD) && TF_EPILOGUE_GRAD
    float z[4];
#pragma unroll
    for (int j = 0; j < 4; ++j) {
      const long long cj = col + j;
      x[j] = p.alpha * x[j];
      z[j] = cj < p.n ? output_to_float(p.aux, batch * p.batch_stride_aux + row * p.ld_aux + cj) : 0.0f;
    }
    out = tf_epilogue(x, z, p.epilogue);
#else
#pragma unroll
    for (int j = 0; j < 4; ++j) {
      const long long cj = col + j;
      float v = p.alpha * x[j];
      if constexpr (Cfg::kHasBias) v += cj < p.n ? input_to_float(p.bias[cj]) : 0.0f;
      if constexpr (Cfg::kHasResidual)
        v += cj < p.n ? p.beta * output_to_float(p.c, batch * p.batch_stride_c + row * p.ldc + cj) : 0.0f;
      x[j] = v;
      if constexpr (Cfg::kHasAux)
        if (cj < p.n) store_output_element(p.aux, batch * p.batch_stride_aux + row * p.ld_aux + cj, v);
    }
    out = tf_epilogue(x, p.epilogue);
#endif
    store_outputs(d, row * p.ldd, col, p.n, out);
  }
}
