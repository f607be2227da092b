// tilefuse-vectorize-epilogue: retypes the epilogue from scalars to
// vector<N x f32> (N = tile.vector_width) and packs the result into the
// output type (see Passes.td).
#include "compiler/Transforms/Passes.h"
#include "mlir/IR/TypeUtilities.h"

namespace tilefuse::compiler {
#define GEN_PASS_DEF_VECTORIZEEPILOGUE
#include "compiler/Transforms/Passes.h.inc"
}  // namespace tilefuse::compiler

using namespace mlir;

namespace tilefuse::compiler {
namespace {

/// Vectorizes one epilogue in place. Every op is element-wise, so changing
/// the types of the block arguments and of every result (constants splatted)
/// gives the lane-wise computation.
LogicalResult vectorizeEpilogue(ir::MatmulOp matmul) {
  if (!matmul.getTile())
    return matmul.emitOpError("has no tile; run tilefuse-select-tile-config before "
                              "tilefuse-vectorize-epilogue");
  Block& body = matmul.getBody();
  if (llvm::any_of(body.getArgumentTypes(), [](Type t) { return isa<VectorType>(t); }))
    return success();  // already vectorized

  int64_t width = matmul.getTile()->getVectorWidth();
  auto widen = [&](Type scalar) { return VectorType::get({width}, scalar); };

  for (BlockArgument arg : body.getArguments()) arg.setType(widen(arg.getType()));

  OpBuilder builder(matmul.getContext());
  for (Operation& op : llvm::make_early_inc_range(body.without_terminator())) {
    if (auto constant = dyn_cast<arith::ConstantOp>(op)) {
      auto scalar = dyn_cast<TypedAttr>(constant.getValue());
      if (!scalar || isa<ShapedType>(scalar.getType()))
        return constant.emitOpError("cannot splat a non-scalar constant into the epilogue vector");
      builder.setInsertionPoint(constant);
      auto splat = DenseElementsAttr::get(widen(scalar.getType()), scalar);
      Value vector = builder.create<arith::ConstantOp>(constant.getLoc(), splat);
      constant.replaceAllUsesWith(vector);
      constant.erase();
      continue;
    }
    if (!op.hasTrait<OpTrait::Elementwise>())
      return op.emitOpError("is not element-wise, so the epilogue cannot be vectorized; "
                            "only arith, math and tilefuse element-wise ops may appear "
                            "in an epilogue (run tilefuse-inline-builtins first)");
    for (OpResult result : op.getResults()) {
      if (isa<ShapedType>(result.getType()))
        return op.emitOpError("already has a vector result inside a scalar epilogue");
      result.setType(widen(result.getType()));
    }
  }

  ir::YieldOp yield = matmul.getYield();
  Type outputType = matmul.getOutputType();
  Value result = yield.getValue();
  if (getElementTypeOrSelf(result.getType()) != outputType) {
    builder.setInsertionPoint(yield);
    result = builder.create<arith::TruncFOp>(yield.getLoc(), widen(outputType), result);
    yield.getValueMutable().assign(result);
  }
  return success();
}

struct VectorizeEpiloguePass : public impl::VectorizeEpilogueBase<VectorizeEpiloguePass> {
  void runOnOperation() override {
    WalkResult result = getOperation().walk([&](ir::MatmulOp matmul) {
      return failed(vectorizeEpilogue(matmul)) ? WalkResult::interrupt() : WalkResult::advance();
    });
    if (result.wasInterrupted()) signalPassFailure();
  }
};

}  // namespace
}  // namespace tilefuse::compiler
