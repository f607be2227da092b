// CUDA C++ emission of the epilogue region (see CudaEmitter.h).
//
// The text is the contract with the GEMM templates:
//   #define TF_EPILOGUE_VEC N            elements per call (tile.vector_width)
//   #define TF_EPILOGUE_GATED 0|1        1: tf_epilogue(gate, up, params)
//   #define TF_EPILOGUE_OUT_BYTES 2|4    bytes per output element
//   #define TF_EPILOGUE_OUT_BF16|F16|F32 1
//   struct TfEpilogueParams { float <param>; ... };   flat, param_names order
//   struct TfEpilogueOut { unsigned short|float v[N]; };
//   TfEpilogueOut tf_epilogue(const float (&x)[N], const TfEpilogueParams&)
// A backward epilogue (grad_wrt) takes `dy` first and defines TF_EPILOGUE_GRAD 1.
// Declared row/column inputs (row_inputs, col_inputs) add, only when there is one:
//   #define TF_EPILOGUE_ROW_INPUTS R     #define TF_EPILOGUE_COL_INPUTS C
//   struct TfEpilogueOperands { float row[max(R,1)]; float col[max(C,1)][N]; };
//   tf_epilogue(x, params, const TfEpilogueOperands& operands)
// The N lanes of one call are consecutive columns of ONE row: the template
// fills row[k] with row input k at that row and col[k][i] with column input k
// at the lane's column (declaration order).
// Element-wise ops run in a per-lane loop; the final rounding to bf16/f16 is
// done after it with packed conversions (tf::pack_bf16x2 etc.).
//
// Each op becomes a C++ expression from CudaOpTable. A value used once is
// inlined into its user with only the parentheses the precedence table
// requires; values used more than once (or long expressions) become named
// `const` temporaries, so the output reads like hand-written code. Nothing is
// reassociated: the expression tree is the IR's.
#include "compiler/Target/CudaEmitter.h"

#include <fmt/args.h>
#include <fmt/format.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>

#include "compiler/Dialect/TilefuseDialect.h"
#include "compiler/Target/CudaIdentifiers.h"
#include "compiler/Target/CudaOpTable.h"
#include "compiler/Target/TargetInfo.h"
#include "compiler/Types.h"
#include "llvm/ADT/DenseMap.h"
#include "mlir/IR/TypeUtilities.h"

namespace tilefuse::compiler {
namespace {

using namespace mlir;

/// Inlined expressions longer than this become temporaries (readability).
constexpr size_t kMaxInlineLength = 72;

/// A C++ expression for the per-lane value of an SSA value.
struct Expr {
  std::string text;
  int precedence = kPrecPrimary;
  /// A name or literal: repeating it costs nothing.
  bool atomic = true;
};

enum class OutputKind { BF16, F16, F32 };

/// Comments must stay on one line (a newline would end them).
std::string oneLine(llvm::StringRef text) {
  std::string out;
  for (char c : text) out += (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) ? ' ' : c;
  return out;
}

/// Shortest decimal that reads back as exactly `value`, as a float literal;
/// non-finite values by their bits (no CUDART macros in NVRTC).
std::string floatLiteral(float value) {
  if (!std::isfinite(value))
    return fmt::format("__uint_as_float(0x{:08x}u)", std::bit_cast<uint32_t>(value));
  std::string text = fmt::format("{}", value);
  if (text.find_first_of(".e") == std::string::npos) text += ".0";
  return text + "f";
}

Expr literal(std::string text) {
  int precedence = text.front() == '-' ? kPrecPrefix : kPrecPrimary;
  return Expr{std::move(text), precedence, true};
}

std::string parenthesizedIf(const Expr& e, bool parens) {
  return parens ? "(" + e.text + ")" : e.text;
}

class EpilogueEmitter {
 public:
  EpilogueEmitter(ir::MatmulOp op, const TargetInfo& target, const EpilogueEmitOptions& options)
      : op_(op), target_(target), options_(options) {}

  FailureOr<std::string> emit() {
    if (failed(checkForm())) return failure();
    bindArguments();
    for (Operation& inner : op_.getBody().without_terminator()) {
      if (&inner == finalTrunc_) continue;
      if (failed(emitOp(inner))) return failure();
    }
    return assemble();
  }

 private:
  // ---- checks ---------------------------------------------------------------

