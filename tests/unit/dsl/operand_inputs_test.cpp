// Declared row and column inputs (OperandDeclarations): resolution, the
// positioned errors for clashing declarations, and the float64 interpreter.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "dsl/Interpreter.h"
#include "dsl/Resolve.h"

namespace tilefuse::dsl {
namespace {

using Names = std::vector<std::string>;

const OperandDeclarations kRouteAndScale{{"route"}, {"s"}};

std::string resolve_error(std::string_view source, const OperandDeclarations& declared) {
  auto program = resolve(source, declared);
  if (program) return "resolved: " + to_string(program->program);
  EXPECT_EQ(program.error().code, ErrorCode::InvalidInput);
  return program.error().message;
}

TEST(OperandInputs, DeclaredNamesAreRowAndColumnInputsNotParameters) {
  auto program = resolve("gelu(x * s) * route + a", kRouteAndScale);
  ASSERT_TRUE(program) << program.error().message;
  EXPECT_EQ(program->analysis.row_inputs, Names{"route"});
  EXPECT_EQ(program->analysis.col_inputs, Names{"s"});
  EXPECT_EQ(program->analysis.parameters, Names{"a"});
}

TEST(OperandInputs, UndeclaredNamesStayRuntimeParameters) {
  auto program = resolve("x * route");
  ASSERT_TRUE(program) << program.error().message;
  EXPECT_EQ(program->analysis.parameters, Names{"route"});
  EXPECT_TRUE(program->analysis.row_inputs.empty());
  EXPECT_TRUE(program->analysis.col_inputs.empty());
}

TEST(OperandInputs, GatedProgramsTakeThemToo) {
  auto program = resolve("silu(gate) * up * route", {{"route"}, {}});
  ASSERT_TRUE(program) << program.error().message;
  EXPECT_EQ(program->analysis.inputs, InputKind::Gated);
  EXPECT_EQ(program->analysis.row_inputs, Names{"route"});
}

TEST(OperandInputs, DeclaringAnAccumulatorInputIsAnErrorAtItsUse) {
  EXPECT_EQ(resolve_error("2 * x", {{"x"}, {}}),
            "error: 1:5: row_inputs entry 'x' collides with the accumulator input 'x'; choose another name\n"
            "2 * x\n    ^");
  EXPECT_EQ(resolve_error("silu(gate) * up", {{}, {"up"}}),
            "error: 1:14: col_inputs entry 'up' collides with the accumulator input 'up'; choose another name\n"
            "silu(gate) * up\n             ^");
}

TEST(OperandInputs, DeclaringAFunctionNameIsAnErrorAtItsUse) {
  EXPECT_EQ(resolve_error("x * gelu(x)", {{}, {"gelu"}}),
            "error: 1:5: col_inputs entry 'gelu' collides with the function 'gelu'; choose another name\n"
            "x * gelu(x)\n    ^");
  // Not used at all: no position to point at, the message names the option.
  EXPECT_EQ(resolve_error("x", {{"tanh"}, {}}),
            "error: row_inputs entry 'tanh' collides with the function 'tanh'; choose another name");
}

TEST(OperandInputs, ANameDeclaredTwiceIsAnError) {
  EXPECT_EQ(resolve_error("x * s", {{"s"}, {"s"}}),
            "error: 1:5: 's' is declared twice in row_inputs/col_inputs; declare it once, as a row or a column "
            "input\nx * s\n    ^");
}

TEST(OperandInputs, AnInvalidNameIsAnError) {
  EXPECT_EQ(resolve_error("x", {{"2s"}, {}}),
            "error: row_inputs entry '2s' is not a valid name (letters, digits, _; not starting with a digit)");
}

TEST(OperandInputs, ALetMayNotRebindADeclaredInput) {
  EXPECT_EQ(resolve_error("s = x; s", {{}, {"s"}}),
            "error: 1:1: cannot bind 's': it is a declared column input; choose another name\ns = x; s\n^");
}

TEST(OperandInputs, CallingADeclaredInputIsAnError) {
  EXPECT_EQ(resolve_error("x * route(x)", {{"route"}, {}}),
            "error: 1:5: 'route' is an input, not a function\nx * route(x)\n    ^");
}

TEST(OperandInputs, ADeclaredButUnusedInputIsAnError) {
  // The usual cause: a typo, which would otherwise become a runtime parameter.
  EXPECT_EQ(resolve_error("x * rout", {{"route"}, {}}),
            "error: row input 'route' is declared (row_inputs) but the activation never reads it; use it in the "
            "expression or remove the declaration");
  EXPECT_EQ(resolve_error("x", {{}, {"s"}}),
            "error: column input 's' is declared (col_inputs) but the activation never reads it; use it in the "
            "expression or remove the declaration");
}

TEST(OperandInputs, BuiltinBodiesDoNotSeeTheDeclarations) {
  // `a` is a parameter of leaky_relu's body; declaring a user input named
  // `a` must not change the built-in's meaning.
  auto program = resolve("leaky_relu(x, 0.1) * a", {{"a"}, {}});
  ASSERT_TRUE(program) << program.error().message;
  auto value = evaluate(*program, InputValues{.x = -2.0, .rows = {{"a", 3.0}}}, {});
  ASSERT_TRUE(value) << value.error().message;
  EXPECT_DOUBLE_EQ(*value, -0.2 * 3.0);
}

TEST(OperandInputs, InterpreterReadsTheRowAndColumnValues) {
  auto program = resolve("gelu(x * s) * route", kRouteAndScale);
  ASSERT_TRUE(program) << program.error().message;
  for (double x : {-3.0, -0.5, 0.0, 0.7, 2.5}) {
    auto value = evaluate(*program, InputValues{.x = x, .rows = {{"route", 0.25}}, .cols = {{"s", 1.5}}}, {});
    ASSERT_TRUE(value) << value.error().message;
    const double z = x * 1.5;
    EXPECT_NEAR(*value, 0.5 * z * std::erfc(-z / std::sqrt(2.0)) * 0.25, 1e-15) << "x = " << x;
  }
}

TEST(OperandInputs, InterpreterNamesAMissingValue) {
  auto program = resolve("x * route * s", kRouteAndScale);
  ASSERT_TRUE(program) << program.error().message;
  auto no_row = evaluate(*program, InputValues{.x = 1.0, .cols = {{"s", 2.0}}}, {});
  ASSERT_FALSE(no_row);
  EXPECT_EQ(no_row.error().code, ErrorCode::InvalidInput);
  EXPECT_EQ(no_row.error().message, "missing value for row input 'route'; pass it with --row route=VALUE");
  auto no_col = evaluate(*program, InputValues{.x = 1.0, .rows = {{"route", 2.0}}}, {});
  ASSERT_FALSE(no_col);
  EXPECT_EQ(no_col.error().message, "missing value for column input 's'; pass it with --col s=VALUE");
}

}  // namespace
}  // namespace tilefuse::dsl
