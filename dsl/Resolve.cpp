// Name resolution: classifies identifiers, checks calls, collects what a
// program needs (inputs, runtime parameters, built-ins) — see Resolve.h.
#include "dsl/Resolve.h"

#include <algorithm>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <unordered_map>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "dsl/Library.h"
#include "dsl/Parser.h"

namespace tilefuse::dsl {
namespace {

bool is_input_name(std::string_view name) { return name == "x" || name == "gate" || name == "up"; }

bool is_function_name(std::string_view name) {
  return lookup_primitive(name).has_value() || lookup_builtin(name) != nullptr;
}

bool is_valid_identifier(std::string_view name) {
  auto start = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; };
  if (name.empty() || !start(name[0])) return false;
  return std::all_of(name.begin(), name.end(), [&](char c) { return start(c) || (c >= '0' && c <= '9'); });
}

/// `gelu(x)`, `swiglu(gate, up)`, `clamp(x, lo, hi)`: how to call a function.
std::string example_call(std::string_view name) {
  if (const Builtin* builtin = lookup_builtin(name)) {
    std::vector<std::string> required;
    for (const auto& param : builtin->params)
      if (!param.default_value) required.push_back(param.name);
    return fmt::format("{}({})", name, fmt::join(required, ", "));
  }
  static const char* const kArgumentNames[] = {"x", "lo", "hi"};
  int arity = lookup_primitive(name) ? lookup_primitive(name)->arity : 1;
  std::vector<std::string> args(kArgumentNames, kArgumentNames + std::min(arity, 3));
  if (name == "select" || name == "where") args = {"condition", "a", "b"};
  if (name == "pow") args = {"x", "y"};
  if (name == "min" || name == "max") args = {"x", "y"};
  return fmt::format("{}({})", name, fmt::join(args, ", "));
}

std::string arity_message(std::string_view name, size_t min_args, size_t max_args, size_t got) {
  std::string expected = min_args == max_args ? fmt::format("{} argument{}", min_args, min_args == 1 ? "" : "s")
                                              : fmt::format("{} to {} arguments", min_args, max_args);
  return fmt::format("'{}' expects {}, got {}", name, expected, got);
}

/// Height of every expression in the program, without recursion (builder-made
/// trees are not bounded by the parser).
int program_height(const Program& program) {
  std::vector<std::pair<const Expr*, int>> stack;
  for (const auto& let : program.lets)
    if (let.value) stack.emplace_back(let.value.get(), 1);
  if (program.result) stack.emplace_back(program.result.get(), 1);
  int height = 0;
  while (!stack.empty()) {
    auto [expr, depth] = stack.back();
    stack.pop_back();
    height = std::max(height, depth);
    for (const auto& operand : expr->operands)
      if (operand) stack.emplace_back(operand.get(), depth + 1);
  }
  return height;
}

/// Direct built-in callees of every library body, in order of appearance.
const std::unordered_map<std::string, std::vector<std::string>>& library_call_graph() {
  static const auto graph = [] {
    std::unordered_map<std::string, std::vector<std::string>> result;
    for (const auto& builtin : builtin_library()) {
      std::vector<std::string>& callees = result[builtin.name];
      std::function<void(const Expr&)> walk = [&](const Expr& expr) {
        if (expr.kind == Expr::Kind::Call && lookup_builtin(expr.name) &&
            std::find(callees.begin(), callees.end(), expr.name) == callees.end())
          callees.push_back(expr.name);
        for (const auto& operand : expr.operands) walk(*operand);
      };
      for (const auto& let : builtin.program.lets) walk(*let.value);
      if (builtin.program.result) walk(*builtin.program.result);
    }
    return result;
  }();
  return graph;
}

/// Resolves one program: the user's (builtin == nullptr), or a library body,
/// whose only free names are its parameters.
class Resolver {
 public:
  Resolver(const Program& program, const Builtin* builtin, const OperandDeclarations& declared = {})
      : program_(program), builtin_(builtin), declared_(declared) {}

  Expected<Analysis> run() {
    if (!program_.result) return fail_now({}, "the program has no result expression");
    if (auto valid = check_declarations(); !valid) return valid.take_error();
    if (program_height(program_) > kMaxNestingDepth)
      return fail_now({}, fmt::format("expression nests deeper than {} levels; split it into let bindings",
                                      kMaxNestingDepth));
    for (size_t i = 0; i < program_.lets.size() && !error_; ++i) {
      const LetBinding& let = program_.lets[i];
      check_let_name(let);
      if (!error_ && !let.value) fail(let.loc, fmt::format("let binding '{}' has no value", let.name));
      current_let_ = &let;
      if (!error_) walk(*let.value);
      current_let_ = nullptr;
      defined_lets_.emplace(let.name, let.loc);
    }
    if (!error_) walk(*program_.result);
    if (error_) return std::move(*error_);
    if (auto used = check_declarations_used(); !used) return used.take_error();
    analysis_.row_inputs = declared_.row_inputs;
    analysis_.col_inputs = declared_.col_inputs;
    collect_builtins();
    return std::move(analysis_);
  }