  /// Finds the vector width, the output type and the per-lane result.
  LogicalResult checkForm() {
    Block& body = op_.getBody();
    if (auto vec = dyn_cast<VectorType>(body.getArgument(0).getType())) {
      if (vec.getRank() != 1 || vec.isScalable())
        return op_.emitOpError(
                   "cannot be emitted as CUDA: epilogue arguments must be f32 or a "
                   "fixed 1-D vector of f32, got ")
               << vec;
      width_ = static_cast<int>(vec.getNumElements());
    }

    Type outputType = op_.getOutputType();
    if (outputType.isBF16())
      output_ = OutputKind::BF16;
    else if (outputType.isF16())
      output_ = OutputKind::F16;
    else
      output_ = OutputKind::F32;

    Value yielded = op_.getYield().getValue();
    Type yieldedElement = getElementTypeOrSelf(yielded.getType());
    if (failed(checkShape(op_.getYield(), yielded.getType()))) return failure();
    if (yieldedElement.isBF16() || yieldedElement.isF16()) {
      auto trunc = yielded.getDefiningOp<arith::TruncFOp>();
      if (!trunc)
        return op_.emitOpError("cannot be emitted as CUDA: a ")
               << yielded.getType() << " yield must be produced by arith.truncf from f32";
      if (yieldedElement != outputType)
        return op_.emitOpError("cannot be emitted as CUDA: the epilogue yields ")
               << yieldedElement << " but output_type is " << outputType;
      if (auto mode = trunc.getRoundingmodeAttr();
          mode && mode.getValue() != arith::RoundingMode::to_nearest_even)
        return trunc.emitOpError(
            "cannot be emitted as CUDA: only round-to-nearest-even output "
            "conversion is supported (cvt.rn)");
      finalTrunc_ = trunc;
      laneResult_ = trunc.getIn();
    } else if (yieldedElement.isF32()) {
      laneResult_ = yielded;
    } else {
      return op_.emitOpError(
                 "cannot be emitted as CUDA: the epilogue must yield f32, bf16 or f16 "
                 "(or vectors of them), got ")
             << yielded.getType();
    }
    if (!getElementTypeOrSelf(laneResult_.getType()).isF32())
      return op_.emitOpError("cannot be emitted as CUDA: the converted result must be f32");
    return success();
  }

  /// Vectors must have the epilogue's width; scalars are per-lane values.
  LogicalResult checkShape(Operation* at, Type type) {
    auto vec = dyn_cast<VectorType>(type);
    if (vec && (vec.getRank() != 1 || vec.isScalable() || vec.getNumElements() != width_))
      return at->emitOpError("cannot be emitted as CUDA: ")
             << type << " does not match the epilogue vector width " << width_;
    return success();
  }

  /// Lane values are float or bool.
  LogicalResult checkValueType(Operation* at, Type type) {
    if (failed(checkShape(at, type))) return failure();
    Type element = getElementTypeOrSelf(type);
    if (!element.isF32() && !element.isInteger(1))
      return at->emitOpError(
                 "cannot be emitted as CUDA: values must be f32 or i1 (or vectors "
                 "of them) inside the epilogue, got ")
             << type;
    return success();
  }

  // ---- values ---------------------------------------------------------------

  void bindArguments() {
    Block& body = op_.getBody();
    unsigned numInputs = op_.getNumInputs();
    for (unsigned k = 0; k < numInputs; ++k)
      exprs_[body.getArgument(k)] = Expr{fmt::format("{}[i]", inputNames()[k])};

    std::vector<std::string> names;
    for (Attribute name : op_.getParamNames()) names.push_back(cast<StringAttr>(name).str());
    paramNames_ = names;
    fieldNames_ = makeCudaFieldNames(names);
    for (size_t k = 0; k < fieldNames_.size(); ++k)
      exprs_[body.getArgument(numInputs + k)] = Expr{"params." + fieldNames_[k]};

    for (auto name : op_.getRowInputs()) rowNames_.push_back(cast<StringAttr>(name).str());
    for (auto name : op_.getColInputs()) colNames_.push_back(cast<StringAttr>(name).str());
    for (size_t k = 0; k < rowNames_.size(); ++k)
      exprs_[body.getArgument(op_.getFirstRowInputIndex() + k)] = Expr{fmt::format("operands.row[{}]", k)};
    for (size_t k = 0; k < colNames_.size(); ++k)
      exprs_[body.getArgument(op_.getFirstColInputIndex() + k)] = Expr{fmt::format("operands.col[{}][i]", k)};
  }

