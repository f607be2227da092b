// tilefuse-simplify: algebraic rewrites that are exact under IEEE-754 for
// every input, including ±0, ±inf, NaN and subnormals. Passes.td lists each
// rewrite, the reason it is exact, and the tempting ones that are not.
#include "compiler/Transforms/Passes.h"
#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/IR/Matchers.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace tilefuse::compiler {
#define GEN_PASS_DEF_SIMPLIFY
#include "compiler/Transforms/Passes.h.inc"
}  // namespace tilefuse::compiler

using namespace mlir;

namespace tilefuse::compiler {
namespace {

/// The operand of `value`'s defining arith.negf, or null.
Value negatedOperand(Value value) {
  if (auto neg = value.getDefiningOp<arith::NegFOp>()) return neg.getOperand();
  return {};
}

/// x / c → x * (1/c) when c = ±2^k and 1/c is a normal float: multiplying by
/// an exact power of two rounds the same exact quotient once.
struct DivideByPowerOfTwo : public OpRewritePattern<arith::DivFOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(arith::DivFOp op, PatternRewriter& rewriter) const override {
    APFloat divisor(APFloat::Bogus());
    if (!matchPattern(op.getRhs(), m_ConstantFloat(&divisor)))
      return rewriter.notifyMatchFailure(op, "divisor is not a constant");
    APFloat reciprocal(APFloat::Bogus());
    if (!divisor.getExactInverse(&reciprocal))
      return rewriter.notifyMatchFailure(op, "1/divisor is not an exact normal float");
    Value factor = createScalarOrSplatConstant(rewriter, op.getLoc(), op.getType(), reciprocal);
    rewriter.replaceOpWithNewOp<arith::MulFOp>(op, op.getLhs(), factor);
    return success();
  }
};

/// x - (-y) → x + y: IEEE subtraction is addition of the negated operand.
struct SubtractNegation : public OpRewritePattern<arith::SubFOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(arith::SubFOp op, PatternRewriter& rewriter) const override {
    Value y = negatedOperand(op.getRhs());
    if (!y) return failure();
    rewriter.replaceOpWithNewOp<arith::AddFOp>(op, op.getLhs(), y);
    return success();
  }
};

/// x + (-y) → x - y and (-y) + x → x - y (addition is commutative).
struct AddNegation : public OpRewritePattern<arith::AddFOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(arith::AddFOp op, PatternRewriter& rewriter) const override {
    if (Value y = negatedOperand(op.getRhs())) {
      rewriter.replaceOpWithNewOp<arith::SubFOp>(op, op.getLhs(), y);
      return success();
    }
    if (Value y = negatedOperand(op.getLhs())) {
      rewriter.replaceOpWithNewOp<arith::SubFOp>(op, op.getRhs(), y);
      return success();
    }
    return failure();
  }
};

/// (-x) * c → x * (-c), (-x) * (-y) → x * y, and the same for division:
/// round-to-nearest is symmetric in sign, so moving a negation between the
/// operands never changes the result.
template <typename OpTy>
struct MoveNegationIntoOperand : public OpRewritePattern<OpTy> {
  using OpRewritePattern<OpTy>::OpRewritePattern;
  LogicalResult matchAndRewrite(OpTy op, PatternRewriter& rewriter) const override {
    Value lhs = op.getLhs(), rhs = op.getRhs();
    Value negLhs = negatedOperand(lhs), negRhs = negatedOperand(rhs);
    if (negLhs && negRhs) {
      rewriter.replaceOpWithNewOp<OpTy>(op, negLhs, negRhs);
      return success();
    }
    APFloat constant(APFloat::Bogus());
    if (negLhs && matchPattern(rhs, m_ConstantFloat(&constant))) {
      rewriter.replaceOpWithNewOp<OpTy>(op, negLhs, negatedConstant(rewriter, op, constant));
      return success();
    }
    // Multiplication only: c * (-x) → (-c) * x.
    if (std::is_same_v<OpTy, arith::MulFOp> && negRhs &&
        matchPattern(lhs, m_ConstantFloat(&constant))) {
      rewriter.replaceOpWithNewOp<OpTy>(op, negatedConstant(rewriter, op, constant), negRhs);
      return success();
    }
    return failure();
  }

  static Value negatedConstant(PatternRewriter& rewriter, OpTy op, APFloat value) {
    value.changeSign();
    return createScalarOrSplatConstant(rewriter, op.getLoc(), op.getType(), value);
  }
};

