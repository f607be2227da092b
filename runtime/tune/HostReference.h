// The float64 value of one element of a fused GEMM's output, computed on the
// host from the inputs the device holds (decoded to float): the GEMM (both
// products of a gated op) in float64, then the epilogue through the DSL
// interpreter. The tuner's check of the first candidate compares sampled
// elements with it (runtime/tune/OutputCheck.h); tests/gpu has its own,
// batched and strided, for the GPU harness.
#pragma once

#include <span>
#include <string>
#include <utility>
#include <vector>

#include "dsl/Interpreter.h"
#include "dsl/Resolve.h"
#include "tilefuse/error.hpp"

namespace tilefuse::tune {

/// One problem, batch 1, packed: A is m x k row-major; B is k x F row-major,
/// or F x k with b_col_major, where F = 2n for an interleaved gated weight
/// (blocks of gate_interleave gate features, then as many up features) and n
/// otherwise; W_up (gated, not interleaved) is shaped like B; bias has n
/// values, C is m x n.
///
/// Grouped (mixture of experts): `group_offsets` holds E+1 ascending row
/// offsets (offsets[0] = 0, offsets[E] = m); row r belongs to the group e with
/// offsets[e] <= r < offsets[e+1] and is multiplied by that group's weights:
/// B, W_up and bias hold E of the matrices/vectors above, one after the other.
/// A masked problem with every group full ([E, M_max, K] packed) is the
/// contiguous one with offsets e x M_max.
struct HostGemm {
  long long m = 0, n = 0, k = 0;
  bool gated = false;
  int gate_interleave = 0;
  bool b_col_major = false;
  float alpha = 1.0f, beta = 1.0f;  ///< single-input only (as MatmulArgs)
  std::span<const float> a, b, b_up, bias, c;  ///< bias / c empty when absent
  std::span<const int> group_offsets;          ///< empty: not grouped
  /// Declared row / column inputs (MatmulOptions::row_inputs / col_inputs),
  /// by name: a row input has m values (one per row of D), a column input n
  /// per group (groups one after the other).
  std::vector<std::pair<std::string, std::span<const float>>> row_inputs, col_inputs;
};

/// The reference of element (row, col); InvalidInput for a position outside
/// the output, an input span too short for the shape or offsets that are not
/// E+1 ascending values from 0 to m; the interpreter's
/// error (e.g. a missing parameter value) otherwise.
Expected<double> host_reference_element(const HostGemm& gemm, const dsl::ResolvedProgram& program,
                                        const dsl::ParameterValues& parameters, long long row, long long col);

}  // namespace tilefuse::tune
