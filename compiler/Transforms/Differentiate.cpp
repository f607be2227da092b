// tilefuse-differentiate: replaces each forward epilogue by one backward
// epilogue per input, yielding dy · ∂f/∂input (see Passes.td for the rules,
// the left-derivative convention at kinks and the non-finite behaviour).
//
// Forward mode, one sweep per input: the forward ops are cloned in order into
// the new region (the primal values, which the derivative reuses) and each
// clone gets its tangent right after it. A missing tangent means "identically
// zero" and costs no op; compile-time constant tangents fold.
#include <cmath>
#include <numbers>
#include <optional>

#include "compiler/Transforms/Passes.h"
#include "llvm/ADT/TypeSwitch.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/Matchers.h"

namespace tilefuse::compiler {
#define GEN_PASS_DEF_DIFFERENTIATE
#include "compiler/Transforms/Passes.h.inc"
}  // namespace tilefuse::compiler

using namespace mlir;

namespace tilefuse::compiler {
namespace {

using Pred = arith::CmpFPredicate;

/// The value of an f32 constant, if `v` is one.
std::optional<double> constantValue(Value v) {
  APFloat value(APFloat::Bogus());
  if (!v || !matchPattern(v, m_ConstantFloat(&value))) return std::nullopt;
  bool losesInfo = false;
  value.convert(APFloat::IEEEdouble(), APFloat::rmNearestTiesToEven, &losesInfo);
  return value.convertToDouble();
}

/// How a comparison resolves at a tie p == q just LEFT of the point, where
/// p and q have moved by -ε·t(p) and -ε·t(q).
enum class PredClass { Greater, Less, Equal, NotEqual, Other };

PredClass classify(Pred pred) {
  switch (pred) {
    case Pred::OGT: case Pred::OGE: case Pred::UGT: case Pred::UGE: return PredClass::Greater;
    case Pred::OLT: case Pred::OLE: case Pred::ULT: case Pred::ULE: return PredClass::Less;
    case Pred::OEQ: case Pred::UEQ: return PredClass::Equal;
    case Pred::ONE: case Pred::UNE: return PredClass::NotEqual;
    default: return PredClass::Other;  // ord, uno, true, false: no tie to break
  }
}

/// `pred` with its outcome at p == q forced to `atTie` (elsewhere unchanged).
/// For the eq/ne families the caller only asks for the outcome the tangents
/// give (eq false, ne true), which turns them into false/uno/ord/true.
Pred withTieOutcome(Pred pred, bool atTie) {
  switch (pred) {
    case Pred::OGT: case Pred::OGE: return atTie ? Pred::OGE : Pred::OGT;
    case Pred::UGT: case Pred::UGE: return atTie ? Pred::UGE : Pred::UGT;
    case Pred::OLT: case Pred::OLE: return atTie ? Pred::OLE : Pred::OLT;
    case Pred::ULT: case Pred::ULE: return atTie ? Pred::ULE : Pred::ULT;
    // Equality is false at a tie that the tangents break, inequality true.
    case Pred::OEQ: return Pred::AlwaysFalse;
    case Pred::UEQ: return Pred::UNO;
    case Pred::ONE: return Pred::ORD;
    case Pred::UNE: return Pred::AlwaysTrue;
    default: return pred;
  }
}

/// Builds one backward region: clones of the forward ops plus tangents.
class TangentSweep {
 public:
  TangentSweep(OpBuilder& builder, Location loc) : b_(builder), loc_(loc) {}

  void seed(Value input) { tangents_[input] = constant(1.0); }
  Value tangentOf(Value primal) const { return tangents_.lookup(primal); }

  /// Computes the tangent of `op` (already cloned into the new region).
  LogicalResult differentiate(Operation* op) {
    if (op->getNumResults() != 1)
      return op->emitOpError("tilefuse-differentiate: only single-result ops can be differentiated");
    Value result = op->getResult(0);
    if (result.getType().isInteger(1)) return success();  // conditions: see effectiveCondition
    if (!result.getType().isF32())
      return op->emitOpError("tilefuse-differentiate: expected an f32 (scalar) epilogue value, got ")
             << result.getType() << "; differentiate before tilefuse-vectorize-epilogue";
    FailureOr<Value> tangent = rule(op);
    if (failed(tangent)) return failure();
    if (*tangent) tangents_[result] = *tangent;
    return success();
  }

  // ---- small builders; a null Value is a tangent that is identically 0 -------

