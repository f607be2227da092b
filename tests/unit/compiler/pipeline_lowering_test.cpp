// AST → tilefuse dialect: the op each DSL construct lowers to (before any
// pass runs), built-in functions, default arguments and source locations.
#include <gtest/gtest.h>

#include <string>

#include "compiler/Conversion/AstToTilefuse.h"
#include "compiler/Dialect/TilefuseDialect.h"
#include "dsl/Resolve.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Location.h"
#include "mlir/IR/MLIRContext.h"

namespace tilefuse::compiler {
namespace {

class LoweringTest : public ::testing::Test {
 protected:
  /// The module for `expression`, printed; empty (with a test failure) on error.
  std::string lower(const std::string& expression, KernelSpec spec = {}) {
    auto resolved = dsl::resolve(expression);
    if (!resolved) {
      ADD_FAILURE() << resolved.error().message;
      return {};
    }
    auto module = lowerToTilefuse(*resolved, spec, context_);
    if (!module) {
      ADD_FAILURE() << module.error().message << "\n" << module.error().detail;
      return {};
    }
    module_ = std::move(*module);
    std::string text;
    llvm::raw_string_ostream os(text);
    module_->print(os);
    return text;
  }

  mlir::MLIRContext context_;
  mlir::OwningOpRef<mlir::ModuleOp> module_;
};

bool contains(const std::string& text, const std::string& piece) {
  return text.find(piece) != std::string::npos;
}

TEST_F(LoweringTest, ArithmeticMapsOneToOne) {
  std::string ir = lower("-(x + 1) * (x - 2) / x ^ 3");
  for (const char* op : {"arith.addf", "arith.subf", "arith.mulf", "arith.divf", "arith.negf", "math.powf"})
    EXPECT_TRUE(contains(ir, op)) << op << " missing in\n" << ir;
  EXPECT_TRUE(contains(ir, "arith.constant 3.000000e+00 : f32")) << ir;
}

TEST_F(LoweringTest, ComparisonsAreOrderedExceptNotEqual) {
  std::string ir = lower("(x < 1) + (x <= 2) + (x > 3) + (x >= 4) + (x == 5) + (x != x)");
  for (const char* cmp : {"cmpf olt", "cmpf ole", "cmpf ogt", "cmpf oge", "cmpf oeq", "cmpf une"})
    EXPECT_TRUE(contains(ir, cmp)) << cmp << " missing in\n" << ir;
  // Each i1 used as a number is converted to 1.0 / 0.0.
  size_t conversions = 0;
  for (size_t pos = ir.find("arith.uitofp"); pos != std::string::npos; pos = ir.find("arith.uitofp", pos + 1))
    ++conversions;
  EXPECT_EQ(conversions, 6u) << ir;
}

TEST_F(LoweringTest, SelectConditions) {
  // A comparison is used directly as the i1 condition...
  std::string direct = lower("select(x > 0, x, 0)");
  EXPECT_TRUE(contains(direct, "arith.select")) << direct;
  EXPECT_FALSE(contains(direct, "uitofp")) << direct;
  EXPECT_FALSE(contains(direct, "cmpf une")) << direct;
  // ...a number becomes `!= 0` (une: NaN counts as true).
  std::string numeric = lower("where(x, 1, 2)");
  EXPECT_TRUE(contains(numeric, "arith.cmpf une, %arg0, %cst")) << numeric;
  EXPECT_TRUE(contains(numeric, "arith.select")) << numeric;
}

TEST_F(LoweringTest, MinMaxClampPropagateNaN) {
  std::string ir = lower("min(x, 1) + max(x, 2) + clamp(x, -1, 1)");
  EXPECT_TRUE(contains(ir, "arith.minimumf")) << ir;
  EXPECT_TRUE(contains(ir, "arith.maximumf")) << ir;
  EXPECT_FALSE(contains(ir, "minnumf")) << ir;
  EXPECT_FALSE(contains(ir, "maxnumf")) << ir;
}

TEST_F(LoweringTest, UnaryPrimitives) {
  std::string ir =
      lower("exp(x) + exp2(x) + log(x) + log1p(x) + expm1(x) + sqrt(x) + rsqrt(x) + tanh(x) + erf(x) + "
            "erfc(x) + abs(x)");
  for (const char* op : {"math.exp ", "math.exp2", "math.log ", "math.log1p", "math.expm1", "math.sqrt",
                         "math.rsqrt", "math.tanh", "math.erf ", "tilefuse.erfc", "math.absf"})
    EXPECT_TRUE(contains(ir, op)) << op << " missing in\n" << ir;
}

TEST_F(LoweringTest, BuiltinsBecomePrivateFunctionsWithDefaultsFilledIn) {
  std::string ir = lower("leaky_relu(x)");
  EXPECT_TRUE(contains(ir, "func.func private @tf_builtin_leaky_relu(%arg0: f32, %arg1: f32) -> f32")) << ir;
  // leaky_relu calls xmul: built-ins used by built-ins get functions too.
  EXPECT_TRUE(contains(ir, "func.func private @tf_builtin_xmul")) << ir;
  // The default slope 0.01 is passed as a constant.
  EXPECT_TRUE(contains(ir, "arith.constant 0.00999999977 : f32")) << ir;
  EXPECT_TRUE(contains(ir, "call @tf_builtin_leaky_relu(%arg0, %cst)")) << ir;
}

TEST_F(LoweringTest, GatedProgramHasTwoInputs) {
  std::string ir = lower("swiglu");
  EXPECT_TRUE(contains(ir, "gated")) << ir;
  EXPECT_TRUE(contains(ir, "^bb0(%arg0: f32, %arg1: f32):")) << ir;
  EXPECT_TRUE(contains(ir, "call @tf_builtin_swiglu(%arg0, %arg1)")) << ir;
}

TEST_F(LoweringTest, LetBindingsAreSharedValues) {
  std::string ir = lower("t = exp(x)\nt * t");
  size_t exps = 0;
  for (size_t pos = ir.find("math.exp"); pos != std::string::npos; pos = ir.find("math.exp", pos + 1)) ++exps;
  EXPECT_EQ(exps, 1u) << ir;
  EXPECT_TRUE(contains(ir, "arith.mulf %0, %0")) << ir;
}

TEST_F(LoweringTest, OpsCarryDslSourceLocations) {
  lower("x * exp(x)");
  ASSERT_TRUE(module_);
  bool found = false;
  module_->walk([&](mlir::math::ExpOp op) {
    auto loc = mlir::dyn_cast<mlir::FileLineColLoc>(op.getLoc());
    ASSERT_TRUE(loc);
    EXPECT_EQ(loc.getFilename().str(), "<expression>");
    EXPECT_EQ(loc.getLine(), 1u);
    EXPECT_EQ(loc.getColumn(), 5u);
    found = true;
  });
  EXPECT_TRUE(found);
}

TEST_F(LoweringTest, NumbersRoundToNearestFloat) {
  std::string ir = lower("x * 0.1");
  EXPECT_TRUE(contains(ir, "arith.constant 1.000000e-01 : f32")) << ir;
}

}  // namespace
}  // namespace tilefuse::compiler
