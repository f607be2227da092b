// Parser: accepted syntax, precedence, associativity, numbers, let bindings.
#include <gtest/gtest.h>

#include <string>

#include "dsl/Parser.h"

namespace tilefuse::dsl {
namespace {

/// The S-expression of a parsed program, or the error text.
std::string ast(std::string_view source) {
  auto program = parse(source);
  if (!program) return program.error().message;
  return to_string(*program);
}

TEST(Parser, ArithmeticPrecedence) {
  EXPECT_EQ(ast("1 + 2 * 3"), "(+ 1 (* 2 3))\n");
  EXPECT_EQ(ast("1 * 2 + 3"), "(+ (* 1 2) 3)\n");
  EXPECT_EQ(ast("(1 + 2) * 3"), "(* (+ 1 2) 3)\n");
  EXPECT_EQ(ast("a + b / c - d"), "(- (+ a (/ b c)) d)\n");
}

TEST(Parser, LeftAssociativeOperators) {
  EXPECT_EQ(ast("1 - 2 - 3"), "(- (- 1 2) 3)\n");
  EXPECT_EQ(ast("8 / 4 / 2"), "(/ (/ 8 4) 2)\n");
  EXPECT_EQ(ast("a * b / c"), "(/ (* a b) c)\n");
}

TEST(Parser, PowerIsRightAssociativeAndBindsTighterThanUnaryMinus) {
  EXPECT_EQ(ast("2 ^ 3 ^ 2"), "(^ 2 (^ 3 2))\n");
  EXPECT_EQ(ast("-x^2"), "(neg (^ x 2))\n");
  EXPECT_EQ(ast("2^-x^2"), "(^ 2 (neg (^ x 2)))\n");
  EXPECT_EQ(ast("(-x)^2"), "(^ (neg x) 2)\n");
  EXPECT_EQ(ast("2 * x^3"), "(* 2 (^ x 3))\n");
}

TEST(Parser, UnaryOperators) {
  EXPECT_EQ(ast("-2 * x"), "(* (neg 2) x)\n");
  EXPECT_EQ(ast("x * -y"), "(* x (neg y))\n");
  EXPECT_EQ(ast("--x"), "(neg (neg x))\n");
  EXPECT_EQ(ast("+x"), "x\n");
  EXPECT_EQ(ast("-+-x"), "(neg (neg x))\n");
  EXPECT_EQ(ast("x - -1"), "(- x (neg 1))\n");
}

TEST(Parser, ComparisonsBindLoosest) {
  EXPECT_EQ(ast("a < b + 1"), "(< a (+ b 1))\n");
  EXPECT_EQ(ast("a <= b"), "(<= a b)\n");
  EXPECT_EQ(ast("a > b"), "(> a b)\n");
  EXPECT_EQ(ast("a >= b"), "(>= a b)\n");
  EXPECT_EQ(ast("a == -b"), "(== a (neg b))\n");
  EXPECT_EQ(ast("a != b * 2"), "(!= a (* b 2))\n");
  EXPECT_EQ(ast("(a < b) == c"), "(== (< a b) c)\n");
}

TEST(Parser, Calls) {
  EXPECT_EQ(ast("max(x, 0)"), "(call max x 0)\n");
  EXPECT_EQ(ast("clamp(x + 1, -1, 1)"), "(call clamp (+ x 1) (neg 1) 1)\n");
  EXPECT_EQ(ast("f()"), "(call f)\n");
  EXPECT_EQ(ast("x * sigmoid(1.702 * x)"), "(* x (call sigmoid (* 1.702 x)))\n");
  EXPECT_EQ(ast("select(x > 0, x, exp(x) - 1)"), "(call select (> x 0) x (- (call exp x) 1))\n");
}

TEST(Parser, Numbers) {
  EXPECT_EQ(ast("2"), "2\n");
  EXPECT_EQ(ast("0.5"), "0.5\n");
  EXPECT_EQ(ast("1.702"), "1.702\n");
  EXPECT_EQ(ast("1e-3"), "0.001\n");
  EXPECT_EQ(ast(".5"), "0.5\n");
  EXPECT_EQ(ast("5."), "5\n");
  EXPECT_EQ(ast("1E+2"), "100\n");
  EXPECT_EQ(ast("2.5e1"), "25\n");
  EXPECT_EQ(ast("0.7071067811865476"), "0.7071067811865476\n");
  auto program = parse("1e-3");
  ASSERT_TRUE(program);
  EXPECT_EQ(program->result->value, 1e-3);
}

TEST(Parser, LetBindings) {
  const char* expected = "(let t (call sigmoid (* 1.702 x)))\n(* x t)\n";
  EXPECT_EQ(ast("t = sigmoid(1.702 * x); x * t"), expected);
  EXPECT_EQ(ast("t = sigmoid(1.702 * x)\nx * t"), expected);
  EXPECT_EQ(ast("# quick gelu\nt = sigmoid(1.702 * x)  # the gate\n\n\nx * t\n"), expected);
  EXPECT_EQ(ast(";; t = sigmoid(1.702 * x);\n;x * t;"), expected);
  EXPECT_EQ(ast("t = sigmoid(1.702 * x)\r\nx * t\r\n"), expected);
  EXPECT_EQ(ast("a = x; b = a * a; b + a"), "(let a x)\n(let b (* a a))\n(+ b a)\n");
}

TEST(Parser, LocationsAreRecorded) {
  auto program = parse("t = x\n  y * sigmoid(t)");
  ASSERT_TRUE(program) << program.error().message;
  EXPECT_EQ(program->lets[0].loc.line, 1);
  EXPECT_EQ(program->lets[0].loc.column, 1);
  const Expr& mul = *program->result;
  EXPECT_EQ(mul.loc.line, 2);
  EXPECT_EQ(mul.loc.column, 5);
  EXPECT_EQ(mul.operands[0]->loc.column, 3);
  EXPECT_EQ(mul.operands[1]->loc.column, 7);
  EXPECT_EQ(program->source, "t = x\n  y * sigmoid(t)");
}

TEST(Parser, NewlinesInsideParenthesesAreWhitespace) {
  EXPECT_EQ(ast("max(x,\n    0)"), "(call max x 0)\n");
  EXPECT_EQ(ast("(x\n + 1\n)"), "(+ x 1)\n");
}

TEST(Parser, CommentsAndWhitespace) {
  EXPECT_EQ(ast("  x\t* 2  # twice"), "(* x 2)\n");
  EXPECT_EQ(ast("# leading comment\n\nx"), "x\n");
}

TEST(Parser, NestingUpToTheLimitIsAccepted) {
  std::string source = std::string(kMaxNestingDepth, '(') + "x" + std::string(kMaxNestingDepth, ')');
  EXPECT_EQ(ast(source), "x\n");
  std::string minuses = std::string(kMaxNestingDepth - 1, '-') + "x";
  auto program = parse(minuses);
  EXPECT_TRUE(program) << program.error().message.substr(0, 200);
}

}  // namespace
}  // namespace tilefuse::dsl
