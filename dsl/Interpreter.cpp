// Float64 reference interpreter: a direct tree walk. Built-ins run their DSL
// bodies with their parameters bound, so the reference is by construction
// the same formula the compiler lowers.
#include "dsl/Interpreter.h"

#include <array>
#include <cmath>
#include <limits>
#include <optional>

#include <fmt/format.h>

#include "dsl/Library.h"

namespace tilefuse::dsl {
namespace {

// minimum/maximum as MLIR's arith.minimumf/maximumf: NaN if either operand is
// NaN, and -0 orders below +0.
double nan_min(double a, double b) {
  if (std::isnan(a) || std::isnan(b)) return std::numeric_limits<double>::quiet_NaN();
  if (a == b) return std::signbit(a) ? a : b;
  return a < b ? a : b;
}
double nan_max(double a, double b) {
  if (std::isnan(a) || std::isnan(b)) return std::numeric_limits<double>::quiet_NaN();
  if (a == b) return std::signbit(a) ? b : a;
  return a > b ? a : b;
}

double apply_binary(BinaryOp op, double a, double b) {
  switch (op) {
    case BinaryOp::Add: return a + b;
    case BinaryOp::Sub: return a - b;
    case BinaryOp::Mul: return a * b;
    case BinaryOp::Div: return a / b;
    case BinaryOp::Pow: return std::pow(a, b);
    // Comparisons give 1 or 0; every ordered comparison with NaN is false.
    case BinaryOp::Lt: return a < b ? 1.0 : 0.0;
    case BinaryOp::Le: return a <= b ? 1.0 : 0.0;
    case BinaryOp::Gt: return a > b ? 1.0 : 0.0;
    case BinaryOp::Ge: return a >= b ? 1.0 : 0.0;
    case BinaryOp::Eq: return a == b ? 1.0 : 0.0;
    case BinaryOp::Ne: return a != b ? 1.0 : 0.0;
  }
  return std::numeric_limits<double>::quiet_NaN();
}

double apply_primitive(Primitive primitive, const double* args) {
  switch (primitive) {
    case Primitive::Exp: return std::exp(args[0]);
    case Primitive::Exp2: return std::exp2(args[0]);
    case Primitive::Log: return std::log(args[0]);
    case Primitive::Log1p: return std::log1p(args[0]);
    case Primitive::Expm1: return std::expm1(args[0]);
    case Primitive::Sqrt: return std::sqrt(args[0]);
    case Primitive::Rsqrt: return 1.0 / std::sqrt(args[0]);
    case Primitive::Tanh: return std::tanh(args[0]);
    case Primitive::Erf: return std::erf(args[0]);
    case Primitive::Erfc: return std::erfc(args[0]);
    case Primitive::Abs: return std::fabs(args[0]);
    case Primitive::Min: return nan_min(args[0], args[1]);
    case Primitive::Max: return nan_max(args[0], args[1]);
    case Primitive::Clamp: return nan_min(nan_max(args[0], args[1]), args[2]);
    case Primitive::Select: return args[0] != 0.0 ? args[1] : args[2];  // handled lazily by the caller
    case Primitive::Pow: return std::pow(args[0], args[1]);
  }
  return std::numeric_limits<double>::quiet_NaN();
}

class Evaluator {
 public:
  Evaluator(const InputValues& inputs, const ParameterValues& parameters)
      : inputs_(inputs), parameters_(parameters) {}

  Expected<double> run(const Program& program) {
    double value = run_program(program);
    if (error_) return std::move(*error_);
    return value;
  }

 private:
  struct Binding {
    std::string_view name;
    double value;
  };
  static constexpr size_t kMaxArguments = 8;

  /// Lets then the result, in the current frame.
  double run_program(const Program& program) {
    if (!program.result) return internal("a program without a result expression");
    for (const auto& let : program.lets) scope_.push_back({let.name, eval(*let.value)});
    return eval(*program.result);
  }

  double eval(const Expr& expr) {
    switch (expr.kind) {
      case Expr::Kind::Number: return expr.value;
      case Expr::Kind::Variable: return lookup(expr.name);
      case Expr::Kind::Negate: return -eval(*expr.operands[0]);
      case Expr::Kind::Binary: return apply_binary(expr.op, eval(*expr.operands[0]), eval(*expr.operands[1]));
      case Expr::Kind::Call: return call(expr);
    }
    return internal("an expression node of unknown kind");
  }

