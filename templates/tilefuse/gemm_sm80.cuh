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
//       kInputBf16, kBColMajor, kHasBias, kHasResidual, kHasAux, kGateInterleave;
//   - FP8 inputs (sm_89, sm_90): #define TF_GEMM_FP8 1 and struct TfFp8Config
//     (tilefuse/gemm_sm80_fp8.cuh): e4m3 A, e4m3/e5m2 B (N x K), per-tensor or
//     Block128 scales, bf16 bias, e4m3 output with amax.
//
// Data path per k-tile: cp.async (16 B, zero-filled past M/N/K) → swizzled
// shared memory ring of kStages tiles → ldmatrix → mma.sync.m16n8k16 (fp32
// accumulate). Epilogue: accumulators staged through shared memory, then each
// lane applies the activation to 4 adjacent columns of one row at a time and
// stores 8 bytes (16-bit out) or 16 bytes (fp32 out); a warp covers whole
// row segments.
//
// Preconditions the host checks (runtime/ops/GemmArguments.cpp): 16-byte aligned
// A, B, D, C, aux; lda, ldb, ldc, ldd, ld_aux multiples of 8 elements (16 for
// FP8 tensors); bias 8-byte aligned. Any M, N, K >= 1 (FP8: K % 16 == 0).
#pragma once

#include "tilefuse/ptx_sm80.cuh"
#include "tilefuse/gemm_params.cuh"
#include "tilefuse/gemm_epilogue_io.cuh"

