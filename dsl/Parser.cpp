// Precedence-climbing parser over the token list (grammar in Parser.h).
//
// Recursion happens only where the grammar nests (parentheses, call
// arguments, the exponent of '^'), and every such step is counted against
// kMaxNestingDepth. Unary operator chains are collected in a loop. The height
// of the tree built is bounded by the same limit, so that later recursive
// passes (resolution, lowering, printing) cannot exhaust the stack either.
#include "dsl/Parser.h"

#include <optional>

#include <fmt/format.h>

#include "dsl/Lexer.h"

namespace tilefuse::dsl {
namespace {

/// A subtree and its height (a leaf has height 1).
struct Node {
  ExprPtr expr;
  int height = 1;
};

std::optional<BinaryOp> comparison_op(TokenKind kind) {
  switch (kind) {
    case TokenKind::Less: return BinaryOp::Lt;
    case TokenKind::LessEqual: return BinaryOp::Le;
    case TokenKind::Greater: return BinaryOp::Gt;
    case TokenKind::GreaterEqual: return BinaryOp::Ge;
    case TokenKind::EqualEqual: return BinaryOp::Eq;
    case TokenKind::NotEqual: return BinaryOp::Ne;
    default: return std::nullopt;
  }
}

std::string too_deep_message() {
  return fmt::format("expression nests deeper than {} levels; split it into let bindings", kMaxNestingDepth);
}

class Parser {
 public:
  Parser(std::string_view source, std::vector<Token> tokens) : source_(source), tokens_(std::move(tokens)) {}

  Expected<Program> run() {
    Partial program;
    program.source = std::string(source_);
    skip_separators();
    if (peek().kind == TokenKind::End) {
      fail(SourceLocation{1, 1}, "the program is empty; write an expression such as x * sigmoid(1.702 * x)");
      return std::move(*error_);
    }
    bool last_is_let = false;
    SourceLocation last_let_loc;
    while (true) {
      const Token& first = peek();
      SourceLocation statement_loc = first.loc;
      if (first.kind == TokenKind::Identifier && peek(1).kind == TokenKind::Assign) {
        LetBinding let;
        let.name = std::string(first.text);
        let.loc = first.loc;
        pos_ += 2;
        auto value = parse_expression();
        if (!value) return std::move(*error_);
        let.value = value->expr;
        program.lets.push_back(std::move(let));
        last_is_let = true;
        last_let_loc = statement_loc;
      } else {
        auto value = parse_expression();
        if (!value) return std::move(*error_);
        program.result = value->expr;
        program.result_loc = statement_loc;
        last_is_let = false;
      }
      if (!expect_end_of_statement()) return std::move(*error_);
      skip_separators();
      if (peek().kind == TokenKind::End) break;
      if (program.result) {  // an expression statement that is not the last
        fail(program.result_loc, "only the last statement may be a bare expression; bind this one to a "
                                 "name ('t = ...') or remove it");
        return std::move(*error_);
      }
    }
    if (last_is_let) {
      fail(last_let_loc, "the program ends with a let binding; the last statement must be the result "
                         "expression");
      return std::move(*error_);
    }
    return Program{std::move(program.lets), std::move(program.result), std::move(program.source)};
  }

 private:
  /// Program under construction plus where its result statement started.
  struct Partial {
    std::vector<LetBinding> lets;
    ExprPtr result;
    SourceLocation result_loc;
    std::string source;
  };

  bool expect_end_of_statement() {
    const Token& token = peek();
    switch (token.kind) {
      case TokenKind::Semicolon:
      case TokenKind::Newline:
      case TokenKind::End: return true;
      case TokenKind::Assign:
        return fail(token.loc, "unexpected '='; only a plain name can be bound with '=' (compare with '==')");
      case TokenKind::RightParen: return fail(token.loc, "unmatched ')'");
      default:
        return fail(token.loc,
                    fmt::format("expected an operator or the end of the statement, found {}", describe(token)));
    }
  }

  // comparison ::= additive (cmp additive)?   -- non-associative
  std::optional<Node> parse_expression() {
    auto lhs = parse_additive();
    if (!lhs) return std::nullopt;
    auto op = comparison_op(peek().kind);
    if (!op) return lhs;
    SourceLocation op_loc = next().loc;
    auto rhs = parse_additive();
    if (!rhs) return std::nullopt;
    if (comparison_op(peek().kind)) {
      fail(peek().loc, "comparisons do not chain; add parentheses, e.g. (a < b) == c");
      return std::nullopt;
    }
    return combine(*op, *lhs, *rhs, op_loc);
  }

  // additive ::= multiplicative (('+'|'-') multiplicative)*
  std::optional<Node> parse_additive() {
    auto lhs = parse_multiplicative();
    while (lhs && (peek().kind == TokenKind::Plus || peek().kind == TokenKind::Minus)) {
      const Token& op = next();
      auto rhs = parse_multiplicative();
      if (!rhs) return std::nullopt;
      lhs = combine(op.kind == TokenKind::Plus ? BinaryOp::Add : BinaryOp::Sub, *lhs, *rhs, op.loc);
    }
    return lhs;
  }

  // multiplicative ::= unary (('*'|'/') unary)*
  std::optional<Node> parse_multiplicative() {
    auto lhs = parse_unary();
    while (lhs && (peek().kind == TokenKind::Star || peek().kind == TokenKind::Slash)) {
      const Token& op = next();
      auto rhs = parse_unary();
      if (!rhs) return std::nullopt;
      lhs = combine(op.kind == TokenKind::Star ? BinaryOp::Mul : BinaryOp::Div, *lhs, *rhs, op.loc);
    }
    return lhs;
  }