  double lookup(const std::string& name) {
    for (size_t i = scope_.size(); i > frame_base_; --i)
      if (scope_[i - 1].name == name) return scope_[i - 1].value;
    if (call_depth_ == 0) {  // the user's program: inputs, then runtime parameters
      if (name == "x") return inputs_.x;
      if (name == "gate") return inputs_.gate;
      if (name == "up") return inputs_.up;
      if (auto it = inputs_.rows.find(name); it != inputs_.rows.end()) return it->second;
      if (auto it = inputs_.cols.find(name); it != inputs_.cols.end()) return it->second;
      if (auto it = parameters_.find(name); it != parameters_.end()) return it->second;
    }
    return internal(fmt::format("unresolved name '{}'", name));
  }

  double call(const Expr& expr) {
    const auto& operands = expr.operands;
    if (operands.size() > kMaxArguments) return internal(fmt::format("too many arguments to '{}'", expr.name));
    if (auto primitive = lookup_primitive(expr.name)) {
      if (operands.size() != static_cast<size_t>(primitive->arity))
        return internal(fmt::format("wrong argument count for '{}'", expr.name));
      if (primitive->primitive == Primitive::Select)  // NaN counts as true (nonzero)
        return eval(*operands[0]) != 0.0 ? eval(*operands[1]) : eval(*operands[2]);
      std::array<double, kMaxArguments> args{};
      for (size_t i = 0; i < operands.size(); ++i) args[i] = eval(*operands[i]);
      return apply_primitive(primitive->primitive, args.data());
    }
    const Builtin* builtin = lookup_builtin(expr.name);
    if (!builtin) return internal(fmt::format("unknown function '{}'", expr.name));
    if (operands.size() > builtin->params.size())
      return internal(fmt::format("too many arguments to '{}'", expr.name));
    // Arguments are evaluated in the caller's frame, then bound in a new one.
    std::array<double, kMaxArguments> args{};
    for (size_t i = 0; i < builtin->params.size(); ++i) {
      if (i < operands.size()) {
        args[i] = eval(*operands[i]);
      } else if (builtin->params[i].default_value) {
        args[i] = *builtin->params[i].default_value;
      } else {
        return internal(fmt::format("missing argument '{}' of '{}'", builtin->params[i].name, expr.name));
      }
    }
    size_t caller_base = frame_base_;
    frame_base_ = scope_.size();
    ++call_depth_;
    for (size_t i = 0; i < builtin->params.size(); ++i) scope_.push_back({builtin->params[i].name, args[i]});
    double value = run_program(builtin->program);
    scope_.resize(frame_base_);
    frame_base_ = caller_base;
    --call_depth_;
    return value;
  }

  /// Records a should-not-happen condition (the program was not resolved).
  double internal(std::string what) {
    if (!error_)
      error_ = make_error(ErrorCode::Internal,
                          fmt::format("interpreter: {}; evaluate only programs returned by resolve()", what));
    return std::numeric_limits<double>::quiet_NaN();
  }

  const InputValues& inputs_;
  const ParameterValues& parameters_;
  std::vector<Binding> scope_;
  size_t frame_base_ = 0;  ///< first binding of the innermost frame
  int call_depth_ = 0;     ///< 0 while evaluating the user's program itself
  std::optional<Error> error_;
};

}  // namespace

Expected<double> evaluate(const ResolvedProgram& program, const InputValues& inputs,
                          const ParameterValues& parameters) {
  for (const auto& name : program.analysis.parameters)
    if (parameters.find(name) == parameters.end())
      return make_error(ErrorCode::InvalidInput,
                        fmt::format("missing value for parameter '{}'; pass it with --param {}=VALUE", name, name));
  auto missing_operand = [](const std::vector<std::string>& names, const ParameterValues& values,
                            std::string_view kind, std::string_view flag) -> std::optional<Error> {
    for (const auto& name : names)
      if (values.find(name) == values.end())
        return make_error(ErrorCode::InvalidInput, fmt::format("missing value for {} input '{}'; pass it with {} {}=VALUE",
                                                               kind, name, flag, name));
    return std::nullopt;
  };
  if (auto error = missing_operand(program.analysis.row_inputs, inputs.rows, "row", "--row")) return std::move(*error);
  if (auto error = missing_operand(program.analysis.col_inputs, inputs.cols, "column", "--col"))
    return std::move(*error);
  return Evaluator(inputs, parameters).run(program.program);
}

}  // namespace tilefuse::dsl
