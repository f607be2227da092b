// CPU expansion of ops without an exact upstream lowering (see ExpandForCpu.h).
#include "compiler/Cpu/ExpandForCpu.h"

#include <cstdint>
#include <limits>

#include "compiler/Dialect/TilefuseDialect.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/SymbolTable.h"

namespace tilefuse::compiler {

using namespace mlir;

namespace {

/// Significand bits of an IEEE single (without the implicit bit).
constexpr int kF32SignificandBits = 23;

/// `func.func private @<name>(f32) -> f32`, declared once in `module`.
func::FuncOp declareLibmFunction(ModuleOp module, StringRef name) {
  if (auto existing = module.lookupSymbol<func::FuncOp>(name)) return existing;
  OpBuilder builder = OpBuilder::atBlockBegin(module.getBody());
  Type f32 = builder.getF32Type();
  auto fn =
      builder.create<func::FuncOp>(module.getLoc(), name, builder.getFunctionType({f32}, {f32}));
  fn.setPrivate();
  return fn;
}

/// The correctly-rounded (as far as libm goes) function an approximation
/// stands for, or null for an unknown `fn`.
Value exactFunction(OpBuilder& b, Location loc, StringRef fn, Value x) {
  if (fn == "exp2") return b.create<math::Exp2Op>(loc, x);
  if (fn == "tanh") return b.create<math::TanhOp>(loc, x);
  if (fn == "log2") return b.create<math::Log2Op>(loc, x);
  if (fn == "rsqrt") return b.create<math::RsqrtOp>(loc, x);
  if (fn == "sqrt") return b.create<math::SqrtOp>(loc, x);
  if (fn == "rcp") {
    Value one = b.create<arith::ConstantOp>(loc, b.getF32FloatAttr(1.0f));
    return b.create<arith::DivFOp>(loc, one, x);
  }
  return {};
}

/// Clears the low (23 - bits) significand bits of a normal `exact`: the worst
/// case the PTX ISA allows for a 2^-bits relative error, with the error's
/// sign fixed (toward zero) so that tests see a deterministic bound.
Value applyErrorModel(OpBuilder& b, Location loc, Value exact, int bits) {
  if (bits >= kF32SignificandBits) return exact;
  Type i32 = b.getI32Type();
  uint32_t mask = ~((uint32_t{1} << (kF32SignificandBits - bits)) - 1);
  Value asBits = b.create<arith::BitcastOp>(loc, i32, exact);
  Value maskValue =
      b.create<arith::ConstantOp>(loc, b.getI32IntegerAttr(static_cast<int32_t>(mask)));
  Value truncated = b.create<arith::BitcastOp>(loc, b.getF32Type(),
                                               b.create<arith::AndIOp>(loc, asBits, maskValue));
  // Only normal results: NaN, ±inf, zeros and subnormals pass through (a
  // relative bound says nothing useful about a subnormal's few bits).
  Value magnitude = b.create<math::AbsFOp>(loc, exact);
  Value smallest =
      b.create<arith::ConstantOp>(loc, b.getF32FloatAttr(std::numeric_limits<float>::min()));
  Value infinity =
      b.create<arith::ConstantOp>(loc, b.getF32FloatAttr(std::numeric_limits<float>::infinity()));
  // Ordered predicates are false for NaN.
  Value notTiny = b.create<arith::CmpFOp>(loc, arith::CmpFPredicate::OGE, magnitude, smallest);
  Value finite = b.create<arith::CmpFOp>(loc, arith::CmpFPredicate::OLT, magnitude, infinity);
  Value normal = b.create<arith::AndIOp>(loc, notTiny, finite);
  return b.create<arith::SelectOp>(loc, normal, truncated, exact);
}

}  // namespace

LogicalResult expandOpsForCpu(ModuleOp module) {
  SmallVector<Operation*> ops;
  module.walk([&](Operation* op) {
    if (isa<ir::ErfcOp, ir::ApproxOp>(op)) ops.push_back(op);
  });
  for (Operation* op : ops) {
    if (!op->getResult(0).getType().isF32())
      return op->emitOpError("the CPU evaluator lowers only scalar f32 tilefuse ops, got ")
             << op->getResult(0).getType();
    OpBuilder b(op);
    Location loc = op->getLoc();
    Value replacement;
    if (auto erfc = dyn_cast<ir::ErfcOp>(op)) {
      func::FuncOp callee = declareLibmFunction(module, "erfcf");
      replacement = b.create<func::CallOp>(loc, callee, ValueRange{erfc.getOperand()}).getResult(0);
    } else {
      auto approx = cast<ir::ApproxOp>(op);
      Value exact = exactFunction(b, loc, approx.getFn(), approx.getOperand());
      int bits = ir::ApproxOp::precisionBits(approx.getFn());
      if (!exact || bits == 0)
        return approx.emitOpError("the CPU evaluator has no model for approximation '")
               << approx.getFn() << "'";
      replacement = applyErrorModel(b, loc, exact, bits);
    }
    op->getResult(0).replaceAllUsesWith(replacement);
    op->erase();
  }

  // math.rsqrt has no libm function and MathToLLVM (LLVM 19) leaves a plain
  // f32 rsqrt illegal: spell it 1/sqrt(x), which is also what it means.
  // (After the loop above: approx "rsqrt" expands to a math.rsqrt.)
  module.walk([](math::RsqrtOp rsqrt) {
    OpBuilder b(rsqrt);
    Location loc = rsqrt.getLoc();
    Value one = b.create<arith::ConstantOp>(loc, b.getFloatAttr(rsqrt.getType(), 1.0));
    Value root = b.create<math::SqrtOp>(loc, rsqrt.getOperand());
    rsqrt.replaceAllUsesWith(b.create<arith::DivFOp>(loc, one, root).getResult());
    rsqrt.erase();
  });
  return success();
}

}  // namespace tilefuse::compiler