namespace tf::sm80 {

using Cfg = TfGemmConfig;
using namespace tf::gemm_io;  // input_to_float, output_to_float, store_outputs, store_output_floats

constexpr int kBM = Cfg::kBlockM, kBN = Cfg::kBlockN, kBK = Cfg::kBlockK;
constexpr int kWM = Cfg::kWarpM, kWN = Cfg::kWarpN, kStages = Cfg::kStages;
constexpr int kWarpsM = kBM / kWM, kWarpsN = kBN / kWN;
constexpr int kThreads = kWarpsM * kWarpsN * 32;
constexpr int kMI = kWM / 16;     // m16 tiles per warp
constexpr int kNI = kWN / 8;      // n8 tiles per warp
constexpr int kKSteps = kBK / 16; // k16 steps per k-tile (FP8: k32, 16 slots of two values)
constexpr bool kGated = TF_EPILOGUE_GATED != 0;
#if defined(TF_EPILOGUE_GRAD) && TF_EPILOGUE_GRAD
constexpr bool kBackward = true;
#else
constexpr bool kBackward = false;
#endif
#if defined(TF_GEMM_FP8)
constexpr bool kFp8 = true;
#else
constexpr bool kFp8 = false;
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
#if defined(TF_EPILOGUE_ROW_INPUTS) && defined(TF_EPILOGUE_GRAD) && TF_EPILOGUE_GRAD
#error "row/column inputs are not supported in a backward epilogue yet"
#endif
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
/// The XOR stays inside the row only when kChunksPerRow is a power of two
/// (the host rejects other tiles first: compiler::tile_shape_rejection).
template <int kChunksPerRow>
__device__ __forceinline__ int swizzle(int row, int chunk) {
  static_assert(kChunksPerRow > 0 && (kChunksPerRow & (kChunksPerRow - 1)) == 0,
                "swizzle needs a power-of-two count of 16-byte chunks per shared-memory row: "
                "block_k / 8 (and block_n / 8 for a row-major B) must be a power of two");
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

/// How one thread's 16-byte cp.async copies cover a kRows x kChunksPerRow
/// (16-byte chunk) tile: thread t copies chunk t % kChunksPerRow of rows
/// t / kChunksPerRow + pass * kRowsPerPass, one row per pass.
template <int kRows, int kChunksPerRow>
struct CopyLayout {
  static constexpr int kRowsPerPass = kThreads / kChunksPerRow;
  static constexpr int kPasses = kRows / kRowsPerPass;
  static_assert(kThreads % kChunksPerRow == 0 && kRows % kRowsPerPass == 0,
                "a tile's 16-byte chunks must split into whole rows per pass over the threads");
  __device__ __forceinline__ static int chunk() { return threadIdx.x % kChunksPerRow; }
  __device__ __forceinline__ static int row(int pass) { return threadIdx.x / kChunksPerRow + pass * kRowsPerPass; }
  /// Byte offset of this thread's chunk of `pass` in a (swizzled) stage.
  __device__ __forceinline__ static unsigned shared_offset(int pass) {
    const int r = row(pass);
    return (r * kChunksPerRow * 8 + swizzle<kChunksPerRow>(r, chunk()) * 8) * 2;
  }
};

/// Row r of the A tile at m0: matrix row m0 + r.
struct ARows {
  long long m0;
  __device__ __forceinline__ long long operator()(int r) const { return m0 + r; }
  __device__ __forceinline__ long long logical(int r) const { return m0 + r; }
};

/// Row r of a col-major B tile at n0: output feature n0 + r, stored at weight
/// row weight_index(n0 + r, which).
struct BRows {
  long long n0;
  int which;
  __device__ __forceinline__ long long operator()(int r) const { return weight_index(n0 + r, which); }
  __device__ __forceinline__ long long logical(int r) const { return n0 + r; }
};

// The k-tile copies keep what does not change along K (row pointers, the
// bound checks of the M or N dimension) from one set-up per output tile, so a
// k-tile costs an add and a compare per copy. That is fewer instructions in
// the mainloop and much less code for NVRTC to optimize (compile latency: the
// per-k-tile index arithmetic was a fifth of the NVVM time).

/// An operand whose rows are M or N and whose K is contiguous (A; col-major
/// B): the rows' bound checks are fixed, the K bound moves per k-tile.
/// kLinearRows: row r of the tile is matrix row first_row + r (else the
/// rows are recomputed per k-tile through `row_of`, for interleaved weights).
template <int kRows, bool kLinearRows>
struct KContiguousCopy {
  using Layout = CopyLayout<kRows, kBK / 8>;
  const unsigned short* matrix;  // the operand (the address of zero-byte copies)
  const unsigned short* first;   // this thread's pass-0 row, its chunk's column, k = 0
  long long pass_stride;         // elements between consecutive passes' rows
  unsigned rows_inside;          // bit `pass`: that pass's row is inside the matrix

  /// Rows first_row.. of `matrix` (leading dimension ld, `extent` rows).
  template <class RowOf>
  __device__ __forceinline__ void init(const unsigned short* m, long long ld, long long extent, RowOf row_of) {
    matrix = m;
    first = m + row_of(Layout::row(0)) * ld + Layout::chunk() * 8;
    pass_stride = Layout::kRowsPerPass * ld;
    rows_inside = 0;
#pragma unroll
    for (int pass = 0; pass < Layout::kPasses; ++pass)
      rows_inside |= (row_of.logical(Layout::row(pass)) < extent ? 1u : 0u) << pass;
  }

  template <class RowOf>
  __device__ __forceinline__ void copy(unsigned stage, long long k0, long long k, long long ld, RowOf row_of) const {
    const int k_bytes = valid_bytes(k - k0 - Layout::chunk() * 8);
#pragma unroll
    for (int pass = 0; pass < Layout::kPasses; ++pass) {
      const int bytes = (rows_inside >> pass) & 1u ? k_bytes : 0;
      const unsigned short* src;
      if constexpr (kLinearRows) src = first + pass * pass_stride + k0;
      else src = matrix + row_of(Layout::row(pass)) * ld + Layout::chunk() * 8 + k0;
      cp_async_16(stage + Layout::shared_offset(pass), bytes ? src : matrix, bytes);
    }
  }
};

/// Row-major B (K x N): the tile's rows are K, so its column chunk (and that
/// chunk's bound check against N) is fixed and the K bound moves per k-tile.
struct NContiguousCopy {
  using Layout = CopyLayout<kBK, kBN / 8>;
  const unsigned short* matrix;  // the operand (the address of zero-byte copies)
  const unsigned short* first;   // this thread's pass-0 K row of k-tile 0, its column chunk
  int column_bytes;              // valid bytes of the column chunk (0..16)

  /// The same interface as KContiguousCopy's: `columns` names the output
  /// features of the tile (n0, and gate or up).
  __device__ __forceinline__ void init(const unsigned short* b, long long ldb, long long n, BRows columns) {
    const long long gn = columns.n0 + Layout::chunk() * 8;
    matrix = b;
    first = b + Layout::row(0) * ldb + weight_index(gn, columns.which);
    column_bytes = valid_bytes(n - gn);
  }

  __device__ __forceinline__ void copy(unsigned stage, long long k0, long long k, long long ldb, BRows) const {
#pragma unroll
    for (int pass = 0; pass < Layout::kPasses; ++pass) {
      const long long gk = k0 + Layout::row(pass);
      const int bytes = gk < k ? column_bytes : 0;
      const unsigned short* src = first + (k0 + pass * Layout::kRowsPerPass) * ldb;
      cp_async_16(stage + Layout::shared_offset(pass), bytes ? src : matrix, bytes);
    }
  }
};

/// The B operand's copy for its layout (no <type_traits>: the templates
/// include nothing that NVRTC would have to parse).
template <bool kColMajor>
struct BCopyFor {
  using type = NContiguousCopy;
};
template <>
struct BCopyFor<true> {
  using type = KContiguousCopy<kBN, Cfg::kGateInterleave == 0>;
};
using BTileCopy = BCopyFor<Cfg::kBColMajor>::type;

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

#if defined(TF_GEMM_FP8)
#include "tilefuse/gemm_sm80_fp8.cuh"
#define TF_SM80_FP8_CONSTANT(name) Fp8Cfg::name
#else
#define TF_SM80_FP8_CONSTANT(name) false
#endif

extern "C" __global__ void __launch_bounds__(tf::sm80::kThreads, 1)
    tf_gemm(const TfGemmParams p) {
  using namespace tf;
  using namespace tf::sm80;
  extern __shared__ __align__(128) unsigned char tf_smem[];

  long long m0, n0;
  block_origin(p, m0, n0);
  if (m0 >= p.m || n0 >= p.n) return;
  const long long batch = blockIdx.y;
  // The mainloop counts K, leading dimensions and batch strides of A and B in
  // 16-bit slots: one element, or two FP8 values (the host checks K % 16,
  // lda, ldb and the strides % 16 for FP8, so the halves are exact).
  constexpr long long kPerSlot = kFp8 ? 2 : 1;
  const long long k_slots = p.k / kPerSlot, lda = p.lda / kPerSlot, ldb = p.ldb / kPerSlot;
  const long long stride_b = p.batch_stride_b / kPerSlot;
  const unsigned short* a = p.a + batch * (p.batch_stride_a / kPerSlot);
  const unsigned short* b_ops[2] = {p.b + batch * stride_b,
                                    kNumB == 2 && Cfg::kGateInterleave == 0 ? p.b_up + batch * stride_b
                                                                        : p.b + batch * stride_b};

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

  const int k_tiles = static_cast<int>((k_slots + kBK - 1) / kBK);
  KContiguousCopy<kBM, true> a_copy;
  a_copy.init(a, lda, p.m, ARows{m0});
  BTileCopy b_copy[kNumB];
#pragma unroll
  for (int w = 0; w < kNumB; ++w) b_copy[w].init(b_ops[w], ldb, p.n, BRows{n0, w});
  auto load_stage = [&](int stage, int k_tile) {
    const long long k0 = static_cast<long long>(k_tile) * kBK;
    a_copy.copy(s_a(stage), k0, k_slots, lda, ARows{m0});
#pragma unroll
    for (int w = 0; w < kNumB; ++w) b_copy[w].copy(s_b(w, stage), k0, k_slots, ldb, BRows{n0, w});
  };
  // Block128 (FP8): each k-tile's MMAs accumulate into `part`, promoted into
  // `acc` with that k-tile's scales (gemm_sm80_fp8.cuh).
  constexpr bool kBlock128 = TF_SM80_FP8_CONSTANT(kBlock128);
  // One element for the other kernels: a full-size unused array is not
  // always optimized away (measured: sm_90 FP8 per-tensor kernels spilled).
  [[maybe_unused]] float part[kBlock128 ? kNumB : 1][kBlock128 ? kMI : 1][kBlock128 ? kNI : 1][4];
  if constexpr (kBlock128) {
#pragma unroll
    for (int w = 0; w < kNumB; ++w)
#pragma unroll
      for (int mi = 0; mi < kMI; ++mi)
#pragma unroll
        for (int ni = 0; ni < kNI; ++ni)
#pragma unroll
          for (int r = 0; r < 4; ++r) part[w][mi][ni][r] = 0.0f;
  }

  // Prologue: kStages - 1 tiles in flight. Every iteration commits exactly one
  // group (possibly empty) so wait_group counts stay uniform. Rolled: it runs
  // once, and each unrolled copy of the tile loads cost NVRTC ~15 ms.
#pragma unroll 1
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
#if defined(TF_GEMM_FP8)
    [[maybe_unused]] Block128Scales scales;
    if constexpr (kBlock128) scales.load(p, batch, m0, n0, warp_m, warp_n, lane, kt);
#endif
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
          for (int ni = 0; ni < kNI; ++ni) {
#if defined(TF_GEMM_FP8)
            if constexpr (kBlock128)
              mma_m16n8k32_fp8<Fp8Cfg::kBE5M2>(part[w][mi][ni], a_frag[mi], b_frag[ni]);
            else
              mma_m16n8k32_fp8<Fp8Cfg::kBE5M2>(acc[w][mi][ni], a_frag[mi], b_frag[ni]);
#else
            mma_m16n8k16<Cfg::kInputBf16>(acc[w][mi][ni], a_frag[mi], b_frag[ni]);
#endif
          }
      }
    }
#if defined(TF_GEMM_FP8)
    if constexpr (kBlock128) scales.promote(acc, part);
#endif
  }
  cp_async_wait<0>();