  Value constant(double v) { return b_.create<arith::ConstantOp>(loc_, b_.getF32FloatAttr(static_cast<float>(v))); }
  Value orZero(Value v) { return v ? v : constant(0.0); }
  // Arithmetic on two constants folds here (in f32, as the op would), so that
  // the guards below see constant tangents as constants.
  std::optional<std::pair<float, float>> constants(Value a, Value b) {
    std::optional<double> ca = constantValue(a), cb = constantValue(b);
    if (!ca || !cb) return std::nullopt;
    return std::pair{static_cast<float>(*ca), static_cast<float>(*cb)};
  }
  Value add(Value a, Value b) {
    if (!a) return b;
    if (!b) return a;
    if (auto c = constants(a, b)) return constant(c->first + c->second);
    return b_.create<arith::AddFOp>(loc_, a, b);
  }
  Value neg(Value a) {
    if (!a) return {};
    if (std::optional<double> c = constantValue(a)) return constant(-*c);
    return b_.create<arith::NegFOp>(loc_, a);
  }
  Value sub(Value a, Value b) {
    if (!b) return a;
    if (!a) return neg(b);
    if (auto c = constants(a, b)) return constant(c->first - c->second);
    return b_.create<arith::SubFOp>(loc_, a, b);
  }
  Value mul(Value a, Value b) {
    if (auto c = constants(a, b)) return constant(c->first * c->second);
    return b_.create<arith::MulFOp>(loc_, a, b);
  }
  Value div(Value a, Value b) { return b_.create<arith::DivFOp>(loc_, a, b); }
  Value cmp(Pred pred, Value a, Value b) { return b_.create<arith::CmpFOp>(loc_, pred, a, b); }
  Value select(Value c, Value a, Value b) { return b_.create<arith::SelectOp>(loc_, c, a, b); }
  Value exp(Value a) { return b_.create<math::ExpOp>(loc_, a); }

  /// primal · tangent, where an exact zero factor wins: a tangent that
  /// underflowed (x · gelu-gate' at x = +inf) or a primal that did
  /// (exp(-u) · u' at u = +inf, where u' overflowed) gives 0, not 0·inf = NaN.
  /// Either zero stands for a factor decaying exponentially, faster than the
  /// other grows. A constant factor is finite and nonzero-safe: plain product.
  Value scale(Value primal, Value tangent) {
    if (!tangent) return {};
    std::optional<double> cp = constantValue(primal), ct = constantValue(tangent);
    if ((cp && *cp == 0.0) || (ct && *ct == 0.0)) return {};  // zero wins
    if ((cp && std::isfinite(*cp)) || (ct && std::isfinite(*ct))) return mul(primal, tangent);
    Value product = mul(primal, tangent);
    Value primalZero = cmp(Pred::OEQ, primal, constant(0.0));
    Value tangentZero = cmp(Pred::OEQ, tangent, constant(0.0));
    return select(tangentZero, tangent, select(primalZero, primal, product));
  }
  /// tangent / primal, 0 where the tangent is exactly 0 (0/0, inf/inf).
  Value divide(Value tangent, Value primal) {
    if (!tangent) return {};
    if (constantValue(primal) || constantValue(tangent)) return div(tangent, primal);
    Value isZero = cmp(Pred::OEQ, tangent, constant(0.0));
    return select(isZero, tangent, div(tangent, primal));
  }
  /// A factor the rule knows to be finite (bounded): no guard needed.
  Value times(Value boundedFactor, Value tangent) { return tangent ? mul(boundedFactor, tangent) : Value(); }

  /// sech²(a) = 4e / (1 + e)², e = exp(-2|a|): accurate for every a, where
  /// 1 - tanh²(a) loses all digits once tanh(a) rounds near 1.
  Value sech2(Value a) {
    Value e = exp(mul(b_.create<math::AbsFOp>(loc_, a), constant(-2.0)));
    Value onePlus = add(constant(1.0), e);
    return div(mul(constant(4.0), e), mul(onePlus, onePlus));
  }

