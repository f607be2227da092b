// Float64 interpreter: values of expressions and built-ins, IEEE special
// cases (±inf limits, signed zeros, NaN propagation), parameters, speed.
#include <gtest/gtest.h>

#include <cmath>
#include <ctime>
#include <limits>
#include <string>

#include "dsl/Interpreter.h"
#include "dsl/Library.h"

namespace tilefuse::dsl {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
const double kNaN = std::numeric_limits<double>::quiet_NaN();

double eval(std::string_view source, double x, const ParameterValues& parameters = {}) {
  auto program = resolve(source);
  EXPECT_TRUE(program) << program.error().message;
  if (!program) return kNaN;
  auto value = evaluate(*program, InputValues{x, 0.0, 0.0}, parameters);
  EXPECT_TRUE(value) << value.error().message;
  return value ? *value : kNaN;
}

double eval_gated(std::string_view source, double gate, double up) {
  auto program = resolve(source);
  EXPECT_TRUE(program) << program.error().message;
  if (!program) return kNaN;
  auto value = evaluate(*program, InputValues{0.0, gate, up}, {});
  EXPECT_TRUE(value) << value.error().message;
  return value ? *value : kNaN;
}

double sigmoid(double v) { return 1.0 / (1.0 + std::exp(-v)); }

TEST(Interpreter, Arithmetic) {
  EXPECT_EQ(eval("1 + 2 * 3", 0), 7.0);
  EXPECT_EQ(eval("-x^2", 3), -9.0);
  EXPECT_EQ(eval("2 ^ 3 ^ 2", 0), 512.0);
  EXPECT_EQ(eval("(x - 1) / 4", 3), 0.5);
  EXPECT_EQ(eval("pow(x, 10)", 2), 1024.0);
  EXPECT_TRUE(std::isnan(eval("pow(x, 1/3)", -8)));  // std::pow semantics
  EXPECT_EQ(eval("rsqrt(x)", 4), 0.5);
  EXPECT_EQ(eval("exp2(x) + abs(-x)", 3), 11.0);
}

TEST(Interpreter, QuickGeluByHand) {
  EXPECT_DOUBLE_EQ(eval("x * sigmoid(1.702 * x)", 1.0), sigmoid(1.702));
  EXPECT_NEAR(eval("x * sigmoid(1.702 * x)", 1.0), 0.84580, 1e-5);
  EXPECT_DOUBLE_EQ(eval("t = sigmoid(1.702 * x); x * t", -0.5), -0.5 * sigmoid(-0.851));
}

// Φ(1) = 0.841344746068542948...; the double evaluation is within an ulp or two.
TEST(Interpreter, GeluAtOne) { EXPECT_NEAR(eval("gelu(x)", 1.0), 0.8413447460685429, 4e-16); }

TEST(Interpreter, Comparisons) {
  EXPECT_EQ(eval("x < 1", 0), 1.0);
  EXPECT_EQ(eval("x <= 1", 1), 1.0);
  EXPECT_EQ(eval("x > 1", 1), 0.0);
  EXPECT_EQ(eval("x >= 1", 1), 1.0);
  EXPECT_EQ(eval("x == 1", 1), 1.0);
  EXPECT_EQ(eval("x != 1", 1), 0.0);
  // NaN compares false, except !=.
  for (const char* source : {"x < 1", "x <= 1", "x > 1", "x >= 1", "x == x"})
    EXPECT_EQ(eval(source, kNaN), 0.0) << source;
  EXPECT_EQ(eval("x != x", kNaN), 1.0);
}

TEST(Interpreter, SelectTreatsNaNAsTrue) {
  EXPECT_EQ(eval("select(x, 1, 2)", 0), 2.0);
  EXPECT_EQ(eval("select(x, 1, 2)", -0.0), 2.0);
  EXPECT_EQ(eval("select(x, 1, 2)", 3), 1.0);
  EXPECT_EQ(eval("select(x, 1, 2)", kNaN), 1.0);
  EXPECT_EQ(eval("where(x > 0, 1, 2)", 1), 1.0);
}

TEST(Interpreter, MinMaxClampPropagateNaN) {
  for (const char* source : {"max(x, 0)", "max(0, x)", "min(x, 0)", "min(0, x)", "clamp(x, 0, 6)", "relu(x)"})
    EXPECT_TRUE(std::isnan(eval(source, kNaN))) << source;
  EXPECT_TRUE(std::isnan(eval("clamp(1, x, 6)", kNaN)));
  EXPECT_EQ(eval("max(x, 0)", -3), 0.0);
  EXPECT_EQ(eval("min(x, 0)", -3), -3.0);
  // -0 orders below +0 (as MLIR's arith.maximumf/minimumf).
  EXPECT_FALSE(std::signbit(eval("max(x, 0)", -0.0)));
  EXPECT_FALSE(std::signbit(eval("max(0, x)", -0.0)));
  EXPECT_TRUE(std::signbit(eval("min(x, 0)", -0.0)));
  EXPECT_TRUE(std::signbit(eval("min(0, x)", -0.0)));
}

TEST(Interpreter, ReluFamily) {
  EXPECT_EQ(eval("relu6(x)", 7), 6.0);
  EXPECT_EQ(eval("relu6(x)", 3), 3.0);
  EXPECT_EQ(eval("relu6(x)", -1), 0.0);
  EXPECT_EQ(eval("relu2(x)", 3), 9.0);
  EXPECT_EQ(eval("relu2(x)", -3), 0.0);
  EXPECT_DOUBLE_EQ(eval("leaky_relu(x)", -2), -0.02);
  EXPECT_DOUBLE_EQ(eval("leaky_relu(x, 0.2)", -2), -0.4);
  EXPECT_EQ(eval("leaky_relu(x)", 2), 2.0);
  EXPECT_DOUBLE_EQ(eval("prelu(x, a)", -2, {{"a", 0.25}}), -0.5);
  EXPECT_EQ(eval("step(x)", 2), 1.0);
  EXPECT_EQ(eval("step(x)", 0), 0.0);
  EXPECT_EQ(eval("step(x)", -2), 0.0);
  EXPECT_EQ(eval("threshold(x)", 0.5), 0.5);
  EXPECT_EQ(eval("threshold(x, 1, -7)", 0.5), -7.0);
  EXPECT_EQ(eval("threshold(x, 1, -7)", 1.5), 1.5);
}

// Each single-input built-in against an independent closed form of its
// textbook definition (relative 1e-14). The references run in long double:
// the textbook forms cancel for x < 0 (1 + erf(x/√2) at x = -3.5 loses 11
// bits), which is exactly why the library does not use them.
TEST(Interpreter, BuiltinsMatchTextbookFormulas) {
  using Real = long double;
  struct Case {
    const char* source;
    Real (*reference)(Real);
  };
  const Case cases[] = {
      {"sigmoid(x)", [](Real v) { return 1 / (1 + std::exp(-v)); }},
      {"softplus(x)", [](Real v) { return std::log(1 + std::exp(v)); }},
      {"silu(x)", [](Real v) { return v / (1 + std::exp(-v)); }},
      {"swish(x)", [](Real v) { return v / (1 + std::exp(-v)); }},
      {"quick_gelu(x)", [](Real v) { return v / (1 + std::exp(-1.702L * v)); }},
      {"gelu(x)", [](Real v) { return 0.5L * v * (1 + std::erf(v / std::sqrt(2.0L))); }},
      {"gelu_tanh(x)",
       [](Real v) {
         const Real pi = 3.141592653589793238462643383279502884L;
         return 0.5L * v * (1 + std::tanh(std::sqrt(2 / pi) * (v + 0.044715L * v * v * v)));
       }},
      {"mish(x)", [](Real v) { return v * std::tanh(std::log(1 + std::exp(v))); }},
      {"hardsigmoid(x)", [](Real v) { return std::min(std::max(v + 3, Real(0)), Real(6)) / 6; }},
      {"hardswish(x)", [](Real v) { return v * std::min(std::max(v + 3, Real(0)), Real(6)) / 6; }},
      {"elu(x)", [](Real v) { return v > 0 ? v : std::exp(v) - 1; }},
      {"selu(x)",
       [](Real v) { return 1.0507009873554805L * (v > 0 ? v : 1.6732632423543772L * (std::exp(v) - 1)); }},
      {"relu(x)", [](Real v) { return v > 0 ? v : Real(0); }},
  };
  for (const auto& c : cases) {
    for (double v : {-3.5, -1.25, -0.5, 0.25, 0.75, 2.0, 4.5}) {
      double expected = static_cast<double>(c.reference(v));
      EXPECT_NEAR(eval(c.source, v), expected, 1e-14 * std::abs(expected)) << c.source << " at " << v;
    }
  }
}

TEST(Interpreter, InfinitiesGiveTheMathematicalLimit) {
  for (const char* source : {"silu(x)", "gelu(x)", "gelu_tanh(x)", "quick_gelu(x)", "swish(x)", "mish(x)",
                             "hardswish(x)"}) {
    double at_minus_inf = eval(source, -kInf);
    EXPECT_EQ(at_minus_inf, 0.0) << source;
    EXPECT_TRUE(std::signbit(at_minus_inf)) << source << " at -inf should be -0";
    EXPECT_EQ(eval(source, kInf), kInf) << source;
  }
  EXPECT_EQ(eval("sigmoid(x)", -kInf), 0.0);
  EXPECT_EQ(eval("sigmoid(x)", kInf), 1.0);
  EXPECT_EQ(eval("softplus(x)", kInf), kInf);
  EXPECT_EQ(eval("softplus(x)", -kInf), 0.0);
  EXPECT_EQ(eval("elu(x)", -kInf), -1.0);
  EXPECT_DOUBLE_EQ(eval("selu(x)", -kInf), -1.0507009873554805 * 1.6732632423543772);
  EXPECT_EQ(eval("leaky_relu(x)", -kInf), -kInf);
  EXPECT_EQ(eval("relu(x)", -kInf), 0.0);
  EXPECT_EQ(eval("hardsigmoid(x)", kInf), 1.0);
  // a = 0 makes leaky_relu a relu, also at -inf (0·-inf would be NaN).
  double zero_slope = eval("prelu(x, a)", -kInf, {{"a", 0.0}});
  EXPECT_EQ(zero_slope, 0.0);
  EXPECT_TRUE(std::signbit(zero_slope));
}

TEST(Interpreter, SignedZerosSurviveTheGateHelper) {
  // xmul(x, g) with g = 0 keeps the sign of the product, for finite x too.
  EXPECT_TRUE(std::signbit(eval("xmul(x, 0)", -0.0)));
  EXPECT_FALSE(std::signbit(eval("xmul(x, 0)", 0.0)));
  EXPECT_TRUE(std::signbit(eval("xmul(x, 0)", -5.0)));
  EXPECT_FALSE(std::signbit(eval("xmul(x, -0.0)", -5.0)));
  EXPECT_TRUE(std::signbit(eval("silu(x)", -0.0)));
  EXPECT_TRUE(std::isnan(eval("xmul(x, 0)", kNaN)));
}

TEST(Interpreter, NaNPropagatesThroughEveryBuiltin) {
  for (const auto& builtin : builtin_library()) {
    std::string call = builtin.name + "(";
    ParameterValues parameters;
    for (size_t i = 0; i < builtin.params.size(); ++i) {
      const auto& param = builtin.params[i];
      if (i > 0) call += ", ";
      if (i == 0 || (builtin.gated && i == 1)) {
        call += param.name;
      } else {
        call += "p_" + param.name;  // every other parameter: a runtime value
        parameters["p_" + param.name] = param.default_value.value_or(0.25);
      }
    }
    call += ")";
    if (builtin.gated) {
      EXPECT_TRUE(std::isnan(eval_gated(call, kNaN, 1.0))) << call << " with gate = NaN";
      EXPECT_TRUE(std::isnan(eval_gated(call, 1.0, kNaN))) << call << " with up = NaN";
    } else {
      EXPECT_TRUE(std::isnan(eval(call, kNaN, parameters))) << call;
    }
  }
}

TEST(Interpreter, GatedBuiltins) {
  EXPECT_DOUBLE_EQ(eval_gated("swiglu", 2, 3), 2 * sigmoid(2) * 3);
  EXPECT_DOUBLE_EQ(eval_gated("glu(gate, up)", 2, 3), sigmoid(2) * 3);
  EXPECT_EQ(eval_gated("reglu(gate, up)", -2, 3), 0.0);
  EXPECT_EQ(eval_gated("reglu(gate, up)", 2, 3), 6.0);
  EXPECT_DOUBLE_EQ(eval_gated("geglu(gate, up)", 1, 2), 2 * 0.8413447460685429);
  EXPECT_EQ(eval_gated("bilinear", 2, 3), 6.0);
}

TEST(Interpreter, RuntimeParameters) {
  EXPECT_DOUBLE_EQ(eval("leaky_relu(x, alpha)", -2, {{"alpha", 0.3}}), -0.6);
  EXPECT_EQ(eval("a * x + b", 2, {{"a", 3}, {"b", 1}}), 7.0);
  auto program = resolve("leaky_relu(x, alpha) + beta");
  ASSERT_TRUE(program);
  auto missing = evaluate(*program, InputValues{1.0}, ParameterValues{{"beta", 1.0}});
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::InvalidInput);
  EXPECT_EQ(missing.error().message, "missing value for parameter 'alpha'; pass it with --param alpha=VALUE");
}

