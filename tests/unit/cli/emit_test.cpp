// `tilefuse emit`: every --stage prints what it names; bad input exits 2.
#include <gtest/gtest.h>

#include "unit/cli/CliRunner.h"

namespace tilefuse::cli {
namespace {

using testing::CliResult;
using testing::run_cli;
using testing::describe;
using testing::contains;

TEST(CliEmit, CudaStageOfAGatedExpressionIsTheEpilogueFunction) {
  const CliResult r = run_cli({"emit", "--expr", "silu(gate) * up", "--stage", "cuda"});
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  EXPECT_EQ(r.err, "");
  EXPECT_TRUE(contains(r.out, "tf_epilogue(const float (&gate)[TF_EPILOGUE_VEC]")) << r.out;
  EXPECT_TRUE(contains(r.out, "const float (&up)[TF_EPILOGUE_VEC]")) << r.out;
  EXPECT_TRUE(contains(r.out, "#define TF_EPILOGUE_GATED 1")) << r.out;
  EXPECT_TRUE(contains(r.out, "// source: silu(gate) * up")) << r.out;
}

TEST(CliEmit, CudaIsTheDefaultStage) {
  const CliResult with_flag = run_cli({"emit", "--expr", "gelu", "--stage", "cuda"});
  const CliResult without = run_cli({"emit", "--expr", "gelu"});
  ASSERT_EQ(with_flag.exit_code, 0) << describe(with_flag);
  ASSERT_EQ(without.exit_code, 0) << describe(without);
  EXPECT_EQ(with_flag.out, without.out);
  EXPECT_TRUE(contains(without.out, "tf_epilogue(const float (&x)[TF_EPILOGUE_VEC]")) << without.out;
}

TEST(CliEmit, EachStagePrintsItsOwnForm) {
  struct Stage {
    const char* name;
    std::vector<std::string> must_contain;
    std::vector<std::string> must_not_contain;
  };
  const Stage stages[] = {
      {"ast", {"(* (call silu gate) up)"}, {"tilefuse.matmul", "tf_epilogue"}},
      // Straight from the AST: the built-in is still a call.
      {"mlir", {"tilefuse.matmul", "gated", "func.call @tf_builtin_silu"}, {"#tilefuse.tile"}},
      // After the pipeline: inlined, vectorized, tiled, converted to bf16.
      {"lowered",
       {"tilefuse.matmul", "#tilefuse.tile<", "vector<4xf32>", "math.exp", "arith.truncf"},
       {"func.call", "tf_epilogue"}},
      {"cuda", {"tf_epilogue", "expf("}, {"tilefuse.matmul"}},
      {"all", {"// ===== ast =====", "IR Dump After", "// ===== cuda =====", "tf_epilogue"}, {}},
  };
  for (const auto& stage : stages) {
    const CliResult r = run_cli({"emit", "--expr", "silu(gate) * up", "--stage", stage.name});
    ASSERT_EQ(r.exit_code, 0) << stage.name << "\n" << describe(r);
    for (const auto& part : stage.must_contain)
      EXPECT_TRUE(contains(r.out, part)) << "--stage " << stage.name << " lacks '" << part << "'\n"
                                         << r.out;
    for (const auto& part : stage.must_not_contain)
      EXPECT_FALSE(contains(r.out, part)) << "--stage " << stage.name << " has '" << part << "'\n"
                                          << r.out;
  }
}

TEST(CliEmit, ArchitectureAndModeReachTheOutput) {
  const CliResult r =
      run_cli({"emit", "--expr", "gelu", "--arch", "sm_90a", "--mode", "fast", "--out-dtype", "f32"});
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  EXPECT_TRUE(contains(r.out, "mode: fast")) << r.out;
  EXPECT_TRUE(contains(r.out, "arch: sm_90a")) << r.out;
  EXPECT_TRUE(contains(r.out, "#define TF_EPILOGUE_OUT_BYTES 4")) << r.out;
}

TEST(CliEmit, RuntimeParametersBecomeFieldsOfTheParamsStruct) {
  const CliResult r = run_cli({"emit", "--expr", "leaky_relu(x, a)"});
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  EXPECT_TRUE(contains(r.out, "struct TfEpilogueParams {\n  float a;\n};")) << r.out;
}

TEST(CliEmit, BadStageArchModeOrDtypeExitsTwoNamingIt) {
  struct Case {
    std::vector<std::string> args;
    std::string named;
  };
  const Case cases[] = {
      {{"--stage", "ptx"}, "--stage"},
      {{"--arch", "sm_70"}, "sm_70"},
      {{"--mode", "sloppy"}, "sloppy"},
      {{"--dtype", "f32"}, "--dtype f32"},
      {{"--dtype", "int8"}, "int8"},
  };
  for (const auto& c : cases) {
    std::vector<std::string> args = {"emit", "--expr", "gelu"};
    args.insert(args.end(), c.args.begin(), c.args.end());
    const CliResult r = run_cli(args);
    EXPECT_EQ(r.exit_code, 2) << c.args[0] << " " << c.args[1] << "\n" << describe(r);
    EXPECT_EQ(r.out, "");
    EXPECT_TRUE(contains(r.err, c.named)) << "stderr must name '" << c.named << "': " << r.err;
  }
}

TEST(CliEmit, UnknownFunctionSuggestsTheClosestName) {
  const CliResult r = run_cli({"emit", "--expr", "2 * tahn(x)"});
  EXPECT_EQ(r.exit_code, 2) << describe(r);
  EXPECT_TRUE(contains(r.err, "error: 1:5: unknown function 'tahn'")) << r.err;
  EXPECT_TRUE(contains(r.err, "did you mean 'tanh'?")) << r.err;
}

}  // namespace
}  // namespace tilefuse::cli