  bool hasOperands() const { return !rowNames_.empty() || !colNames_.empty(); }

  /// Names of the array arguments, in block-argument order.
  std::vector<std::string> inputNames() {
    std::vector<std::string> names;
    if (op_.isBackward()) names.push_back("dy");
    if (op_.getGated()) {
      names.push_back("gate");
      names.push_back("up");
    } else {
      names.push_back("x");
    }
    return names;
  }

  static const char* cType(Type type) {
    return getElementTypeOrSelf(type).isInteger(1) ? "bool" : "float";
  }

  /// Turns `e` into a named temporary unless it already is a name or literal.
  Expr materialize(Value value, const Expr& e) {
    if (e.atomic) return e;
    std::string name = fmt::format("v{}", nextTemp_++);
    lane_ += fmt::format("    const {} {} = {};\n", cType(value.getType()), name, e.text);
    Expr named{name};
    exprs_[value] = named;
    return named;
  }

  /// Records the expression of `value`: inlined into its single user, or a
  /// temporary if used more than once or too long to read inline.
  void bind(Value value, Expr e) {
    if (value.use_empty()) return;  // dead (pure) value: nothing to compute
    exprs_[value] = e;
    // The lane result goes straight into `r[i] = ...;`: no temporary needed.
    bool tooLong = e.text.size() > kMaxInlineLength && value != laneResult_;
    if (!value.hasOneUse() || tooLong) materialize(value, e);
  }

  FailureOr<Expr> constantExpr(arith::ConstantOp constant) {
    Attribute value = constant.getValue();
    if (auto dense = dyn_cast<DenseElementsAttr>(value)) {
      if (!dense.isSplat())
        return constant.emitOpError(
                   "cannot be emitted as CUDA: a vector constant must be a "
                   "splat (every lane computes the same function)"),
               failure();
      value = dense.getSplatValue<Attribute>();
    }
    if (auto f = dyn_cast<FloatAttr>(value); f && f.getType().isF32())
      return literal(floatLiteral(f.getValue().convertToFloat()));
    if (auto i = dyn_cast<IntegerAttr>(value); i && i.getType().isInteger(1))
      return literal(i.getValue().isZero() ? "false" : "true");
    if (auto b = dyn_cast<BoolAttr>(value)) return literal(b.getValue() ? "true" : "false");
    return constant.emitOpError(
               "cannot be emitted as CUDA: only f32 and i1 constants are "
               "supported, got ")
               << constant.getType(),
           failure();
  }

  // ---- ops ------------------------------------------------------------------

  LogicalResult emitOp(Operation& inner) {
    if (inner.getNumResults() != 1 || inner.getNumRegions() != 0)
      return inner.emitOpError(
          "cannot be emitted as CUDA: only single-result element-wise ops "
          "may appear in an epilogue");
    if (failed(checkValueType(&inner, inner.getResult(0).getType()))) return failure();

    if (auto constant = dyn_cast<arith::ConstantOp>(inner)) {
      FailureOr<Expr> e = constantExpr(constant);
      if (failed(e)) return failure();
      bind(constant.getResult(), *e);
      return success();
    }

    const CudaSpelling* spelling = findCudaSpelling(&inner);
    if (!spelling) {
      if (isa<arith::TruncFOp>(inner))
        return inner.emitOpError(
            "cannot be emitted as CUDA: arith.truncf is supported only as the "
            "final conversion to output_type, feeding tilefuse.yield");
      return inner.emitOpError(
                 "cannot be emitted as CUDA: the emitter has no spelling for this "
                 "op; supported ops are ")
             << listCudaSpelledOps()
             << " (add a row to compiler/Target/CudaOpTable.cpp to support it)";
    }
    for (Value operand : inner.getOperands())
      if (failed(checkValueType(&inner, operand.getType()))) return failure();

    bind(inner.getResult(0), spell(inner, *spelling));
    return success();
  }

