// tilefuse DSL — C++ builder producing the same AST as the parser.
//
//   namespace tf = tilefuse::builder;
//   auto x = tf::var("x");
//   auto e = x * tf::sigmoid(1.702 * x);
//   tf::program(e)            // dsl::Program, same tree as parse("x * sigmoid(1.702 * x)")
#pragma once

#include <string>
#include <vector>

#include "dsl/Ast.h"

namespace tilefuse::builder {

/// Value wrapper around an AST node with arithmetic operators.
class Expr {
 public:
  Expr(double constant);  // implicit: lets `1.702 * x` work
  explicit Expr(dsl::ExprPtr node) : node_(std::move(node)) {}
  const dsl::ExprPtr& node() const { return node_; }

 private:
  dsl::ExprPtr node_;
};

Expr var(std::string name);     ///< input (x, gate, up) or runtime parameter
Expr param(std::string name);   ///< same as var; reads better for parameters
Expr call(std::string callee, std::vector<Expr> args);  ///< any primitive or built-in

Expr operator+(Expr a, Expr b);
Expr operator-(Expr a, Expr b);
Expr operator*(Expr a, Expr b);
Expr operator/(Expr a, Expr b);
Expr operator-(Expr a);
Expr operator<(Expr a, Expr b);
Expr operator<=(Expr a, Expr b);
Expr operator>(Expr a, Expr b);
Expr operator>=(Expr a, Expr b);
Expr operator==(Expr a, Expr b);
Expr operator!=(Expr a, Expr b);
Expr pow(Expr base, Expr exponent);

// Convenience wrappers for the primitives and common built-ins.
Expr exp(Expr a);
Expr exp2(Expr a);
Expr log(Expr a);
Expr log1p(Expr a);
Expr expm1(Expr a);
Expr sqrt(Expr a);
Expr rsqrt(Expr a);
Expr tanh(Expr a);
Expr erf(Expr a);
Expr erfc(Expr a);
Expr abs(Expr a);
Expr min(Expr a, Expr b);
Expr max(Expr a, Expr b);
Expr clamp(Expr a, Expr lo, Expr hi);
Expr select(Expr cond, Expr a, Expr b);
Expr sigmoid(Expr a);
Expr softplus(Expr a);
Expr relu(Expr a);
Expr gelu(Expr a);
Expr silu(Expr a);

/// Wraps an expression (plus optional let bindings) into a Program.
dsl::Program program(Expr result, std::vector<std::pair<std::string, Expr>> lets = {});

}  // namespace tilefuse::builder
