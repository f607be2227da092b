// CPU JIT of hand-written scalar epilogue IR, compared with the C++ standard
// library evaluating the same float operations: libm functions bit for bit,
// NaN/inf semantics of the comparison and min/max ops, the hardware error
// model of tilefuse.approx, no re-association or FMA contraction, argument
// checking and concurrent use.
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "compiler/Cpu/CpuEvaluator.h"
#include "compiler/Dialect/TilefuseDialect.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"

namespace tilefuse::compiler {
namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();
constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

/// A dense sweep of [-20, 20] plus zeros, infinities, NaN, subnormals and
/// values near the float limits.
std::vector<float> sweep() {
  std::vector<float> xs;
  for (float x = -20.0f; x <= 20.0f; x += 0.0371f) xs.push_back(x);
  for (float x : {0.0f, -0.0f, kInf, -kInf, kNaN, 1e-40f, -1e-40f, 1e-10f, -1e-10f, 3e38f, -3e38f,
                  88.7f, -103.0f, 0.5f, 1.0f, -1.0f})
    xs.push_back(x);
  return xs;
}

/// Same bits, or both NaN.
::testing::AssertionResult sameFloat(float expected, float actual, float x) {
  if (std::isnan(expected) && std::isnan(actual)) return ::testing::AssertionSuccess();
  if (std::bit_cast<uint32_t>(expected) == std::bit_cast<uint32_t>(actual))
    return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << "at x = " << x << ": expected " << expected << " got " << actual;
}

std::string matmul(const std::string& attrs, const std::string& body) {
  return "tilefuse.matmul attributes {input_type = bf16, output_type = bf16" +
         (attrs.empty() ? std::string() : ", " + attrs) + "} {\n" + body + "}\n";
}

class CpuJitTest : public ::testing::Test {
 protected:
  CpuJitTest() {
    mlir::DialectRegistry registry;
    registry.insert<ir::TilefuseDialect, mlir::arith::ArithDialect, mlir::math::MathDialect,
                    mlir::func::FuncDialect, mlir::vector::VectorDialect>();
    ctx_.appendDialectRegistry(registry);
    ctx_.loadAllAvailableDialects();
  }

  Expected<std::unique_ptr<CpuEpilogue>> tryJit(const std::string& text) {
    module_ = mlir::parseSourceString<mlir::ModuleOp>(text, &ctx_);
    if (!module_) return make_error(ErrorCode::InvalidInput, "test IR does not parse:\n" + text);
    ir::MatmulOp op;
    module_->walk([&](ir::MatmulOp m) { op = m; });
    return jitEpilogueForCpu(op);
  }

  std::unique_ptr<CpuEpilogue> jit(const std::string& text) {
    Expected<std::unique_ptr<CpuEpilogue>> epilogue = tryJit(text);
    if (!epilogue) {
      ADD_FAILURE() << epilogue.error().message << "\n" << epilogue.error().detail;
      return nullptr;
    }
    return std::move(*epilogue);
  }

  /// Evaluates `epilogue` on `x` (and `up` when gated).
  static std::vector<float> run(const CpuEpilogue& epilogue, const std::vector<float>& x,
                                std::vector<float> params = {},
                                const std::optional<std::vector<float>>& up = std::nullopt) {
    std::vector<float> out(x.size(), -12345.0f);
    std::vector<const float*> inputs = {x.data()};
    if (up) inputs.push_back(up->data());
    Expected<void> ok = epilogue.evaluate(inputs, params, out);
    EXPECT_TRUE(ok) << (ok ? "" : ok.error().message);
    return out;
  }

  /// JITs `%y = <op> %x : f32` and compares it with `reference` on sweep().
  template <typename Reference>
  void expectUnaryMatches(const std::string& op, Reference reference) {
    auto epilogue =
        jit(matmul("", "^bb0(%x: f32):\n  %y = " + op + " %x : f32\n  tilefuse.yield %y : f32\n"));
    ASSERT_TRUE(epilogue);
    std::vector<float> xs = sweep();
    std::vector<float> ys = run(*epilogue, xs);
    for (size_t k = 0; k < xs.size(); ++k)
      EXPECT_TRUE(sameFloat(reference(xs[k]), ys[k], xs[k])) << op;
  }

