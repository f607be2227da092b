// compile() and dump_all_stages(): the stages a few expressions go through,
// the kernel attributes they carry, and how user errors come back.
#include <gtest/gtest.h>

#include <string>

#include "compiler/Pipeline.h"
#include "compiler/Target/TargetInfo.h"
#include "dsl/Builder.h"

namespace tilefuse::compiler {
namespace {

KernelSpec spec_for(std::string expression) {
  KernelSpec spec;
  spec.expression = std::move(expression);
  return spec;
}

CompiledEpilogue compile_ok(const KernelSpec& spec) {
  auto result = compile(spec);
  if (!result) {
    ADD_FAILURE() << "compile('" << spec.expression << "') failed: " << result.error().message << "\n"
                  << result.error().detail;
    return {};
  }
  return std::move(*result);
}

bool contains(const std::string& text, const std::string& piece) {
  return text.find(piece) != std::string::npos;
}

std::string without_source_comment(const std::string& cuda) {
  std::string out;
  size_t start = 0;
  while (start < cuda.size()) {
    size_t end = cuda.find('\n', start);
    if (end == std::string::npos) end = cuda.size();
    std::string line = cuda.substr(start, end - start);
    if (line.rfind("// source:", 0) != 0) out += line + "\n";
    start = end + 1;
  }
  return out;
}

TEST(PipelineTest, SwigluIsInlinedVectorizedAndPackedToBf16) {
  CompiledEpilogue out = compile_ok(spec_for("silu(gate) * up"));
  EXPECT_EQ(out.inputs, dsl::InputKind::Gated);
  EXPECT_TRUE(out.parameters.empty());
  // Before the passes: one function per built-in, called from the epilogue.
  EXPECT_TRUE(contains(out.mlir, "func.func private @tf_builtin_silu")) << out.mlir;
  EXPECT_TRUE(contains(out.mlir, "func.func private @tf_builtin_sigmoid")) << out.mlir;
  EXPECT_TRUE(contains(out.mlir, "call @tf_builtin_silu")) << out.mlir;
  EXPECT_TRUE(contains(out.mlir, "^bb0(%arg0: f32, %arg1: f32)")) << out.mlir;
  // After: no calls or functions left, lanes of two, packed bf16 result.
  EXPECT_FALSE(contains(out.lowered, "call")) << out.lowered;
  EXPECT_FALSE(contains(out.lowered, "func.func")) << out.lowered;
  EXPECT_TRUE(contains(out.lowered, "^bb0(%arg0: vector<4xf32>, %arg1: vector<4xf32>)")) << out.lowered;
  EXPECT_TRUE(contains(out.lowered, "arith.truncf")) << out.lowered;
  EXPECT_TRUE(contains(out.lowered, "tilefuse.yield %")) << out.lowered;
  EXPECT_TRUE(contains(out.lowered, ": vector<4xbf16>\n")) << out.lowered;
  EXPECT_FALSE(out.cuda.empty());
}

TEST(PipelineTest, FastModeUsesHardwareTanhAndPreciseDoesNot) {
  KernelSpec spec = spec_for("tanh(x)");
  spec.precision = Precision::Fast;
  CompiledEpilogue fast = compile_ok(spec);
  EXPECT_TRUE(contains(fast.mlir, "mode = \"fast\"")) << fast.mlir;
  EXPECT_TRUE(contains(fast.lowered, "tilefuse.approx \"tanh\"")) << fast.lowered;
  EXPECT_FALSE(contains(fast.lowered, "math.tanh")) << fast.lowered;

  spec.precision = Precision::Precise;
  CompiledEpilogue precise = compile_ok(spec);
  EXPECT_TRUE(contains(precise.lowered, "math.tanh")) << precise.lowered;
  EXPECT_FALSE(contains(precise.lowered, "tilefuse.approx")) << precise.lowered;
}

TEST(PipelineTest, SimplifyRunsBeforeApproximations) {
  // x / 2 must become x * 0.5 (exact), not x * rcp(2).
  KernelSpec spec = spec_for("x / 2");
  spec.precision = Precision::Fast;
  CompiledEpilogue out = compile_ok(spec);
  EXPECT_TRUE(contains(out.lowered, "dense<5.000000e-01>")) << out.lowered;
  EXPECT_FALSE(contains(out.lowered, "rcp")) << out.lowered;
  EXPECT_FALSE(contains(out.lowered, "divf")) << out.lowered;
}

TEST(PipelineTest, DslErrorIsInvalidInputWithPositionedMessage) {
  auto result = compile(spec_for("x * (1 +"));
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, ErrorCode::InvalidInput);
  EXPECT_TRUE(contains(result.error().message, "1:9")) << result.error().message;
  EXPECT_TRUE(contains(result.error().message, "^")) << result.error().message;

  auto unknown = compile(spec_for("x * sigmod(x)"));
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code, ErrorCode::InvalidInput);
  EXPECT_TRUE(contains(unknown.error().message, "sigmod")) << unknown.error().message;
  EXPECT_TRUE(contains(unknown.error().message, "1:5")) << unknown.error().message;
}

TEST(PipelineTest, ParametersBecomeRegionArgumentsInOrder) {
  CompiledEpilogue out = compile_ok(spec_for("leaky_relu(x, slope) * scale"));
  EXPECT_EQ(out.parameters, (std::vector<std::string>{"slope", "scale"}));
  EXPECT_TRUE(contains(out.mlir, "param_names = [\"slope\", \"scale\"]")) << out.mlir;
  EXPECT_TRUE(contains(out.mlir, "^bb0(%arg0: f32, %arg1: f32, %arg2: f32)")) << out.mlir;
  EXPECT_TRUE(contains(out.lowered, "^bb0(%arg0: vector<4xf32>, %arg1: vector<4xf32>, %arg2: vector<4xf32>)"))
      << out.lowered;
}