TEST(Interpreter, UnresolvedProgramIsAnInternalError) {
  ResolvedProgram bogus;
  bogus.program.result = make_call("no_such_function", {make_variable("x")});
  auto value = evaluate(bogus, InputValues{1.0}, {});
  ASSERT_FALSE(value);
  EXPECT_EQ(value.error().code, ErrorCode::Internal);
}

#if defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || __has_feature(memory_sanitizer)
#define TILEFUSE_SANITIZED_BUILD 1
#endif
#endif

TEST(Interpreter, FastEnoughForDenseSweeps) {
#if !defined(NDEBUG) || defined(TILEFUSE_SANITIZED_BUILD)
  GTEST_SKIP() << "the time limit applies to optimized, uninstrumented builds only";
#endif
  auto program = resolve("gelu(x) + swish(x, beta) * mish(x)");
  ASSERT_TRUE(program);
  ParameterValues parameters{{"beta", 1.5}};
  // CPU time, not wall time: the machine may be busy with other work.
  std::clock_t start = std::clock();
  double checksum = 0.0;
  const int count = 200000;
  for (int i = 0; i < count; ++i) {
    auto value = evaluate(*program, InputValues{-20.0 + 40.0 * i / count}, parameters);
    ASSERT_TRUE(value);
    checksum += *value;
  }
  double seconds = static_cast<double>(std::clock() - start) / CLOCKS_PER_SEC;
  EXPECT_TRUE(std::isfinite(checksum));
  EXPECT_LT(seconds, 1.0) << "200k evaluations took " << seconds << " s";
}

}  // namespace
}  // namespace tilefuse::dsl
