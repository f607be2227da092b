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
  /// A grouped (mixture-of-experts) op (MatmulOptions::grouped): the
  /// experts are the batch, MatmulArgs::groups of them; see make_gemm_params.
  GroupLayout grouped = GroupLayout::None;
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
///
/// Grouped ops (operands.grouped): batch must be 1 and groups = E >= 1, with
/// the group-size array of the layout (contiguous: group_offsets, masked:
/// group_rows; the other one null). The batch index of the kernel is the
/// expert, so the batch strides are resolved as for a batched GEMM of E:
/// contiguous, A, D, C and aux are one [T, ...] matrix each (batch strides 0;
/// a stride argument other than kPackedStride or 0 is rejected) and B steps
/// per expert (stride_b, packed default one K x N / N x K matrix); masked,
/// every stride is per expert with the packed defaults.
Expected<GemmParams> make_gemm_params(const GemmOperands& operands, const MatmulArgs& args);

/// A grouped op's TfGroupedParams (the group-size array, E, the bias stride
/// between experts: stride_bias, kPackedStride = N, 0 = one shared bias).
/// Call after make_gemm_params succeeded (it checks the grouping); checks
/// stride_bias. The group sizes live on the device and are not read: the
/// kernel clamps them (templates/tilefuse/grouped.cuh).
Expected<GroupedParams> make_grouped_params(const GemmOperands& operands, const MatmulArgs& args);

/// Checks the row/column input vectors of `args` against the declared ones
/// (a declared input needs a non-null, 4-byte aligned pointer; an undeclared
/// slot must be null; a batch stride is kPackedStride, 0, or >= the vector
/// length) and resolves their batch strides. Grouped ops: column inputs step
/// per expert (stride_col_inputs, packed N); row inputs follow A's rows
/// (contiguous: one [T] vector, stride 0; masked: per expert, packed M_max).
Expected<OperandVectors> make_operand_vectors(const GemmOperands& operands, const MatmulArgs& args);

}  // namespace tilefuse::ops
