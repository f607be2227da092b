// CUDA emission of epilogues from hand-written IR: structure of the text
// contract, minimal-but-correct parentheses, exact constants, safe parameter
// names, errors for ops without a spelling, and NVRTC compiling the result
// together with templates/tilefuse/epilogue_support.cuh without spills.
#include <gtest/gtest.h>
#include <nvrtc.h>

#include <regex>
#include <string>
#include <string_view>
#include <vector>

#include "compiler/Dialect/TilefuseDialect.h"
#include "compiler/Target/CudaEmitter.h"
#include "compiler/Target/CudaIdentifiers.h"
#include "compiler/Target/TargetInfo.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "runtime/EmbeddedFiles.h"

namespace tilefuse::compiler {
namespace {

constexpr const char* kTile2 =
    "#tilefuse.tile<block_m = 128, block_n = 128, block_k = 32, warp_m = 64, warp_n = 64, "
    "stages = 3, vector_width = 2, group_m = 8>";
constexpr const char* kTile4 =
    "#tilefuse.tile<block_m = 128, block_n = 128, block_k = 32, warp_m = 64, warp_n = 64, "
    "stages = 3, vector_width = 4, group_m = 8>";

/// `tilefuse.matmul attributes {<attrs>} { <body> }` as a module.
std::string matmul(std::string_view attrs, std::string_view body) {
  return "tilefuse.matmul attributes {" + std::string(attrs) + "} {\n" + std::string(body) + "}\n";
}

class EmitterTest : public ::testing::Test {
 protected:
  EmitterTest() {
    mlir::DialectRegistry registry;
    registry.insert<ir::TilefuseDialect, mlir::arith::ArithDialect, mlir::math::MathDialect,
                    mlir::func::FuncDialect, mlir::vector::VectorDialect>();
    ctx_.appendDialectRegistry(registry);
    ctx_.loadAllAvailableDialects();
  }

  /// Parses `text` and emits its (only) matmul; failure leaves diagnostics_.
  mlir::FailureOr<std::string> emit(const std::string& text, Arch arch = Arch::Sm80) {
    mlir::ScopedDiagnosticHandler capture(&ctx_, [&](mlir::Diagnostic& d) {
      diagnostics_ += d.str() + "\n";
      return mlir::success();
    });
    module_ = mlir::parseSourceString<mlir::ModuleOp>(text, &ctx_);
    if (!module_) {
      ADD_FAILURE() << "IR does not parse:\n" << text << "\n" << diagnostics_;
      return mlir::failure();
    }
    ir::MatmulOp op;
    module_->walk([&](ir::MatmulOp m) { op = m; });
    return emitEpilogueCuda(op, *make_target(arch));
  }

  std::string emitOk(const std::string& text, Arch arch = Arch::Sm80) {
    mlir::FailureOr<std::string> cuda = emit(text, arch);
    EXPECT_TRUE(mlir::succeeded(cuda)) << diagnostics_;
    return mlir::succeeded(cuda) ? *cuda : std::string();
  }

