// AST → tilefuse dialect (see AstToTilefuse.h). The mapping, node by node:
//
//   number            arith.constant : f32 (rounded to nearest)
//   -a                arith.negf
//   + - * /           arith.addf / subf / mulf / divf
//   ^, pow            math.powf
//   < <= > >= ==      arith.cmpf olt / ole / ogt / oge / oeq → i1 (false on NaN)
//   !=                arith.cmpf une → i1 (true on NaN, so NaN != NaN)
//   min, max          arith.minimumf / maximumf (NaN-propagating)
//   clamp(x, lo, hi)  minimumf(maximumf(x, lo), hi)
//   select, where     arith.select; an f32 condition c becomes c != 0 (cmpf
//                     une, so NaN counts as true, as in the interpreter)
//   abs               math.absf
//   exp exp2 log log1p expm1 sqrt rsqrt tanh erf     math.*
//   erfc              tilefuse.erfc
//   built-in call     func.call @tf_builtin_<name>, omitted trailing
//                     arguments filled with their defaults as constants
//
// Comparisons stay i1 until used as a number, then arith.uitofp gives 1.0/0.0.
#include "compiler/Conversion/AstToTilefuse.h"

#include <fmt/format.h>

#include <optional>
#include <set>

#include "compiler/Dialect/TilefuseDialect.h"
#include "dsl/Library.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/Verifier.h"

using namespace mlir;

namespace tilefuse::compiler {
namespace {

/// The element types the EPILOGUE sees. FP8 is the mainloop's business:
/// with FP8 inputs the epilogue reads a bf16 bias (gemm_sm80.cuh), and with
/// an FP8 output it yields f32, which the template scales by scale_d, reduces
/// into amax and quantises to e4m3 (docs/fp8.md).
Type toMlirType(DType type, MLIRContext& context) {
  switch (type) {
    case DType::BF16: return FloatType::getBF16(&context);
    case DType::F16: return FloatType::getF16(&context);
    case DType::F32: return FloatType::getF32(&context);
    case DType::E4M3:
    case DType::E5M2: break;
  }
  return FloatType::getF32(&context);
}
DType epilogueInputType(DType input) { return is_fp8(input) ? DType::BF16 : input; }
DType epilogueOutputType(DType output) { return is_fp8(output) ? DType::F32 : output; }

/// Names visible in the expression being lowered, innermost last (a let may
/// rebind nothing that is already visible, resolution guarantees that).
class Scope {
 public:
  void bind(std::string name, Value value) { bindings_.emplace_back(std::move(name), value); }
  Value lookup(std::string_view name) const {
    for (auto it = bindings_.rbegin(); it != bindings_.rend(); ++it)
      if (it->first == name) return it->second;
    return {};
  }

 private:
  std::vector<std::pair<std::string, Value>> bindings_;
};

class Lowering {
 public:
  Lowering(MLIRContext& context, ModuleOp module)
      : context_(context), module_(module), builder_(&context) {}

  /// Lowers `program` at the builder's insertion point and returns its
  /// result as f32, or null after recording an error.
  Value lowerProgram(const dsl::Program& program, Scope& scope, std::string_view filename) {
    for (const auto& let : program.lets) {
      Value value = lowerExpr(*let.value, scope, filename);
      if (!value) return {};
      scope.bind(let.name, value);
    }
    Value result = lowerExpr(*program.result, scope, filename);
    return result ? asFloat(result, location(program.result->loc, filename)) : Value();
  }

  OpBuilder& builder() { return builder_; }
  std::optional<Error>& error() { return error_; }

 private:
  Location location(dsl::SourceLocation loc, std::string_view filename) {
    return FileLineColLoc::get(&context_, filename, loc.line, loc.column);
  }

  Value fail(std::string message) {
    if (!error_) error_ = make_error(ErrorCode::Internal, std::move(message));
    return {};
  }

  Value constant(double value, Location loc) {
    return builder_.create<arith::ConstantOp>(loc, builder_.getF32FloatAttr(static_cast<float>(value)));
  }

  /// A comparison result used as a number: 1.0 or 0.0.
  Value asFloat(Value value, Location loc) {
    if (value.getType().isInteger(1))
      return builder_.create<arith::UIToFPOp>(loc, builder_.getF32Type(), value);
    return value;
  }

