// C++ builder: thin wrappers over the AST factories, shaped so that a
// builder-made tree prints exactly like the parsed text.
#include "dsl/Builder.h"

#include <cmath>

namespace tilefuse::builder {

// A negative constant becomes negate(|c|), as the parser reads `-0.5`.
Expr::Expr(double constant)
    : node_(std::signbit(constant) && !std::isnan(constant) ? dsl::make_negate(dsl::make_number(-constant))
                                                            : dsl::make_number(constant)) {}

Expr var(std::string name) { return Expr(dsl::make_variable(std::move(name))); }
Expr param(std::string name) { return var(std::move(name)); }

Expr call(std::string callee, std::vector<Expr> args) {
  std::vector<dsl::ExprPtr> nodes;
  nodes.reserve(args.size());
  for (auto& arg : args) nodes.push_back(arg.node());
  return Expr(dsl::make_call(std::move(callee), std::move(nodes)));
}

namespace {
Expr binary(dsl::BinaryOp op, const Expr& a, const Expr& b) { return Expr(dsl::make_binary(op, a.node(), b.node())); }
}  // namespace

Expr operator+(Expr a, Expr b) { return binary(dsl::BinaryOp::Add, a, b); }
Expr operator-(Expr a, Expr b) { return binary(dsl::BinaryOp::Sub, a, b); }
Expr operator*(Expr a, Expr b) { return binary(dsl::BinaryOp::Mul, a, b); }
Expr operator/(Expr a, Expr b) { return binary(dsl::BinaryOp::Div, a, b); }
Expr operator-(Expr a) { return Expr(dsl::make_negate(a.node())); }
Expr operator<(Expr a, Expr b) { return binary(dsl::BinaryOp::Lt, a, b); }
Expr operator<=(Expr a, Expr b) { return binary(dsl::BinaryOp::Le, a, b); }
Expr operator>(Expr a, Expr b) { return binary(dsl::BinaryOp::Gt, a, b); }
Expr operator>=(Expr a, Expr b) { return binary(dsl::BinaryOp::Ge, a, b); }
Expr operator==(Expr a, Expr b) { return binary(dsl::BinaryOp::Eq, a, b); }
Expr operator!=(Expr a, Expr b) { return binary(dsl::BinaryOp::Ne, a, b); }
Expr pow(Expr base, Expr exponent) { return binary(dsl::BinaryOp::Pow, base, exponent); }

Expr exp(Expr a) { return call("exp", {a}); }
Expr exp2(Expr a) { return call("exp2", {a}); }
Expr log(Expr a) { return call("log", {a}); }
Expr log1p(Expr a) { return call("log1p", {a}); }
Expr expm1(Expr a) { return call("expm1", {a}); }
Expr sqrt(Expr a) { return call("sqrt", {a}); }
Expr rsqrt(Expr a) { return call("rsqrt", {a}); }
Expr tanh(Expr a) { return call("tanh", {a}); }
Expr erf(Expr a) { return call("erf", {a}); }
Expr erfc(Expr a) { return call("erfc", {a}); }
Expr abs(Expr a) { return call("abs", {a}); }
Expr min(Expr a, Expr b) { return call("min", {a, b}); }
Expr max(Expr a, Expr b) { return call("max", {a, b}); }
Expr clamp(Expr a, Expr lo, Expr hi) { return call("clamp", {a, lo, hi}); }
Expr select(Expr cond, Expr a, Expr b) { return call("select", {cond, a, b}); }
Expr sigmoid(Expr a) { return call("sigmoid", {a}); }
Expr softplus(Expr a) { return call("softplus", {a}); }
Expr relu(Expr a) { return call("relu", {a}); }
Expr gelu(Expr a) { return call("gelu", {a}); }
Expr silu(Expr a) { return call("silu", {a}); }

dsl::Program program(Expr result, std::vector<std::pair<std::string, Expr>> lets) {
  dsl::Program out;
  for (auto& [name, value] : lets) out.lets.push_back(dsl::LetBinding{name, value.node(), {}});
  out.result = result.node();
  return out;
}

}  // namespace tilefuse::builder
