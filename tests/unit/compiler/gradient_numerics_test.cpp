// Derivatives of every built-in (tilefuse-differentiate → CPU JIT, dy = 1)
// against float64 central differences of the interpreter (precise and fast
// mode, bounds of NumericCheckGradient.h), against closed forms, at the
// kinks (left-derivative convention), at ±inf (the limits) and at NaN.
#include <cmath>
#include <limits>
#include <numbers>
#include <string>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "compiler/NumericCheckGradient.h"
#include "dsl/Library.h"

namespace tilefuse::compiler {
namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();
constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

/// A call of `builtin` on the inputs, required extra parameters set to 0.25.
std::string call_expression(const dsl::Builtin& builtin) {
  std::string args = builtin.gated ? "gate, up" : "x";
  for (std::size_t i = builtin.gated ? 2 : 1; i < builtin.params.size(); ++i)
    if (!builtin.params[i].default_value) args += ", 0.25";
  return fmt::format("{}({})", builtin.name, args);
}

/// ∂f/∂(input k) at one point with dy = 1 (inputs: x, or gate and up).
float derivative(const CpuGradient& gradient, std::size_t k, std::vector<float> at) {
  float dy = 1.0f, out = kNaN;
  std::vector<const float*> inputs = {&dy};
  for (float& v : at) inputs.push_back(&v);
  auto ok = gradient.partials[k]->evaluate(inputs, {}, {&out, 1});
  EXPECT_TRUE(ok) << ok.error().message;
  return out;
}

CpuGradient compile_gradient(const std::string& expression, Precision precision = Precision::Precise) {
  KernelSpec spec;
  spec.expression = expression;
  spec.precision = precision;
  auto gradient = compile_gradient_for_cpu(spec);
  EXPECT_TRUE(gradient) << expression << ": " << gradient.error().message;
  return gradient ? std::move(*gradient) : CpuGradient{};
}

class BuiltinGradient : public ::testing::TestWithParam<std::string> {
 protected:
  void sweep(Precision precision, const ErrorBound& bound) {
    const dsl::Builtin* builtin = dsl::lookup_builtin(GetParam());
    ASSERT_NE(builtin, nullptr);
    KernelSpec spec;
    spec.expression = call_expression(*builtin);
    spec.precision = precision;
    auto reports = check_gradient_numerics(spec, {}, bound);
    ASSERT_TRUE(reports) << reports.error().message;
    ASSERT_EQ(reports->size(), builtin->gated ? 2u : 1u);
    for (const GradientReport& r : *reports) {
      EXPECT_TRUE(r.numbers.ok()) << spec.expression << " d/d" << r.wrt << " (" << to_string(precision)
                                  << "): " << r.numbers.violations << " violations; first: "
                                  << r.numbers.first_violation;
      EXPECT_GT(r.numbers.points, 40000u);
      // Only points next to a kink may be skipped (a handful per kink).
      EXPECT_LT(r.kinks_skipped, builtin->gated ? 200u : 20u) << spec.expression << " d/d" << r.wrt;
    }
  }
};

TEST_P(BuiltinGradient, PreciseModeAgainstCentralDifferences) { sweep(Precision::Precise, kGradientPreciseBound); }

/// mish goes through tanh.approx (2^-11 relative on a value <= 1, so 2^-11
/// absolute), which its derivative tanh(sp) + x·sech²(sp)·σ(x) carries where
/// the two terms cancel (near x = -1.2): 2^-11 absolute for mish.
ErrorBound fast_bound(const std::string& name) {
  if (name == "mish") return ErrorBound{kGradientFastBound.relative, 0.00048828125};
  return kGradientFastBound;
}

TEST_P(BuiltinGradient, FastModeAgainstCentralDifferences) { sweep(Precision::Fast, fast_bound(GetParam())); }

TEST_P(BuiltinGradient, NaNPropagates) {
  const dsl::Builtin* builtin = dsl::lookup_builtin(GetParam());
  ASSERT_NE(builtin, nullptr);
  for (auto precision : {Precision::Precise, Precision::Fast}) {
    CpuGradient g = compile_gradient(call_expression(*builtin), precision);
    ASSERT_FALSE(g.partials.empty());
    if (!builtin->gated) {
      EXPECT_TRUE(std::isnan(derivative(g, 0, {kNaN}))) << builtin->name;
      continue;
    }
    EXPECT_TRUE(std::isnan(derivative(g, 0, {kNaN, 1.5f}))) << builtin->name << " dgate, gate = NaN";
    EXPECT_TRUE(std::isnan(derivative(g, 1, {1.5f, kNaN}))) << builtin->name << " dup, up = NaN";
  }
}

/// The left-derivative convention at every built-in's kinks (0 for the ReLU
/// family, ±3 for the hard gates, 6 for relu6): the float64 second-order LEFT
/// difference is the reference there; at smooth points it is the derivative.
TEST_P(BuiltinGradient, KinksTakeTheLeftDerivative) {
  const dsl::Builtin* builtin = dsl::lookup_builtin(GetParam());
  ASSERT_NE(builtin, nullptr);
  auto resolved = dsl::resolve(call_expression(*builtin));
  ASSERT_TRUE(resolved);
  CpuGradient g = compile_gradient(call_expression(*builtin));
  ASSERT_FALSE(g.partials.empty());
  for (float at : {0.0f, -0.0f, 3.0f, -3.0f, 6.0f}) {
    for (std::size_t k = 0; k < g.wrt.size(); ++k) {
      dsl::InputValues in;
      std::vector<float> point = {at};
      if (builtin->gated) {
        in.gate = k == 0 ? at : 1.5;
        in.up = k == 0 ? 1.5 : at;
        point = {static_cast<float>(in.gate), static_cast<float>(in.up)};
      } else {
        in.x = at;
      }
      auto q = difference_quotients(*resolved, in, g.wrt[k], {});
      ASSERT_TRUE(q);
      EXPECT_TRUE(within_bound(derivative(g, k, point), q->left, {1e-5, 1e-5}))
          << builtin->name << " d/d" << g.wrt[k] << " at " << at << ": got " << derivative(g, k, point)
          << ", left difference " << q->left;
    }
  }
}

std::vector<std::string> builtin_names() {
  std::vector<std::string> names;
  for (const auto& b : dsl::builtin_library()) names.push_back(b.name);
  return names;
}

INSTANTIATE_TEST_SUITE_P(All, BuiltinGradient, ::testing::ValuesIn(builtin_names()),
                         [](const auto& info) { return info.param; });

// ---- closed forms ---------------------------------------------------------------

double Phi(double x) { return 0.5 * std::erfc(-x / std::numbers::sqrt2); }
double phi(double x) { return std::exp(-0.5 * x * x) / std::sqrt(2 * std::numbers::pi); }
double sigma(double x) { return 1.0 / (1.0 + std::exp(-x)); }

struct ClosedForm {
  const char* expression;
  double (*derivative)(double);
};

const ClosedForm kClosedForms[] = {
    {"gelu(x)", [](double x) { return Phi(x) + x * phi(x); }},
    {"quick_gelu(x)",
     [](double x) { return sigma(1.702 * x) + 1.702 * x * sigma(1.702 * x) * (1 - sigma(1.702 * x)); }},
    {"silu(x)", [](double x) { return sigma(x) * (1 + x * (1 - sigma(x))); }},
    {"sigmoid(x)", [](double x) { return sigma(x) * (1 - sigma(x)); }},
    {"softplus(x)", [](double x) { return sigma(x); }},
    {"tanh(x)", [](double x) { return 1 / (std::cosh(x) * std::cosh(x)); }},
    {"relu(x)", [](double x) { return x > 0 ? 1.0 : 0.0; }},
    {"elu(x)", [](double x) { return x > 0 ? 1.0 : std::exp(x); }},
    {"leaky_relu(x)", [](double x) { return x > 0 ? 1.0 : 0.01; }},
    {"relu2(x)", [](double x) { return x > 0 ? 2 * x : 0.0; }},
    {"mish(x)",
     [](double x) {
       double sp = std::log1p(std::exp(x)), t = std::tanh(sp);
       return t + x * (1 - t * t) * sigma(x);
     }},
    {"gelu_tanh(x)",
     [](double x) {
       const double c = std::sqrt(2 / std::numbers::pi);
       double u = c * (x + 0.044715 * x * x * x), t = std::tanh(u);
       return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * c * (1 + 3 * 0.044715 * x * x);
     }},
    {"hardswish(x)", [](double x) { return x < -3 ? 0.0 : x > 3 ? 1.0 : (2 * x + 3) / 6; }},
    {"exp(x) * erf(x) + log1p(x * x)",
     [](double x) {
       return std::exp(x) * std::erf(x) + std::exp(x) * 2 / std::sqrt(std::numbers::pi) * std::exp(-x * x) +
              2 * x / (1 + x * x);
     }},
    {"sqrt(1 + x * x) - rsqrt(2 + x * x) + pow(2, x) / (1 + exp2(x))",
     [](double x) {
       return x / std::sqrt(1 + x * x) + x * std::pow(2 + x * x, -1.5) +
              std::log(2.0) * std::pow(2, x) / ((1 + std::exp2(x)) * (1 + std::exp2(x)));
     }},
};

class GradientClosedFormsIn : public ::testing::TestWithParam<Precision> {};

TEST_P(GradientClosedFormsIn, MatchWithinTheModesBound) {
  const Precision precision = GetParam();
  for (const ClosedForm& form : kClosedForms) {
    CpuGradient g = compile_gradient(form.expression, precision);
    ASSERT_EQ(g.partials.size(), 1u) << form.expression;
    const std::string name = form.expression;
    const ErrorBound bound = precision == Precision::Precise ? kGradientPreciseBound
                                                             : fast_bound(name.substr(0, name.find('(')));
    int checked = 0;
    for (int i = -4000; i <= 4000; ++i) {
      const float x = static_cast<float>(i) * 0.005f + 0.0007f;  // off the kinks
      const double ref = form.derivative(x);
      const float got = derivative(g, 0, {x});
      EXPECT_TRUE(within_bound(got, ref, bound))
          << form.expression << " (" << to_string(precision) << ") at x = " << x << ": got " << got
          << ", closed form " << ref;
      if (!within_bound(got, ref, bound)) break;
      ++checked;
    }
    EXPECT_EQ(checked, 8001) << form.expression;
  }
}

INSTANTIATE_TEST_SUITE_P(Modes, GradientClosedFormsIn, ::testing::Values(Precision::Precise, Precision::Fast),
                         [](const auto& info) { return std::string(to_string(info.param)); });

TEST(GradientClosedForms, GatedPartials) {
  // swiglu(g, u) = silu(g)·u: ∂g = silu'(g)·u, ∂u = silu(g).
  CpuGradient g = compile_gradient("swiglu(gate, up)");
  ASSERT_EQ(g.wrt, (std::vector<std::string>{"gate", "up"}));
  for (float gate : {-7.5f, -1.25f, 0.0f, 0.3f, 2.0f, 11.0f})
    for (float up : {-3.0f, 0.5f, 4.0f}) {
      const double dgate = sigma(gate) * (1 + gate * (1 - sigma(gate))) * up;
      const double dup = gate * sigma(gate);
      EXPECT_TRUE(within_bound(derivative(g, 0, {gate, up}), dgate, kGradientPreciseBound)) << gate << " " << up;
      EXPECT_TRUE(within_bound(derivative(g, 1, {gate, up}), dup, kGradientPreciseBound)) << gate << " " << up;
    }
}

// ---- conventions and limits -------------------------------------------------------

TEST(GradientConventions, TiesAndKinks) {
  struct Case {
    const char* expression;
    float x;
    float expected;
  } cases[] = {
      {"relu(x)", 0.0f, 0.0f},           // as PyTorch
      {"leaky_relu(x)", 0.0f, 0.01f},    // as PyTorch (negative slope at 0)
      {"elu(x, 2)", 0.0f, 2.0f},         // as PyTorch (α·e^0)
      {"relu6(x)", 0.0f, 0.0f},          {"relu6(x)", 6.0f, 1.0f},
      {"abs(x)", 0.0f, -1.0f},           {"max(x, 1)", 1.0f, 0.0f},
      {"min(x, 1)", 1.0f, 1.0f},         {"step(x)", 0.0f, 0.0f},
      {"threshold(x, 1, 5)", 1.0f, 0.0f}, {"hardsigmoid(x)", -3.0f, 0.0f},
      {"hardsigmoid(x)", 3.0f, 1.0f / 6.0f},
      // Smooth functions written with kinks inside keep their derivative.
      {"sigmoid(x)", 0.0f, 0.25f},       {"softplus(x)", 0.0f, 0.5f},
      // xmul(x, g) at g = 0 with g moving: the x·g branch's derivative.
      {"xmul(x, x - 5)", 5.0f, 5.0f},
  };
  for (const auto& c : cases) {
    CpuGradient g = compile_gradient(c.expression);
    ASSERT_EQ(g.partials.size(), 1u) << c.expression;
    EXPECT_FLOAT_EQ(derivative(g, 0, {c.x}), c.expected) << c.expression << " at " << c.x;
  }
}

TEST(GradientConventions, InfinitiesFollowTheLimit) {
  struct Case {
    const char* expression;
    float x;
    float expected;
  } cases[] = {
      {"silu(x)", kInf, 1.0f},          {"silu(x)", -kInf, 0.0f},       {"gelu(x)", kInf, 1.0f},
      {"gelu(x)", -kInf, 0.0f},         {"gelu_tanh(x)", kInf, 1.0f},   {"gelu_tanh(x)", -kInf, 0.0f},
      {"quick_gelu(x)", kInf, 1.0f},    {"quick_gelu(x)", -kInf, 0.0f}, {"mish(x)", kInf, 1.0f},
      {"mish(x)", -kInf, 0.0f},         {"sigmoid(x)", kInf, 0.0f},     {"sigmoid(x)", -kInf, 0.0f},
      {"softplus(x)", kInf, 1.0f},      {"softplus(x)", -kInf, 0.0f},   {"tanh(x)", kInf, 0.0f},
      {"elu(x)", -kInf, 0.0f},          {"selu(x)", kInf, 1.0507009873554805f},
      {"hardswish(x)", kInf, 1.0f},     {"hardswish(x)", -kInf, 0.0f},  {"relu(x)", kInf, 1.0f},
      {"relu2(x)", kInf, kInf},         {"leaky_relu(x)", -kInf, 0.01f}, {"erf(x)", kInf, 0.0f},
      {"exp(x)", -kInf, 0.0f},
  };
  for (auto precision : {Precision::Precise, Precision::Fast}) {
    for (const auto& c : cases) {
      CpuGradient g = compile_gradient(c.expression, precision);
      ASSERT_EQ(g.partials.size(), 1u) << c.expression;
      EXPECT_EQ(derivative(g, 0, {c.x}), c.expected)
          << c.expression << " at " << c.x << " (" << to_string(precision) << ")";
    }
  }
}

/// x·σ'(x) and friends near the end of float's range: no 0·inf = NaN.
TEST(GradientConventions, LargeInputsStayFinite) {
  for (const char* expression : {"silu(x)", "gelu(x)", "gelu_tanh(x)", "mish(x)", "quick_gelu(x)", "softplus(x)"}) {
    for (auto precision : {Precision::Precise, Precision::Fast}) {
      CpuGradient g = compile_gradient(expression, precision);
      ASSERT_EQ(g.partials.size(), 1u);
      for (float x : {-3.4e38f, -1e19f, -1e4f, -200.0f, -104.0f, 104.0f, 1e4f, 1e19f, 3.4e38f}) {
        const float d = derivative(g, 0, {x});
        EXPECT_TRUE(std::isfinite(d)) << expression << " at " << x << " gave " << d;
        EXPECT_NEAR(d, x > 0 ? 1.0f : 0.0f, 1e-6f) << expression << " at " << x;
      }
    }
  }
}

TEST(GradientConventions, IncomingGradientScales) {
  CpuGradient g = compile_gradient("gelu(x)");
  ASSERT_EQ(g.partials.size(), 1u);
  float dy[] = {2.0f, -0.5f, 0.0f, kInf}, x[] = {1.0f, 1.0f, 1.0f, 1.0f}, out[4];
  const float* inputs[] = {dy, x};
  ASSERT_TRUE(g.partials[0]->evaluate(inputs, {}, out));
  const double d = Phi(1.0) + phi(1.0);
  EXPECT_NEAR(out[0], 2.0 * d, 1e-6);
  EXPECT_NEAR(out[1], -0.5 * d, 1e-6);
  EXPECT_EQ(out[2], 0.0f);
  EXPECT_EQ(out[3], kInf);
}

TEST(GradientConventions, ParametersAreHeld) {
  // d/dx of a·x² with a runtime parameter: 2·a·x.
  KernelSpec spec;
  spec.expression = "a * x * x";
  auto g = compile_gradient_for_cpu(spec);
  ASSERT_TRUE(g) << g.error().message;
  float dy = 1.0f, x = 3.0f, out = 0;
  const float* inputs[] = {&dy, &x};
  const float a = 0.5f;
  ASSERT_TRUE(g->partials[0]->evaluate(inputs, {&a, 1}, {&out, 1}));
  EXPECT_FLOAT_EQ(out, 3.0f);
}

TEST(GradientConventions, ForwardCompileForCpuRejectsGradientSpecs) {
  KernelSpec spec;
  spec.expression = "gelu(x)";
  spec.gradient = true;
  auto cpu = compile_for_cpu(spec);
  ASSERT_FALSE(cpu);
  EXPECT_EQ(cpu.error().code, ErrorCode::InvalidInput);
  EXPECT_NE(cpu.error().message.find("compile_gradient_for_cpu"), std::string::npos);
}

}  // namespace
}  // namespace tilefuse::compiler
