// tilefuse DSL — float64 reference interpreter.
//
// Evaluates the AST directly in double precision with the same formulas the
// built-in library defines. This is the numerical reference that the lowered
// (compiled) epilogue is checked against; it is never used for production.
#pragma once

#include <map>
#include <string>

#include "dsl/Resolve.h"
#include "tilefuse/error.hpp"

namespace tilefuse::dsl {

using ParameterValues = std::map<std::string, double, std::less<>>;

struct InputValues {
  double x = 0.0;     ///< for InputKind::Single
  double gate = 0.0;  ///< for InputKind::Gated
  double up = 0.0;
  /// The values of the declared row and column inputs at this element
  /// (Analysis::row_inputs / col_inputs), by name.
  ParameterValues rows;
  ParameterValues cols;
};

/// Semantics: IEEE double; min/max/clamp propagate NaN; comparisons with NaN
/// are false; select(c, a, b) picks a where c != 0; pow follows std::pow.
/// A missing parameter or row/column input value is an InvalidInput error naming it.
Expected<double> evaluate(const ResolvedProgram& program, const InputValues& inputs,
                          const ParameterValues& parameters);

}  // namespace tilefuse::dsl
