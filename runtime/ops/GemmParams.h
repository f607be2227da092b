// The host mirror of TfGemmParams (templates/tilefuse/gemm_params.cuh) and
// the one kernel argument it travels in.
//
// The kernel takes `const TfGemmParams p` by value: the fixed fields below,
// then `TfEpilogueParams epilogue`, a struct of one float per runtime
// parameter (CompiledEpilogue::parameters order) that is EMPTY — size 1,
// alignment 1 in CUDA C++ — when the activation has no parameters. The host
// therefore builds the argument as raw bytes of exactly that layout:
//
//   offset 0    7 pointers                      a b b_up d bias c aux
//   offset 56   13 x long long                  m n k, lda ldb ldc ldd ld_aux, 5 batch strides
//   offset 160  float alpha, beta
//   offset 168  TfEpilogueParams                P floats (or 1 empty byte)
//   size        round_up(168 + max(4P, 1), 8)   (8 = the struct's alignment)
//
// An activation with declared row/column inputs (R row, C column) appends
// TfOperandVectors at that size: max(R,1) pointers, max(R,1) batch strides,
// max(C,1) pointers, max(C,1) batch strides (8 bytes each). An FP8 op
// (TF_GEMM_FP8) appends TfFp8Params after it (after TfGroupedParams when
// grouped): scale_a, scale_b, scale_d, amax (4 pointers, 32 bytes).
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <span>

#include "tilefuse/tilefuse.hpp"

namespace tilefuse::ops {

/// Field for field TfGemmParams without its trailing epilogue member.
/// Element pointers are untyped here; the kernel knows their dtypes.
struct GemmParams {
  const void* a = nullptr;
  const void* b = nullptr;
  const void* b_up = nullptr;
  void* d = nullptr;
  const void* bias = nullptr;
  const void* c = nullptr;
  void* aux = nullptr;
  long long m = 0, n = 0, k = 0;
  long long lda = 0, ldb = 0, ldc = 0, ldd = 0, ld_aux = 0;
  long long batch_stride_a = 0, batch_stride_b = 0, batch_stride_c = 0, batch_stride_d = 0,
            batch_stride_aux = 0;
  float alpha = 1.0f, beta = 0.0f;
};

// The layout above, computed by hand: a change on either side must show here.
static_assert(sizeof(void*) == 8 && sizeof(long long) == 8 && sizeof(float) == 4,
              "tilefuse's kernel ABI assumes an LP64 host (as CUDA does)");
static_assert(offsetof(GemmParams, a) == 0 && offsetof(GemmParams, aux) == 48);
static_assert(offsetof(GemmParams, m) == 56 && offsetof(GemmParams, k) == 72);
static_assert(offsetof(GemmParams, lda) == 80 && offsetof(GemmParams, ld_aux) == 112);
static_assert(offsetof(GemmParams, batch_stride_a) == 120 && offsetof(GemmParams, batch_stride_aux) == 152);
static_assert(offsetof(GemmParams, alpha) == 160 && offsetof(GemmParams, beta) == 164);
static_assert(sizeof(GemmParams) == 168 && alignof(GemmParams) == 8);

/// Offset of TfGemmParams::epilogue: right after beta (floats need no padding).
inline constexpr std::size_t kEpilogueParamsOffset = sizeof(GemmParams);
/// TfGemmParams' alignment (its pointers and long longs).
inline constexpr std::size_t kGemmParamsAlign = alignof(GemmParams);
/// Runtime parameters one activation may have (the argument stays far below
/// CUDA's 4 KiB kernel-parameter limit).
inline constexpr std::size_t kMaxEpilogueParams = 64;

/// sizeof(TfGemmParams) in CUDA C++ for an activation with `parameter_count` floats.
constexpr std::size_t kernel_params_bytes(std::size_t parameter_count) {
  const std::size_t epilogue = parameter_count == 0 ? 1 : parameter_count * sizeof(float);
  const std::size_t end = kEpilogueParamsOffset + epilogue;
  return (end + kGemmParamsAlign - 1) / kGemmParamsAlign * kGemmParamsAlign;
}
static_assert(kernel_params_bytes(0) == 176 && kernel_params_bytes(1) == 176 &&
              kernel_params_bytes(2) == 176 && kernel_params_bytes(3) == 184);

/// The declared row/column input vectors of one launch (TfOperandVectors),
/// batch strides resolved (0 broadcasts).
struct OperandVectors {
  int rows = 0, cols = 0;
  std::array<const float*, kMaxRowColInputs> row{}, col{};
  std::array<long long, kMaxRowColInputs> row_batch_stride{}, col_batch_stride{};
};

/// sizeof(TfOperandVectors) for `rows` row and `cols` column inputs; 0 when
/// there are none (the kernel then has no such member).
constexpr std::size_t operand_vectors_bytes(int rows, int cols) {
  if (rows == 0 && cols == 0) return 0;
  return 16 * static_cast<std::size_t>(std::max(rows, 1) + std::max(cols, 1));
}

/// sizeof(TfGemmParams) with declared row/column inputs appended.
constexpr std::size_t kernel_params_bytes(std::size_t parameter_count, int rows, int cols) {
  return kernel_params_bytes(parameter_count) + operand_vectors_bytes(rows, cols);
}
static_assert(kernel_params_bytes(0, 1, 1) == 176 + 32 && kernel_params_bytes(3, 0, 2) == 184 + 48);

/// TfFp8Params: the FP8 scales and amax of one launch (device pointers).
struct Fp8Params {
  const float* scale_a = nullptr;
  const float* scale_b = nullptr;
  const float* scale_d = nullptr;
  float* amax = nullptr;
};
static_assert(sizeof(Fp8Params) == 32 && offsetof(Fp8Params, amax) == 24);

/// sizeof(TfFp8Params) when the kernel has it (an FP8 op), else 0.
constexpr std::size_t fp8_params_bytes(bool fp8) { return fp8 ? sizeof(Fp8Params) : 0; }

/// sizeof(TfGemmParams) with row/column inputs and, for an FP8 op, TfFp8Params.
constexpr std::size_t kernel_params_bytes(std::size_t parameter_count, int rows, int cols, bool fp8) {
  return kernel_params_bytes(parameter_count, rows, cols) + fp8_params_bytes(fp8);
}
static_assert(kernel_params_bytes(0, 0, 0, true) == 176 + 32 && kernel_params_bytes(1, 1, 0, true) == 176 + 32 + 32);

/// The bytes of one TfGemmParams, aligned like it; passed as the kernel's
/// single argument (cuLaunchKernel copies `size` bytes from `bytes`).
struct KernelParamBuffer {
  alignas(kGemmParamsAlign) std::byte bytes[kernel_params_bytes(kMaxEpilogueParams, kMaxRowColInputs,
                                                                kMaxRowColInputs, /*fp8=*/true)];
  std::size_t size = 0;
};

/// Lays out `params` followed by `epilogue_values` (at most
/// kMaxEpilogueParams; the caller checks), then `vectors` when it declares
/// any, then `*fp8` when given (an FP8 op), into `out`; padding bytes are zero.
void pack_kernel_params(const GemmParams& params, std::span<const float> epilogue_values,
                        KernelParamBuffer& out, const OperandVectors& vectors = {},
                        const Fp8Params* fp8 = nullptr);

}  // namespace tilefuse::ops
