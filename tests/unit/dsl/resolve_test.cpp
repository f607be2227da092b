// Name resolution: inputs, parameters, built-ins used, shorthand and errors.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include <fmt/format.h>

#include "dsl/Builder.h"
#include "dsl/Parser.h"
#include "dsl/Resolve.h"

namespace tilefuse::dsl {
namespace {

using Names = std::vector<std::string>;

ResolvedProgram resolved(std::string_view source) {
  auto program = resolve(source);
  EXPECT_TRUE(program) << program.error().message;
  return program ? *program : ResolvedProgram{};
}

std::string resolve_error(std::string_view source) {
  auto program = resolve(source);
  if (program) return "resolved: " + to_string(program->program);
  EXPECT_EQ(program.error().code, ErrorCode::InvalidInput);
  return program.error().message;
}

TEST(Resolve, SingleInputProgram) {
  auto program = resolved("x * sigmoid(1.702 * x)");
  EXPECT_EQ(program.analysis.inputs, InputKind::Single);
  EXPECT_EQ(program.analysis.parameters, Names{});
  EXPECT_EQ(program.analysis.builtins_used, Names{"sigmoid"});
}

TEST(Resolve, GatedProgram) {
  auto program = resolved("silu(gate) * up");
  EXPECT_EQ(program.analysis.inputs, InputKind::Gated);
  EXPECT_EQ(program.analysis.builtins_used, (Names{"xmul", "sigmoid", "silu"}));
}

TEST(Resolve, ProgramsWithoutInputsAreSingle) {
  EXPECT_EQ(resolved("2 + 3").analysis.inputs, InputKind::Single);
  auto program = resolved("a * 2");
  EXPECT_EQ(program.analysis.inputs, InputKind::Single);
  EXPECT_EQ(program.analysis.parameters, Names{"a"});
}

TEST(Resolve, ParametersInOrderOfFirstAppearance) {
  EXPECT_EQ(resolved("leaky_relu(x, alpha) * scale + alpha").analysis.parameters, (Names{"alpha", "scale"}));
  EXPECT_EQ(resolved("t = a * x; t + b + a").analysis.parameters, (Names{"a", "b"}));
  EXPECT_EQ(resolved("swish(x, beta)").analysis.parameters, Names{"beta"});
  // A default filled in by the library is not a runtime parameter.
  EXPECT_EQ(resolved("leaky_relu(x)").analysis.parameters, Names{});
}

TEST(Resolve, BuiltinsUsedAreTransitiveCalleesFirst) {
  EXPECT_EQ(resolved("swiglu(gate, up) + gelu(gate)").analysis.builtins_used,
            (Names{"xmul", "sigmoid", "silu", "swiglu", "gelu"}));
  EXPECT_EQ(resolved("selu(x)").analysis.builtins_used, (Names{"elu", "selu"}));
  EXPECT_EQ(resolved("exp(x) + 1").analysis.builtins_used, Names{});
}

TEST(Resolve, BareBuiltinShorthand) {
  auto gelu = resolved("gelu");
  EXPECT_EQ(to_string(gelu.program), "(call gelu x)\n");
  EXPECT_EQ(gelu.analysis.inputs, InputKind::Single);
  auto swiglu = resolved("swiglu");
  EXPECT_EQ(to_string(swiglu.program), "(call swiglu gate up)\n");
  EXPECT_EQ(swiglu.analysis.inputs, InputKind::Gated);
  EXPECT_EQ(to_string(resolved("  tanh  # a primitive works too\n").program), "(call tanh x)\n");
  // analyze() accepts the shorthand as well.
  auto parsed = parse("relu6");
  ASSERT_TRUE(parsed);
  EXPECT_TRUE(analyze(*parsed));
  EXPECT_EQ(to_string(normalize(*parsed)), "(call relu6 x)\n");
  EXPECT_EQ(to_string(normalize(*parse("x + 1"))), "(+ x 1)\n");
}

TEST(Resolve, BuiltinNameAsAValueIsAnError) {
  EXPECT_EQ(resolve_error("gelu + 1"),
            "error: 1:1: 'gelu' is a function; call it with its arguments, e.g. gelu(x)\ngelu + 1\n^");
  EXPECT_EQ(resolve_error("2 * swiglu"),
            "error: 1:5: 'swiglu' is a function; call it with its arguments, e.g. swiglu(gate, up)\n"
            "2 * swiglu\n    ^");
  EXPECT_EQ(resolve_error("t = 1; gelu"),
            "error: 1:8: 'gelu' is a function; call it with its arguments, e.g. gelu(x)\nt = 1; gelu\n       ^");
  EXPECT_EQ(resolve_error("x + clamp"),
            "error: 1:5: 'clamp' is a function; call it with its arguments, e.g. clamp(x, lo, hi)\n"
            "x + clamp\n    ^");
}

TEST(Resolve, MixingInputKindsIsAnError) {
  EXPECT_EQ(resolve_error("x * gate"),
            "error: 1:5: 'gate' cannot be used together with 'x' (at 1:1): a program reads either x, or gate "
            "and up (a gated dual GEMM)\nx * gate\n    ^");
  EXPECT_NE(resolve_error("swiglu(gate, up) + x").find("error: 1:20: 'x' cannot be used together with 'gate'"),
            std::string::npos);
}

TEST(Resolve, UnknownFunctionSuggestsTheClosestName) {
  EXPECT_EQ(resolve_error("sigmoud(x)"),
            "error: 1:1: unknown function 'sigmoud'; did you mean 'sigmoid'?\nsigmoud(x)\n^");
  EXPECT_EQ(resolve_error("x * Gelu(x)"),
            "error: 1:5: unknown function 'Gelu'; did you mean 'gelu'?\nx * Gelu(x)\n    ^");
  EXPECT_EQ(resolve_error("foo(x)"), "error: 1:1: unknown function 'foo'\nfoo(x)\n^");
}

TEST(Resolve, ArityErrorsStateTheExpectedCount) {
  EXPECT_EQ(resolve_error("clamp(x, 0)"), "error: 1:1: 'clamp' expects 3 arguments, got 2\nclamp(x, 0)\n^");
  EXPECT_EQ(resolve_error("exp(x, 1)"), "error: 1:1: 'exp' expects 1 argument, got 2\nexp(x, 1)\n^");
  EXPECT_EQ(resolve_error("leaky_relu(x, 0.1, 2)"),
            "error: 1:1: 'leaky_relu' expects 1 to 2 arguments, got 3\nleaky_relu(x, 0.1, 2)\n^");
  EXPECT_EQ(resolve_error("threshold()"), "error: 1:1: 'threshold' expects 1 to 3 arguments, got 0\nthreshold()\n^");
  EXPECT_EQ(resolve_error("prelu(x)"), "error: 1:1: 'prelu' expects 2 arguments, got 1\nprelu(x)\n^");
  EXPECT_EQ(resolve_error("swiglu(gate)"), "error: 1:1: 'swiglu' expects 2 arguments, got 1\nswiglu(gate)\n^");
}

TEST(Resolve, LetRules) {
  EXPECT_EQ(resolve_error("x = 2; x"), "error: 1:1: cannot bind 'x': it is an input; choose another name\nx = 2; x\n^");
  EXPECT_EQ(resolve_error("relu = x; relu"),
            "error: 1:1: cannot bind 'relu': it is a function; choose another name\nrelu = x; relu\n^");
  EXPECT_EQ(resolve_error("exp = x; 1"), "error: 1:1: cannot bind 'exp': it is a function; choose another name\n"
                                         "exp = x; 1\n^");
  EXPECT_EQ(resolve_error("t = x\nt = 2 * t\nt"), "error: 2:1: 't' is already bound on line 1\nt = 2 * t\n^");
  EXPECT_EQ(resolve_error("y = t; t = x; y"),
            "error: 1:5: 't' is used before its definition on line 1\ny = t; t = x; y\n    ^");
  EXPECT_EQ(resolve_error("t = t + x; t"), "error: 1:5: 't' is used in its own definition\nt = t + x; t\n    ^");
  EXPECT_EQ(resolve_error("t = x; t(2)"), "error: 1:8: 't' is a let binding, not a function\nt = x; t(2)\n       ^");
  EXPECT_EQ(resolve_error("x(2)"), "error: 1:1: 'x' is an input, not a function\nx(2)\n^");
}

TEST(Resolve, LetsAreNotParameters) {
  auto program = resolved("t = sigmoid(k * x); x * t");
  EXPECT_EQ(program.analysis.parameters, Names{"k"});
}

TEST(Resolve, WhereIsAnAliasOfSelect) { EXPECT_TRUE(resolve("where(x > 0, x, 0)")); }

TEST(Resolve, ParseErrorsPassThrough) {
  EXPECT_EQ(resolve_error("relu(x"),
            "error: 1:7: expected ',' or ')' after argument 1 of 'relu', found end of input\nrelu(x\n      ^");
}

TEST(Resolve, BuilderProgramsGetUnpositionedErrors) {
  namespace tf = tilefuse::builder;
  auto unknown = resolve(tf::program(tf::call("nope", {tf::var("x")})));
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().message, "error: unknown function 'nope'");
  auto bad_name = resolve(tf::program(tf::var("x") * tf::param("a b")));
  ASSERT_FALSE(bad_name);
  EXPECT_EQ(bad_name.error().message, "error: 'a b' is not a valid name");
}

TEST(Resolve, TallBuilderTreesAreRejectedWithoutRecursion) {
  namespace tf = tilefuse::builder;
  tf::Expr e = tf::var("x");
  for (int i = 0; i < 5000; ++i) e = -e;
  auto program = resolve(tf::program(e));
  ASSERT_FALSE(program);
  EXPECT_EQ(program.error().message,
            fmt::format("error: expression nests deeper than {} levels; split it into let bindings",
                        kMaxNestingDepth));
}

}  // namespace
}  // namespace tilefuse::dsl