/// -(x * c) → x * (-c) and -(x / c) → x / (-c) for a constant c, when the
/// product has no other use (otherwise the rewrite would add an op).
struct NegationOfScaledValue : public OpRewritePattern<arith::NegFOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(arith::NegFOp op, PatternRewriter& rewriter) const override {
    Operation* producer = op.getOperand().getDefiningOp();
    if (!producer || !producer->hasOneUse() || !isa<arith::MulFOp, arith::DivFOp>(producer))
      return failure();
    Value lhs = producer->getOperand(0), rhs = producer->getOperand(1);
    APFloat constant(APFloat::Bogus());
    bool constantOnRight = matchPattern(rhs, m_ConstantFloat(&constant));
    bool constantOnLeft = !constantOnRight && isa<arith::MulFOp>(producer) &&
                          matchPattern(lhs, m_ConstantFloat(&constant));
    if (!constantOnRight && !constantOnLeft) return failure();
    constant.changeSign();
    Value negated = createScalarOrSplatConstant(rewriter, op.getLoc(), op.getType(), constant);
    Value x = constantOnRight ? lhs : rhs;
    if (isa<arith::MulFOp>(producer))
      rewriter.replaceOpWithNewOp<arith::MulFOp>(op, x, negated);
    else
      rewriter.replaceOpWithNewOp<arith::DivFOp>(op, x, negated);
    return success();
  }
};

/// |(-x)| → |x|.
struct AbsOfNegation : public OpRewritePattern<math::AbsFOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(math::AbsFOp op, PatternRewriter& rewriter) const override {
    Value x = negatedOperand(op.getOperand());
    if (!x) return failure();
    rewriter.replaceOpWithNewOp<math::AbsFOp>(op, x);
    return success();
  }
};

/// pow(x, n) for the small integer exponents where an exact (or, for n = 3,
/// never-worse) expansion exists; see Passes.td. pow(x, 0.5) is left alone.
struct ExpandSmallIntegerPower : public OpRewritePattern<math::PowFOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(math::PowFOp op, PatternRewriter& rewriter) const override {
    APFloat exponent(APFloat::Bogus());
    if (!matchPattern(op.getRhs(), m_ConstantFloat(&exponent)))
      return rewriter.notifyMatchFailure(op, "exponent is not a constant");
    Value x = op.getLhs();
    Location loc = op.getLoc();
    Type type = op.getType();
    // Compare in double: every f32/f16/bf16 exponent converts exactly.
    APFloat exponentAsDouble = exponent;
    bool losesInfo = false;
    exponentAsDouble.convert(APFloat::IEEEdouble(), APFloat::rmNearestTiesToEven, &losesInfo);
    double n = exponentAsDouble.convertToDouble();
    auto constant = [&](double v) {
      APFloat value(v);
      value.convert(exponent.getSemantics(), APFloat::rmNearestTiesToEven, &losesInfo);
      return createScalarOrSplatConstant(rewriter, loc, type, value);
    };
    if (n == 0.0) {
      rewriter.replaceOp(op, constant(1.0));
    } else if (n == 1.0) {
      rewriter.replaceOp(op, x);
    } else if (n == -1.0) {
      rewriter.replaceOpWithNewOp<arith::DivFOp>(op, constant(1.0), x);
    } else if (n == 2.0) {
      rewriter.replaceOpWithNewOp<arith::MulFOp>(op, x, x);
    } else if (n == 3.0) {
      Value square = rewriter.create<arith::MulFOp>(loc, x, x);
      rewriter.replaceOpWithNewOp<arith::MulFOp>(op, square, x);
    } else {
      return rewriter.notifyMatchFailure(op, "no exact expansion for this exponent");
    }
    return success();
  }
};

struct SimplifyPass : public impl::SimplifyBase<SimplifyPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    populateSimplifyPatterns(patterns);
    FrozenRewritePatternSet frozen(std::move(patterns));
    WalkResult result = getOperation().walk([&](ir::MatmulOp matmul) {
      if (failed(applyPatternsAndFoldGreedily(matmul, frozen))) {
        matmul.emitError("tilefuse-simplify did not converge");
        return WalkResult::interrupt();
      }
      return WalkResult::advance();
    });
    if (result.wasInterrupted()) signalPassFailure();
  }
};

}  // namespace

void populateSimplifyPatterns(RewritePatternSet& patterns) {
  patterns.add<DivideByPowerOfTwo, SubtractNegation, AddNegation,
               MoveNegationIntoOperand<arith::MulFOp>, MoveNegationIntoOperand<arith::DivFOp>,
               NegationOfScaledValue, AbsOfNegation, ExpandSmallIntegerPower>(patterns.getContext());
}

}  // namespace tilefuse::compiler
