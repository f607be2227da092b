// Float64 reference of the fused GEMM: pre = alpha·A·B + bias + beta·C (or
// gate = A·W_gate, up = A·W_up) and out = activation(pre) through the DSL's
// float64 interpreter. Matrices are dense, row-major, logical (no padding):
// A is batch x M x K, weights batch x K x N, C batch x M x N.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "dsl/Interpreter.h"
#include "tilefuse/error.hpp"

namespace emu {

struct ReferenceProblem {
  long long m = 0, n = 0, k = 0;
  unsigned batch = 1;
  bool gated = false, has_bias = false, has_residual = false;
  double alpha = 1.0, beta = 0.0;
  std::vector<double> a, weights, up_weights, bias, c;
  /// Grouped: the weight batch (expert) of each row, batch x M entries;
  /// empty: row i of batch b uses the weights of batch b.
  std::vector<unsigned> row_weights;
  /// The bias holds one N vector per weight batch (grouped) instead of one.
  bool bias_per_weights = false;
  /// Declared row / column inputs by name: batch x M (rows) or weight
  /// batches x N (columns) values each.
  std::map<std::string, std::vector<double>> row_inputs, col_inputs;
};

struct ReferenceResult {
  std::vector<double> pre;  ///< alpha·A·B + bias + beta·C (single) or A·W_gate (gated)
  std::vector<double> up;   ///< gated: A·W_up (empty otherwise)
  std::vector<double> out;  ///< the activation of pre (or of gate and up)
};

tilefuse::Expected<ReferenceResult> reference_gemm(const ReferenceProblem& problem,
                                                   const tilefuse::dsl::ResolvedProgram& activation,
                                                   const tilefuse::dsl::ParameterValues& parameters);

}  // namespace emu
