// Numerical check of a compiled epilogue: the CPU-JIT'd lowered IR against
// the float64 interpreter of the same expression, over a dense sweep of
// [-20, 20] plus the special values (±0, ±inf, NaN, fp16/bf16/fp32 overflow
// boundaries). Used by `tilefuse check` and the test suite.
#pragma once

#include <string>
#include <vector>

#include "compiler/Pipeline.h"
#include "dsl/Interpreter.h"

namespace tilefuse::compiler {

/// Accept |out - ref| <= max(relative * |ref|, absolute). NaN must match NaN;
/// a reference that overflows float must be matched by the same infinity.
struct ErrorBound {
  double relative = 1e-6;
  double absolute = 1e-7;
};

/// The bound the issue fixes for precise mode.
inline constexpr ErrorBound kPreciseBound{1e-6, 1e-7};
/// The default fast-mode bound: 2^-10 relative (four times inside bf16's
/// half-ulp 2^-9), 1e-6 absolute near zero. It covers the SFU's tanh.approx
/// (2^-11); activations built on ex2/rcp/lg2 stay near 1e-6 (docs/dsl.md has
/// the measured error of every built-in).
inline constexpr ErrorBound kFastBound{0.0009765625, 1e-6};

struct NumericReport {
  std::size_t points = 0;          ///< inputs evaluated
  std::size_t violations = 0;      ///< inputs outside the bound
  std::size_t skipped = 0;         ///< gated points with up = ±inf whose gate factor is below float's normal range
  double max_abs_error = 0;        ///< over finite reference values with |ref| < 1
  double max_rel_error = 0;        ///< over |ref| >= 1e-3 (relative error is meaningless near 0)
  double worst_input = 0;          ///< x (or gate) where the bound was most exceeded / closest
  double worst_up = 0;             ///< up at that point (gated)
  std::string first_violation;     ///< human-readable description, "" if none
  bool ok() const { return violations == 0; }
};

/// Sweep inputs: dense [-20, 20] (step 1/1024) plus special values.
std::vector<float> sweep_inputs();

/// For a gated expression `gate` runs over sweep_inputs() and `up` over a
/// small set of representative values (including 0, ±1, ±inf, NaN).
/// Declared row/column inputs (spec.row_inputs/col_inputs) hold one value
/// over the whole sweep, taken from `params` by name like a parameter.
Expected<NumericReport> check_numerics(const KernelSpec& spec, const dsl::ParameterValues& params,
                                       const ErrorBound& bound);

}  // namespace tilefuse::compiler