  mlir::MLIRContext ctx_;
  mlir::OwningOpRef<mlir::ModuleOp> module_;
};

// ---- libm functions, bit for bit ------------------------------------------------

TEST_F(CpuJitTest, MathOpsMatchLibmExactly) {
  expectUnaryMatches("math.exp", [](float x) { return std::exp(x); });
  expectUnaryMatches("math.exp2", [](float x) { return std::exp2(x); });
  expectUnaryMatches("math.log", [](float x) { return std::log(x); });
  expectUnaryMatches("math.log2", [](float x) { return std::log2(x); });
  expectUnaryMatches("math.tanh", [](float x) { return std::tanh(x); });
  expectUnaryMatches("math.erf", [](float x) { return std::erf(x); });
  expectUnaryMatches("math.sqrt", [](float x) { return std::sqrt(x); });
  expectUnaryMatches("math.absf", [](float x) { return std::fabs(x); });
  expectUnaryMatches("math.rsqrt", [](float x) { return 1.0f / std::sqrt(x); });
  expectUnaryMatches("tilefuse.erfc", [](float x) { return std::erfc(x); });
}

TEST_F(CpuJitTest, Log1pAndExpm1AreLibmCallsNotNaiveExpansions) {
  // log(1 + x) and exp(x) - 1 would give 0 for x = 1e-10.
  expectUnaryMatches("math.log1p", [](float x) { return std::log1p(x); });
  expectUnaryMatches("math.expm1", [](float x) { return std::expm1(x); });
  auto epilogue = jit(matmul("",
                             "^bb0(%x: f32):\n  %y = math.log1p %x : f32\n"
                             "  tilefuse.yield %y : f32\n"));
  ASSERT_TRUE(epilogue);
  EXPECT_GT(run(*epilogue, {1e-10f})[0], 0.0f);
}

TEST_F(CpuJitTest, ErfcKeepsItsTail) {
  auto epilogue = jit(matmul("",
                             "^bb0(%x: f32):\n  %y = tilefuse.erfc %x : f32\n"
                             "  tilefuse.yield %y : f32\n"));
  ASSERT_TRUE(epilogue);
  float y = run(*epilogue, {9.0f})[0];
  EXPECT_GT(y, 0.0f);  // 1 - erf(9) is 0 in float
  EXPECT_NEAR(y / 4.1370317e-37f, 1.0f, 1e-5f);
}

TEST_F(CpuJitTest, BinaryAndTernaryMathMatchTheStandardLibrary) {
  auto epilogue = jit(matmul("param_names = [\"p\", \"q\"]", R"(^bb0(%x: f32, %p: f32, %q: f32):
  %pw = math.powf %x, %p : f32
  %f = math.fma %pw, %q, %x : f32
  tilefuse.yield %f : f32
)"));
  ASSERT_TRUE(epilogue);
  std::vector<float> xs = sweep();
  const float p = 1.37f, q = -0.625f;
  std::vector<float> ys = run(*epilogue, xs, {p, q});
  for (size_t k = 0; k < xs.size(); ++k)
    EXPECT_TRUE(sameFloat(std::fma(std::pow(xs[k], p), q, xs[k]), ys[k], xs[k]));
}

// ---- parameters and inputs ---------------------------------------------------------

TEST_F(CpuJitTest, LeakyReluSelectsWithAParameter) {
  auto epilogue = jit(matmul("param_names = [\"a\"]", R"(^bb0(%x: f32, %a: f32):
  %zero = arith.constant 0.0 : f32
  %pos = arith.cmpf ogt, %x, %zero : f32
  %neg = arith.mulf %a, %x : f32
  %y = arith.select %pos, %x, %neg : f32
  tilefuse.yield %y : f32
)"));
  ASSERT_TRUE(epilogue);
  EXPECT_EQ(epilogue->parameters(), std::vector<std::string>{"a"});
  EXPECT_EQ(epilogue->inputs(), dsl::InputKind::Single);
  std::vector<float> xs = sweep();
  for (float a : {0.01f, 0.2f}) {
    std::vector<float> ys = run(*epilogue, xs, {a});
    for (size_t k = 0; k < xs.size(); ++k)
      EXPECT_TRUE(sameFloat(xs[k] > 0.0f ? xs[k] : a * xs[k], ys[k], xs[k]));
  }
}

TEST_F(CpuJitTest, ParametersArePassedInDeclaredOrder) {
  auto epilogue = jit(matmul("param_names = [\"scale\", \"shift\"]",
                             R"(^bb0(%x: f32, %scale: f32, %shift: f32):
  %m = arith.mulf %x, %scale : f32
  %y = arith.subf %m, %shift : f32
  tilefuse.yield %y : f32
)"));
  ASSERT_TRUE(epilogue);
  EXPECT_EQ(epilogue->parameters(), (std::vector<std::string>{"scale", "shift"}));
  std::vector<float> ys = run(*epilogue, {1.0f, 2.0f, -3.0f}, {10.0f, 0.5f});
  EXPECT_EQ(ys, (std::vector<float>{9.5f, 19.5f, -30.5f}));
}

TEST_F(CpuJitTest, GatedEpilogueReadsGateAndUp) {
  auto epilogue = jit(matmul("gated", R"(^bb0(%gate: f32, %up: f32):
  %one = arith.constant 1.0 : f32
  %ng = arith.negf %gate : f32
  %e = math.exp %ng : f32
  %d = arith.addf %one, %e : f32
  %s = arith.divf %gate, %d : f32
  %y = arith.mulf %s, %up : f32
  tilefuse.yield %y : f32
)"));
  ASSERT_TRUE(epilogue);
  EXPECT_EQ(epilogue->inputs(), dsl::InputKind::Gated);
  std::vector<float> gate = sweep();
  std::vector<float> up(gate.size());
  for (size_t k = 0; k < up.size(); ++k) up[k] = 0.25f * static_cast<float>(k % 17) - 2.0f;
  std::vector<float> ys = run(*epilogue, gate, {}, up);
  for (size_t k = 0; k < gate.size(); ++k) {
    float g = gate[k];
    EXPECT_TRUE(sameFloat(g / (1.0f + std::exp(-g)) * up[k], ys[k], g));
  }
}

// ---- NaN and infinity semantics --------------------------------------------------

TEST_F(CpuJitTest, MaximumPropagatesNaNWhileMaxnumIgnoresIt) {
  auto maximum = jit(matmul("", R"(^bb0(%x: f32):
  %zero = arith.constant 0.0 : f32
  %y = arith.maximumf %x, %zero : f32
  tilefuse.yield %y : f32
)"));
  auto maxnum = jit(matmul("", R"(^bb0(%x: f32):
  %zero = arith.constant 0.0 : f32
  %y = arith.maxnumf %x, %zero : f32
  tilefuse.yield %y : f32
)"));
  ASSERT_TRUE(maximum && maxnum);
  std::vector<float> xs = {kNaN, -1.0f, 2.0f, -kInf, kInf};
  std::vector<float> a = run(*maximum, xs);
  std::vector<float> b = run(*maxnum, xs);
  EXPECT_TRUE(std::isnan(a[0]));
  EXPECT_EQ(b[0], 0.0f);
  EXPECT_EQ(a[1], 0.0f);
  EXPECT_EQ(a[2], 2.0f);
  EXPECT_EQ(a[3], 0.0f);
  EXPECT_EQ(a[4], kInf);
  EXPECT_EQ(b[4], kInf);
}

TEST_F(CpuJitTest, ComparisonPredicatesFollowOrderedAndUnorderedRules) {
  // out = ult + 2·olt + 4·uno + 8·one + 16·ueq + 32·oge, each 0 or 1.
  auto epilogue = jit(matmul("param_names = [\"y\"]", R"(^bb0(%x: f32, %y: f32):
  %c0 = arith.cmpf ult, %x, %y : f32
  %c1 = arith.cmpf olt, %x, %y : f32
  %c2 = arith.cmpf uno, %x, %y : f32
  %c3 = arith.cmpf one, %x, %y : f32
  %c4 = arith.cmpf ueq, %x, %y : f32
  %c5 = arith.cmpf oge, %x, %y : f32
  %f0 = arith.uitofp %c0 : i1 to f32
  %f1 = arith.uitofp %c1 : i1 to f32
  %f2 = arith.uitofp %c2 : i1 to f32
  %f3 = arith.uitofp %c3 : i1 to f32
  %f4 = arith.uitofp %c4 : i1 to f32
  %f5 = arith.uitofp %c5 : i1 to f32
  %two = arith.constant 2.0 : f32
  %a1 = arith.mulf %f1, %two : f32
  %s1 = arith.addf %f0, %a1 : f32
  %four = arith.constant 4.0 : f32
  %a2 = arith.mulf %f2, %four : f32
  %s2 = arith.addf %s1, %a2 : f32
  %eight = arith.constant 8.0 : f32
  %a3 = arith.mulf %f3, %eight : f32
  %s3 = arith.addf %s2, %a3 : f32
  %sixteen = arith.constant 16.0 : f32
  %a4 = arith.mulf %f4, %sixteen : f32
  %s4 = arith.addf %s3, %a4 : f32
  %thirtytwo = arith.constant 32.0 : f32
  %a5 = arith.mulf %f5, %thirtytwo : f32
  %s5 = arith.addf %s4, %a5 : f32
  tilefuse.yield %s5 : f32
)"));
  ASSERT_TRUE(epilogue);
  auto reference = [](float x, float y) {
    bool unordered = std::isnan(x) || std::isnan(y);
    int bits = (unordered || x < y) * 1 + (x < y) * 2 + unordered * 4 + (!unordered && x != y) * 8 +
               (unordered || x == y) * 16 + (x >= y) * 32;
    return static_cast<float>(bits);
  };
  for (float y : {0.0f, 1.5f, kNaN}) {
    std::vector<float> xs = {-1.0f, 0.0f, 1.5f, 3.0f, kNaN, kInf, -kInf};
    std::vector<float> out = run(*epilogue, xs, {y});
    for (size_t k = 0; k < xs.size(); ++k)
      EXPECT_EQ(out[k], reference(xs[k], y)) << "x = " << xs[k] << ", y = " << y;
  }
}

// ---- exactly the IR's arithmetic ---------------------------------------------------

TEST_F(CpuJitTest, NoReassociationAndNoFmaContraction) {
  // (x + 1e8) - 1e8 is 0 for x = 1 in float; re-associated it would be 1.
  // x·x - x·x is 0 (or NaN); contracted into fma(x, x, -x·x) it would be
  // the rounding error of x·x, 2^-24 for x = 1 + 2^-12.
  auto epilogue = jit(matmul("param_names = [\"big\"]", R"(^bb0(%x: f32, %big: f32):
  %a = arith.addf %x, %big : f32
  %b = arith.subf %a, %big : f32
  %sq = arith.mulf %x, %x : f32
  %sq2 = arith.mulf %x, %x : f32
  %d = arith.subf %sq, %sq2 : f32
  %y = arith.addf %b, %d : f32
  tilefuse.yield %y : f32
)"));
  ASSERT_TRUE(epilogue);
  const float x = 1.0f + 0x1p-12f;
  std::vector<float> out = run(*epilogue, {1.0f, x, kInf}, {1e8f});
  EXPECT_EQ(out[0], 0.0f);
  EXPECT_EQ(out[1], 0.0f);
  EXPECT_TRUE(std::isnan(out[2]));
}

// ---- tilefuse.approx: exact function + worst-case hardware error -----------------

TEST_F(CpuJitTest, ApproxTanhStaysWithinItsBoundButIsNotExact) {
  auto epilogue = jit(matmul("mode = \"fast\"",
                             "^bb0(%x: f32):\n"
                             "  %y = tilefuse.approx \"tanh\" %x : f32\n"
                             "  tilefuse.yield %y : f32\n"));
  ASSERT_TRUE(epilogue);
  std::vector<float> xs = sweep();
  std::vector<float> ys = run(*epilogue, xs);
  int unsaturated = 0, inexact = 0;
  for (size_t k = 0; k < xs.size(); ++k) {
    float exact = std::tanh(xs[k]);
    if (!std::isnormal(exact)) {  // NaN, zeros and subnormals pass through
      EXPECT_TRUE(sameFloat(exact, ys[k], xs[k]));
      continue;
    }
    double relative = std::fabs((static_cast<double>(ys[k]) - exact) / exact);
    EXPECT_LE(relative, std::ldexp(1.0, -11)) << "x = " << xs[k];
    if (std::fabs(xs[k]) > 0.01f && std::fabs(xs[k]) < 4.0f) {
      ++unsaturated;
      inexact += ys[k] != exact;
    }
  }
  // Truncating 12 significand bits leaves a value unchanged only when they
  // were all zero (1 in 4096): nearly every unsaturated result must differ.
  ASSERT_GT(unsaturated, 100);
  EXPECT_GE(inexact, unsaturated - 2);
}

TEST_F(CpuJitTest, ApproxModelsTruncateToTheDocumentedBits) {
  struct Case {
    const char* fn;
    float (*exact)(float);
    int bits;
  };
  const Case cases[] = {
      {"exp2", [](float x) { return std::exp2(x); }, 22},
      {"log2", [](float x) { return std::log2(x); }, 22},
      {"rsqrt", [](float x) { return 1.0f / std::sqrt(x); }, 22},
      {"sqrt", [](float x) { return std::sqrt(x); }, 23},
      {"rcp", [](float x) { return 1.0f / x; }, 23},
  };
  std::vector<float> xs = sweep();
  for (const Case& c : cases) {
    auto epilogue = jit(
        matmul("mode = \"fast\"", std::string("^bb0(%x: f32):\n") + "  %y = tilefuse.approx \"" +
                                      c.fn + "\" %x : f32\n" + "  tilefuse.yield %y : f32\n"));
    ASSERT_TRUE(epilogue) << c.fn;
    std::vector<float> ys = run(*epilogue, xs);
    for (size_t k = 0; k < xs.size(); ++k) {
      float exact = c.exact(xs[k]);
      float expected = exact;
      if (std::isnormal(exact)) {
        uint32_t mask = ~((uint32_t{1} << (23 - c.bits)) - 1);
        expected = std::bit_cast<float>(std::bit_cast<uint32_t>(exact) & mask);
      }
      EXPECT_TRUE(sameFloat(expected, ys[k], xs[k])) << c.fn;
    }
  }
}

// ---- API -------------------------------------------------------------------------

TEST_F(CpuJitTest, VectorizedFormIsRejectedWithAnExplanation) {
  Expected<std::unique_ptr<CpuEpilogue>> epilogue = tryJit(
      "tilefuse.matmul attributes {input_type = bf16, output_type = bf16, tile = "
      "#tilefuse.tile<block_m = 128, block_n = 128, block_k = 32, warp_m = 64, warp_n = 64, "
      "stages = 3, vector_width = 2, group_m = 8>} {\n"
      "^bb0(%x: vector<2xf32>):\n  tilefuse.yield %x : vector<2xf32>\n}\n");
  ASSERT_FALSE(epilogue);
  EXPECT_EQ(epilogue.error().code, ErrorCode::Internal);
  EXPECT_NE(epilogue.error().message.find("scalar"), std::string::npos) << epilogue.error().message;
  EXPECT_NE(epilogue.error().message.find("vector<2xf32>"), std::string::npos)
      << epilogue.error().message;
}

TEST_F(CpuJitTest, EvaluateChecksItsArguments) {
  auto epilogue = jit(matmul("param_names = [\"a\"]", R"(^bb0(%x: f32, %a: f32):
  %y = arith.mulf %x, %a : f32
  tilefuse.yield %y : f32
)"));
  ASSERT_TRUE(epilogue);
  std::vector<float> x = {1.0f, 2.0f};
  std::vector<float> out(2);
  const float* one[] = {x.data()};
  const float* two[] = {x.data(), x.data()};
  const float* null[] = {nullptr};
  const float params[] = {3.0f};

  Expected<void> noParams = epilogue->evaluate(one, {}, out);
  ASSERT_FALSE(noParams);
  EXPECT_EQ(noParams.error().code, ErrorCode::InvalidInput);
  EXPECT_NE(noParams.error().message.find("1 parameter value(s) (a), got 0"), std::string::npos)
      << noParams.error().message;

  Expected<void> twoInputs = epilogue->evaluate(two, params, out);
  ASSERT_FALSE(twoInputs);
  EXPECT_NE(twoInputs.error().message.find("takes 1 input array(s) (x), got 2"), std::string::npos)
      << twoInputs.error().message;

  EXPECT_FALSE(epilogue->evaluate(null, params, out));
  ASSERT_TRUE(epilogue->evaluate(one, params, out));
  EXPECT_EQ(out, (std::vector<float>{3.0f, 6.0f}));
}

TEST_F(CpuJitTest, ConcurrentEvaluationGivesTheSameResults) {
  auto epilogue = jit(matmul("", R"(^bb0(%x: f32):
  %t = math.tanh %x : f32
  %e = math.erf %t : f32
  tilefuse.yield %e : f32
)"));
  ASSERT_TRUE(epilogue);
  std::vector<float> xs(1 << 16);
  for (size_t k = 0; k < xs.size(); ++k) xs[k] = -8.0f + 16.0f * static_cast<float>(k) / xs.size();
  std::vector<float> expected = run(*epilogue, xs);
  std::vector<std::vector<float>> results(4, std::vector<float>(xs.size()));
  std::vector<std::thread> threads;
  for (auto& result : results)
    threads.emplace_back([&] {
      const float* inputs[] = {xs.data()};
      EXPECT_TRUE(epilogue->evaluate(inputs, {}, result));
    });
  for (std::thread& t : threads) t.join();
  for (const auto& result : results) EXPECT_EQ(result, expected);
  for (size_t k = 0; k < xs.size(); k += 997)
    EXPECT_TRUE(sameFloat(std::erf(std::tanh(xs[k])), expected[k], xs[k]));
}

}  // namespace
}  // namespace tilefuse::compiler
