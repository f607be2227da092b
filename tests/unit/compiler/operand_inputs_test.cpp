// Declared row and column inputs through the compiler: the IR carries them as
// block arguments after the parameters, the CPU-JIT'd epilogue reads one
// array per input and matches the float64 interpreter, and the CUDA text
// names them in TfEpilogueOperands.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "compiler/Pipeline.h"
#include "dsl/Interpreter.h"

namespace tilefuse::compiler {
namespace {

KernelSpec spec_of(std::string expression, std::vector<std::string> rows, std::vector<std::string> cols) {
  KernelSpec spec;
  spec.expression = std::move(expression);
  spec.row_inputs = std::move(rows);
  spec.col_inputs = std::move(cols);
  return spec;
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

TEST(OperandInputsCompiler, IrDeclaresThemAsBlockArgumentsAfterTheParameters) {
  auto compiled = compile(spec_of("gelu(x * s) * route + a", {"route"}, {"s"}));
  ASSERT_TRUE(compiled) << compiled.error().message << compiled.error().detail;
  EXPECT_TRUE(contains(compiled->mlir, "row_inputs = [\"route\"]")) << compiled->mlir;
  EXPECT_TRUE(contains(compiled->mlir, "col_inputs = [\"s\"]")) << compiled->mlir;
  EXPECT_TRUE(contains(compiled->mlir, "param_names = [\"a\"]")) << compiled->mlir;
  // x, a, route, s
  EXPECT_TRUE(contains(compiled->mlir, "^bb0(%arg0: f32, %arg1: f32, %arg2: f32, %arg3: f32)")) << compiled->mlir;
  EXPECT_EQ(compiled->row_inputs, std::vector<std::string>{"route"});
  EXPECT_EQ(compiled->col_inputs, std::vector<std::string>{"s"});
  EXPECT_EQ(compiled->parameters, std::vector<std::string>{"a"});
}

TEST(OperandInputsCompiler, CudaNamesThemInTheOperandsStruct) {
  auto compiled = compile(spec_of("gelu(x * s) * route", {"route"}, {"s"}));
  ASSERT_TRUE(compiled) << compiled.error().message << compiled.error().detail;
  const std::string& cuda = compiled->cuda;
  EXPECT_TRUE(contains(cuda, "#define TF_EPILOGUE_ROW_INPUTS 1\n")) << cuda;
  EXPECT_TRUE(contains(cuda, "#define TF_EPILOGUE_COL_INPUTS 1\n")) << cuda;
  EXPECT_TRUE(contains(cuda, "float row[1];  // [0] \"route\"")) << cuda;
  EXPECT_TRUE(contains(cuda, "float col[1][TF_EPILOGUE_VEC];  // [0] \"s\"")) << cuda;
  EXPECT_TRUE(contains(cuda, "const TfEpilogueOperands& operands) {")) << cuda;
  EXPECT_TRUE(contains(cuda, "x[i] * operands.col[0][i]")) << cuda;
  EXPECT_TRUE(contains(cuda, "* operands.row[0];")) << cuda;
}

TEST(OperandInputsCompiler, KernelsWithoutThemKeepTheirText) {
  auto compiled = compile(spec_of("gelu(x)", {}, {}));
  ASSERT_TRUE(compiled) << compiled.error().message;
  EXPECT_FALSE(contains(compiled->cuda, "TF_EPILOGUE_ROW_INPUTS")) << compiled->cuda;
  EXPECT_FALSE(contains(compiled->cuda, "TfEpilogueOperands")) << compiled->cuda;
  EXPECT_FALSE(contains(compiled->mlir, "row_inputs")) << compiled->mlir;
}

TEST(OperandInputsCompiler, DeclarationErrorsReachTheCaller) {
  auto compiled = compile(spec_of("x * 2", {"x"}, {}));
  ASSERT_FALSE(compiled);
  EXPECT_EQ(compiled.error().code, ErrorCode::InvalidInput);
  EXPECT_TRUE(contains(compiled.error().message, "1:1: row_inputs entry 'x' collides")) << compiled.error().message;
}

/// The CPU epilogue against the float64 interpreter with different row and
/// column values at every element.
void check_cpu(const std::string& expression, std::vector<std::string> rows, std::vector<std::string> cols,
               bool gated = false) {
  SCOPED_TRACE(expression);
  KernelSpec spec = spec_of(expression, rows, cols);
  auto cpu = compile_for_cpu(spec);
  ASSERT_TRUE(cpu) << cpu.error().message << "\n" << cpu.error().detail;
  EXPECT_EQ((*cpu)->row_inputs(), rows);
  EXPECT_EQ((*cpu)->col_inputs(), cols);
  const std::size_t arrays = (gated ? 2 : 1) + rows.size() + cols.size();
  ASSERT_EQ((*cpu)->input_count(), arrays);
  auto resolved = dsl::resolve(expression, {rows, cols});
  ASSERT_TRUE(resolved) << resolved.error().message;

  constexpr std::size_t n = 97;
  std::vector<std::vector<float>> values(arrays, std::vector<float>(n));
  for (std::size_t k = 0; k < arrays; ++k)
    for (std::size_t i = 0; i < n; ++i)
      values[k][i] = static_cast<float>(std::sin(0.37 * static_cast<double>(i) + 1.3 * static_cast<double>(k)) *
                                        (k == 0 ? 6.0 : 1.5));
  std::vector<const float*> inputs;
  for (const auto& v : values) inputs.push_back(v.data());
  std::vector<float> out(n);
  auto ran = (*cpu)->evaluate(inputs, {}, out);
  ASSERT_TRUE(ran) << ran.error().message;
  for (std::size_t i = 0; i < n; ++i) {
    dsl::InputValues in;
    std::size_t k = 0;
    if (gated) {
      in.gate = values[k++][i];
      in.up = values[k++][i];
    } else {
      in.x = values[k++][i];
    }
    for (const auto& name : rows) in.rows[name] = values[k++][i];
    for (const auto& name : cols) in.cols[name] = values[k++][i];
    auto ref = dsl::evaluate(*resolved, in, {});
    ASSERT_TRUE(ref) << ref.error().message;
    EXPECT_NEAR(out[i], *ref, std::max(1e-6 * std::fabs(*ref), 1e-7)) << "element " << i;
  }
}

TEST(OperandInputsCompiler, CpuMatchesTheInterpreter) {
  check_cpu("x * route", {"route"}, {});
  check_cpu("gelu(x * s)", {}, {"s"});
  check_cpu("gelu(x * s) * route", {"route"}, {"s"});
  check_cpu("silu(gate) * up * route - s2 * s1", {"route"}, {"s1", "s2"}, /*gated=*/true);
}

TEST(OperandInputsCompiler, CpuEvaluateChecksTheArrayCount) {
  auto cpu = compile_for_cpu(spec_of("x * route", {"route"}, {}));
  ASSERT_TRUE(cpu) << cpu.error().message;
  std::vector<float> x(4, 1.0f), out(4);
  std::vector<const float*> inputs = {x.data()};
  auto ran = (*cpu)->evaluate(inputs, {}, out);
  ASSERT_FALSE(ran);
  EXPECT_TRUE(contains(ran.error().message, "takes 2 input array(s) (x, route), got 1")) << ran.error().message;
}

}  // namespace
}  // namespace tilefuse::compiler