#if defined(TF_GEMM_FP8)
  if constexpr (!kBlock128) {  // per-tensor: the product of the two scales, once
    const float scale = per_tensor_scale(p);
#pragma unroll
    for (int w = 0; w < kNumB; ++w)
#pragma unroll
      for (int mi = 0; mi < kMI; ++mi)
#pragma unroll
        for (int ni = 0; ni < kNI; ++ni)
#pragma unroll
          for (int r = 0; r < 4; ++r) acc[w][mi][ni][r] *= scale;
  }
#endif

  // ---- fused epilogue ------------------------------------------------------
  // Each warp parks its fp32 accumulators in its own slice of shared memory
  // (the mainloop ring is free now), then walks them 4 adjacent columns per
  // lane in a rolled loop: the activation is compiled once instead of once per
  // fragment (NVRTC time grows with every inlined erfcf/expf), and a warp's
  // stores cover whole 128-byte row segments.
  __syncthreads();  // every warp is done reading the ring
  const unsigned s_stage = s_base + warp * kStageFloatsPerWarp * 4;
  const int group = lane / 4, quad_lane = lane % 4;
  // st.shared through inline asm: 2·kNumB·kMI·kNI plain C++ stores into one
  // buffer made NVVM spend ~60 ms on alias analysis (compile latency).