  /// The condition a select's TANGENT uses: `c` except at ties p == q of a
  /// comparison, where it is the comparison's outcome just left of the point.
  Value effectiveCondition(Value c) {
    if (Value known = effective_.lookup(c)) return known;
    Value eff = c;
    Operation* def = c.getDefiningOp();
    if (auto cmpOp = dyn_cast_or_null<arith::CmpFOp>(def)) {
      eff = effectiveComparison(cmpOp);
    } else if (def && isa<arith::AndIOp, arith::OrIOp, arith::XOrIOp>(def)) {
      Value l = effectiveCondition(def->getOperand(0)), r = effectiveCondition(def->getOperand(1));
      if (l != def->getOperand(0) || r != def->getOperand(1)) {
        OperationState state(loc_, def->getName(), ValueRange{l, r}, TypeRange{c.getType()});
        eff = b_.create(state)->getResult(0);
      }
    } else if (auto sel = dyn_cast_or_null<arith::SelectOp>(def)) {
      Value cond = effectiveCondition(sel.getCondition());
      Value a = effectiveCondition(sel.getTrueValue()), f = effectiveCondition(sel.getFalseValue());
      if (cond != sel.getCondition() || a != sel.getTrueValue() || f != sel.getFalseValue())
        eff = select(cond, a, f);
    }
    effective_[c] = eff;
    return eff;
  }

 private:
  Value effectiveComparison(arith::CmpFOp c) {
    Value p = c.getLhs(), q = c.getRhs();
    Value tp = tangentOf(p), tq = tangentOf(q);
    PredClass kind = classify(c.getPredicate());
    if ((!tp && !tq) || kind == PredClass::Other) return c;  // the tie is not broken to first order
    std::optional<double> cp = tp ? constantValue(tp) : 0.0, cq = tq ? constantValue(tq) : 0.0;
    if (cp && cq) {
      // Known at compile time: fold the tie into the predicate.
      if (*cp == *cq) return c;
      bool atTie = kind == PredClass::Greater ? *cq > *cp : kind == PredClass::Less ? *cq < *cp
                                                                                  : kind == PredClass::NotEqual;
      return cmp(withTieOutcome(c.getPredicate(), atTie), p, q);
    }
    // Decided at run time: p - ε·tp against q - ε·tq.
    Value vp = orZero(tp), vq = orZero(tq);
    Value atTie;
    switch (kind) {
      case PredClass::Greater: atTie = cmp(Pred::OGT, vq, vp); break;
      case PredClass::Less: atTie = cmp(Pred::OLT, vq, vp); break;
      case PredClass::Equal: atTie = b_.create<arith::ConstantOp>(loc_, b_.getBoolAttr(false)); break;
      default: atTie = b_.create<arith::ConstantOp>(loc_, b_.getBoolAttr(true)); break;
    }
    Value tied = cmp(Pred::OEQ, p, q);
    Value sameTangent = cmp(Pred::OEQ, vp, vq);
    return select(tied, select(sameTangent, c, atTie), c);
  }

  /// Tangent at a tie of max(a, b) (or min): the operand that wins just left
  /// of the point is the one with the smaller (larger) tangent.
  Value tieTangent(bool isMax, Value ta, Value tb) {
    std::optional<double> ca = ta ? constantValue(ta) : 0.0, cb = tb ? constantValue(tb) : 0.0;
    if (ca && cb) {
      double v = isMax ? std::min(*ca, *cb) : std::max(*ca, *cb);
      return v == 0.0 ? Value() : constant(v);
    }
    Value a = orZero(ta), bb = orZero(tb);
    if (isMax) return b_.create<arith::MinimumFOp>(loc_, a, bb);
    return b_.create<arith::MaximumFOp>(loc_, a, bb);
  }

  Value extremum(bool isMax, Value a, Value bv) {
    Value ta = tangentOf(a), tb = tangentOf(bv);
    if (!ta && !tb) return {};
    Value tie = orZero(tieTangent(isMax, ta, tb));
    Value aWins = cmp(isMax ? Pred::OGT : Pred::OLT, a, bv);
    Value bWins = cmp(isMax ? Pred::OLT : Pred::OGT, a, bv);
    return select(aWins, orZero(ta), select(bWins, orZero(tb), tie));
  }