  /// A number used as a condition: true where it is != 0 (NaN included).
  Value asCondition(Value value, Location loc) {
    if (value.getType().isInteger(1)) return value;
    return builder_.create<arith::CmpFOp>(loc, arith::CmpFPredicate::UNE, value, constant(0.0, loc));
  }

  Value lowerExpr(const dsl::Expr& expr, Scope& scope, std::string_view filename) {
    Location loc = location(expr.loc, filename);
    switch (expr.kind) {
      case dsl::Expr::Kind::Number:
        return constant(expr.value, loc);
      case dsl::Expr::Kind::Variable:
        if (Value value = scope.lookup(expr.name)) return value;
        return fail(fmt::format("AST lowering: unresolved name '{}' at {}:{}:{}; lower only programs "
                                "returned by dsl::resolve()",
                                expr.name, filename, expr.loc.line, expr.loc.column));
      case dsl::Expr::Kind::Negate: {
        Value operand = lowerFloat(*expr.operands[0], scope, filename);
        return operand ? builder_.create<arith::NegFOp>(loc, operand) : Value();
      }
      case dsl::Expr::Kind::Binary:
        return lowerBinary(expr, scope, filename, loc);
      case dsl::Expr::Kind::Call:
        return lowerCall(expr, scope, filename, loc);
    }
    return fail("AST lowering: expression node of unknown kind");
  }

  Value lowerFloat(const dsl::Expr& expr, Scope& scope, std::string_view filename) {
    Value value = lowerExpr(expr, scope, filename);
    return value ? asFloat(value, location(expr.loc, filename)) : Value();
  }

  Value lowerBinary(const dsl::Expr& expr, Scope& scope, std::string_view filename, Location loc) {
    Value lhs = lowerFloat(*expr.operands[0], scope, filename);
    if (!lhs) return {};
    Value rhs = lowerFloat(*expr.operands[1], scope, filename);
    if (!rhs) return {};
    auto compare = [&](arith::CmpFPredicate predicate) -> Value {
      return builder_.create<arith::CmpFOp>(loc, predicate, lhs, rhs);
    };
    switch (expr.op) {
      case dsl::BinaryOp::Add: return builder_.create<arith::AddFOp>(loc, lhs, rhs);
      case dsl::BinaryOp::Sub: return builder_.create<arith::SubFOp>(loc, lhs, rhs);
      case dsl::BinaryOp::Mul: return builder_.create<arith::MulFOp>(loc, lhs, rhs);
      case dsl::BinaryOp::Div: return builder_.create<arith::DivFOp>(loc, lhs, rhs);
      case dsl::BinaryOp::Pow: return builder_.create<math::PowFOp>(loc, lhs, rhs);
      case dsl::BinaryOp::Lt: return compare(arith::CmpFPredicate::OLT);
      case dsl::BinaryOp::Le: return compare(arith::CmpFPredicate::OLE);
      case dsl::BinaryOp::Gt: return compare(arith::CmpFPredicate::OGT);
      case dsl::BinaryOp::Ge: return compare(arith::CmpFPredicate::OGE);
      case dsl::BinaryOp::Eq: return compare(arith::CmpFPredicate::OEQ);
      case dsl::BinaryOp::Ne: return compare(arith::CmpFPredicate::UNE);
    }
    return fail("AST lowering: binary operator of unknown kind");
  }

  Value lowerCall(const dsl::Expr& expr, Scope& scope, std::string_view filename, Location loc) {
    if (auto primitive = dsl::lookup_primitive(expr.name))
      return lowerPrimitive(*primitive, expr, scope, filename, loc);
    if (const dsl::Builtin* builtin = dsl::lookup_builtin(expr.name))
      return lowerBuiltinCall(*builtin, expr, scope, filename, loc);
    return fail(fmt::format("AST lowering: unknown function '{}' at {}:{}:{}; lower only programs "
                            "returned by dsl::resolve()",
                            expr.name, filename, expr.loc.line, expr.loc.column));
  }