#pragma unroll
  for (int w = 0; w < kNumB; ++w)
#pragma unroll
    for (int mi = 0; mi < kMI; ++mi)
#pragma unroll
      for (int ni = 0; ni < kNI; ++ni) {
        const unsigned at =
            s_stage + (w * kWM * kStageStride + (mi * 16 + group) * kStageStride + ni * 8 + 2 * quad_lane) * 4;
        st_shared_f32x2(at, acc[w][mi][ni][0], acc[w][mi][ni][1]);
        st_shared_f32x2(at + 8 * kStageStride * 4, acc[w][mi][ni][2], acc[w][mi][ni][3]);
      }
  __syncwarp();

  // An e4m3 D has 1-byte elements; the epilogue's values are fp32 then.
  constexpr bool kOutE4M3 = TF_SM80_FP8_CONSTANT(kOutE4M3);
  constexpr long long kOutBytes = kOutE4M3 ? 1 : TF_EPILOGUE_OUT_BYTES;
  void* d = static_cast<char*>(p.d) + batch * p.batch_stride_d * kOutBytes;
#if defined(TF_GEMM_FP8)
  [[maybe_unused]] const float scale_d = kOutE4M3 && p.fp8.scale_d ? *p.fp8.scale_d : 1.0f;
  [[maybe_unused]] unsigned amax_bits = 0;  // max |value| of this lane's outputs, as float bits
