// The C++ builder makes the same tree as the parser.
#include <gtest/gtest.h>

#include <string>

#include "dsl/Builder.h"
#include "dsl/Interpreter.h"
#include "dsl/Parser.h"

namespace tilefuse::dsl {
namespace {

namespace tf = tilefuse::builder;

std::string parsed(std::string_view source) {
  auto program = parse(source);
  EXPECT_TRUE(program) << program.error().message;
  return program ? to_string(*program) : "";
}

TEST(Builder, SameTreeAsTheParser) {
  auto x = tf::var("x");
  EXPECT_EQ(to_string(tf::program(x * tf::sigmoid(1.702 * x))), parsed("x * sigmoid(1.702 * x)"));
  EXPECT_EQ(to_string(tf::program(-tf::pow(x, 2))), parsed("-x^2"));
  EXPECT_EQ(to_string(tf::program(tf::select(x > 0, x, -0.5 * x))), parsed("select(x > 0, x, -0.5 * x)"));
  EXPECT_EQ(to_string(tf::program(tf::clamp(x, 0, 6) / 6 + tf::erfc(x) - tf::exp2(x) <= tf::rsqrt(x))),
            parsed("clamp(x, 0, 6) / 6 + erfc(x) - exp2(x) <= rsqrt(x)"));
  EXPECT_EQ(to_string(tf::program(x - 1 - 2)), parsed("x - 1 - 2"));
  EXPECT_EQ(to_string(tf::program(x - (1 - tf::param("a")))), parsed("x - (1 - a)"));
  EXPECT_EQ(to_string(tf::program(tf::call("leaky_relu", {x, tf::param("alpha")}))),
            parsed("leaky_relu(x, alpha)"));
  auto gate = tf::var("gate"), up = tf::var("up");
  EXPECT_EQ(to_string(tf::program(tf::silu(gate) * up)), parsed("silu(gate) * up"));
  EXPECT_EQ(to_string(tf::program((x == 1) != (x < 2))), parsed("(x == 1) != (x < 2)"));
  EXPECT_EQ(to_string(tf::program(tf::max(x, 0) + tf::min(x, 0) * tf::abs(x) / tf::sqrt(x))),
            parsed("max(x, 0) + min(x, 0) * abs(x) / sqrt(x)"));
}

TEST(Builder, LetBindings) {
  auto x = tf::var("x");
  auto t = tf::var("t");
  EXPECT_EQ(to_string(tf::program(x * t, {{"t", tf::sigmoid(1.702 * x)}})),
            parsed("t = sigmoid(1.702 * x); x * t"));
}

TEST(Builder, NegativeConstantsReadLikeTheSource) {
  EXPECT_EQ(to_string(*tf::Expr(-0.5).node()), "(neg 0.5)");
  EXPECT_EQ(to_string(*tf::Expr(-0.0).node()), "(neg 0)");
  EXPECT_EQ(to_string(*tf::Expr(2.0).node()), "2");
}

TEST(Builder, ResolvesAndEvaluatesLikeParsedText) {
  auto x = tf::var("x");
  auto built = resolve(tf::program(tf::gelu(x) + tf::softplus(x) * tf::param("k")));
  auto text = resolve("gelu(x) + softplus(x) * k");
  ASSERT_TRUE(built) << built.error().message;
  ASSERT_TRUE(text);
  EXPECT_EQ(built->analysis.parameters, text->analysis.parameters);
  EXPECT_EQ(built->analysis.builtins_used, text->analysis.builtins_used);
  for (double v : {-3.0, 0.5, 2.0}) {
    auto a = evaluate(*built, InputValues{v}, {{"k", 0.7}});
    auto b = evaluate(*text, InputValues{v}, {{"k", 0.7}});
    ASSERT_TRUE(a && b);
    EXPECT_EQ(*a, *b);
  }
}

}  // namespace
}  // namespace tilefuse::dsl