  Expr spell(Operation& inner, const CudaSpelling& spelling) {
    std::vector<Expr> operands;
    for (Value operand : inner.getOperands()) {
      Expr e = exprs_.lookup(operand);
      operands.push_back(spelling.needsAtomicOperands ? materialize(operand, e) : e);
    }
    const int p = spelling.precedence;
    switch (spelling.form) {
      case CudaSpelling::Form::Identity:
        return operands[0];
      case CudaSpelling::Form::Prefix: {
        // Parenthesize a leading '-' too: "--x" would be a decrement.
        const Expr& a = operands[0];
        bool parens = a.precedence < p || a.text.front() == '-';
        return Expr{std::string(spelling.text) + parenthesizedIf(a, parens), p, false};
      }
      case CudaSpelling::Form::Infix: {
        // Left-associative: an equal-precedence right operand keeps its
        // parentheses, so a + (b + c) is never re-associated.
        const Expr& a = operands[0];
        const Expr& b = operands[1];
        return Expr{fmt::format("{} {} {}", parenthesizedIf(a, a.precedence < p), spelling.text,
                                parenthesizedIf(b, b.precedence <= p)),
                    p, false};
      }
      case CudaSpelling::Form::Ternary: {
        auto arm = [&](const Expr& e) { return parenthesizedIf(e, e.precedence <= p); };
        return Expr{
            fmt::format("{} ? {} : {}", arm(operands[0]), arm(operands[1]), arm(operands[2])), p,
            false};
      }
      case CudaSpelling::Form::Call: {
        fmt::dynamic_format_arg_store<fmt::format_context> args;
        for (const Expr& e : operands) args.push_back(e.text);
        return Expr{fmt::vformat(spelling.text, args), p, /*atomic=*/operands.empty()};
      }
    }
    return operands[0];  // unreachable: every form is handled above
  }

  // ---- text -----------------------------------------------------------------

  std::string tileText() {
    auto tile = op_.getTile();
    if (!tile) return "none";
    TileConfig config;
    config.block_m = static_cast<int>(tile->getBlockM());
    config.block_n = static_cast<int>(tile->getBlockN());
    config.block_k = static_cast<int>(tile->getBlockK());
    config.warp_m = static_cast<int>(tile->getWarpM());
    config.warp_n = static_cast<int>(tile->getWarpN());
    config.stages = static_cast<int>(tile->getStages());
    config.vector_width = static_cast<int>(tile->getVectorWidth());
    config.group_m = static_cast<int>(tile->getGroupM());
    return to_string(config);
  }

  std::string outputConversion() {
    std::string out;
    if (output_ == OutputKind::F32) {
      for (int k = 0; k < width_; ++k) out += fmt::format("  out.v[{0}] = r[{0}];\n", k);
      return out;
    }
    const char* type = output_ == OutputKind::BF16 ? "bf16" : "f16";
    if (width_ == 1) return fmt::format("  out.v[0] = tf::to_{}_bits(r[0]);\n", type);
    out += "  // Packed round-to-nearest conversion; low half = lower-indexed element.\n";
    for (int k = 0; k < width_; k += 2) {
      out += fmt::format("  const unsigned int packed{0} = tf::pack_{1}x2(r[{2}], r[{3}]);\n",
                         k / 2, type, k, k + 1);
      out += fmt::format("  out.v[{0}] = static_cast<unsigned short>(packed{1} & 0xffffu);\n", k,
                         k / 2);
      out += fmt::format("  out.v[{0}] = static_cast<unsigned short>(packed{1} >> 16);\n", k + 1,
                         k / 2);
    }
    return out;
  }

  std::string assemble() {
    const bool gated = op_.getGated();
    const char* outName = output_ == OutputKind::BF16  ? "BF16"
                          : output_ == OutputKind::F16 ? "F16"
                                                       : "F32";
    std::string text;
    if (options_.declarations) text += declarations(gated, outName);
    text += signature();
    text += "  float r[TF_EPILOGUE_VEC];\n";
    text += "#pragma unroll\n";
    text += "  for (int i = 0; i < TF_EPILOGUE_VEC; ++i) {\n";
    text += lane_;
    text += fmt::format("    r[i] = {};\n", exprs_.lookup(laneResult_).text);
    text += "  }\n";
    text += "  TfEpilogueOut out;\n";
    text += outputConversion();
    text += "  return out;\n";
    text += "}\n";
    return text;
  }

