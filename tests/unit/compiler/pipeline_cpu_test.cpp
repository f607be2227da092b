// compile_for_cpu(): the lowered (scalar, post-simplify) epilogue computes
// what the float64 interpreter computes, including ±0, ±inf and NaN. This
// checks the AST lowering and every IR rewrite end to end.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "compiler/Pipeline.h"
#include "dsl/Interpreter.h"

namespace tilefuse::compiler {
namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();
constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

/// Inputs that exercise the special cases plus an ordinary sweep.
std::vector<float> sample_inputs() {
  std::vector<float> xs = {0.0f, -0.0f, kInf, -kInf, kNaN, 1.0f, -1.0f, 1e-30f, -1e-30f, 3e38f, -3e38f};
  for (float x = -20.0f; x <= 20.0f; x += 0.37f) xs.push_back(x);
  return xs;
}

std::string describe(float x) {
  return "x = " + std::to_string(x) + (std::signbit(x) ? " (sign bit set)" : "");
}

/// fp32 result vs float64 reference: same NaN-ness, same infinities, same
/// sign of zero, otherwise the precise-mode bound of the design:
/// |error| ≤ max(1e-6 · |ref|, 1e-7).
void expect_matches(float got, double ref, const std::string& what) {
  if (std::isnan(ref)) {
    EXPECT_TRUE(std::isnan(got)) << what << ": got " << got << ", reference NaN";
    return;
  }
  auto ref32 = static_cast<float>(ref);
  if (std::isinf(ref32) || ref32 == 0.0f) {
    EXPECT_EQ(got, ref32) << what << ": reference " << ref;
    EXPECT_EQ(std::signbit(got), std::signbit(ref32)) << what << ": sign of " << got << " vs " << ref;
    return;
  }
  double tolerance = std::max(1e-6 * std::fabs(ref), 1e-7);
  EXPECT_NEAR(got, ref, tolerance) << what;
}

/// Compiles `expression` for the CPU and compares it with the interpreter on
/// every sample input (a gated expression gets `up = 0.75 * gate - 1`).
void check_against_interpreter(const std::string& expression, const dsl::ParameterValues& params = {}) {
  SCOPED_TRACE(expression);
  KernelSpec spec;
  spec.expression = expression;
  auto cpu = compile_for_cpu(spec);
  ASSERT_TRUE(cpu) << cpu.error().message << "\n" << cpu.error().detail;
  auto resolved = dsl::resolve(expression);
  ASSERT_TRUE(resolved) << resolved.error().message;

  std::vector<float> xs = sample_inputs();
  std::vector<float> ups(xs.size());
  for (size_t i = 0; i < xs.size(); ++i) ups[i] = 0.75f * xs[i] - 1.0f;
  std::vector<float> param_values;
  for (const auto& name : (*cpu)->parameters()) param_values.push_back(static_cast<float>(params.at(name)));

  bool gated = (*cpu)->inputs() == dsl::InputKind::Gated;
  std::vector<const float*> inputs = {xs.data()};
  if (gated) inputs.push_back(ups.data());
  std::vector<float> out(xs.size());
  auto ran = (*cpu)->evaluate(inputs, param_values, out);
  ASSERT_TRUE(ran) << ran.error().message;

  for (size_t i = 0; i < xs.size(); ++i) {
    dsl::InputValues in;
    in.x = in.gate = xs[i];
    in.up = ups[i];
    auto ref = dsl::evaluate(*resolved, in, params);
    ASSERT_TRUE(ref) << ref.error().message;
    expect_matches(out[i], *ref, describe(xs[i]));
  }
}



TEST(PipelineCpuTest, ArithmeticAndSignedZeros) {
  check_against_interpreter("x + 0");     // not simplified: -0 + 0 = +0
  check_against_interpreter("x * 1");     // folded: -0 stays -0
  check_against_interpreter("x - 0");
  check_against_interpreter("-(-x)");
  check_against_interpreter("x / 4");     // becomes x * 0.25
  check_against_interpreter("-x * 3");    // becomes x * -3
  check_against_interpreter("x - (-x)");  // becomes x + x
}

TEST(PipelineCpuTest, PowersExpandedAndKept) {
  check_against_interpreter("pow(x, 0)");
  check_against_interpreter("pow(x, 1)");
  check_against_interpreter("pow(x, -1)");
  check_against_interpreter("x ^ 2");
  check_against_interpreter("pow(x, 0.5)");  // stays pow: pow(-0, .5) = +0, pow(-inf, .5) = inf
}

TEST(PipelineCpuTest, ComparisonsSelectAndNaN) {
  check_against_interpreter("(x > 0) + (x <= 0)");  // 0 for NaN
  check_against_interpreter("x != x");              // 1 for NaN only
  check_against_interpreter("select(x, 1, 2)");     // NaN counts as true
  check_against_interpreter("select(x >= 1, x, -x)");
  check_against_interpreter("min(x, 0) + max(x, 1)");
  check_against_interpreter("clamp(x, -1, 1)");
}

TEST(PipelineCpuTest, BuiltinsAndParameters) {
  check_against_interpreter("gelu");
  check_against_interpreter("silu(x)");
  check_against_interpreter("softplus(x)");
  check_against_interpreter("leaky_relu(x, a)", {{"a", 0.2}});
  check_against_interpreter("swiglu");
  check_against_interpreter("t = x * 0.5\nerfc(t) * t");
}

TEST(PipelineCpuTest, DslErrorsComeBackBeforeAnyCompilation) {
  KernelSpec spec;
  spec.expression = "x +* 2";
  auto cpu = compile_for_cpu(spec);
  ASSERT_FALSE(cpu);
  EXPECT_EQ(cpu.error().code, ErrorCode::InvalidInput);
}

}  // namespace
}  // namespace tilefuse::compiler
