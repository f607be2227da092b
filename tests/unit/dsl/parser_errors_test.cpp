// Parser and lexer errors: the exact positioned diagnostic for each kind of
// malformed input, and nesting limits that fail cleanly instead of crashing.
#include <gtest/gtest.h>

#include <string>

#include <fmt/format.h>

#include "dsl/Parser.h"

namespace tilefuse::dsl {
namespace {

std::string parse_error(std::string_view source) {
  auto program = parse(source);
  if (program) return "parsed: " + to_string(*program);
  EXPECT_EQ(program.error().code, ErrorCode::InvalidInput);
  return program.error().message;
}

TEST(ParserErrors, DiagnosticFormat) {
  EXPECT_EQ(format_diagnostic("a\nbcd\n", {2, 3}, "oops"), "error: 2:3: oops\nbcd\n  ^");
  EXPECT_EQ(format_diagnostic("ab", {1, 3}, "at end"), "error: 1:3: at end\nab\n  ^");
  EXPECT_EQ(format_diagnostic("\tab", {1, 3}, "tab"), "error: 1:3: tab\n\tab\n\t ^");
}

TEST(ParserErrors, IncompleteExpression) {
  EXPECT_EQ(parse_error("x*(1+"), "error: 1:6: expected an expression, found end of input\nx*(1+\n     ^");
  EXPECT_EQ(parse_error("x +"), "error: 1:4: expected an expression, found end of input\nx +\n   ^");
  EXPECT_EQ(parse_error("x + # trailing comment"),
            "error: 1:4: expected an expression, found end of input\nx + # trailing comment\n   ^");
  EXPECT_EQ(parse_error("* x"), "error: 1:1: expected an expression, found '*'\n* x\n^");
  EXPECT_EQ(parse_error("max(x, )"), "error: 1:8: expected an expression, found ')'\nmax(x, )\n       ^");
}

TEST(ParserErrors, OperatorAtEndOfLine) {
  EXPECT_EQ(parse_error("x *\n2"),
            "error: 1:4: expected an expression, found end of line (to continue an expression on the next "
            "line, wrap it in parentheses)\nx *\n   ^");
}

TEST(ParserErrors, EmptyProgram) {
  const char* message = "the program is empty; write an expression such as x * sigmoid(1.702 * x)";
  EXPECT_EQ(parse_error(""), fmt::format("error: 1:1: {}\n\n^", message));
  EXPECT_EQ(parse_error("  # just a comment\n\n"), fmt::format("error: 1:1: {}\n  # just a comment\n^", message));
  EXPECT_EQ(parse_error(";;"), fmt::format("error: 1:1: {}\n;;\n^", message));
}

TEST(ParserErrors, TrailingGarbage) {
  EXPECT_EQ(parse_error("x y"),
            "error: 1:3: expected an operator or the end of the statement, found identifier 'y'\nx y\n  ^");
  EXPECT_EQ(parse_error("x 2"),
            "error: 1:3: expected an operator or the end of the statement, found number '2'\nx 2\n  ^");
  EXPECT_EQ(parse_error("x)"), "error: 1:2: unmatched ')'\nx)\n ^");
  EXPECT_EQ(parse_error("2 = x; x"),
            "error: 1:3: unexpected '='; only a plain name can be bound with '=' (compare with '==')\n"
            "2 = x; x\n  ^");
}

TEST(ParserErrors, UnclosedParenthesisNamesItsOpening) {
  EXPECT_EQ(parse_error("(x"), "error: 1:3: expected ')' to close the '(' at 1:1, found end of input\n(x\n  ^");
  EXPECT_EQ(parse_error("max(x 0)"),
            "error: 1:7: expected ',' or ')' after argument 1 of 'max', found number '0'\nmax(x 0)\n      ^");
}

TEST(ParserErrors, UnknownCharacters) {
  EXPECT_EQ(parse_error("x $ 2"), "error: 1:3: unexpected character '$'\nx $ 2\n  ^");
  EXPECT_EQ(parse_error("x & y"), "error: 1:3: unexpected character '&'\nx & y\n  ^");
  EXPECT_EQ(parse_error("!x"), "error: 1:1: unexpected character '!'\n!x\n^");
  // Columns count characters, not bytes: the caret sits under the '$'.
  EXPECT_EQ(parse_error("x × 2"), "error: 1:3: unexpected character '×'\nx × 2\n  ^");
  EXPECT_EQ(parse_error("é $"), "error: 1:1: unexpected character 'é'\né $\n^");
  EXPECT_EQ(parse_error("x\x01"), "error: 1:2: unexpected character '\\x01'\nx\x01\n ^");
  EXPECT_EQ(parse_error("x ** 2"), "error: 1:3: '**' is not an operator; write powers with '^', e.g. x^2\nx ** 2\n  ^");
}

TEST(ParserErrors, MalformedNumbers) {
  EXPECT_EQ(parse_error("1e"), "error: 1:1: malformed number '1e': the exponent has no digits (write e.g. 1e-3)\n1e\n^");
  EXPECT_EQ(parse_error("x * 1e+"),
            "error: 1:5: malformed number '1e+': the exponent has no digits (write e.g. 1e-3)\nx * 1e+\n    ^");
  EXPECT_EQ(parse_error("x + 1.2.3"),
            "error: 1:5: malformed number '1.2.3': a number has at most one '.'\nx + 1.2.3\n    ^");
  EXPECT_EQ(parse_error("2x"), "error: 1:1: malformed number '2x'; to multiply, write '2 * x'\n2x\n^");
  EXPECT_EQ(parse_error("1e999"), "error: 1:1: number '1e999' is out of the range of a double\n1e999\n^");
}

TEST(ParserErrors, StatementStructure) {
  EXPECT_EQ(parse_error("t = x"),
            "error: 1:1: the program ends with a let binding; the last statement must be the result "
            "expression\nt = x\n^");
  EXPECT_EQ(parse_error("t = x\nu = t;\n"),
            "error: 2:1: the program ends with a let binding; the last statement must be the result "
            "expression\nu = t;\n^");
  EXPECT_EQ(parse_error("x; y"),
            "error: 1:1: only the last statement may be a bare expression; bind this one to a name ('t = "
            "...') or remove it\nx; y\n^");
  EXPECT_EQ(parse_error("t = x\nt * $"), "error: 2:5: unexpected character '$'\nt * $\n    ^");
}

TEST(ParserErrors, ComparisonsDoNotChain) {
  EXPECT_EQ(parse_error("a < b < c"),
            "error: 1:7: comparisons do not chain; add parentheses, e.g. (a < b) == c\na < b < c\n      ^");
}

// A deep input must be rejected with a message, never overflow the stack.
std::string deep_error_prefix(int column) {
  return fmt::format("error: 1:{}: expression nests deeper than {} levels; split it into let bindings\n", column,
                     kMaxNestingDepth);
}

TEST(ParserErrors, HundredThousandParenthesesAreAnError) {
  std::string source = std::string(100000, '(') + "x" + std::string(100000, ')');
  std::string message = parse_error(source);
  EXPECT_EQ(message.substr(0, message.find('\n') + 1), deep_error_prefix(kMaxNestingDepth + 1));
  std::string unbalanced(100000, '(');
  message = parse_error(unbalanced);
  EXPECT_EQ(message.substr(0, message.find('\n') + 1), deep_error_prefix(kMaxNestingDepth + 1));
}

TEST(ParserErrors, LongUnaryChainsAreAnError) {
  std::string message = parse_error(std::string(100000, '-') + "x");
  EXPECT_EQ(message.substr(0, message.find('\n') + 1), deep_error_prefix(kMaxNestingDepth + 1));
  message = parse_error(std::string(100000, '+') + "x");
  EXPECT_EQ(message.substr(0, message.find('\n') + 1), deep_error_prefix(kMaxNestingDepth + 1));
}

TEST(ParserErrors, DeepCallsAndPowersAreAnError) {
  std::string calls;
  for (int i = 0; i < 100000; ++i) calls += "exp(";
  EXPECT_NE(parse_error(calls).find("nests deeper than"), std::string::npos);
  std::string powers = "x";
  for (int i = 0; i < 100000; ++i) powers += "^x";
  EXPECT_NE(parse_error(powers).find("nests deeper than"), std::string::npos);
}

TEST(ParserErrors, TallTreesFromLongChainsAreAnError) {
  // x+x+...+x is a left-leaning tree as tall as the chain is long; later
  // passes recurse over it, so its height is limited too.
  std::string sum = "x";
  for (int i = 0; i < 100000; ++i) sum += "+x";
  std::string message = parse_error(sum);
  EXPECT_EQ(message.substr(0, message.find('\n') + 1), deep_error_prefix(2 * kMaxNestingDepth));
}

}  // namespace
}  // namespace tilefuse::dsl