  Value lowerPrimitive(const dsl::PrimitiveInfo& info, const dsl::Expr& expr, Scope& scope,
                       std::string_view filename, Location loc) {
    if (expr.operands.size() != static_cast<size_t>(info.arity))
      return fail(fmt::format("AST lowering: '{}' takes {} argument(s), got {}", info.name, info.arity,
                              expr.operands.size()));
    using dsl::Primitive;
    if (info.primitive == Primitive::Select) {
      Value condition = lowerExpr(*expr.operands[0], scope, filename);
      if (!condition) return {};
      condition = asCondition(condition, location(expr.operands[0]->loc, filename));
      Value a = lowerFloat(*expr.operands[1], scope, filename);
      if (!a) return {};
      Value b = lowerFloat(*expr.operands[2], scope, filename);
      return b ? builder_.create<arith::SelectOp>(loc, condition, a, b) : Value();
    }
    SmallVector<Value, 3> args;
    for (const auto& operand : expr.operands) {
      Value value = lowerFloat(*operand, scope, filename);
      if (!value) return {};
      args.push_back(value);
    }
    switch (info.primitive) {
      case Primitive::Exp: return builder_.create<math::ExpOp>(loc, args[0]);
      case Primitive::Exp2: return builder_.create<math::Exp2Op>(loc, args[0]);
      case Primitive::Log: return builder_.create<math::LogOp>(loc, args[0]);
      case Primitive::Log1p: return builder_.create<math::Log1pOp>(loc, args[0]);
      case Primitive::Expm1: return builder_.create<math::ExpM1Op>(loc, args[0]);
      case Primitive::Sqrt: return builder_.create<math::SqrtOp>(loc, args[0]);
      case Primitive::Rsqrt: return builder_.create<math::RsqrtOp>(loc, args[0]);
      case Primitive::Tanh: return builder_.create<math::TanhOp>(loc, args[0]);
      case Primitive::Erf: return builder_.create<math::ErfOp>(loc, args[0]);
      case Primitive::Erfc: return builder_.create<ir::ErfcOp>(loc, args[0]);
      case Primitive::Abs: return builder_.create<math::AbsFOp>(loc, args[0]);
      case Primitive::Min: return builder_.create<arith::MinimumFOp>(loc, args[0], args[1]);
      case Primitive::Max: return builder_.create<arith::MaximumFOp>(loc, args[0], args[1]);
      case Primitive::Clamp: {
        Value lower = builder_.create<arith::MaximumFOp>(loc, args[0], args[1]);
        return builder_.create<arith::MinimumFOp>(loc, lower, args[2]);
      }
      case Primitive::Pow: return builder_.create<math::PowFOp>(loc, args[0], args[1]);
      case Primitive::Select: break;  // handled above
    }
    return fail(fmt::format("AST lowering: primitive '{}' has no lowering", info.name));
  }

  Value lowerBuiltinCall(const dsl::Builtin& builtin, const dsl::Expr& expr, Scope& scope,
                         std::string_view filename, Location loc) {
    if (expr.operands.size() > builtin.params.size())
      return fail(fmt::format("AST lowering: '{}' takes at most {} argument(s), got {}", builtin.name,
                              builtin.params.size(), expr.operands.size()));
    SmallVector<Value, 4> args;
    for (size_t i = 0; i < builtin.params.size(); ++i) {
      Value value;
      if (i < expr.operands.size()) {
        value = lowerFloat(*expr.operands[i], scope, filename);
        if (!value) return {};
      } else if (builtin.params[i].default_value) {
        value = constant(*builtin.params[i].default_value, loc);
      } else {
        return fail(fmt::format("AST lowering: missing argument '{}' of '{}'", builtin.params[i].name,
                                builtin.name));
      }
      args.push_back(value);
    }
    func::FuncOp callee = getOrCreateBuiltin(builtin);
    if (!callee) return {};
    return builder_.create<func::CallOp>(loc, callee, args).getResult(0);
  }

