// One emulated run of a GemmVariant on one problem shape, checked end to end:
// inputs in padded, batch-strided, guard-banded buffers (padding poisoned with
// NaN so that reading it shows up), D and aux poisoned before the launch, then
//  - no emulator violation (races, out-of-bounds, misalignment, deadlock);
//  - every output element written, nothing else (padding, guards) touched,
//    inputs unchanged;
//  - D (and aux) against the float64 reference: relative Frobenius error
//    <= 1e-2 and every element within its output type's rounding.
// FP8 variants: e4m3 / e5m2 inputs, the reference multiplies the same decoded
// values by the scales; an e4m3 D is compared with the reference quantised by
// the same conversion (one e4m3 step per element), amax with max |value|.
#pragma once

#include <string>
#include <vector>

#include "GemmVariant.h"

namespace emu {

struct CaseShape {
  long long m = 1, n = 1, k = 1;
  unsigned batch = 1;
  bool shared_weights = false;  ///< batch stride 0 for B (one weight matrix for every batch)
  /// Dense tensors: leading dimensions equal to the row lengths (K and N must
  /// be multiples of 8) and no gaps between batches. Otherwise every leading
  /// dimension and batch stride is padded (and different), to catch mix-ups.
  bool packed = false;
};

/// The scale_d of FP8 variants with an e4m3 output: 3 (not a power of two, so
/// that value · scale_d rounds in fp32; most values stay below 448, the
/// largest of the tests' shapes saturate).
inline constexpr float kFp8ScaleD = 3.0f;

struct CaseOutcome {
  std::vector<std::string> failures;  ///< empty: the run passed
  double relative_error = 0.0;        ///< of D, Frobenius
  double aux_relative_error = 0.0;
  /// D as read back (logical batch x M x N order, decoded to double).
  std::vector<double> d_values;
  float amax = 0.0f;  ///< the amax output (FP8 variants with amax)
};

CaseOutcome run_gemm_case(const GemmVariant& variant, const CaseShape& shape, const RunOptions& options);

}  // namespace emu
