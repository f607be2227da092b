// The float64 reference of the FP8 benchmark, pure host code (unit-tested on
// the CPU: tests/unit/bench/fp8_reference_test.cpp): what each scaling mode
// multiplies, how the scale tensors are indexed, and what an FP8 output
// element must hold.
//
//   tensor    x = sa · sb · Σ_k a[r,k]·w[c,k]          (one float each)
//   row       x = Σ_k a[r,k]·w[c,k]; the activation applies sa[r]·sb[c]
//             (row/column inputs: "gelu(x * sa * sb)"), as torch._scaled_mm's
//             row-wise mode and cuBLASLt's OUTER_VEC_32F scale the product
//   block128  x = Σ_kb sa[kb][r] · sb[c/128][kb] · Σ_{k in kb} a[r,k]·w[c,k]
//             (DeepSeek-V3: sa is float[ceil(K/128)][M], M contiguous; sb is
//             float[ceil(N/128)][ceil(K/128)]; docs/fp8.md)
// A bf16 output holds act(x); an e4m3 output holds
// e4m3_satfinite(float(act(x) · scale_d)) (the kernel rounds f32, once).
#pragma once

#include <random>
#include <span>
#include <vector>

#include "bench/fp8/Fp8Scaling.h"

namespace tilefuse::bench {

/// The host copy of one problem's scales (the device holds the same values).
struct HostScales {
  Fp8Scaling scaling = Fp8Scaling::PerTensor;
  long long m = 0, n = 0, k = 0;
  float a = 1.0f, b = 1.0f;    ///< tensor
  std::vector<float> row;      ///< row: M values (sa)
  std::vector<float> col;      ///< row: N values (sb)
  std::vector<float> block_a;  ///< block128: [ceil(K/128)][M]
  std::vector<float> block_b;  ///< block128: [ceil(N/128)][ceil(K/128)]

  /// Positive random scales of the right shapes, around `base` (a factor in
  /// [0.5, 1.5) each, so that every block and row differs).
  static HostScales random(Fp8Scaling scaling, long long m, long long n, long long k, float base,
                           std::mt19937_64& rng);
  /// sa[kb][row] and sb[col/128][kb] of block128.
  float block_a_at(long long kb, long long row) const { return block_a[kb * m + row]; }
  float block_b_at(long long col, long long kb) const { return block_b[(col / 128) * k_blocks() + kb]; }
  long long k_blocks() const { return (k + 127) / 128; }
};

/// The accumulator the activation sees at (row, col) from the decoded FP8
/// row `a` of A (K values) and row `w` of W (K values).
double scaled_accumulator(const HostScales& scales, long long row, long long col, std::span<const double> a,
                          std::span<const double> w);

/// What the output element must hold, as a double: `value` itself for bf16
/// (the comparison's tolerance covers the bf16 rounding), the decoded
/// e4m3_satfinite(float(value · scale_d)) for an FP8 output.
double stored_value(double value, bool fp8_out, float scale_d);

}  // namespace tilefuse::bench