  /// Built-ins this program calls directly, in order of first appearance.
  const std::vector<std::string>& direct_builtins() const { return direct_builtins_; }

 private:
  void check_let_name(const LetBinding& let) {
    if (!is_valid_identifier(let.name)) {
      fail(let.loc, fmt::format("'{}' is not a valid name", let.name));
    } else if (is_input_name(let.name) || is_parameter_of_builtin(let.name)) {
      fail(let.loc, fmt::format("cannot bind '{}': it is an input; choose another name", let.name));
    } else if (is_function_name(let.name)) {
      fail(let.loc, fmt::format("cannot bind '{}': it is a function; choose another name", let.name));
    } else if (auto kind = declared_kind(let.name)) {
      fail(let.loc, fmt::format("cannot bind '{}': it is a declared {} input; choose another name", let.name, *kind));
    } else if (auto it = defined_lets_.find(let.name); it != defined_lets_.end()) {
      fail(let.loc, fmt::format("'{}' is already bound on line {}", let.name, it->second.line));
    }
  }

  void walk(const Expr& expr) {
    if (error_) return;
    switch (expr.kind) {
      case Expr::Kind::Number: return;
      case Expr::Kind::Variable: return resolve_variable(expr);
      case Expr::Kind::Call: resolve_call(expr); break;
      case Expr::Kind::Negate:
      case Expr::Kind::Binary: break;
    }
    for (const auto& operand : expr.operands) {
      if (!operand) return fail(expr.loc, "malformed expression: missing operand");
      walk(*operand);
    }
  }

  void resolve_variable(const Expr& expr) {
    const std::string& name = expr.name;
    if (defined_lets_.count(name)) return;
    if (auto later = find_let(name)) {
      if (later == current_let_)
        return fail(expr.loc, fmt::format("'{}' is used in its own definition", name));
      return fail(expr.loc, fmt::format("'{}' is used before its definition on line {}", name, later->loc.line));
    }
    if (builtin_) {
      if (is_parameter_of_builtin(name)) return;
    } else if (is_input_name(name)) {
      return note_input(expr);
    } else if (declared_kind(name)) {
      used_declared_.insert(name);
      return;
    }
    if (is_function_name(name))
      return fail(expr.loc, fmt::format("'{}' is a function; call it with its arguments, e.g. {}", name,
                                        example_call(name)));
    if (!is_valid_identifier(name)) return fail(expr.loc, fmt::format("'{}' is not a valid name", name));
    if (builtin_)
      return fail(expr.loc, fmt::format("unknown name '{}' in the body of built-in '{}'", name, builtin_->name));
    if (std::find(analysis_.parameters.begin(), analysis_.parameters.end(), name) == analysis_.parameters.end())
      analysis_.parameters.push_back(name);
  }

  void resolve_call(const Expr& expr) {
    const std::string& name = expr.name;
    size_t got = expr.operands.size();
    if (auto primitive = lookup_primitive(name)) {
      if (got != static_cast<size_t>(primitive->arity))
        fail(expr.loc, arity_message(name, primitive->arity, primitive->arity, got));
      return;
    }
    if (const Builtin* builtin = lookup_builtin(name)) {
      size_t required = std::count_if(builtin->params.begin(), builtin->params.end(),
                                       [](const BuiltinParam& p) { return !p.default_value; });
      if (got < required || got > builtin->params.size())
        return fail(expr.loc, arity_message(name, required, builtin->params.size(), got));
      if (std::find(direct_builtins_.begin(), direct_builtins_.end(), name) == direct_builtins_.end())
        direct_builtins_.push_back(name);
      return;
    }
    if (defined_lets_.count(name) || find_let(name))
      return fail(expr.loc, fmt::format("'{}' is a let binding, not a function", name));
    if ((!builtin_ && (is_input_name(name) || declared_kind(name))) || is_parameter_of_builtin(name))
      return fail(expr.loc, fmt::format("'{}' is an input, not a function", name));
    std::string suggestion = closest_function_name(name);
    if (suggestion.empty()) return fail(expr.loc, fmt::format("unknown function '{}'", name));
    fail(expr.loc, fmt::format("unknown function '{}'; did you mean '{}'?", name, suggestion));
  }

