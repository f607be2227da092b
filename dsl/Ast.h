// tilefuse DSL — abstract syntax tree of an activation expression.
//
// The parser and the C++ builder (Builder.h) both produce this tree; name
// resolution (Resolve.h) classifies identifiers; the compiler lowers it to
// MLIR and the float64 interpreter (Interpreter.h) evaluates it as the
// numerical reference. Nodes are immutable and shared.
#pragma once

#include <memory>
#include <string>
#include <vector>

namespace tilefuse::dsl {

/// 1-based position in the source text.
struct SourceLocation {
  int line = 1;
  int column = 1;
};

enum class BinaryOp { Add, Sub, Mul, Div, Pow, Lt, Le, Gt, Ge, Eq, Ne };
const char* spelling(BinaryOp op);  // "+", "<=", ...

struct Expr;
using ExprPtr = std::shared_ptr<const Expr>;

/// One expression node. `kind` selects which fields are meaningful:
///   Number:   value
///   Variable: name   (an input x/gate/up, a let binding, or a runtime parameter)
///   Negate:   operands[0]
///   Binary:   op, operands[0..1]
///   Call:     name (callee), operands (arguments)
struct Expr {
  enum class Kind { Number, Variable, Negate, Binary, Call };

  Kind kind;
  SourceLocation loc;
  double value = 0.0;
  std::string name;
  BinaryOp op = BinaryOp::Add;
  std::vector<ExprPtr> operands;
};

/// `name = value` statement.
struct LetBinding {
  std::string name;
  ExprPtr value;
  SourceLocation loc;
};

/// A whole program: let statements then the result expression.
struct Program {
  std::vector<LetBinding> lets;
  ExprPtr result;
  std::string source;  ///< the text it was parsed from ("" for builder-made)
};

// Node factories (used by the parser and the builder).
ExprPtr make_number(double value, SourceLocation loc = {});
ExprPtr make_variable(std::string name, SourceLocation loc = {});
ExprPtr make_negate(ExprPtr operand, SourceLocation loc = {});
ExprPtr make_binary(BinaryOp op, ExprPtr lhs, ExprPtr rhs, SourceLocation loc = {});
ExprPtr make_call(std::string callee, std::vector<ExprPtr> args, SourceLocation loc = {});

/// S-expression dump, stable and used by `tilefuse emit --stage ast` and tests:
/// e.g. `(let t (call sigmoid (* 1.702 x)))\n(* x t)`.
std::string to_string(const Program& program);
std::string to_string(const Expr& expr);

}  // namespace tilefuse::dsl