  std::string signature() {
    std::string head = fmt::format("__device__ __forceinline__ TfEpilogueOut {}(", options_.function_name);
    std::string indent(head.size(), ' ');
    std::string text = head;
    bool first = true;
    for (const std::string& name : inputNames()) {
      text += fmt::format("{}const float (&{})[TF_EPILOGUE_VEC],\n", first ? "" : indent, name);
      first = false;
    }
    if (hasOperands()) {
      text += indent + "const TfEpilogueParams& params,\n";
      text += indent + "const TfEpilogueOperands& operands) {\n";
    } else {
      text += indent + "const TfEpilogueParams& params) {\n";
    }
    return text;
  }

  std::string declarations(bool gated, const char* outName) {
    std::string text;
    text += "// tilefuse epilogue — generated, do not edit.\n";
    text += fmt::format("// source: {}   mode: {}   arch: {}   tile: {}\n",
                        op_.getSource().empty() ? "<none>" : oneLine(op_.getSource()),
                        oneLine(op_.getMode()), target_.nvrtc_arch(), tileText());
    text += fmt::format("#define TF_EPILOGUE_VEC {}\n", width_);
    text += fmt::format("#define TF_EPILOGUE_GATED {}\n", gated ? 1 : 0);
    text += fmt::format("#define TF_EPILOGUE_OUT_BYTES {}\n", output_ == OutputKind::F32 ? 4 : 2);
    text += fmt::format("#define TF_EPILOGUE_OUT_{} 1\n", outName);
    if (op_.isBackward()) {
      text += fmt::format("// backward: dy * d(epilogue)/d({})\n", oneLine(op_.getGradWrt()));
      text += "#define TF_EPILOGUE_GRAD 1\n";
    }
    text += "\n";

    text += "// One float per runtime parameter, in parameter order.\n";
    text += "struct TfEpilogueParams {\n";
    for (size_t k = 0; k < fieldNames_.size(); ++k) {
      text += fmt::format("  float {};", fieldNames_[k]);
      if (fieldNames_[k] != paramNames_[k])
        text += fmt::format("  // \"{}\"", oneLine(paramNames_[k]));
      text += "\n";
    }
    text += "};\n\n";

    if (hasOperands()) {
      text += fmt::format("#define TF_EPILOGUE_ROW_INPUTS {}\n", rowNames_.size());
      text += fmt::format("#define TF_EPILOGUE_COL_INPUTS {}\n", colNames_.size());
      text += "// Declared f32 inputs: row[k] is row input k at this call's row (one row\n";
      text += "// per call), col[k][i] column input k at lane i's column.\n";
      text += "struct TfEpilogueOperands {\n";
      text += fmt::format("  float row[{}];", std::max<size_t>(rowNames_.size(), 1));
      for (size_t k = 0; k < rowNames_.size(); ++k)
        text += fmt::format("{} [{}] \"{}\"", k ? "," : "  //", k, oneLine(rowNames_[k]));
      text += "\n";
      text += fmt::format("  float col[{}][TF_EPILOGUE_VEC];", std::max<size_t>(colNames_.size(), 1));
      for (size_t k = 0; k < colNames_.size(); ++k)
        text += fmt::format("{} [{}] \"{}\"", k ? "," : "  //", k, oneLine(colNames_[k]));
      text += "\n};\n\n";
    }

    text += "struct alignas(TF_EPILOGUE_VEC * TF_EPILOGUE_OUT_BYTES) TfEpilogueOut {\n";
    text += fmt::format("  {} v[TF_EPILOGUE_VEC];\n",
                        output_ == OutputKind::F32 ? "float" : "unsigned short");
    text += "};\n\n";
    return text;
  }

  ir::MatmulOp op_;
  const TargetInfo& target_;
  EpilogueEmitOptions options_;
  int width_ = 1;
  OutputKind output_ = OutputKind::BF16;
  Value laneResult_;
  Operation* finalTrunc_ = nullptr;
  std::vector<std::string> paramNames_;
  std::vector<std::string> fieldNames_;
  std::vector<std::string> rowNames_;  ///< declared row inputs, in order
  std::vector<std::string> colNames_;  ///< declared column inputs, in order
  llvm::DenseMap<Value, Expr> exprs_;
  std::string lane_;  ///< statements of the per-lane loop body
  int nextTemp_ = 0;
};

}  // namespace

FailureOr<std::string> emitEpilogueCuda(ir::MatmulOp op, const TargetInfo& target,
                                        const EpilogueEmitOptions& options) {
  return EpilogueEmitter(op, target, options).emit();
}

}  // namespace tilefuse::compiler
