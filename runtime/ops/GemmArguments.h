// Host-side checks of one fused-GEMM launch and the TfGemmParams they fill.
// Every precondition the kernel relies on (gemm_sm80.cuh: 16-byte cp.async
// and vector stores, tails predicated only in M, N, K) is checked here, so
// that a bad argument is an error that says what to fix, never a wrong result.
#pragma once

#include <string>
#include <vector>

#include "runtime/ops/Fp8Arguments.h"
#include "runtime/ops/GemmParams.h"
#include "tilefuse/error.hpp"
#include "tilefuse/tilefuse.hpp"

namespace tilefuse::ops {

/// What one compiled op expects from its arguments.
struct GemmOperands {
  bool gated = false;
  int gate_interleave = 0;  ///< gated only: 0 = W_gate and W_up, k = one interleaved matrix
  bool b_col_major = false;
  bool bias = false, residual = false, aux = false;
  /// The gated backward GEMM (Runtime::matmul_backward of a gated activation):
  /// one weight operand (gated stays false), aux = [gate | up] and
  /// D = [dgate | dup], both M x 2N.
  bool gated_backward = false;
  /// The backward GEMMs read aux (z, or [gate | up]); forward ops write it.
  bool aux_is_input = false;
  int output_bytes = 2;     ///< 1 (e4m3), 2 (bf16/f16) or 4 (f32)
  int input_bytes = 2;      ///< 1 (FP8: e4m3 / e5m2) or 2 (bf16/f16), A and B
  Fp8Operands fp8;          ///< FP8 inputs: scale mode, output, amax
  /// Declared row / column inputs (MatmulOptions::row_inputs / col_inputs).
  std::vector<std::string> row_inputs, col_inputs;
};

/// Checks `args` against `operands` and fills the kernel's parameters
/// (leading dimensions and strides resolved). InvalidInput for a missing,
/// unexpected or inconsistent argument; Unsupported for an alignment the
/// kernel cannot serve. Allocates nothing on success.
Expected<GemmParams> make_gemm_params(const GemmOperands& operands, const MatmulArgs& args);

/// Checks the row/column input vectors of `args` against the declared ones
/// (a declared input needs a non-null, 4-byte aligned pointer; an undeclared
/// slot must be null; a batch stride is kPackedStride, 0, or >= the vector
/// length) and resolves their batch strides.
Expected<OperandVectors> make_operand_vectors(const GemmOperands& operands, const MatmulArgs& args);

}  // namespace tilefuse::ops
