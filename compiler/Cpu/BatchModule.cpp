// Builds the CPU batch module (see BatchModule.h).
#include "compiler/Cpu/BatchModule.h"

#include "compiler/Dialect/TilefuseDialect.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/IRMapping.h"

namespace tilefuse::compiler {

using namespace mlir;

namespace {

constexpr const char* kEpilogueFunction = "tf_epilogue";

LogicalResult checkScalarForm(ir::MatmulOp op) {
  for (BlockArgument arg : op.getBody().getArguments())
    if (!arg.getType().isF32())
      return op.emitOpError("the CPU evaluator takes the scalar epilogue (f32 arguments), got ")
             << arg.getType() << "; evaluate the IR before tilefuse-vectorize-epilogue";
  Type yielded = op.getYield().getValue().getType();
  if (!yielded.isF32())
    return op.emitOpError("the CPU evaluator takes an epilogue that yields f32, got ")
           << yielded << "; evaluate the IR before tilefuse-vectorize-epilogue";
  return success();
}

/// Fast-math flags would let LLVM reassociate or contract; the CPU result
/// must be exactly the IR's expression tree.
void clearFastMathFlags(Operation* root) {
  root->walk([](arith::ArithFastMathInterface op) {
    op->setAttr(op.getFastMathAttrName(),
                arith::FastMathFlagsAttr::get(op->getContext(), arith::FastMathFlags::none));
  });
}

/// `func.func private @tf_epilogue(f32...) -> f32`: the region, with
/// tilefuse.yield replaced by func.return.
func::FuncOp outlineEpilogue(ir::MatmulOp op, OpBuilder& builder) {
  Block& body = op.getBody();
  Type f32 = builder.getF32Type();
  SmallVector<Type> argTypes(body.getNumArguments(), f32);
  auto fn = builder.create<func::FuncOp>(op.getLoc(), kEpilogueFunction,
                                         builder.getFunctionType(argTypes, {f32}));
  fn.setPrivate();
  IRMapping mapping;
  op.getEpilogue().cloneInto(&fn.getBody(), mapping);
  Block& entry = fn.getBody().front();
  auto yield = cast<ir::YieldOp>(entry.getTerminator());
  OpBuilder::InsertionGuard guard(builder);
  builder.setInsertionPoint(yield);
  builder.create<func::ReturnOp>(yield.getLoc(), yield.getValue());
  yield.erase();
  clearFastMathFlags(fn);
  return fn;
}

/// `func.func @tf_eval(ptr arrays, ptr params, ptr out, i64 n)`: `arrays`
/// points to one `float*` per per-element operand (the inputs, then the row
/// inputs, then the column inputs).
void buildBatchLoop(ir::MatmulOp op, func::FuncOp epilogue, OpBuilder& builder) {
  Location loc = op.getLoc();
  MLIRContext* ctx = op.getContext();
  Type ptr = LLVM::LLVMPointerType::get(ctx);
  Type f32 = builder.getF32Type();
  Type i64 = builder.getI64Type();
  const unsigned numInputs = op.getNumInputs();
  const unsigned numParams = op.getParamNames().size();
  const unsigned numArrays = numInputs + op.getRowInputs().size() + op.getColInputs().size();

  SmallVector<Type> argTypes(3, ptr);  // arrays, params, out
  argTypes.push_back(i64);
  auto fn =
      builder.create<func::FuncOp>(loc, kCpuBatchFunction, builder.getFunctionType(argTypes, {}));
  Block* entry = fn.addEntryBlock();
  OpBuilder::InsertionGuard guard(builder);
  builder.setInsertionPointToStart(entry);

  auto load = [&](Type type, Value base, Value index) -> Value {
    Value address = builder.create<LLVM::GEPOp>(loc, ptr, type, base, ValueRange{index});
    return builder.create<LLVM::LoadOp>(loc, type, address);
  };
  auto constantIndex = [&](unsigned k) -> Value { return builder.create<arith::ConstantIntOp>(loc, k, i64); };

  // The array pointers and the parameters are uniform: read once, before the loop.
  SmallVector<Value> arrays;
  for (unsigned k = 0; k < numArrays; ++k) arrays.push_back(load(ptr, entry->getArgument(0), constantIndex(k)));
  SmallVector<Value> params;
  for (unsigned k = 0; k < numParams; ++k) params.push_back(load(f32, entry->getArgument(1), constantIndex(k)));

  Value outPtr = entry->getArgument(2);
  Value count = entry->getArgument(3);
  Value lower = builder.create<arith::ConstantIndexOp>(loc, 0);
  Value step = builder.create<arith::ConstantIndexOp>(loc, 1);
  Value upper = builder.create<arith::IndexCastOp>(loc, builder.getIndexType(), count);
  auto loop = builder.create<scf::ForOp>(loc, lower, upper, step);
  builder.setInsertionPointToStart(loop.getBody());
  Value i = builder.create<arith::IndexCastOp>(loc, i64, loop.getInductionVar());
  // Block-argument order: inputs, parameters, row inputs, column inputs.
  SmallVector<Value> callArgs;
  for (unsigned k = 0; k < numInputs; ++k) callArgs.push_back(load(f32, arrays[k], i));
  callArgs.append(params.begin(), params.end());
  for (unsigned k = numInputs; k < numArrays; ++k) callArgs.push_back(load(f32, arrays[k], i));
  Value result = builder.create<func::CallOp>(loc, epilogue, callArgs).getResult(0);
  Value outAddress = builder.create<LLVM::GEPOp>(loc, ptr, f32, outPtr, ValueRange{i});
  builder.create<LLVM::StoreOp>(loc, result, outAddress);

  builder.setInsertionPointToEnd(entry);
  builder.create<func::ReturnOp>(loc);
}

}  // namespace

FailureOr<OwningOpRef<ModuleOp>> buildCpuBatchModule(ir::MatmulOp op) {
  if (failed(checkScalarForm(op))) return failure();
  MLIRContext* ctx = op.getContext();
  ctx->loadDialect<func::FuncDialect, scf::SCFDialect, LLVM::LLVMDialect, arith::ArithDialect>();

  OwningOpRef<ModuleOp> module = ModuleOp::create(op.getLoc());
  OpBuilder builder = OpBuilder::atBlockEnd(module->getBody());
  func::FuncOp epilogue = outlineEpilogue(op, builder);
  buildBatchLoop(op, epilogue, builder);
  return module;
}

}  // namespace tilefuse::compiler