  mlir::MLIRContext ctx_;
  mlir::OwningOpRef<mlir::ModuleOp> module_;
  std::string diagnostics_;
};

bool contains(const std::string& haystack, std::string_view needle) {
  return haystack.find(needle) != std::string::npos;
}

// ---- structure ---------------------------------------------------------------

const std::string kLeakyReluScalar = matmul(
    "input_type = bf16, output_type = bf16, mode = \"precise\", param_names = [\"a\"], "
    "source = \"leaky_relu(x, a)\"",
    R"(^bb0(%x: f32, %a: f32):
  %zero = arith.constant 0.0 : f32
  %pos = arith.cmpf ogt, %x, %zero : f32
  %neg = arith.mulf %a, %x : f32
  %y = arith.select %pos, %x, %neg : f32
  tilefuse.yield %y : f32
)");

TEST_F(EmitterTest, ScalarFormIsOneLaneWithSingleConversion) {
  std::string cuda = emitOk(kLeakyReluScalar);
  EXPECT_TRUE(contains(cuda, "// tilefuse epilogue — generated, do not edit.\n")) << cuda;
  EXPECT_TRUE(
      contains(cuda, "// source: leaky_relu(x, a)   mode: precise   arch: sm_80   tile: none\n"))
      << cuda;
  EXPECT_TRUE(contains(cuda, "#define TF_EPILOGUE_VEC 1\n")) << cuda;
  EXPECT_TRUE(contains(cuda, "#define TF_EPILOGUE_GATED 0\n")) << cuda;
  EXPECT_TRUE(contains(cuda, "#define TF_EPILOGUE_OUT_BYTES 2\n")) << cuda;
  EXPECT_TRUE(contains(cuda, "#define TF_EPILOGUE_OUT_BF16 1\n")) << cuda;
  EXPECT_FALSE(contains(cuda, "TF_EPILOGUE_OUT_F16")) << cuda;
  EXPECT_TRUE(contains(cuda, "struct TfEpilogueParams {\n  float a;\n};")) << cuda;
  EXPECT_TRUE(contains(cuda, "unsigned short v[TF_EPILOGUE_VEC];")) << cuda;
  EXPECT_TRUE(contains(cuda, "tf_epilogue(const float (&x)[TF_EPILOGUE_VEC],")) << cuda;
  EXPECT_TRUE(contains(cuda, "const TfEpilogueParams& params) {")) << cuda;
  // Single-use values are inlined with the parentheses C++ needs (none here).
  EXPECT_TRUE(contains(cuda, "    r[i] = x[i] > 0.0f ? x[i] : params.a * x[i];\n")) << cuda;
  EXPECT_TRUE(contains(cuda, "  out.v[0] = tf::to_bf16_bits(r[0]);\n")) << cuda;
}

TEST_F(EmitterTest, VectorizedGatedFormPacksPairsAfterTheLoop) {
  std::string cuda = emitOk(matmul(
      std::string("input_type = bf16, output_type = bf16, gated, source = \"swiglu\", tile = ") +
          kTile2,
      R"(^bb0(%gate: vector<2xf32>, %up: vector<2xf32>):
  %one = arith.constant dense<1.0> : vector<2xf32>
  %ng = arith.negf %gate : vector<2xf32>
  %e = math.exp %ng : vector<2xf32>
  %d = arith.addf %one, %e : vector<2xf32>
  %s = arith.divf %gate, %d : vector<2xf32>
  %y = arith.mulf %s, %up : vector<2xf32>
  %b = arith.truncf %y : vector<2xf32> to vector<2xbf16>
  tilefuse.yield %b : vector<2xbf16>
)"));
  EXPECT_TRUE(contains(cuda, "tile: 128x128x32_w64x64_s3_v2_g8\n")) << cuda;
  EXPECT_TRUE(contains(cuda, "#define TF_EPILOGUE_VEC 2\n")) << cuda;
  EXPECT_TRUE(contains(cuda, "#define TF_EPILOGUE_GATED 1\n")) << cuda;
  EXPECT_TRUE(contains(cuda, "struct TfEpilogueParams {\n};")) << cuda;
  EXPECT_TRUE(contains(cuda, "tf_epilogue(const float (&gate)[TF_EPILOGUE_VEC],")) << cuda;
  EXPECT_TRUE(contains(cuda, "const float (&up)[TF_EPILOGUE_VEC],")) << cuda;
  EXPECT_TRUE(contains(cuda, "    r[i] = gate[i] / (1.0f + expf(-gate[i])) * up[i];\n")) << cuda;
  EXPECT_TRUE(contains(cuda, "const unsigned int packed0 = tf::pack_bf16x2(r[0], r[1]);")) << cuda;
  EXPECT_TRUE(contains(cuda, "out.v[0] = static_cast<unsigned short>(packed0 & 0xffffu);")) << cuda;
  EXPECT_TRUE(contains(cuda, "out.v[1] = static_cast<unsigned short>(packed0 >> 16);")) << cuda;
}

TEST_F(EmitterTest, WidthFourHalfOutputUsesTwoPackedConversions) {
  std::string cuda =
      emitOk(matmul(std::string("input_type = f16, output_type = f16, tile = ") + kTile4,
                    R"(^bb0(%x: vector<4xf32>):
  %y = math.tanh %x : vector<4xf32>
  %h = arith.truncf %y : vector<4xf32> to vector<4xf16>
  tilefuse.yield %h : vector<4xf16>
)"));
  EXPECT_TRUE(contains(cuda, "#define TF_EPILOGUE_VEC 4\n")) << cuda;
  EXPECT_TRUE(contains(cuda, "#define TF_EPILOGUE_OUT_F16 1\n")) << cuda;
  EXPECT_TRUE(contains(cuda, "    r[i] = tanhf(x[i]);\n")) << cuda;
  EXPECT_TRUE(contains(cuda, "packed0 = tf::pack_f16x2(r[0], r[1]);")) << cuda;
  EXPECT_TRUE(contains(cuda, "packed1 = tf::pack_f16x2(r[2], r[3]);")) << cuda;
  EXPECT_TRUE(contains(cuda, "out.v[3] = static_cast<unsigned short>(packed1 >> 16);")) << cuda;
}

TEST_F(EmitterTest, FloatOutputStoresLanesUnconverted) {
  std::string cuda =
      emitOk(matmul(std::string("input_type = bf16, output_type = f32, tile = ") + kTile2,
                    R"(^bb0(%x: vector<2xf32>):
  %y = math.erf %x : vector<2xf32>
  tilefuse.yield %y : vector<2xf32>
)"));
  EXPECT_TRUE(contains(cuda, "#define TF_EPILOGUE_OUT_BYTES 4\n")) << cuda;
  EXPECT_TRUE(contains(cuda, "#define TF_EPILOGUE_OUT_F32 1\n")) << cuda;
  EXPECT_TRUE(contains(cuda, "  float v[TF_EPILOGUE_VEC];")) << cuda;
  EXPECT_TRUE(contains(cuda, "  out.v[0] = r[0];\n  out.v[1] = r[1];\n")) << cuda;
  EXPECT_FALSE(contains(cuda, "pack_")) << cuda;
}

TEST_F(EmitterTest, ScalarFormIsConvertedToTheOutputTypeByTheEmitter) {
  std::string cuda = emitOk(matmul("input_type = bf16, output_type = f16",
                                   "^bb0(%x: f32):\n  tilefuse.yield %x : f32\n"));
  EXPECT_TRUE(contains(cuda, "    r[i] = x[i];\n")) << cuda;
  EXPECT_TRUE(contains(cuda, "  out.v[0] = tf::to_f16_bits(r[0]);\n")) << cuda;
}

TEST_F(EmitterTest, FastModeUsesTheApproximationHelpers) {
  std::string cuda = emitOk(matmul(
      std::string("input_type = bf16, output_type = bf16, mode = \"fast\", tile = ") + kTile2,
      R"(^bb0(%x: vector<2xf32>):
  %t = tilefuse.approx "tanh" %x : vector<2xf32>
  %e = tilefuse.approx "exp2" %t : vector<2xf32>
  %r = tilefuse.approx "rcp" %e : vector<2xf32>
  %l = tilefuse.approx "log2" %r : vector<2xf32>
  %q = tilefuse.approx "rsqrt" %l : vector<2xf32>
  %s = tilefuse.approx "sqrt" %q : vector<2xf32>
  %m = arith.maximumf %s, %x : vector<2xf32>
  %n = arith.minimumf %m, %x : vector<2xf32>
  %b = arith.truncf %n : vector<2xf32> to vector<2xbf16>
  tilefuse.yield %b : vector<2xbf16>
)"));
  EXPECT_TRUE(contains(cuda, "mode: fast")) << cuda;
  for (const char* helper :
       {"tf::approx_tanh(x[i])", "tf::approx_exp2(", "tf::approx_rcp(", "tf::approx_log2(",
        "tf::approx_rsqrt(", "tf::approx_sqrt(", "tf::fmax_nan(", "tf::fmin_nan("})
    EXPECT_TRUE(contains(cuda, helper)) << helper << "\n" << cuda;
  EXPECT_FALSE(contains(cuda, "tanhf(")) << cuda;
}

// ---- expressions -------------------------------------------------------------

TEST_F(EmitterTest, ParenthesesAreMinimalButKeepTheIRsTree) {
  std::string cuda =
      emitOk(matmul("input_type = bf16, output_type = f32, param_names = [\"b\", \"c\"]",
                    R"(^bb0(%x: f32, %b: f32, %c: f32):
  %bc = arith.subf %b, %c : f32
  %t0 = arith.subf %x, %bc : f32
  %bc2 = arith.addf %b, %c : f32
  %t1 = arith.mulf %t0, %bc2 : f32
  %xb = arith.addf %x, %b : f32
  %t2 = arith.addf %xb, %c : f32
  %bc3 = arith.addf %b, %c : f32
  %t3 = arith.addf %x, %bc3 : f32
  %n = arith.negf %t1 : f32
  %nn = arith.negf %n : f32
  %u = arith.divf %t2, %t3 : f32
  %v = arith.divf %nn, %u : f32
  tilefuse.yield %v : f32
)"));
  // x - (b - c): right operand of equal precedence keeps its parentheses;
  // (x + b) + c needs none; x + (b + c) keeps them (no re-association);
  // -(-e) must not become "--e".
  EXPECT_TRUE(contains(cuda,
                       "    r[i] = -(-((x[i] - (params.b - params.c)) * (params.b + params.c))) / "
                       "((x[i] + params.b + params.c) / (x[i] + (params.b + params.c)));\n"))
      << cuda;
}

TEST_F(EmitterTest, ValuesUsedTwiceBecomeNamedTemporaries) {
  std::string cuda = emitOk(matmul("input_type = bf16, output_type = bf16",
                                   R"(^bb0(%x: f32):
  %k = arith.constant 1.702 : f32
  %kx = arith.mulf %k, %x : f32
  %e = math.exp %kx : f32
  %sq = arith.mulf %e, %e : f32
  tilefuse.yield %sq : f32
)"));
  EXPECT_TRUE(contains(cuda, "    const float v0 = expf(1.702f * x[i]);\n")) << cuda;
  EXPECT_TRUE(contains(cuda, "    r[i] = v0 * v0;\n")) << cuda;
}

TEST_F(EmitterTest, ComparisonsSpellEveryPredicateWithNaNSemantics) {
  std::string body = "^bb0(%x: f32, %y: f32):\n  %acc0 = arith.constant 0.0 : f32\n";
  const char* predicates[] = {"false", "oeq", "ogt", "oge", "olt", "ole", "one", "ord",
                              "ueq",   "ugt", "uge", "ult", "ule", "une", "uno", "true"};
  int k = 0;
  for (const char* p : predicates) {
    body += "  %c" + std::to_string(k) + " = arith.cmpf " + p + ", %x, %y : f32\n";
    body +=
        "  %f" + std::to_string(k) + " = arith.uitofp %c" + std::to_string(k) + " : i1 to f32\n";
    body += "  %acc" + std::to_string(k + 1) + " = arith.addf %acc" + std::to_string(k) + ", %f" +
            std::to_string(k) + " : f32\n";
    ++k;
  }
  body += "  tilefuse.yield %acc" + std::to_string(k) + " : f32\n";
  std::string cuda =
      emitOk(matmul("input_type = bf16, output_type = f32, param_names = [\"y\"]", body));
  for (const char* spelling :
       {"static_cast<float>(false)", "static_cast<float>(x[i] == params.y)",
        "static_cast<float>(x[i] > params.y)", "static_cast<float>(x[i] >= params.y)",
        "(x[i] < params.y || x[i] > params.y)", "(x[i] == x[i] && params.y == params.y)",
        "!(x[i] < params.y || x[i] > params.y)", "!(x[i] <= params.y)", "!(x[i] < params.y)",
        "!(x[i] >= params.y)", "!(x[i] > params.y)", "static_cast<float>(x[i] != params.y)",
        "(x[i] != x[i] || params.y != params.y)", "static_cast<float>(true)"})
    EXPECT_TRUE(contains(cuda, spelling)) << spelling << "\n" << cuda;
}

TEST_F(EmitterTest, ConstantsArePrintedExactly) {
  std::string cuda = emitOk(matmul("input_type = bf16, output_type = f32",
                                   R"(^bb0(%x: f32):
  %a = arith.constant 0.1 : f32
  %b = arith.constant 1.0e+10 : f32
  %c = arith.constant 0x7F800000 : f32
  %d = arith.constant 0xFFC00000 : f32
  %e = arith.constant -0.0 : f32
  %f = arith.constant 1.0e-45 : f32
  %g = arith.constant 2.0 : f32
  %t1 = arith.mulf %x, %a : f32
  %t2 = arith.addf %t1, %b : f32
  %t3 = arith.minnumf %t2, %c : f32
  %t4 = arith.maxnumf %t3, %d : f32
  %t5 = arith.subf %t4, %e : f32
  %t6 = arith.addf %t5, %f : f32
  %t7 = arith.mulf %t6, %g : f32
  tilefuse.yield %t7 : f32
)"));
  for (const char* literal : {"0.1f", "10000000000.0f", "__uint_as_float(0x7f800000u)",
                              "__uint_as_float(0xffc00000u)", "- -0.0f", "1e-45f", "2.0f"})
    EXPECT_TRUE(contains(cuda, literal)) << literal << "\n" << cuda;
}

// ---- parameter names ---------------------------------------------------------

TEST(CudaIdentifiers, KeywordsReservedAndPrefixedNamesAreMangledUniquely) {
  EXPECT_TRUE(isSafeCudaIdentifier("alpha"));
  EXPECT_FALSE(isSafeCudaIdentifier("class"));
  EXPECT_FALSE(isSafeCudaIdentifier("not"));
  EXPECT_FALSE(isSafeCudaIdentifier("_a"));
  EXPECT_FALSE(isSafeCudaIdentifier("a__b"));
  EXPECT_FALSE(isSafeCudaIdentifier("TF_EPILOGUE_VEC"));
  EXPECT_FALSE(isSafeCudaIdentifier("1a"));
  EXPECT_FALSE(isSafeCudaIdentifier("a-b"));
  std::vector<std::string> fields =
      makeCudaFieldNames({"class", "p_class", "x", "_a", "tf_b", "float", "a b", "a__b"});
  std::vector<std::string> expected = {"p_class_1", "p_class", "x",     "p_a",
                                       "p_tf_b",    "p_float", "p_a_b", "p_a_b_1"};
  EXPECT_EQ(fields, expected);
}

const std::string kKeywordParams = matmul(
    "input_type = bf16, output_type = bf16, param_names = [\"class\", \"p_class\", \"int\", "
    "\"TF_EPILOGUE_VEC\"]",
    R"(^bb0(%x: f32, %a: f32, %b: f32, %c: f32, %d: f32):
  %t0 = arith.mulf %x, %a : f32
  %t1 = arith.addf %t0, %b : f32
  %t2 = arith.subf %t1, %c : f32
  %t3 = arith.mulf %t2, %d : f32
  tilefuse.yield %t3 : f32
)");

TEST_F(EmitterTest, ParameterNamesThatAreKeywordsGetAPrefix) {
  std::string cuda = emitOk(kKeywordParams);
  EXPECT_TRUE(contains(cuda,
                       "  float p_class_1;  // \"class\"\n  float p_class;\n"
                       "  float p_int;  // \"int\"\n"
                       "  float p_TF_EPILOGUE_VEC;  // \"TF_EPILOGUE_VEC\"\n"))
      << cuda;
  EXPECT_TRUE(contains(cuda, "x[i] * params.p_class_1 + params.p_class - params.p_int")) << cuda;
}

// ---- errors ------------------------------------------------------------------

TEST_F(EmitterTest, AnOpWithoutSpellingIsAnErrorNamingIt) {
  mlir::FailureOr<std::string> cuda = emit(matmul("input_type = bf16, output_type = bf16",
                                                  R"(^bb0(%x: f32):
  %y = math.sin %x : f32
  tilefuse.yield %y : f32
)"));
  EXPECT_TRUE(mlir::failed(cuda));
  EXPECT_TRUE(contains(diagnostics_, "'math.sin' op cannot be emitted as CUDA")) << diagnostics_;
  EXPECT_TRUE(contains(diagnostics_, "CudaOpTable.cpp")) << diagnostics_;
}

TEST_F(EmitterTest, ATruncfThatIsNotTheFinalConversionIsAnError) {
  mlir::FailureOr<std::string> cuda = emit(matmul("input_type = bf16, output_type = bf16",
                                                  R"(^bb0(%x: f32):
  %h = arith.truncf %x : f32 to bf16
  %y = arith.extf %h : bf16 to f32
  tilefuse.yield %y : f32
)"));
  EXPECT_TRUE(mlir::failed(cuda));
  EXPECT_TRUE(contains(diagnostics_, "values must be f32 or i1")) << diagnostics_;
}

TEST_F(EmitterTest, AHalfYieldNotMadeByTruncfIsAnError) {
  mlir::FailureOr<std::string> cuda =
      emit(matmul(std::string("input_type = bf16, output_type = bf16, tile = ") + kTile2,
                  R"(^bb0(%x: vector<2xf32>):
  %b = arith.constant dense<1.0> : vector<2xbf16>
  tilefuse.yield %b : vector<2xbf16>
)"));
  EXPECT_TRUE(mlir::failed(cuda));
  EXPECT_TRUE(contains(diagnostics_, "must be produced by arith.truncf from f32")) << diagnostics_;
}

// ---- NVRTC -------------------------------------------------------------------

std::string_view supportHeader() {
  for (const runtime::EmbeddedFile& file : runtime::embedded_files())
    if (file.name == "tilefuse/epilogue_support.cuh") return file.content;
  return {};
}

/// A kernel that loads one fragment per thread, calls tf_epilogue and stores.
std::string wrapInKernel(const std::string& epilogue) {
  return "#include \"tilefuse/epilogue_support.cuh\"\n" + epilogue + R"(
extern "C" __global__ void tf_epilogue_probe(const float* in0, const float* in1,
                                             TfEpilogueParams params, TfEpilogueOut* out) {
  const int t = blockIdx.x * blockDim.x + threadIdx.x;
  float a[TF_EPILOGUE_VEC];
  float b[TF_EPILOGUE_VEC];
#pragma unroll
  for (int i = 0; i < TF_EPILOGUE_VEC; ++i) {
    a[i] = in0[t * TF_EPILOGUE_VEC + i];
    b[i] = in1[t * TF_EPILOGUE_VEC + i];
  }
#if TF_EPILOGUE_GATED
  out[t] = tf_epilogue(a, b, params);
#else
  (void)b;
  out[t] = tf_epilogue(a, params);
#endif
}
)";
}

struct NvrtcResult {
  bool ok = false;
  std::string log;
  std::string ptx;  ///< only for a virtual architecture (compute_XX)
};

/// Compiles `source` for `arch`: sm_XX gives a cubin (and ptxas's -v log),
/// compute_XX gives PTX to inspect.
NvrtcResult compileWithNvrtc(const std::string& source, const char* arch) {
  std::string_view header = supportHeader();
  std::string headerText(header);
  const char* headers[] = {headerText.c_str()};
  const char* names[] = {"tilefuse/epilogue_support.cuh"};
  nvrtcProgram program;
  if (nvrtcCreateProgram(&program, source.c_str(), "epilogue_probe.cu", 1, headers, names) !=
      NVRTC_SUCCESS)
    return {false, "nvrtcCreateProgram failed"};
  std::string archOption = std::string("--gpu-architecture=") + arch;
  const bool real = std::string_view(arch).starts_with("sm_");
  const char* options[] = {archOption.c_str(), "--std=c++17", "-Xptxas=-v"};
  nvrtcResult status = nvrtcCompileProgram(program, real ? 3 : 2, options);
  size_t logSize = 0;
  nvrtcGetProgramLogSize(program, &logSize);
  std::string log(logSize, '\0');
  nvrtcGetProgramLog(program, log.data());
  NvrtcResult result{status == NVRTC_SUCCESS, log, {}};
  if (result.ok && std::string_view(arch).starts_with("compute_")) {
    size_t ptxSize = 0;
    result.ok = nvrtcGetPTXSize(program, &ptxSize) == NVRTC_SUCCESS && ptxSize > 1;
    result.ptx.resize(ptxSize);
    if (result.ok) result.ok = nvrtcGetPTX(program, result.ptx.data()) == NVRTC_SUCCESS;
  } else if (result.ok) {
    size_t cubinSize = 0;
    result.ok = nvrtcGetCUBINSize(program, &cubinSize) == NVRTC_SUCCESS && cubinSize > 0;
  }
  nvrtcDestroyProgram(&program);
  return result;
}

class EmitterNvrtcTest : public EmitterTest, public ::testing::WithParamInterface<const char*> {};

TEST_P(EmitterNvrtcTest, GeneratedCodeCompilesWithoutSpills) {
  ASSERT_FALSE(supportHeader().empty()) << "epilogue_support.cuh is not embedded";
  std::vector<std::string> variants = {
      kLeakyReluScalar,
      kKeywordParams,
      matmul(std::string("input_type = bf16, output_type = bf16, gated, tile = ") + kTile2,
             R"(^bb0(%gate: vector<2xf32>, %up: vector<2xf32>):
  %one = arith.constant dense<1.0> : vector<2xf32>
  %ng = arith.negf %gate : vector<2xf32>
  %e = math.exp %ng : vector<2xf32>
  %d = arith.addf %one, %e : vector<2xf32>
  %s = arith.divf %gate, %d : vector<2xf32>
  %y = arith.mulf %s, %up : vector<2xf32>
  %b = arith.truncf %y : vector<2xf32> to vector<2xbf16>
  tilefuse.yield %b : vector<2xbf16>
)"),
      matmul(std::string("input_type = f16, output_type = f16, mode = \"fast\", tile = ") + kTile4,
             R"(^bb0(%x: vector<4xf32>):
  %t = tilefuse.approx "tanh" %x : vector<4xf32>
  %e = tilefuse.approx "exp2" %t : vector<4xf32>
  %r = tilefuse.approx "rcp" %e : vector<4xf32>
  %l = tilefuse.approx "log2" %r : vector<4xf32>
  %q = tilefuse.approx "rsqrt" %l : vector<4xf32>
  %s = tilefuse.approx "sqrt" %q : vector<4xf32>
  %m = arith.maximumf %s, %x : vector<4xf32>
  %n = arith.minimumf %m, %x : vector<4xf32>
  %c = tilefuse.erfc %n : vector<4xf32>
  %inf = arith.constant dense<0x7F800000> : vector<4xf32>
  %z = arith.minnumf %c, %inf : vector<4xf32>
  %h = arith.truncf %z : vector<4xf32> to vector<4xf16>
  tilefuse.yield %h : vector<4xf16>
)"),
      matmul(std::string("input_type = bf16, output_type = f32, tile = ") + kTile2,
             R"(^bb0(%x: vector<2xf32>):
  %a = math.erf %x : vector<2xf32>
  %b = math.log1p %a : vector<2xf32>
  %c = math.expm1 %b : vector<2xf32>
  %d = math.powf %c, %x : vector<2xf32>
  %e = math.fma %d, %x, %c : vector<2xf32>
  %f = math.absf %e : vector<2xf32>
  %g = math.sqrt %f : vector<2xf32>
  %h = math.rsqrt %g : vector<2xf32>
  %i = math.log %h : vector<2xf32>
  %j = math.log2 %i : vector<2xf32>
  %k = math.exp2 %j : vector<2xf32>
  %p = arith.cmpf uno, %k, %x : vector<2xf32>
  %q = arith.uitofp %p : vector<2xi1> to vector<2xf32>
  %r = arith.select %p, %q, %k : vector<2xi1>, vector<2xf32>
  tilefuse.yield %r : vector<2xf32>
)"),
      matmul(std::string("input_type = bf16, output_type = bf16, tile = ") +
                 "#tilefuse.tile<block_m = 128, block_n = 128, block_k = 32, warp_m = 64, "
                 "warp_n = 64, stages = 3, vector_width = 1, group_m = 8>",
             R"(^bb0(%x: vector<1xf32>):
  %y = math.tanh %x : vector<1xf32>
  %b = arith.truncf %y : vector<1xf32> to vector<1xbf16>
  tilefuse.yield %b : vector<1xbf16>
)"),
  };
  for (const std::string& ir : variants) {
    std::string cuda = emitOk(ir);
    ASSERT_FALSE(cuda.empty());
    NvrtcResult result = compileWithNvrtc(wrapInKernel(cuda), GetParam());
    EXPECT_TRUE(result.ok) << GetParam() << "\n" << result.log << "\n" << cuda;
    EXPECT_TRUE(contains(result.log, "0 bytes spill stores, 0 bytes spill loads"))
        << GetParam() << "\n"
        << result.log;
    // The lane arrays (x, r, out.v) must live in registers, not local memory.
    std::smatch frame;
    ASSERT_TRUE(std::regex_search(result.log, frame, std::regex(R"((\d+) bytes stack frame)")))
        << result.log;
    EXPECT_EQ(frame[1].str(), "0") << result.log;
  }
}

INSTANTIATE_TEST_SUITE_P(Archs, EmitterNvrtcTest, ::testing::Values("sm_80", "sm_90a"));

TEST_F(EmitterTest, HelpersBecomeTheIntendedPtxInstructions) {
  // Fast mode, f16 pairs: every approximation is one non-ftz SFU instruction.
  std::string fast = emitOk(
      matmul(std::string("input_type = f16, output_type = f16, mode = \"fast\", tile = ") + kTile2,
             R"(^bb0(%x: vector<2xf32>):
  %t = tilefuse.approx "tanh" %x : vector<2xf32>
  %e = tilefuse.approx "exp2" %t : vector<2xf32>
  %r = tilefuse.approx "rcp" %e : vector<2xf32>
  %l = tilefuse.approx "log2" %r : vector<2xf32>
  %q = tilefuse.approx "rsqrt" %l : vector<2xf32>
  %s = tilefuse.approx "sqrt" %q : vector<2xf32>
  %m = arith.maximumf %s, %x : vector<2xf32>
  %n = arith.minimumf %m, %x : vector<2xf32>
  %h = arith.truncf %n : vector<2xf32> to vector<2xf16>
  tilefuse.yield %h : vector<2xf16>
)"));
  NvrtcResult result = compileWithNvrtc(wrapInKernel(fast), "compute_80");
  ASSERT_TRUE(result.ok) << result.log;
  for (const char* instruction :
       {"tanh.approx.f32", "ex2.approx.f32", "rcp.approx.f32", "lg2.approx.f32", "rsqrt.approx.f32",
        "sqrt.approx.f32", "max.NaN.f32", "min.NaN.f32", "cvt.rn.f16x2.f32"})
    EXPECT_TRUE(contains(result.ptx, instruction)) << instruction << "\n" << result.ptx;
  EXPECT_FALSE(contains(result.ptx, ".ftz")) << result.ptx;

  // bf16 pairs and a single bf16 value.
  NvrtcResult pair = compileWithNvrtc(
      wrapInKernel(
          emitOk(matmul(std::string("input_type = bf16, output_type = bf16, tile = ") + kTile2,
                        "^bb0(%x: vector<2xf32>):\n"
                        "  %b = arith.truncf %x : vector<2xf32> to vector<2xbf16>\n"
                        "  tilefuse.yield %b : vector<2xbf16>\n"))),
      "compute_90a");
  ASSERT_TRUE(pair.ok) << pair.log;
  EXPECT_TRUE(contains(pair.ptx, "cvt.rn.bf16x2.f32")) << pair.ptx;
  NvrtcResult single = compileWithNvrtc(wrapInKernel(emitOk(kLeakyReluScalar)), "compute_80");
  ASSERT_TRUE(single.ok) << single.log;
  EXPECT_TRUE(contains(single.ptx, "cvt.rn.bf16.f32")) << single.ptx;
}

}  // namespace
}  // namespace tilefuse::compiler
