// AST node factories and the S-expression printer.
#include "dsl/Ast.h"

#include <fmt/format.h>

namespace tilefuse::dsl {

const char* spelling(BinaryOp op) {
  switch (op) {
    case BinaryOp::Add: return "+";
    case BinaryOp::Sub: return "-";
    case BinaryOp::Mul: return "*";
    case BinaryOp::Div: return "/";
    case BinaryOp::Pow: return "^";
    case BinaryOp::Lt: return "<";
    case BinaryOp::Le: return "<=";
    case BinaryOp::Gt: return ">";
    case BinaryOp::Ge: return ">=";
    case BinaryOp::Eq: return "==";
    case BinaryOp::Ne: return "!=";
  }
  return "?";
}

ExprPtr make_number(double value, SourceLocation loc) {
  auto e = std::make_shared<Expr>();
  e->kind = Expr::Kind::Number;
  e->loc = loc;
  e->value = value;
  return e;
}

ExprPtr make_variable(std::string name, SourceLocation loc) {
  auto e = std::make_shared<Expr>();
  e->kind = Expr::Kind::Variable;
  e->loc = loc;
  e->name = std::move(name);
  return e;
}

ExprPtr make_negate(ExprPtr operand, SourceLocation loc) {
  auto e = std::make_shared<Expr>();
  e->kind = Expr::Kind::Negate;
  e->loc = loc;
  e->operands = {std::move(operand)};
  return e;
}

ExprPtr make_binary(BinaryOp op, ExprPtr lhs, ExprPtr rhs, SourceLocation loc) {
  auto e = std::make_shared<Expr>();
  e->kind = Expr::Kind::Binary;
  e->loc = loc;
  e->op = op;
  e->operands = {std::move(lhs), std::move(rhs)};
  return e;
}

ExprPtr make_call(std::string callee, std::vector<ExprPtr> args, SourceLocation loc) {
  auto e = std::make_shared<Expr>();
  e->kind = Expr::Kind::Call;
  e->loc = loc;
  e->name = std::move(callee);
  e->operands = std::move(args);
  return e;
}

std::string to_string(const Expr& expr) {
  switch (expr.kind) {
    case Expr::Kind::Number: return fmt::format("{}", expr.value);
    case Expr::Kind::Variable: return expr.name;
    case Expr::Kind::Negate: return fmt::format("(neg {})", to_string(*expr.operands[0]));
    case Expr::Kind::Binary:
      return fmt::format("({} {} {})", spelling(expr.op), to_string(*expr.operands[0]),
                         to_string(*expr.operands[1]));
    case Expr::Kind::Call: {
      std::string out = "(call " + expr.name;
      for (const auto& arg : expr.operands) out += " " + to_string(*arg);
      return out + ")";
    }
  }
  return "?";
}

std::string to_string(const Program& program) {
  std::string out;
  for (const auto& let : program.lets)
    out += fmt::format("(let {} {})\n", let.name, to_string(*let.value));
  if (program.result) out += to_string(*program.result) + "\n";
  return out;
}

}  // namespace tilefuse::dsl