  // unary ::= '-' unary | '+' unary | power    (a loop, not recursion)
  std::optional<Node> parse_unary() {
    std::vector<SourceLocation> negations;  // innermost last
    int prefix_count = 0;
    while (peek().kind == TokenKind::Minus || peek().kind == TokenKind::Plus) {
      const Token& op = next();
      if (depth_ + prefix_count + 1 > kMaxNestingDepth) {
        fail(op.loc, too_deep_message());
        return std::nullopt;
      }
      ++prefix_count;
      if (op.kind == TokenKind::Minus) negations.push_back(op.loc);
    }
    depth_ += prefix_count;
    auto operand = parse_power();
    depth_ -= prefix_count;
    if (!operand) return std::nullopt;
    for (auto it = negations.rbegin(); it != negations.rend(); ++it) {
      operand = Node{make_negate(operand->expr, *it), operand->height + 1};
      if (operand->height > kMaxNestingDepth) {
        fail(*it, too_deep_message());
        return std::nullopt;
      }
    }
    return operand;
  }

  // power ::= primary ('^' unary)?    -- right-assoc through unary
  std::optional<Node> parse_power() {
    auto base = parse_primary();
    if (!base || peek().kind != TokenKind::Caret) return base;
    const Token& op = next();
    if (!enter(op.loc)) return std::nullopt;
    auto exponent = parse_unary();
    --depth_;
    if (!exponent) return std::nullopt;
    return combine(BinaryOp::Pow, *base, *exponent, op.loc);
  }

  // primary ::= NUMBER | IDENT | IDENT '(' args? ')' | '(' expr ')'
  std::optional<Node> parse_primary() {
    const Token& token = peek();
    switch (token.kind) {
      case TokenKind::Number:
        ++pos_;
        return Node{make_number(token.number, token.loc), 1};
      case TokenKind::Identifier:
        ++pos_;
        if (peek().kind == TokenKind::LeftParen) return parse_call_arguments(token);
        return Node{make_variable(std::string(token.text), token.loc), 1};
      case TokenKind::LeftParen: {
        ++pos_;
        if (!enter(token.loc)) return std::nullopt;
        auto inner = parse_expression();
        --depth_;
        if (!inner) return std::nullopt;
        if (peek().kind != TokenKind::RightParen) {
          fail(peek().loc, fmt::format("expected ')' to close the '(' at {}:{}, found {}", token.loc.line,
                                       token.loc.column, describe(peek())));
          return std::nullopt;
        }
        ++pos_;
        return inner;
      }
      case TokenKind::Newline:
        fail(token.loc, "expected an expression, found end of line (to continue an expression on the "
                        "next line, wrap it in parentheses)");
        return std::nullopt;
      default:
        fail(token.loc, fmt::format("expected an expression, found {}", describe(token)));
        return std::nullopt;
    }
  }

  std::optional<Node> parse_call_arguments(const Token& callee) {
    const Token& open = next();  // '('
    if (!enter(open.loc)) return std::nullopt;
    std::vector<ExprPtr> args;
    int height = 1;
    if (peek().kind != TokenKind::RightParen) {
      while (true) {
        auto arg = parse_expression();
        if (!arg) return std::nullopt;
        args.push_back(arg->expr);
        height = std::max(height, arg->height + 1);
        if (peek().kind == TokenKind::Comma) {
          ++pos_;
          continue;
        }
        if (peek().kind == TokenKind::RightParen) break;
        fail(peek().loc, fmt::format("expected ',' or ')' after argument {} of '{}', found {}", args.size(),
                                     callee.text, describe(peek())));
        return std::nullopt;
      }
    }
    ++pos_;  // ')'
    --depth_;
    if (height > kMaxNestingDepth) {
      fail(callee.loc, too_deep_message());
      return std::nullopt;
    }
    return Node{make_call(std::string(callee.text), std::move(args), callee.loc), height};
  }

  std::optional<Node> combine(BinaryOp op, const Node& lhs, const Node& rhs, SourceLocation loc) {
    int height = std::max(lhs.height, rhs.height) + 1;
    if (height > kMaxNestingDepth) {
      fail(loc, too_deep_message());
      return std::nullopt;
    }
    return Node{make_binary(op, lhs.expr, rhs.expr, loc), height};
  }

  /// Counts one level of syntactic nesting; false (with an error) past the limit.
  bool enter(SourceLocation loc) {
    if (depth_ + 1 > kMaxNestingDepth) return fail(loc, too_deep_message());
    ++depth_;
    return true;
  }

  void skip_separators() {
    while (peek().kind == TokenKind::Semicolon || peek().kind == TokenKind::Newline) ++pos_;
  }

  const Token& peek(size_t ahead = 0) const {
    size_t index = pos_ + ahead;
    return index < tokens_.size() ? tokens_[index] : tokens_.back();
  }
  const Token& next() {
    const Token& token = peek();
    if (pos_ < tokens_.size() - 1) ++pos_;
    return token;
  }

  /// Records the first error (later ones are consequences) and returns false.
  bool fail(SourceLocation loc, std::string_view message) {
    if (!error_) error_ = make_error(ErrorCode::InvalidInput, format_diagnostic(source_, loc, message));
    return false;
  }

  std::string_view source_;
  std::vector<Token> tokens_;
  size_t pos_ = 0;
  int depth_ = 0;
  std::optional<Error> error_;
};

}  // namespace

Expected<Program> parse(std::string_view source) {
  auto tokens = tokenize(source);
  if (!tokens) return tokens.take_error();
  return Parser(source, std::move(*tokens)).run();
}

}  // namespace tilefuse::dsl
