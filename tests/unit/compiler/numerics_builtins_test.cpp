// Every built-in, compiled through the whole pipeline and JIT-compiled for
// the CPU, against the float64 interpreter over the dense sweep and special
// values (NumericCheck), in precise and fast mode.
#include <cmath>
#include <limits>
#include <string>

#include <gtest/gtest.h>
#include <fmt/format.h>

#include "compiler/NumericCheck.h"
#include "dsl/Library.h"

namespace tilefuse::compiler {
namespace {

/// A call of `builtin` on the inputs, required extra parameters set to 0.25.
std::string call_expression(const dsl::Builtin& builtin) {
  std::string args = builtin.gated ? "gate, up" : "x";
  for (std::size_t i = builtin.gated ? 2 : 1; i < builtin.params.size(); ++i)
    if (!builtin.params[i].default_value) args += ", 0.25";
  return fmt::format("{}({})", builtin.name, args);
}

/// Fast-mode bound per built-in (docs/dsl.md lists the measured errors).
/// Activations that go through the SFU's tanh.approx (2^-11) get the generic
/// fast bound; those built on ex2/rcp stay within a few float ulps.
ErrorBound fast_bound(const std::string& name) {
  if (name == "mish") return kFastBound;
  return ErrorBound{4e-6, 4e-7};
}

class BuiltinNumerics : public ::testing::TestWithParam<std::string> {};

TEST_P(BuiltinNumerics, PreciseModeWithinOneMillionth) {
  const dsl::Builtin* builtin = dsl::lookup_builtin(GetParam());
  ASSERT_NE(builtin, nullptr);
  KernelSpec spec;
  spec.expression = call_expression(*builtin);
  auto report = check_numerics(spec, {}, kPreciseBound);
  ASSERT_TRUE(report) << report.error().message;
  EXPECT_TRUE(report->ok()) << spec.expression << ": " << report->violations
                            << " violations; first: " << report->first_violation;
  EXPECT_GT(report->points, 40000u);
}

TEST_P(BuiltinNumerics, FastModeWithinDocumentedBound) {
  const dsl::Builtin* builtin = dsl::lookup_builtin(GetParam());
  ASSERT_NE(builtin, nullptr);
  KernelSpec spec;
  spec.expression = call_expression(*builtin);
  spec.precision = Precision::Fast;
  auto report = check_numerics(spec, {}, fast_bound(builtin->name));
  ASSERT_TRUE(report) << report.error().message;
  EXPECT_TRUE(report->ok()) << spec.expression << " (fast): " << report->violations
                            << " violations; first: " << report->first_violation;
}

TEST_P(BuiltinNumerics, NaNPropagates) {
  const dsl::Builtin* builtin = dsl::lookup_builtin(GetParam());
  ASSERT_NE(builtin, nullptr);
  for (auto precision : {Precision::Precise, Precision::Fast}) {
    KernelSpec spec;
    spec.expression = call_expression(*builtin);
    spec.precision = precision;
    auto cpu = compile_for_cpu(spec);
    ASSERT_TRUE(cpu) << cpu.error().message;
    const float nan = std::numeric_limits<float>::quiet_NaN();
    const float firsts[] = {nan, 1.5f};
    const float seconds[] = {1.5f, nan};
    float out[2];
    std::vector<const float*> inputs = {firsts};
    if (builtin->gated) inputs.push_back(seconds);
    ASSERT_TRUE((*cpu)->evaluate(inputs, {}, out));
    EXPECT_TRUE(std::isnan(out[0])) << spec.expression << " at NaN gave " << out[0];
    if (builtin->gated) EXPECT_TRUE(std::isnan(out[1])) << spec.expression << " with up = NaN";
  }
}

std::vector<std::string> builtin_names() {
  std::vector<std::string> names;
  for (const auto& b : dsl::builtin_library()) names.push_back(b.name);
  return names;
}

INSTANTIATE_TEST_SUITE_P(All, BuiltinNumerics, ::testing::ValuesIn(builtin_names()),
                         [](const auto& info) { return info.param; });

TEST(BuiltinNumerics, InfinitiesFollowTheLimit) {
  const float inf = std::numeric_limits<float>::infinity();
  struct Case {
    const char* expression;
    float x;
    float expected;
    bool negative_zero;
  } cases[] = {
      {"gelu(x)", inf, inf, false},       {"gelu(x)", -inf, -0.0f, true},
      {"silu(x)", -inf, -0.0f, true},     {"silu(x)", inf, inf, false},
      {"mish(x)", -inf, -0.0f, true},     {"hardswish(x)", -inf, -0.0f, true},
      {"softplus(x)", inf, inf, false},   {"softplus(x)", -inf, 0.0f, false},
      {"sigmoid(x)", -inf, 0.0f, false},  {"elu(x)", -inf, -1.0f, false},
      {"gelu_tanh(x)", inf, inf, false},  {"relu2(x)", -inf, 0.0f, false},
  };
  for (const auto& c : cases) {
    KernelSpec spec;
    spec.expression = c.expression;
    auto cpu = compile_for_cpu(spec);
    ASSERT_TRUE(cpu) << cpu.error().message;
    float out = 0;
    const float* inputs[] = {&c.x};
    ASSERT_TRUE((*cpu)->evaluate(inputs, {}, {&out, 1}));
    EXPECT_EQ(out, c.expected) << c.expression << " at " << c.x;
    EXPECT_EQ(std::signbit(out), c.negative_zero || c.expected < 0) << c.expression << " at " << c.x;
  }
}

}  // namespace
}  // namespace tilefuse::compiler
