// The cuBLASLt FP8 peers of tilefuse_bench_fp8: D (M x N, row-major) =
// epilogue(scale_a·scale_b·(A·Wᵀ)) with A (M x K, row-major) and W (N x K,
// PyTorch Linear layout) in e4m3, FP32 accumulation, D in bf16 or e4m3.
//
// cuBLASLt's FP8 kernels take only the "TN" layout (its A transposed, its B
// not: cuBLAS docs, cublasLtMatmul, "To use FP8 kernels ... A must be
// transposed and B non-transposed"). In its column-major view our row-major
// problem is Dᵀ (N x M) = op_T(W stored K x N) · Aᵀ (K x M): W is its A
// (transposed), our A is its B (not transposed): TN, with no copy.
//
// Scaling (CUBLASLT_MATMUL_DESC_{A,B}_SCALE_MODE, cuBLASLt >= 12.9 on Hopper):
//   PerTensor  SCALAR_32F: one device float each (its A = our scale_b).
//   RowWise    OUTER_VEC_32F: its A gets the N-vector sb, its B the M-vector sa.
//   Block128   its A (W): BLK128x128_32F, float[ceil(N/128)][ceil(K/128)];
//              its B (A): VEC128_32F, float[ceil(K/128)][M] (M contiguous) —
//              the same buffers the tilefuse op and torch._scaled_mm take.
// FP8 output: D in e4m3 with CUBLASLT_MATMUL_DESC_D_SCALE_POINTER and the amax
// of D before scaling at CUBLASLT_MATMUL_DESC_AMAX_D_POINTER; C is then bf16
// (FP8 kernels pair an FP8 D with a 16-bit C) and, with beta = 0, never read.
// Epilogue GELU is the tanh form (recorded as activation "gelu_tanh").
// Where cuBLASLt has no algorithm for a combination, plan() says so
// (ErrorCode::Unsupported) and the benchmark records that row as not run.
#pragma once

#include <cuda.h>

#include <memory>
#include <string>

#include "bench/fp8/Fp8Scaling.h"
#include "runtime/check/DeviceBuffer.h"
#include "tilefuse/error.hpp"

namespace tilefuse::bench {

struct LtFp8Problem {
  long long m = 0, n = 0, k = 0;
  Fp8Scaling scaling = Fp8Scaling::PerTensor;
  bool fp8_out = false;      ///< D in e4m3 (scale_d, amax) instead of bf16
  bool gelu = false;         ///< CUBLASLT_EPILOGUE_GELU (tanh form)
  bool fast_accum = false;   ///< CUBLASLT_MATMUL_DESC_FAST_ACCUM (off: promoted partial sums, as tilefuse)
};

/// Device pointers of one launch. scale_a/scale_b as described above;
/// scale_d and amax only with fp8_out; c: an M x N bf16 buffer with fp8_out.
struct LtFp8Operands {
  const void* a = nullptr;
  const void* w = nullptr;
  void* d = nullptr;
  void* c = nullptr;
  const float* scale_a = nullptr;
  const float* scale_b = nullptr;
  const float* scale_d = nullptr;
  float* amax = nullptr;
};

class CublasLtFp8 {
 public:
  class Plan;  ///< descriptors + the heuristic's algorithm, chosen once

  static Expected<CublasLtFp8> create();
  ~CublasLtFp8();
  CublasLtFp8(CublasLtFp8&&) noexcept;
  CublasLtFp8& operator=(CublasLtFp8&&) = delete;
  CublasLtFp8(const CublasLtFp8&) = delete;

  /// The scale/amax pointers are attributes of the descriptor: they are fixed
  /// here, as a framework does once per layer.
  Expected<std::shared_ptr<Plan>> plan(const LtFp8Problem& problem, const LtFp8Operands& operands) const;
  Expected<void> run(CUstream stream, const Plan& plan) const;

 private:
  CublasLtFp8() = default;
  void* handle_ = nullptr;  // cublasLtHandle_t (kept out of this header)
  gpu::DeviceBuffer workspace_;
};

}  // namespace tilefuse::bench