  void note_input(const Expr& expr) {
    InputKind kind = expr.name == "x" ? InputKind::Single : InputKind::Gated;
    if (!first_input_) {
      first_input_ = &expr;
      analysis_.inputs = kind;
      return;
    }
    if (kind != analysis_.inputs)
      fail(expr.loc, fmt::format("'{}' cannot be used together with '{}' (at {}:{}): a program reads either x, "
                                 "or gate and up (a gated dual GEMM)",
                                 expr.name, first_input_->name, first_input_->loc.line, first_input_->loc.column));
  }

  /// "row" or "column" for a declared row/column input of the user's program.
  std::optional<std::string_view> declared_kind(std::string_view name) const {
    if (builtin_) return std::nullopt;
    auto has = [&](const std::vector<std::string>& names) {
      return std::find(names.begin(), names.end(), name) != names.end();
    };
    if (has(declared_.row_inputs)) return "row";
    if (has(declared_.col_inputs)) return "column";
    return std::nullopt;
  }

  /// First place the program names `name` (a variable or a call), for
  /// pointing a declaration error at a use.
  const Expr* first_use(std::string_view name) const {
    std::vector<const Expr*> stack;
    if (program_.result) stack.push_back(program_.result.get());
    for (auto it = program_.lets.rbegin(); it != program_.lets.rend(); ++it)
      if (it->value) stack.push_back(it->value.get());
    const Expr* first = nullptr;
    while (!stack.empty()) {
      const Expr* expr = stack.back();
      stack.pop_back();
      bool named = (expr->kind == Expr::Kind::Variable || expr->kind == Expr::Kind::Call) && expr->name == name;
      auto before = [](SourceLocation a, SourceLocation b) {
        return a.line < b.line || (a.line == b.line && a.column < b.column);
      };
      if (named && (!first || before(expr->loc, first->loc))) first = expr;
      for (const auto& operand : expr->operands)
        if (operand) stack.push_back(operand.get());
    }
    return first;
  }

  /// The declared names themselves: valid, unique, no clash with an input
  /// or a function. Positioned at the first use when the program has one.
  Expected<void> check_declarations() {
    std::set<std::string_view> seen;
    auto check = [&](const std::string& name, std::string_view option) -> Expected<void> {
      auto error = [&](std::string message) {
        if (const Expr* use = first_use(name)) return fail_now(use->loc, message);
        return make_error(ErrorCode::InvalidInput, fmt::format("error: {}", message));
      };
      if (!is_valid_identifier(name))
        return error(fmt::format("{} entry '{}' is not a valid name (letters, digits, _; not starting with a digit)",
                                 option, name));
      if (!seen.insert(name).second)
        return error(fmt::format("'{}' is declared twice in row_inputs/col_inputs; declare it once, as a row or "
                                 "a column input",
                                 name));
      if (is_input_name(name))
        return error(fmt::format("{} entry '{}' collides with the accumulator input '{}'; choose another name",
                                 option, name, name));
      if (is_function_name(name))
        return error(fmt::format("{} entry '{}' collides with the function '{}'; choose another name", option, name,
                                 name));
      return {};
    };
    for (const auto& name : declared_.row_inputs)
      if (auto ok = check(name, "row_inputs"); !ok) return ok;
    for (const auto& name : declared_.col_inputs)
      if (auto ok = check(name, "col_inputs"); !ok) return ok;
    return {};
  }

  Expected<void> check_declarations_used() const {
    for (const auto* names : {&declared_.row_inputs, &declared_.col_inputs})
      for (const auto& name : *names)
        if (!used_declared_.count(name))
          return make_error(ErrorCode::InvalidInput,
                            fmt::format("error: {} input '{}' is declared ({}) but the activation never reads it; "
                                        "use it in the expression or remove the declaration",
                                        *declared_kind(name), name,
                                        names == &declared_.row_inputs ? "row_inputs" : "col_inputs"));
    return {};
  }

  /// Callees before callers, each once.
  void collect_builtins() {
    const auto& graph = library_call_graph();
    std::set<std::string> visited;
    std::function<void(const std::string&)> visit = [&](const std::string& name) {
      if (!visited.insert(name).second) return;  // also stops a (buggy) cycle
      if (auto it = graph.find(name); it != graph.end())
        for (const auto& callee : it->second) visit(callee);
      analysis_.builtins_used.push_back(name);
    };
    for (const auto& name : direct_builtins_) visit(name);
  }

  const LetBinding* find_let(std::string_view name) const {
    for (const auto& let : program_.lets)
      if (let.name == name) return &let;
    return nullptr;
  }

  bool is_parameter_of_builtin(std::string_view name) const {
    if (!builtin_) return false;
    return std::any_of(builtin_->params.begin(), builtin_->params.end(),
                       [&](const BuiltinParam& p) { return p.name == name; });
  }

