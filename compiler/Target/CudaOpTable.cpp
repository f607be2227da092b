// The op → CUDA C++ table. Adding an element-wise op to the epilogue means
// adding one row here (and its CPU lowering in compiler/Cpu/).
//
// Functions are the CUDA math library's single-precision builtins (NVRTC
// declares them without includes); `tf::` helpers live in
// templates/tilefuse/epilogue_support.cuh.
#include "compiler/Target/CudaOpTable.h"

#include <algorithm>
#include <iterator>
#include <set>

#include "compiler/Dialect/TilefuseDialect.h"
#include "mlir/Dialect/Arith/IR/Arith.h"

namespace tilefuse::compiler {
namespace {

using Form = CudaSpelling::Form;

struct Row {
  std::string_view key;  ///< op name, "arith.cmpf:<predicate>" or "tilefuse.approx:<fn>"
  CudaSpelling spelling;
};

constexpr Row kTable[] = {
    // ---- arith: arithmetic ---------------------------------------------
    {"arith.addf", {Form::Infix, "+", kPrecAdditive}},
    {"arith.subf", {Form::Infix, "-", kPrecAdditive}},
    {"arith.mulf", {Form::Infix, "*", kPrecMultiplicative}},
    {"arith.divf", {Form::Infix, "/", kPrecMultiplicative}},
    {"arith.negf", {Form::Prefix, "-", kPrecPrefix}},
    {"arith.select", {Form::Ternary, "", kPrecConditional}},
    // NaN-propagating (IEEE 754-2019 maximum/minimum) vs. NaN-ignoring (maxNum).
    {"arith.maximumf", {Form::Call, "tf::fmax_nan({0}, {1})", kPrecPrimary}},
    {"arith.minimumf", {Form::Call, "tf::fmin_nan({0}, {1})", kPrecPrimary}},
    {"arith.maxnumf", {Form::Call, "fmaxf({0}, {1})", kPrecPrimary}},
    {"arith.minnumf", {Form::Call, "fminf({0}, {1})", kPrecPrimary}},
    // i1 → f32 (the emitter only admits f32 and i1 values): false → 0, true → 1.
    {"arith.uitofp", {Form::Call, "static_cast<float>({0})", kPrecPrimary}},
    // ---- arith.cmpf: ordered predicates are false on NaN, unordered true --
    {"arith.cmpf:false", {Form::Call, "false", kPrecPrimary}},
    {"arith.cmpf:oeq", {Form::Infix, "==", kPrecEquality}},
    {"arith.cmpf:ogt", {Form::Infix, ">", kPrecRelational}},
    {"arith.cmpf:oge", {Form::Infix, ">=", kPrecRelational}},
    {"arith.cmpf:olt", {Form::Infix, "<", kPrecRelational}},
    {"arith.cmpf:ole", {Form::Infix, "<=", kPrecRelational}},
    {"arith.cmpf:one", {Form::Call, "({0} < {1} || {0} > {1})", kPrecPrimary, true}},
    {"arith.cmpf:ord", {Form::Call, "({0} == {0} && {1} == {1})", kPrecPrimary, true}},
    {"arith.cmpf:ueq", {Form::Call, "!({0} < {1} || {0} > {1})", kPrecPrefix, true}},
    {"arith.cmpf:ugt", {Form::Call, "!({0} <= {1})", kPrecPrefix, true}},
    {"arith.cmpf:uge", {Form::Call, "!({0} < {1})", kPrecPrefix, true}},
    {"arith.cmpf:ult", {Form::Call, "!({0} >= {1})", kPrecPrefix, true}},
    {"arith.cmpf:ule", {Form::Call, "!({0} > {1})", kPrecPrefix, true}},
    {"arith.cmpf:une", {Form::Infix, "!=", kPrecEquality}},
    {"arith.cmpf:uno", {Form::Call, "({0} != {0} || {1} != {1})", kPrecPrimary, true}},
    {"arith.cmpf:true", {Form::Call, "true", kPrecPrimary}},
    // ---- math -------------------------------------------------------------
    {"math.exp", {Form::Call, "expf({0})", kPrecPrimary}},
    {"math.exp2", {Form::Call, "exp2f({0})", kPrecPrimary}},
    {"math.expm1", {Form::Call, "expm1f({0})", kPrecPrimary}},
    {"math.log", {Form::Call, "logf({0})", kPrecPrimary}},
    {"math.log2", {Form::Call, "log2f({0})", kPrecPrimary}},
    {"math.log1p", {Form::Call, "log1pf({0})", kPrecPrimary}},
    {"math.sqrt", {Form::Call, "sqrtf({0})", kPrecPrimary}},
    {"math.rsqrt", {Form::Call, "rsqrtf({0})", kPrecPrimary}},
    {"math.tanh", {Form::Call, "tanhf({0})", kPrecPrimary}},
    {"math.erf", {Form::Call, "erff({0})", kPrecPrimary}},
    {"math.absf", {Form::Call, "fabsf({0})", kPrecPrimary}},
    {"math.powf", {Form::Call, "powf({0}, {1})", kPrecPrimary}},
    {"math.fma", {Form::Call, "fmaf({0}, {1}, {2})", kPrecPrimary}},
    // ---- tilefuse ---------------------------------------------------------
    {"tilefuse.erfc", {Form::Call, "erfcf({0})", kPrecPrimary}},
    {"tilefuse.approx:exp2", {Form::Call, "tf::approx_exp2({0})", kPrecPrimary}},
    {"tilefuse.approx:tanh", {Form::Call, "tf::approx_tanh({0})", kPrecPrimary}},
    {"tilefuse.approx:rcp", {Form::Call, "tf::approx_rcp({0})", kPrecPrimary}},
    {"tilefuse.approx:log2", {Form::Call, "tf::approx_log2({0})", kPrecPrimary}},
    {"tilefuse.approx:rsqrt", {Form::Call, "tf::approx_rsqrt({0})", kPrecPrimary}},
    {"tilefuse.approx:sqrt", {Form::Call, "tf::approx_sqrt({0})", kPrecPrimary}},
    // ---- vector: a broadcast is the same value in every lane ----------------
    {"vector.broadcast", {Form::Identity, "", kPrecPrimary}},
    {"vector.splat", {Form::Identity, "", kPrecPrimary}},
};

std::string lookupKey(mlir::Operation* op) {
  std::string key = op->getName().getStringRef().str();
  if (auto cmp = llvm::dyn_cast<mlir::arith::CmpFOp>(op))
    key += ":" + mlir::arith::stringifyCmpFPredicate(cmp.getPredicate()).str();
  else if (auto approx = llvm::dyn_cast<ir::ApproxOp>(op))
    key += ":" + approx.getFn().str();
  return key;
}

}  // namespace

const CudaSpelling* findCudaSpelling(mlir::Operation* op) {
  std::string key = lookupKey(op);
  auto row = std::find_if(std::begin(kTable), std::end(kTable),
                          [&](const Row& r) { return r.key == key; });
  return row == std::end(kTable) ? nullptr : &row->spelling;
}

std::string listCudaSpelledOps() {
  std::set<std::string_view> names;
  for (const Row& row : kTable) names.insert(row.key.substr(0, row.key.find(':')));
  std::string out;
  for (std::string_view name : names) {
    if (!out.empty()) out += ", ";
    out += name;
  }
  return out;
}

}  // namespace tilefuse::compiler
