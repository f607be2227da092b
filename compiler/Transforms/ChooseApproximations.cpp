// tilefuse-choose-approximations: in "fast" mode, replaces special functions
// and divisions by the PTX `.approx` instructions (tilefuse.approx), see
// Passes.td for the table. "precise" epilogues are left untouched.
#include <numbers>

#include "compiler/Transforms/Passes.h"
#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/IR/Matchers.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace tilefuse::compiler {
#define GEN_PASS_DEF_CHOOSEAPPROXIMATIONS
#include "compiler/Transforms/Passes.h.inc"
}  // namespace tilefuse::compiler

using namespace mlir;

namespace tilefuse::compiler {
namespace {

Value approx(PatternRewriter& rewriter, Location loc, StringRef fn, Value operand) {
  return rewriter.create<ir::ApproxOp>(loc, operand.getType(), rewriter.getStringAttr(fn), operand);
}

Value floatConstant(PatternRewriter& rewriter, Location loc, Type type, double value) {
  APFloat constant(value);
  bool losesInfo = false;
  auto& semantics = cast<FloatType>(getElementTypeOrSelf(type)).getFloatSemantics();
  constant.convert(semantics, APFloat::rmNearestTiesToEven, &losesInfo);
  return createScalarOrSplatConstant(rewriter, loc, type, constant);
}

/// One op → one approx of the same operand (exp2, tanh, log2, rsqrt, sqrt).
template <typename OpTy>
struct DirectApproximation : public OpRewritePattern<OpTy> {
  DirectApproximation(MLIRContext* context, StringRef fn)
      : OpRewritePattern<OpTy>(context), fn(fn.str()) {}
  LogicalResult matchAndRewrite(OpTy op, PatternRewriter& rewriter) const override {
    rewriter.replaceOp(op, approx(rewriter, op.getLoc(), fn, op.getOperand()));
    return success();
  }
  std::string fn;
};

/// exp(x) = 2^(x · log2(e)).
struct ExpViaExp2 : public OpRewritePattern<math::ExpOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(math::ExpOp op, PatternRewriter& rewriter) const override {
    Location loc = op.getLoc();
    Value x = op.getOperand();
    double factor = std::numbers::log2e;
    // exp(-y) is common (sigmoid); (-y) * c == y * (-c) exactly, saving the negation.
    if (auto neg = x.getDefiningOp<arith::NegFOp>()) {
      x = neg.getOperand();
      factor = -factor;
    }
    // exp(y * c) → exp2(y * (c·log2 e)): one multiplication instead of two.
    // Not exact (c·log2 e is rounded once instead of y·c), which fast mode allows.
    APFloat scale(APFloat::Bogus());
    if (auto mul = x.getDefiningOp<arith::MulFOp>();
        mul && mul->hasOneUse() && matchPattern(mul.getRhs(), m_ConstantFloat(&scale))) {
      bool losesInfo = false;
      scale.convert(APFloat::IEEEdouble(), APFloat::rmNearestTiesToEven, &losesInfo);
      x = mul.getLhs();
      factor *= scale.convertToDouble();
    }
    Value log2e = floatConstant(rewriter, loc, op.getType(), factor);
    Value scaled = rewriter.create<arith::MulFOp>(loc, x, log2e);
    rewriter.replaceOp(op, approx(rewriter, loc, "exp2", scaled));
    return success();
  }
};

/// log(x) = log2(x) · ln(2).
struct LogViaLog2 : public OpRewritePattern<math::LogOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(math::LogOp op, PatternRewriter& rewriter) const override {
    Location loc = op.getLoc();
    Value log2x = approx(rewriter, loc, "log2", op.getOperand());
    Value ln2 = floatConstant(rewriter, loc, op.getType(), std::numbers::ln2);
    rewriter.replaceOpWithNewOp<arith::MulFOp>(op, log2x, ln2);
    return success();
  }
};

/// a / b = a · rcp(b). A constant divisor gets its reciprocal computed here
/// instead (correctly rounded, so at most 0.5 ulp worse than the division and
/// no SFU instruction), as long as both it and 1/c are normal floats.
struct DivideViaReciprocal : public OpRewritePattern<arith::DivFOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(arith::DivFOp op, PatternRewriter& rewriter) const override {
    Location loc = op.getLoc();
    Value reciprocal;
    APFloat divisor(APFloat::Bogus());
    if (matchPattern(op.getRhs(), m_ConstantFloat(&divisor)) && divisor.isNormal()) {
      APFloat value(divisor.getSemantics(), 1);
      value.divide(divisor, APFloat::rmNearestTiesToEven);
      if (value.isNormal()) reciprocal = createScalarOrSplatConstant(rewriter, loc, op.getType(), value);
    }
    if (!reciprocal) reciprocal = approx(rewriter, loc, "rcp", op.getRhs());
    if (matchPattern(op.getLhs(), m_OneFloat()))
      rewriter.replaceOp(op, reciprocal);
    else
      rewriter.replaceOpWithNewOp<arith::MulFOp>(op, op.getLhs(), reciprocal);
    return success();
  }
};

struct ChooseApproximationsPass
    : public impl::ChooseApproximationsBase<ChooseApproximationsPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    populateChooseApproximationsPatterns(patterns);
    FrozenRewritePatternSet frozen(std::move(patterns));
    WalkResult result = getOperation().walk([&](ir::MatmulOp matmul) {
      if (matmul.getMode() != "fast") return WalkResult::advance();
      if (failed(applyPatternsAndFoldGreedily(matmul, frozen))) {
        matmul.emitError("tilefuse-choose-approximations did not converge");
        return WalkResult::interrupt();
      }
      return WalkResult::advance();
    });
    if (result.wasInterrupted()) signalPassFailure();
  }
};

}  // namespace

void populateChooseApproximationsPatterns(RewritePatternSet& patterns) {
  MLIRContext* context = patterns.getContext();
  patterns.add<ExpViaExp2, LogViaLog2, DivideViaReciprocal>(context);
  patterns.add<DirectApproximation<math::Exp2Op>>(context, "exp2");
  patterns.add<DirectApproximation<math::TanhOp>>(context, "tanh");
  patterns.add<DirectApproximation<math::Log2Op>>(context, "log2");
  patterns.add<DirectApproximation<math::RsqrtOp>>(context, "rsqrt");
  patterns.add<DirectApproximation<math::SqrtOp>>(context, "sqrt");
}

}  // namespace tilefuse::compiler