  Error make_diagnostic(SourceLocation loc, std::string_view message) const {
    // Builder-made programs have no source text to point into.
    std::string text = program_.source.empty() ? fmt::format("error: {}", message)
                                               : format_diagnostic(program_.source, loc, message);
    return make_error(ErrorCode::InvalidInput, std::move(text));
  }
  void fail(SourceLocation loc, std::string_view message) {
    if (!error_) error_ = make_diagnostic(loc, message);
  }
  Error fail_now(SourceLocation loc, std::string_view message) { return make_diagnostic(loc, message); }

  const Program& program_;
  const Builtin* builtin_;
  const OperandDeclarations& declared_;
  std::set<std::string, std::less<>> used_declared_;
  std::map<std::string, SourceLocation> defined_lets_;
  const Expr* first_input_ = nullptr;
  const LetBinding* current_let_ = nullptr;  ///< the let whose value is being walked
  std::vector<std::string> direct_builtins_;
  Analysis analysis_;
  std::optional<Error> error_;
};

}  // namespace

Program normalize(const Program& program) {
  if (!program.lets.empty() || !program.result || program.result->kind != Expr::Kind::Variable) return program;
  const Expr& bare = *program.result;
  std::vector<ExprPtr> args;
  if (const Builtin* builtin = lookup_builtin(bare.name)) {
    if (builtin->gated)
      args = {make_variable("gate", bare.loc), make_variable("up", bare.loc)};
    else
      args = {make_variable("x", bare.loc)};
  } else if (auto primitive = lookup_primitive(bare.name); primitive && primitive->arity == 1) {
    args = {make_variable("x", bare.loc)};  // `tanh` alone means tanh(x) too
  } else {
    return program;
  }
  Program expanded = program;
  expanded.result = make_call(bare.name, std::move(args), bare.loc);
  return expanded;
}

Expected<Analysis> analyze(const Program& program, const OperandDeclarations& declared) {
  Program normalized = normalize(program);
  return Resolver(normalized, nullptr, declared).run();
}

Expected<ResolvedProgram> resolve(const Program& program, const OperandDeclarations& declared) {
  Program normalized = normalize(program);
  auto analysis = Resolver(normalized, nullptr, declared).run();
  if (!analysis) return analysis.take_error();
  return ResolvedProgram{std::move(normalized), std::move(*analysis)};
}

Expected<ResolvedProgram> resolve(std::string_view source, const OperandDeclarations& declared) {
  auto program = parse(source);
  if (!program) return program.take_error();
  return resolve(*program, declared);
}

Expected<void> verify_builtin_library() {
  auto failure = [](const Builtin& builtin, std::string_view what) {
    return make_error(ErrorCode::Internal, fmt::format("built-in '{}' (body '{}'): {}", builtin.name,
                                                       builtin.body, what));
  };
  std::set<std::string> names;
  for (const auto& builtin : builtin_library()) {
    if (!names.insert(builtin.name).second) return failure(builtin, "the name appears twice in the library");
    if (lookup_primitive(builtin.name)) return failure(builtin, "the name is already a primitive");
    if (builtin.params.empty()) return failure(builtin, "a built-in needs at least one parameter");
    bool seen_default = false;
    for (const auto& param : builtin.params) {
      if (seen_default && !param.default_value)
        return failure(builtin, fmt::format("parameter '{}' without a default follows one with a default",
                                            param.name));
      seen_default = seen_default || param.default_value.has_value();
    }
    if (builtin.gated != (builtin.params[0].name == "gate"))
      return failure(builtin, "a gated built-in's parameters start with (gate, up)");
    if (!builtin.gated && builtin.params[0].name != "x")
      return failure(builtin, "the first parameter of a built-in is x");
    auto parsed = parse(builtin.body);
    if (!parsed) return failure(builtin, parsed.error().message);
    auto analysis = Resolver(builtin.program, &builtin).run();
    if (!analysis) return failure(builtin, analysis.error().message);
  }
  // No cycles: depth-first search with grey (on the path) and black (done).
  const auto& graph = library_call_graph();
  std::map<std::string, int> colour;
  std::vector<std::string> path;
  std::function<std::optional<std::string>(const std::string&)> visit =
      [&](const std::string& name) -> std::optional<std::string> {
    if (colour[name] == 2) return std::nullopt;
    path.push_back(name);
    if (colour[name] == 1) return fmt::format("{}", fmt::join(path, " -> "));
    colour[name] = 1;
    for (const auto& callee : graph.at(name))
      if (auto cycle = visit(callee)) return cycle;
    colour[name] = 2;
    path.pop_back();
    return std::nullopt;
  };
  for (const auto& builtin : builtin_library())
    if (auto cycle = visit(builtin.name))
      return make_error(ErrorCode::Internal, fmt::format("the built-in library has a call cycle: {}", *cycle));
  return {};
}

}  // namespace tilefuse::dsl
