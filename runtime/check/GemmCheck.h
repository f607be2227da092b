// Compares a fused GEMM's device output with the float64 reference:
// relative error ‖out − ref‖₂ / ‖ref‖₂ over the checked elements (all of them
// for small problems, a random set of whole rows x columns otherwise), each
// element within |out − ref| ≤ rtol·|ref| + atol·rms(ref) (one wrong element
// of a 127 x 255 output moves the norm ratio by only ~0.6 %), every logical
// element written (no poison NaN left), and no padding element of D / aux
// touched (it must still hold the 0xFF poison bytes).
#pragma once

#include <random>
#include <span>

#include "runtime/check/GemmProblem.h"

namespace tilefuse::gpu {

/// |out − ref| ≤ rtol·|ref| + atol·rms(ref) per element: rtol covers the
/// output rounding (bf16: 2^-9 relative) and the fast-mode approximations,
/// atol·rms(ref) the elements near zero (absolute error of the accumulation).
struct ElementBound {
  double rtol = 1e-2;
  double atol = 1e-2;
};

/// One output compared with its reference, pair by pair.
struct Comparison {
  double rel_error = 0;         ///< ‖out − ref‖₂ / ‖ref‖₂ (‖out − ref‖₂ when ref is all zero)
  double max_abs_error = 0;
  double rms_ref = 0;
  long long violations = 0;     ///< elements outside the ElementBound
  long long first_violation = -1;  ///< index of the first one, -1 when none
};
Comparison compare_elements(std::span<const double> out, std::span<const double> ref, ElementBound bound = {});

struct CheckResult {
  long long checked = 0;             ///< elements compared with the reference
  long long unwritten = 0;           ///< logical elements still NaN (of D, and aux)
  long long padding_clobbered = 0;   ///< padding elements no longer poison
  double rel_error = 0;              ///< D
  double aux_rel_error = 0;          ///< aux (0 without aux)
  double max_abs_error = 0;
  long long element_violations = 0;      ///< D elements outside the ElementBound
  long long aux_element_violations = 0;  ///< aux elements outside it
  bool sampled = false;
};

inline constexpr double kRelErrorBound = 1e-2;

/// The Frobenius bound alone (what the harness checked before issue 13).
inline bool within_norm_bound(const Comparison& c) { return c.rel_error <= kRelErrorBound; }
/// Both bounds: the norm ratio and every element.
inline bool within_bounds(const Comparison& c) { return within_norm_bound(c) && c.violations == 0; }

inline bool passed(const CheckResult& r) {
  return r.unwritten == 0 && r.padding_clobbered == 0 && r.rel_error <= kRelErrorBound &&
         r.aux_rel_error <= kRelErrorBound && r.element_violations == 0 && r.aux_element_violations == 0 &&
         r.checked > 0;
}

/// `d` and `aux` (aux may be null) are the downloaded outputs (output_tensor
/// and aux_tensor shapes). `sample_side` rows and columns are drawn per batch when the
/// problem is too large for a full float64 check.
Expected<CheckResult> check_outputs(const GemmProblem& problem, const dsl::ResolvedProgram& program,
                                    const dsl::ParameterValues& params, const HostTensor& d,
                                    const HostTensor* aux, std::mt19937_64& rng, int sample_side = 128);

}  // namespace tilefuse::gpu
