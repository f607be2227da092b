// Numerical check of a compiled BACKWARD epilogue: the CPU-JIT'd derivative
// (compile_gradient_for_cpu with dy = 1) against float64 central differences
// of the DSL interpreter, over the forward check's sweep (dense [-20, 20] and
// the large finite special values). Used by the derivative tests and
// documented in docs/dsl.md ("Derivatives").
#pragma once

#include <string>
#include <vector>

#include "compiler/NumericCheck.h"

namespace tilefuse::compiler {

/// Measured bounds (docs/dsl.md, "Derivatives", has the command and figures).
/// Precise mode: libm-accurate special functions, the derivative's own
/// roundings (a few ulps of each term) and the cancellation in f' = g + x·g'
/// where the terms nearly cancel (e.g. silu' near x = -1.28) stay within
/// 1e-5 relative; absolute 1e-6 where |f'| is below 0.1.
inline constexpr ErrorBound kGradientPreciseBound{1e-5, 1e-6};
/// Fast mode: the SFU approximations' documented error (ex2 2^-22, rcp 2^-23;
/// tanh.approx 2^-11 for mish) propagated through the derivative formulas.
inline constexpr ErrorBound kGradientFastBound{0.0009765625, 1e-5};

struct GradientReport {
  std::string wrt;             ///< "x", "gate" or "up"
  NumericReport numbers;       ///< points, violations, errors as in NumericReport
  std::size_t kinks_skipped = 0;  ///< points within the difference step of a kink (see below)
};

/// For each input w of `spec`'s activation: ∂f/∂w from the compiled backward
/// epilogue (dy = 1) against the float64 central difference
///   (f(w + h) - f(w - h)) / 2h,  h = 2^-20 · max(1, |w|),
/// at every finite sweep point (gated: gate over the sweep, up over a small
/// set; the other input held). A point is skipped as a kink when the two
/// one-sided differences disagree by more than 1e-4 · max(1, |central|):
/// the function is not differentiable within h of it, so no difference
/// quotient is a reference there (the tie convention is tested at the kinks
/// themselves with left differences). Non-finite inputs are not swept here
/// (their limits are tested separately).
Expected<std::vector<GradientReport>> check_gradient_numerics(const KernelSpec& spec,
                                                              const dsl::ParameterValues& params,
                                                              const ErrorBound& bound);

/// Float64 reference derivatives of the interpreter at one point:
/// central difference, and the second-order LEFT difference
/// (3f(w) - 4f(w - h) + f(w - 2h)) / 2h (the left derivative at a kink).
struct DifferenceQuotients {
  double central = 0, left = 0, forward_one_sided = 0, backward_one_sided = 0;
};
Expected<DifferenceQuotients> difference_quotients(const dsl::ResolvedProgram& program,
                                                   const dsl::InputValues& at, const std::string& wrt,
                                                   const dsl::ParameterValues& params);

/// |out - ref| <= max(relative·|ref|, absolute), NaN matching NaN and an
/// infinite float result matching a reference that overflows float.
bool within_bound(float out, double ref, const ErrorBound& bound);

}  // namespace tilefuse::compiler
