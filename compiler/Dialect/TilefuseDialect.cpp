// tilefuse dialect: registration, verifiers, and the inliner interface that
// lets built-in functions be inlined into the epilogue region.
#include "compiler/Dialect/TilefuseDialect.h"

#include <limits>

#include "compiler/TileRules.h"

#include "llvm/ADT/StringSwitch.h"
#include "llvm/ADT/TypeSwitch.h"
#include "mlir/IR/DialectImplementation.h"
#include "mlir/IR/TypeUtilities.h"
#include "mlir/Transforms/InliningUtils.h"

using namespace mlir;
using namespace tilefuse::ir;

#include "compiler/Dialect/TilefuseDialect.cpp.inc"

#define GET_ATTRDEF_CLASSES
#include "compiler/Dialect/TilefuseAttrs.cpp.inc"

#define GET_OP_CLASSES
#include "compiler/Dialect/TilefuseOps.cpp.inc"

namespace {
/// Calls to built-in functions may be inlined anywhere in an epilogue: the
/// region is pure element-wise code.
struct TilefuseInlinerInterface : public DialectInlinerInterface {
  using DialectInlinerInterface::DialectInlinerInterface;
  bool isLegalToInline(Operation*, Operation*, bool) const final { return true; }
  bool isLegalToInline(Region*, Region*, bool, IRMapping&) const final { return true; }
  bool isLegalToInline(Operation*, Region*, bool, IRMapping&) const final { return true; }
  void handleTerminator(Operation*, ValueRange) const final {}
};
}  // namespace

void TilefuseDialect::initialize() {
  addAttributes<
#define GET_ATTRDEF_LIST
#include "compiler/Dialect/TilefuseAttrs.cpp.inc"
      >();
  addOperations<
#define GET_OP_LIST
#include "compiler/Dialect/TilefuseOps.cpp.inc"
      >();
  addInterfaces<TilefuseInlinerInterface>();
}

//===----------------------------------------------------------------------===//
// TileConfigAttr
//===----------------------------------------------------------------------===//

LogicalResult TileConfigAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                                     int64_t blockM, int64_t blockN, int64_t blockK,
                                     int64_t warpM, int64_t warpN, int64_t stages,
                                     int64_t vectorWidth, int64_t groupM) {
  // The rules live in compiler/TileRules.h, shared with the tuning-database
  // reader; they work on TileConfig's ints, so larger values are refused first.
  for (int64_t value : {blockM, blockN, blockK, warpM, warpN, stages, vectorWidth, groupM})
    if (value < std::numeric_limits<int>::min() || value > std::numeric_limits<int>::max())
      return emitError() << "tile field " << value << " is out of range";
  const tilefuse::TileConfig tile{static_cast<int>(blockM), static_cast<int>(blockN), static_cast<int>(blockK),
                        static_cast<int>(warpM),  static_cast<int>(warpN),  static_cast<int>(stages),
                        static_cast<int>(vectorWidth), static_cast<int>(groupM)};
  if (auto why = tilefuse::compiler::tile_config_violation(tile)) return emitError() << *why;
  return success();
}

//===----------------------------------------------------------------------===//
// MatmulOp
//===----------------------------------------------------------------------===//

YieldOp MatmulOp::getYield() { return cast<YieldOp>(getBody().getTerminator()); }

LogicalResult MatmulOp::verify() {
  auto isHalfLike = [](Type t) { return t.isBF16() || t.isF16(); };
  if (!isHalfLike(getInputType()))
    return emitOpError("input_type must be bf16 or f16, got ") << getInputType();
  if (!isHalfLike(getOutputType()) && !getOutputType().isF32())
    return emitOpError("output_type must be bf16, f16 or f32, got ") << getOutputType();
  if (getBLayout() != "row" && getBLayout() != "col")
    return emitOpError("b_layout must be \"row\" or \"col\", got \"") << getBLayout() << "\"";
  if (getMode() != "precise" && getMode() != "fast")
    return emitOpError("mode must be \"precise\" or \"fast\", got \"") << getMode() << "\"";
  if (getGated() && getHasBias())
    return emitOpError("a gated matmul takes no bias (fold it into the weights)");

  if (isBackward()) {
    bool known = getGated() ? (getGradWrt() == "gate" || getGradWrt() == "up") : getGradWrt() == "x";
    if (!known)
      return emitOpError("grad_wrt must name an input of the activation (")
             << (getGated() ? "\"gate\" or \"up\"" : "\"x\"") << "), got \"" << getGradWrt() << "\"";
    if (getHasBias() || getHasResidual() || getHasAux())
      return emitOpError("a backward epilogue (grad_wrt) reads no bias or residual and writes no aux");
  }
  if (getEpilogue().empty() || !isa<YieldOp>(getBody().back()))
    return emitOpError("epilogue must end with tilefuse.yield");
  Block& body = getBody();
  unsigned expected = getNumInputs() + getParamNames().size() + getRowInputs().size() + getColInputs().size();
  if (body.getNumArguments() != expected) {
    auto diag = emitOpError("epilogue expects ")
                << expected << " block arguments (" << getNumInputs() << " input(s) + "
                << getParamNames().size() << " parameter(s)";
    if (!getRowInputs().empty() || !getColInputs().empty())
      diag << " + " << getRowInputs().size() << " row input(s) + " << getColInputs().size() << " column input(s)";
    return diag << "), got " << body.getNumArguments();
  }
  Type argType = expected ? body.getArgument(0).getType() : Type();
  for (BlockArgument arg : body.getArguments()) {
    Type elem = getElementTypeOrSelf(arg.getType());
    if (!elem.isF32())
      return emitOpError("epilogue arguments must be f32 or vector of f32, got ") << arg.getType();
    if (arg.getType() != argType)
      return emitOpError("epilogue arguments must all have the same type");
  }
  Type yielded = getYield().getValue().getType();
  if (auto vec = dyn_cast_or_null<VectorType>(argType)) {
    if (!getTile() || getTile()->getVectorWidth() != vec.getNumElements())
      return emitOpError("vectorized epilogue width ")
             << vec.getNumElements() << " does not match tile.vector_width";
    // After vectorization the result is either still f32 or already packed
    // into the output type (tilefuse-vectorize-epilogue's arith.truncf).
    auto yieldedVec = dyn_cast<VectorType>(yielded);
    if (!yieldedVec || yieldedVec.getShape() != vec.getShape() ||
        (!yieldedVec.getElementType().isF32() && yieldedVec.getElementType() != getOutputType()))
      return emitOpError("vectorized epilogue must yield ")
             << vec << " or " << VectorType::get(vec.getShape(), getOutputType()) << ", got "
             << yielded;
  } else if (!yielded.isF32()) {
    return emitOpError("scalar epilogue must yield f32, got ") << yielded;
  }
  if (auto hint = getShapeHint(); hint && hint->size() != 3)
    return emitOpError("shape_hint must be [M, N, K]");
  return success();
}

//===----------------------------------------------------------------------===//
// ApproxOp
//===----------------------------------------------------------------------===//

int ApproxOp::precisionBits(llvm::StringRef fn) {
  return llvm::StringSwitch<int>(fn)
      .Case("exp2", 22)
      .Case("tanh", 11)
      .Case("rcp", 23)
      .Case("log2", 22)
      .Case("rsqrt", 22)
      .Case("sqrt", 23)
      .Default(0);
}

LogicalResult ApproxOp::verify() {
  if (precisionBits(getFn()) == 0)
    return emitOpError("unknown approximation '")
           << getFn() << "'; expected one of exp2, tanh, rcp, log2, rsqrt, sqrt";
  return success();
}