  /// The function for `builtin`, created on first use at the module's end.
  func::FuncOp getOrCreateBuiltin(const dsl::Builtin& builtin) {
    std::string symbol = builtinFunctionName(builtin.name);
    if (auto existing = module_.lookupSymbol<func::FuncOp>(symbol)) return existing;
    if (!in_progress_.insert(builtin.name).second) {
      fail(fmt::format("AST lowering: built-in '{}' calls itself", builtin.name));
      return nullptr;
    }

    std::string filename = fmt::format("<builtin {}>", builtin.name);
    Location loc = FileLineColLoc::get(&context_, filename, 1, 1);
    OpBuilder::InsertionGuard guard(builder_);
    builder_.setInsertionPointToEnd(module_.getBody());
    Type f32 = builder_.getF32Type();
    SmallVector<Type, 4> params(builtin.params.size(), f32);
    auto fn = builder_.create<func::FuncOp>(loc, symbol, builder_.getFunctionType(params, {f32}));
    fn.setPrivate();
    Block* body = fn.addEntryBlock();
    builder_.setInsertionPointToStart(body);
    Scope scope;
    for (size_t i = 0; i < builtin.params.size(); ++i) scope.bind(builtin.params[i].name, body->getArgument(i));
    Value result = lowerProgram(builtin.program, scope, filename);
    if (!result) return nullptr;
    builder_.create<func::ReturnOp>(loc, result);
    in_progress_.erase(builtin.name);
    return fn;
  }

