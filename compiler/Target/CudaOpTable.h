// How each epilogue op is spelled in CUDA C++: one table of data (op name →
// pattern) and one table of C++ operator precedences, read by the emitter
// (CudaEmitter.cpp). Modelled on tinygrad's cstyle `code_for_op` and MLIR
// EmitC's CppEmitter precedence handling.
#pragma once

#include <string>
#include <string_view>

namespace mlir {
class Operation;
}

namespace tilefuse::compiler {

/// C++ operator precedence, higher binds tighter ([expr] grammar order).
enum CudaPrecedence : int {
  kPrecConditional = 3,     // a ? b : c   (right-associative)
  kPrecLogicalOr = 4,       // a || b
  kPrecLogicalAnd = 5,      // a && b
  kPrecEquality = 9,        // a == b, a != b
  kPrecRelational = 10,     // a < b ...
  kPrecAdditive = 12,       // a + b, a - b
  kPrecMultiplicative = 13, // a * b, a / b
  kPrecPrefix = 15,         // -a, !a
  kPrecPrimary = 16,        // names, literals, calls, parenthesized
};

/// The CUDA spelling of one op.
struct CudaSpelling {
  enum class Form {
    Call,      ///< `text` is a pattern with {0}, {1}, ... (any C++ expression)
    Infix,     ///< `text` is a left-associative binary operator: "{0} <text> {1}"
    Prefix,    ///< `text` is a unary prefix operator
    Ternary,   ///< "{0} ? {1} : {2}"
    Identity,  ///< the value of operand 0 (per-lane view of a broadcast)
  };
  Form form;
  std::string_view text;
  /// Precedence of the whole expression the spelling produces.
  int precedence;
  /// The pattern names an operand more than once or puts it where only a
  /// primary expression is safe: operands must be temporaries or literals.
  bool needsAtomicOperands = false;
};

/// The spelling of `op` (keyed by op name, plus the predicate for
/// arith.cmpf and the function for tilefuse.approx), or nullptr if the
/// emitter cannot spell it.
const CudaSpelling* findCudaSpelling(mlir::Operation* op);

/// Comma-separated names of every op the table spells (for diagnostics).
std::string listCudaSpelledOps();

}  // namespace tilefuse::compiler