  FailureOr<Value> rule(Operation* op) {
    auto t = [&](unsigned i) { return tangentOf(op->getOperand(i)); };
    auto x = [&](unsigned i) { return op->getOperand(i); };
    Value y = op->getResult(0);
    const double ln2 = std::numbers::ln2;
    const double twoOverSqrtPi = 2.0 / std::sqrt(std::numbers::pi);
    using R = FailureOr<Value>;
    return llvm::TypeSwitch<Operation*, R>(op)
        .Case<arith::ConstantOp, arith::UIToFPOp>([&](auto) { return R(Value()); })
        .Case<arith::AddFOp>([&](auto) { return R(add(t(0), t(1))); })
        .Case<arith::SubFOp>([&](auto) { return R(sub(t(0), t(1))); })
        .Case<arith::NegFOp>([&](auto) { return R(neg(t(0))); })
        .Case<arith::MulFOp>([&](auto) { return R(add(scale(x(1), t(0)), scale(x(0), t(1)))); })
        .Case<arith::DivFOp>([&](auto) { return R(divide(sub(t(0), scale(y, t(1))), x(1))); })
        .Case<arith::SelectOp>([&](arith::SelectOp sel) {
          Value ta = t(1), tb = t(2);
          if (!ta && !tb) return R(Value());
          return R(select(effectiveCondition(sel.getCondition()), orZero(ta), orZero(tb)));
        })
        .Case<arith::MaximumFOp, arith::MaxNumFOp>([&](auto) { return R(extremum(true, x(0), x(1))); })
        .Case<arith::MinimumFOp, arith::MinNumFOp>([&](auto) { return R(extremum(false, x(0), x(1))); })
        .Case<math::AbsFOp>([&](auto) {
          Value ta = t(0);
          if (!ta) return R(Value());
          // Just left of a = 0, |a| moves by +ε·|t(a)|: slope -|t(a)|.
          Value tie = neg(b_.create<math::AbsFOp>(loc_, ta));
          Value positive = cmp(Pred::OGT, x(0), constant(0.0));
          Value negative = cmp(Pred::OLT, x(0), constant(0.0));
          return R(select(positive, ta, select(negative, neg(ta), tie)));
        })
        .Case<math::ExpOp>([&](auto) { return R(scale(y, t(0))); })
        .Case<math::Exp2Op>([&](auto) { return R(scale(mul(y, constant(ln2)), t(0))); })
        // Not y + 1: that rounds e^a to 1's ulp, losing all of it for a < -17.
        .Case<math::ExpM1Op>([&](auto) { return R(t(0) ? scale(exp(x(0)), t(0)) : Value()); })
        .Case<math::LogOp>([&](auto) { return R(divide(t(0), x(0))); })
        .Case<math::Log2Op>([&](auto) { return R(divide(t(0), mul(x(0), constant(ln2)))); })
        .Case<math::Log1pOp>([&](auto) { return R(divide(t(0), add(constant(1.0), x(0)))); })
        .Case<math::SqrtOp>([&](auto) { return R(divide(t(0), mul(y, constant(2.0)))); })
        .Case<math::RsqrtOp>([&](auto) { return R(scale(mul(mul(mul(y, y), y), constant(-0.5)), t(0))); })
        .Case<math::TanhOp>([&](auto) { return R(times(sech2(x(0)), t(0))); })
        .Case<math::ErfOp>([&](auto) {
          Value ta = t(0);
          if (!ta) return R(Value());
          Value gauss = exp(neg(mul(x(0), x(0))));
          return R(times(mul(gauss, constant(twoOverSqrtPi)), ta));
        })
        .Case<ir::ErfcOp>([&](auto) {
          Value ta = t(0);
          if (!ta) return R(Value());
          Value gauss = exp(neg(mul(x(0), x(0))));
          return R(times(mul(gauss, constant(-twoOverSqrtPi)), ta));
        })
        .Case<math::PowFOp>([&](auto) {
          Value base = x(0), exponent = x(1);
          Value viaBase, viaExponent;
          if (Value ta = t(0)) {
            Value lowered = b_.create<math::PowFOp>(loc_, base, sub(exponent, constant(1.0)));
            viaBase = scale(mul(exponent, lowered), ta);
          }
          if (Value tb = t(1)) viaExponent = scale(mul(y, b_.create<math::LogOp>(loc_, base)), tb);
          return R(add(viaBase, viaExponent));
        })
        .Case<math::FmaOp>([&](auto) { return R(add(add(scale(x(1), t(0)), scale(x(0), t(1))), t(2))); })
        .Case<ir::ApproxOp>([&](ir::ApproxOp approx) -> R {
          Value ta = t(0);
          if (!ta) return R(Value());
          StringRef fn = approx.getFn();
          if (fn == "exp2") return scale(mul(y, constant(ln2)), ta);
          if (fn == "tanh") return times(mul(sub(constant(1.0), y), add(constant(1.0), y)), ta);
          if (fn == "rcp") return scale(neg(mul(y, y)), ta);
          if (fn == "log2") return divide(ta, mul(x(0), constant(ln2)));
          if (fn == "rsqrt") return scale(mul(mul(mul(y, y), y), constant(-0.5)), ta);
          if (fn == "sqrt") return divide(ta, mul(y, constant(2.0)));
          return approx.emitOpError("tilefuse-differentiate: no derivative rule for approximation '")
                 << fn << "'";
        })
        .Default([&](Operation* other) -> R {
          return other->emitOpError(
              "tilefuse-differentiate: no derivative rule for this op; add one to "
              "compiler/Transforms/Differentiate.cpp");
        });
  }