TEST(PipelineTest, KernelSpecBecomesMatmulAttributes) {
  KernelSpec spec = spec_for("relu(x)");
  spec.input_type = DType::F16;
  spec.output_type = DType::F32;
  spec.b_col_major = true;
  spec.bias = true;
  spec.residual = true;
  spec.aux = true;
  CompiledEpilogue out = compile_ok(spec);
  for (const char* attr : {"input_type = f16", "output_type = f32", "b_layout = \"col\"", "has_bias",
                           "has_residual", "has_aux", "source = \"relu(x)\""})
    EXPECT_TRUE(contains(out.mlir, attr)) << attr << " missing in\n" << out.mlir;
  // f32 output: the f32 lanes are yielded without packing.
  EXPECT_FALSE(contains(out.lowered, "truncf")) << out.lowered;
  EXPECT_TRUE(contains(out.lowered, ": vector<4xf32>\n  }")) << out.lowered;
  EXPECT_FALSE(contains(out.mlir, "mode = \"fast\"")) << out.mlir;  // precise is the default
}

TEST(PipelineTest, TileComesFromTheTargetOrTheCaller) {
  KernelSpec spec = spec_for("x");
  spec.arch = Arch::Sm90a;
  spec.shape_hint = std::array<long long, 3>{16, 14336, 4096};
  CompiledEpilogue hinted = compile_ok(spec);
  EXPECT_EQ(hinted.tile, make_target(Arch::Sm90a)->default_tile(16, 14336, 4096));
  EXPECT_EQ(hinted.tile.block_m, 64);
  EXPECT_TRUE(contains(hinted.mlir, "shape_hint = array<i64: 16, 14336, 4096>")) << hinted.mlir;

  spec.arch = Arch::Sm80;
  spec.shape_hint.reset();
  CompiledEpilogue unhinted = compile_ok(spec);
  EXPECT_EQ(unhinted.tile, make_target(Arch::Sm80)->default_tile(0, 0, 0));

  TileConfig forced{256, 128, 64, 64, 64, 2, 4, 4};
  spec.tile = forced;
  CompiledEpilogue tuned = compile_ok(spec);
  EXPECT_EQ(tuned.tile, forced);
  EXPECT_TRUE(contains(tuned.lowered, "vector<4xf32>")) << tuned.lowered;
}

TEST(PipelineTest, BuilderProgramCompilesLikeItsText) {
  namespace tf = tilefuse::builder;
  auto x = tf::var("x");
  KernelSpec from_builder;
  from_builder.program = tf::program(x * tf::sigmoid(1.702 * x));
  CompiledEpilogue built = compile_ok(from_builder);
  CompiledEpilogue parsed = compile_ok(spec_for("x * sigmoid(1.702 * x)"));
  EXPECT_EQ(built.ast, parsed.ast);
  EXPECT_EQ(built.lowered.substr(built.lowered.find("^bb0")), parsed.lowered.substr(parsed.lowered.find("^bb0")));
  // The CUDA differs only in the comment naming the source.
  EXPECT_EQ(without_source_comment(built.cuda), without_source_comment(parsed.cuda));
}

TEST(PipelineTest, UnsupportedSpecsAreInvalidInput) {
  KernelSpec f32_inputs = spec_for("x");
  f32_inputs.input_type = DType::F32;
  auto a = compile(f32_inputs);
  ASSERT_FALSE(a);
  EXPECT_EQ(a.error().code, ErrorCode::InvalidInput);
  EXPECT_TRUE(contains(a.error().message, "bf16 or f16")) << a.error().message;

  KernelSpec gated_bias = spec_for("swiglu");
  gated_bias.bias = true;
  auto b = compile(gated_bias);
  ASSERT_FALSE(b);
  EXPECT_EQ(b.error().code, ErrorCode::InvalidInput);
  EXPECT_TRUE(contains(b.error().message, "bias")) << b.error().message;
}

TEST(PipelineTest, InvalidForcedTileIsInvalidInput) {
  KernelSpec spec = spec_for("x");
  spec.tile = TileConfig{128, 96, 32, 64, 64, 3, 2, 8};
  auto result = compile(spec);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, ErrorCode::InvalidInput);
  EXPECT_TRUE(contains(result.error().message, "128x96x32_w64x64_s3_v2_g8")) << result.error().message;
  EXPECT_TRUE(contains(result.error().message, "not a multiple of the warp tile")) << result.error().message;
}

TEST(PipelineTest, DumpAllStagesShowsEveryPass) {
  auto dump = dump_all_stages(spec_for("gelu"));
  ASSERT_TRUE(dump) << dump.error().message;
  for (const char* piece :
       {"// ===== ast =====", "(call gelu x)", "// ===== mlir", "(tilefuse-inline-builtins)", "(canonicalize)",
        "(cse)", "(tilefuse-simplify)", "(tilefuse-choose-approximations)", "(tilefuse-select-tile-config)",
        "(tilefuse-vectorize-epilogue)", "// ===== cuda ====="})
    EXPECT_TRUE(contains(*dump, piece)) << piece << " missing in\n" << *dump;
}

}  // namespace
}  // namespace tilefuse::compiler
