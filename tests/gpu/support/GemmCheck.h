// Compares a fused GEMM's device output with the float64 reference:
// relative error ‖out − ref‖₂ / ‖ref‖₂ over the checked elements (all of them
// for small problems, a random set of whole rows x columns otherwise), every
// logical element written (no poison NaN left), and no padding element of
// D / aux touched (it must still hold the 0xFF poison bytes).
#pragma once

#include <random>

#include "GemmProblem.h"

namespace tilefuse::gpu {

struct CheckResult {
  long long checked = 0;             ///< elements compared with the reference
  long long unwritten = 0;           ///< logical elements still NaN (of D, and aux)
  long long padding_clobbered = 0;   ///< padding elements no longer poison
  double rel_error = 0;              ///< D
  double aux_rel_error = 0;          ///< aux (0 without aux)
  double max_abs_error = 0;
  bool sampled = false;
};

inline constexpr double kRelErrorBound = 1e-2;

inline bool passed(const CheckResult& r) {
  return r.unwritten == 0 && r.padding_clobbered == 0 && r.rel_error <= kRelErrorBound &&
         r.aux_rel_error <= kRelErrorBound && r.checked > 0;
}

/// `d` and `aux` (aux may be null) are the downloaded outputs (output_tensor
/// shape). `sample_side` rows and columns are drawn per batch when the
/// problem is too large for a full float64 check.
Expected<CheckResult> check_outputs(const GemmProblem& problem, const dsl::ResolvedProgram& program,
                                    const dsl::ParameterValues& params, const HostTensor& d,
                                    const HostTensor* aux, std::mt19937_64& rng, int sample_side = 128);

}  // namespace tilefuse::gpu