  OpBuilder& b_;
  Location loc_;
  DenseMap<Value, Value> tangents_;
  DenseMap<Value, Value> effective_;
};

LogicalResult checkDifferentiable(ir::MatmulOp forward) {
  if (forward.isBackward())
    return forward.emitOpError("is already a backward epilogue (grad_wrt = \"")
           << forward.getGradWrt() << "\"); differentiate a forward epilogue";
  for (BlockArgument arg : forward.getBody().getArguments())
    if (!arg.getType().isF32())
      return forward.emitOpError("tilefuse-differentiate takes the scalar epilogue (f32 arguments), got ")
             << arg.getType() << "; run it before tilefuse-vectorize-epilogue";
  return success();
}

/// Builds the backward matmul for input `wrt` right after `insertAfter`.
FailureOr<ir::MatmulOp> buildBackward(ir::MatmulOp forward, unsigned wrt, StringRef name,
                                      Operation* insertAfter) {
  OpBuilder builder(forward.getContext());
  builder.setInsertionPointAfter(insertAfter);
  Location loc = forward.getLoc();
  auto backward = builder.create<ir::MatmulOp>(loc, TypeRange{}, ValueRange{}, forward->getAttrs());
  backward.setGradWrt(name);
  backward.setHasBias(false);
  backward.setHasResidual(false);
  backward.setHasAux(false);

  Block& forwardBody = forward.getBody();
  Block* body = builder.createBlock(&backward.getEpilogue());
  Type f32 = builder.getF32Type();
  Value dy = body->addArgument(f32, loc);
  IRMapping mapping;
  for (BlockArgument arg : forwardBody.getArguments())
    mapping.map(arg, body->addArgument(f32, arg.getLoc()));

  TangentSweep sweep(builder, loc);
  Value input = body->getArgument(1 + wrt);
  sweep.seed(input);
  for (Operation& op : forwardBody.without_terminator()) {
    Operation* clone = builder.clone(op, mapping);
    if (failed(sweep.differentiate(clone))) {
      backward.erase();
      return failure();
    }
  }
  Value derivative = sweep.orZero(sweep.tangentOf(mapping.lookup(forward.getYield().getValue())));
  Value gradient = sweep.mul(dy, derivative);
  // A NaN input has a NaN derivative, whichever branch its comparisons chose.
  Value isNaN = sweep.cmp(Pred::UNO, input, input);
  Value result = sweep.select(isNaN, input, gradient);
  builder.create<ir::YieldOp>(forward.getYield().getLoc(), result);
  return backward;
}

struct DifferentiatePass : public impl::DifferentiateBase<DifferentiatePass> {
  void runOnOperation() override {
    SmallVector<ir::MatmulOp> forwards(getOperation().getOps<ir::MatmulOp>());
    for (ir::MatmulOp forward : forwards) {
      if (failed(checkDifferentiable(forward))) return signalPassFailure();
      bool uninlined = false;
      forward.walk([&](Operation* op) {
        if (op->getName().getStringRef() == "func.call") {
          op->emitOpError("tilefuse-differentiate needs the built-ins inlined; run tilefuse-inline-builtins first");
          uninlined = true;
        }
      });
      if (uninlined) return signalPassFailure();
      static constexpr const char* kSingle[] = {"x"};
      static constexpr const char* kGated[] = {"gate", "up"};
      Operation* last = forward;
      for (unsigned k = 0; k < forward.getNumForwardInputs(); ++k) {
        FailureOr<ir::MatmulOp> backward =
            buildBackward(forward, k, forward.getGated() ? kGated[k] : kSingle[k], last);
        if (failed(backward)) return signalPassFailure();
        last = *backward;
      }
      forward.erase();
    }
  }
};

}  // namespace
}  // namespace tilefuse::compiler