  MLIRContext& context_;
  ModuleOp module_;
  OpBuilder builder_;
  std::set<std::string> in_progress_;
  std::optional<Error> error_;
};

/// Kernel-level requests the generated kernel cannot serve: user errors.
Expected<void> checkSpec(const dsl::ResolvedProgram& program, const KernelSpec& spec) {
  if (spec.input_type == DType::F32)
    return make_error(ErrorCode::InvalidInput,
                      "input type f32 is not supported: the tensor-core mainloop reads bf16 or f16 "
                      "operands; convert A and B to bf16 or f16");
  if (spec.input_type == DType::E5M2)
    return make_error(ErrorCode::InvalidInput,
                      "input type e5m2 is for B only: A must be e4m3 (set the B type to e5m2 instead)");
  if (is_fp8(spec.output_type) && !is_fp8(spec.input_type))
    return make_error(ErrorCode::InvalidInput,
                      fmt::format("output type {} needs FP8 inputs (e4m3): a {} GEMM writes bf16, f16 or f32",
                                  to_string(spec.output_type), to_string(spec.input_type)));
  if (spec.output_type == DType::E5M2)
    return make_error(ErrorCode::InvalidInput, "output type e5m2 is not supported: use e4m3 (or bf16, f16, f32)");
  if (program.analysis.inputs == dsl::InputKind::Gated && spec.bias)
    return make_error(ErrorCode::InvalidInput,
                      "a gated epilogue (gate, up) takes no bias: fold the bias into the gate and up "
                      "weights, or drop the bias option");
  return {};
}

/// Sets the matmul's attributes from the spec; fails only for a forced tile
/// that #tilefuse.tile rejects (its verifier's diagnostic is emitted on `op`).
LogicalResult setKernelAttributes(ir::MatmulOp op, const dsl::ResolvedProgram& program,
                                  const KernelSpec& spec) {
  MLIRContext& context = *op.getContext();
  Builder b(&context);
  op.setInputType(toMlirType(epilogueInputType(spec.input_type), context));
  op.setOutputType(toMlirType(epilogueOutputType(spec.output_type), context));
  op.setBLayout(spec.b_col_major ? "col" : "row");
  op.setMode(to_string(spec.precision));
  SmallVector<StringRef> names(program.analysis.parameters.begin(), program.analysis.parameters.end());
  op.setParamNamesAttr(b.getStrArrayAttr(names));
  SmallVector<StringRef> rows(program.analysis.row_inputs.begin(), program.analysis.row_inputs.end());
  SmallVector<StringRef> cols(program.analysis.col_inputs.begin(), program.analysis.col_inputs.end());
  // Set only when declared, so that the IR of every other kernel is unchanged.
  if (!rows.empty()) op.setRowInputsAttr(b.getStrArrayAttr(rows));
  if (!cols.empty()) op.setColInputsAttr(b.getStrArrayAttr(cols));
  op.setGated(program.analysis.inputs == dsl::InputKind::Gated);
  op.setHasBias(spec.bias);
  op.setHasResidual(spec.residual);
  op.setHasAux(spec.aux);
  if (spec.tile) {
    const TileConfig& t = *spec.tile;
    if (failed(ir::TileConfigAttr::verify([&] { return op.emitError(); }, t.block_m, t.block_n, t.block_k,
                                          t.warp_m, t.warp_n, t.stages, t.vector_width, t.group_m)))
      return failure();
    op.setTileAttr(ir::TileConfigAttr::get(&context, t.block_m, t.block_n, t.block_k, t.warp_m, t.warp_n,
                                           t.stages, t.vector_width, t.group_m));
  }
  if (spec.shape_hint) {
    const auto& [m, n, k] = *spec.shape_hint;
    op.setShapeHintAttr(b.getDenseI64ArrayAttr({m, n, k}));
  }
  // A builder-made program has no text: its S-expression stands in for it.
  std::string source = program.program.source;
  if (source.empty()) {
    source = dsl::to_string(program.program);
    while (!source.empty() && source.back() == '\n') source.pop_back();
  }
  op.setSource(source);
  return success();
}

}  // namespace

std::string builtinFunctionName(std::string_view builtin) { return fmt::format("tf_builtin_{}", builtin); }

Expected<OwningOpRef<ModuleOp>> lowerToTilefuse(const dsl::ResolvedProgram& program, const KernelSpec& spec,
                                                MLIRContext& context) {
  if (auto valid = checkSpec(program, spec); !valid) return valid.take_error();
  if (!program.program.result)
    return make_error(ErrorCode::Internal, "AST lowering: the program has no result expression");
  context.loadDialect<ir::TilefuseDialect, arith::ArithDialect, math::MathDialect, func::FuncDialect>();
  std::string diagnostics, firstMessage;
  ScopedDiagnosticHandler handler(&context, [&](Diagnostic& diagnostic) {
    llvm::raw_string_ostream os(diagnostics);
    os << diagnostic.getLocation() << ": " << diagnostic << "\n";
    if (firstMessage.empty()) firstMessage = diagnostic.str();
    return success();
  });

  constexpr std::string_view kFilename = "<expression>";
  Location moduleLoc = FileLineColLoc::get(&context, kFilename, 1, 1);
  OwningOpRef<ModuleOp> module = ModuleOp::create(moduleLoc);
  Lowering lowering(context, *module);
  OpBuilder& builder = lowering.builder();

  builder.setInsertionPointToEnd(module->getBody());
  auto matmul = builder.create<ir::MatmulOp>(moduleLoc, TypeRange{}, ValueRange{}, ArrayRef<NamedAttribute>{});
  if (failed(setKernelAttributes(matmul, program, spec)))
    return make_error(ErrorCode::InvalidInput,
                      fmt::format("the forced tile {} is invalid: {}; pick one from the target's tile space",
                                  to_string(*spec.tile), firstMessage));

  // Region arguments: the input(s), then one scalar per runtime parameter,
  // then the declared row inputs and column inputs.
  Scope scope;
  std::vector<std::string> argNames;
  if (program.analysis.inputs == dsl::InputKind::Gated)
    argNames = {"gate", "up"};
  else
    argNames = {"x"};
  argNames.insert(argNames.end(), program.analysis.parameters.begin(), program.analysis.parameters.end());
  argNames.insert(argNames.end(), program.analysis.row_inputs.begin(), program.analysis.row_inputs.end());
  argNames.insert(argNames.end(), program.analysis.col_inputs.begin(), program.analysis.col_inputs.end());
  Block* body = builder.createBlock(&matmul.getEpilogue());
  for (const auto& name : argNames) scope.bind(name, body->addArgument(builder.getF32Type(), moduleLoc));

  builder.setInsertionPointToEnd(body);
  Value result = lowering.lowerProgram(program.program, scope, kFilename);
  if (!result) {
    if (lowering.error()) return std::move(*lowering.error());
    return make_error(ErrorCode::Internal, "AST lowering failed without a message");
  }
  builder.create<ir::YieldOp>(FileLineColLoc::get(&context, kFilename, program.program.result->loc.line,
                                                  program.program.result->loc.column),
                              result);

  if (failed(verify(*module)))
    return make_error(ErrorCode::Internal,
                      fmt::format("AST lowering of '{}' produced IR that does not verify (a tilefuse bug)",
                                  matmul.getSource().str()),
                      diagnostics);
  return module;
}

}  // namespace tilefuse::compiler