#endif
  const long long warp_row0 = m0 + warp_m * kWM, warp_col0 = n0 + warp_n * kWN;
#if defined(TF_EPILOGUE_ROW_INPUTS)
  // A lane walks one fixed group of 4 columns (32 lanes x 4 = 128 columns per
  // step, kWN divides 128), so its column inputs are loaded once, here; the
  // row inputs once per row below (the lanes of a row read the same address).
  static_assert(128 % kWN == 0, "a lane's epilogue columns must not change between steps");
  float column_values[TF_OPERAND_SLOTS(TF_EPILOGUE_COL_INPUTS)][TF_EPILOGUE_VEC];
  tf::load_column_operands(p, batch, warp_col0 + (lane * 4) % kWN, column_values);
#endif
#pragma unroll 1
  for (int it = 0; it < kEpilogueIterations; ++it) {
    const int index = (it * 32 + lane) * 4;
    const int r = index / kWN, c = index % kWN;  // this lane's 4 columns of warp-tile row r
    const long long row = warp_row0 + r, col = warp_col0 + c;
    if (row >= p.m || col >= p.n) continue;
    float x[4];
    const float4 staged = ld_shared_f32x4(s_stage + (r * kStageStride + c) * 4);
    x[0] = staged.x, x[1] = staged.y, x[2] = staged.z, x[3] = staged.w;
    TfEpilogueOut out;
#if defined(TF_EPILOGUE_ROW_INPUTS)
    TfEpilogueOperands operands;
    tf::load_row_operands(p, batch, row, operands);
#pragma unroll
    for (int k = 0; k < TF_EPILOGUE_COL_INPUTS; ++k)
#pragma unroll
      for (int j = 0; j < TF_EPILOGUE_VEC; ++j) operands.col[k][j] = column_values[k][j];
#define TF_EPILOGUE_OPERANDS_ARG , operands
#else
#define TF_EPILOGUE_OPERANDS_ARG
#endif
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
    const float4 staged_up = ld_shared_f32x4(s_stage + (kWM * kStageStride + r * kStageStride + c) * 4);
    up[0] = staged_up.x, up[1] = staged_up.y, up[2] = staged_up.z, up[3] = staged_up.w;
    if constexpr (Cfg::kHasAux) {
      // The pre-activations the backward needs: aux row = [gate (N) | up (N)].
      // The up half starts N elements in: a vector store only if 4 | N.
      const long long aux_row = batch * p.batch_stride_aux + row * p.ld_aux;
      store_output_floats(p.aux, aux_row, col, p.n, x);
      store_output_floats(p.aux, aux_row + p.n, col, p.n, up, p.n % 4 == 0);
    }
    out = tf_epilogue(x, up, p.epilogue TF_EPILOGUE_OPERANDS_ARG);
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
    }
    if constexpr (Cfg::kHasAux) store_output_floats(p.aux, batch * p.batch_stride_aux + row * p.ld_aux, col, p.n, x);
    out = tf_epilogue(x, p.epilogue TF_EPILOGUE_OPERANDS_ARG);
#endif
#undef TF_EPILOGUE_OPERANDS_ARG
#if defined(TF_GEMM_FP8) && TF_EPILOGUE_OUT_BYTES == 4
    if constexpr (kOutE4M3) {
      store_e4m3_outputs(d, row * p.ldd, col, p.n, out, scale_d, amax_bits);
      continue;
    }
#endif
    store_outputs(d, row * p.ldd, col, p.n, out);
  }
#if defined(TF_GEMM_FP8)
  if constexpr (TF_SM80_FP8_CONSTANT(kAmax)) reduce_amax(p, amax_bits);
#endif
}
#undef TF_SM80_FP8_CONSTANT
