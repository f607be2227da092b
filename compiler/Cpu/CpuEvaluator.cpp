// JIT compilation of a scalar epilogue for the host CPU (see CpuEvaluator.h).
//
//   tilefuse.matmul region ──BatchModule──► func/scf/arith/math + llvm.ptr
//     ──ExpandForCpu──► tilefuse ops, rsqrt gone ──passes──► LLVM dialect
//     ──ExecutionEngine (O2, no fast-math)──► tf_eval(in..., params, out, n)
#include "compiler/Cpu/CpuEvaluator.h"

#include <fmt/format.h>

#include <cmath>
#include <cstdint>
#include <mutex>

#include "compiler/Cpu/BatchModule.h"
#include "compiler/Cpu/ExpandForCpu.h"
#include "compiler/Dialect/TilefuseDialect.h"
#include "llvm/ExecutionEngine/Orc/Mangling.h"
#include "llvm/Support/TargetSelect.h"
#include "mlir/Conversion/ArithToLLVM/ArithToLLVM.h"
#include "mlir/Conversion/ControlFlowToLLVM/ControlFlowToLLVM.h"
#include "mlir/Conversion/FuncToLLVM/ConvertFuncToLLVMPass.h"
#include "mlir/Conversion/MathToLLVM/MathToLLVM.h"
#include "mlir/Conversion/MathToLibm/MathToLibm.h"
#include "mlir/Conversion/ReconcileUnrealizedCasts/ReconcileUnrealizedCasts.h"
#include "mlir/Conversion/SCFToControlFlow/SCFToControlFlow.h"
#include "mlir/ExecutionEngine/ExecutionEngine.h"
#include "mlir/ExecutionEngine/OptUtils.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/Pass/Pass.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"

namespace tilefuse::compiler {
namespace {

using namespace mlir;

using BatchFn = void (*)(const float* const*, const float*, float*, int64_t);

void initializeNativeTargetOnce() {
  static std::once_flag once;
  std::call_once(once, [] {
    llvm::InitializeNativeTarget();
    llvm::InitializeNativeTargetAsmPrinter();
  });
}

/// Collects every diagnostic emitted in `ctx` while alive.
class DiagnosticLog {
 public:
  explicit DiagnosticLog(MLIRContext* ctx)
      : handler_(ctx, [this](Diagnostic& diag) {
          append(diag);
          return success();
        }) {}
  const std::string& text() const { return text_; }

 private:
  void append(Diagnostic& diag) {
    std::string location;
    llvm::raw_string_ostream(location) << diag.getLocation();
    const char* severity = diag.getSeverity() == DiagnosticSeverity::Error     ? "error"
                           : diag.getSeverity() == DiagnosticSeverity::Warning ? "warning"
                           : diag.getSeverity() == DiagnosticSeverity::Note    ? "note"
                                                                               : "remark";
    text_ += fmt::format("{}: {}: {}\n", location, severity, diag.str());
    for (Diagnostic& note : diag.getNotes()) append(note);
  }

  std::string text_;
  ScopedDiagnosticHandler handler_;
};

Error compileError(std::string what, const DiagnosticLog& log, std::string extra = {}) {
  std::string detail = log.text() + extra;
  std::string message = fmt::format("CPU JIT of the epilogue failed: {}", what);
  if (!detail.empty()) {
    // The first diagnostic line is usually the whole story.
    message += ": " + detail.substr(0, detail.find('\n'));
  }
  return make_error(ErrorCode::CompileFailed, std::move(message), std::move(detail));
}

/// The libm functions the lowered code may call, bound by address: the JIT
/// then needs no dlsym and works in a statically linked binary whose libm
/// symbols were not exported.
llvm::orc::SymbolMap libmSymbols(llvm::orc::MangleAndInterner interner) {
  using Unary = float (*)(float);
  using Binary = float (*)(float, float);
  using Ternary = float (*)(float, float, float);
  const std::pair<const char*, void*> table[] = {
      {"expf", reinterpret_cast<void*>(static_cast<Unary>(::expf))},
      {"exp2f", reinterpret_cast<void*>(static_cast<Unary>(::exp2f))},
      {"expm1f", reinterpret_cast<void*>(static_cast<Unary>(::expm1f))},
      {"logf", reinterpret_cast<void*>(static_cast<Unary>(::logf))},
      {"log2f", reinterpret_cast<void*>(static_cast<Unary>(::log2f))},
      {"log1pf", reinterpret_cast<void*>(static_cast<Unary>(::log1pf))},
      {"tanhf", reinterpret_cast<void*>(static_cast<Unary>(::tanhf))},
      {"erff", reinterpret_cast<void*>(static_cast<Unary>(::erff))},
      {"erfcf", reinterpret_cast<void*>(static_cast<Unary>(::erfcf))},
      {"sqrtf", reinterpret_cast<void*>(static_cast<Unary>(::sqrtf))},
      {"fabsf", reinterpret_cast<void*>(static_cast<Unary>(::fabsf))},
      {"powf", reinterpret_cast<void*>(static_cast<Binary>(::powf))},
      {"fmaxf", reinterpret_cast<void*>(static_cast<Binary>(::fmaxf))},
      {"fminf", reinterpret_cast<void*>(static_cast<Binary>(::fminf))},
      {"fmaf", reinterpret_cast<void*>(static_cast<Ternary>(::fmaf))},
  };
  llvm::orc::SymbolMap symbols;
  for (const auto& [name, address] : table)
    symbols[interner(name)] = {llvm::orc::ExecutorAddr::fromPtr(address),
                               llvm::JITSymbolFlags::Exported};
  return symbols;
}

/// scf/func/arith/math (+ llvm.ptr loads) → LLVM dialect. Math ops without
/// an exact LLVM intrinsic lowering (erf, tanh, log1p, expm1, ...) become
/// libm calls first: MathToLLVM would expand log1p/expm1 inaccurately.
LogicalResult lowerToLLVMDialect(ModuleOp module) {
  PassManager pm(module->getContext());
  pm.addPass(createConvertMathToLibmPass());
  pm.addPass(createConvertSCFToCFPass());
  pm.addPass(createConvertMathToLLVMPass());
  pm.addPass(createArithToLLVMConversionPass());
  pm.addPass(createConvertControlFlowToLLVMPass());
  pm.addPass(createConvertFuncToLLVMPass());
  pm.addPass(createReconcileUnrealizedCastsPass());
  return pm.run(module);
}

class JitCpuEpilogue final : public CpuEpilogue {
 public:
  JitCpuEpilogue(std::unique_ptr<ExecutionEngine> engine, void* entry, dsl::InputKind inputs,
                 std::vector<std::string> input_names, std::vector<std::string> parameters,
                 std::vector<std::string> row_inputs, std::vector<std::string> col_inputs)
      : engine_(std::move(engine)),
        entry_(entry),
        inputs_(inputs),
        input_names_(std::move(input_names)),
        parameters_(std::move(parameters)),
        row_inputs_(std::move(row_inputs)),
        col_inputs_(std::move(col_inputs)) {
    input_names_.insert(input_names_.end(), row_inputs_.begin(), row_inputs_.end());
    input_names_.insert(input_names_.end(), col_inputs_.begin(), col_inputs_.end());
  }

  dsl::InputKind inputs() const override { return inputs_; }
  const std::vector<std::string>& parameters() const override { return parameters_; }
  const std::vector<std::string>& row_inputs() const override { return row_inputs_; }
  const std::vector<std::string>& col_inputs() const override { return col_inputs_; }
  std::size_t input_count() const override { return input_names_.size(); }

  // The JIT'd code only reads its arguments: concurrent calls are safe.
  Expected<void> evaluate(std::span<const float* const> inputs, std::span<const float> params,
                          std::span<float> out) const override {
    const size_t expectedInputs = input_names_.size();
    if (inputs.size() != expectedInputs)
      return make_error(
          ErrorCode::InvalidInput,
          fmt::format("CpuEpilogue::evaluate: this epilogue takes {} input array(s) "
                      "({}), got {}",
                      expectedInputs, fmt::join(input_names_, ", "), inputs.size()));
    if (params.size() != parameters_.size())
      return make_error(
          ErrorCode::InvalidInput,
          fmt::format("CpuEpilogue::evaluate: this epilogue takes {} parameter "
                      "value(s) ({}), got {}",
                      parameters_.size(), fmt::join(parameters_, ", "), params.size()));
    if (out.empty()) return {};
    for (size_t k = 0; k < inputs.size(); ++k)
      if (inputs[k] == nullptr)
        return make_error(ErrorCode::InvalidInput,
                          fmt::format("CpuEpilogue::evaluate: input array {} is null", k));
    const auto n = static_cast<int64_t>(out.size());
    reinterpret_cast<BatchFn>(entry_)(inputs.data(), params.data(), out.data(), n);
    return {};
  }

 private:
  std::unique_ptr<ExecutionEngine> engine_;  ///< owns the code `entry_` points into
  void* entry_;
  dsl::InputKind inputs_;
  std::vector<std::string> input_names_;  ///< dy (backward), x or gate, up; row inputs; column inputs
  std::vector<std::string> parameters_;
  std::vector<std::string> row_inputs_;
  std::vector<std::string> col_inputs_;
};

}  // namespace

Expected<std::unique_ptr<CpuEpilogue>> jitEpilogueForCpu(ir::MatmulOp op) {
  initializeNativeTargetOnce();
  MLIRContext* ctx = op.getContext();
  DiagnosticLog log(ctx);

  FailureOr<OwningOpRef<ModuleOp>> built = buildCpuBatchModule(op);
  if (failed(built))
    return make_error(ErrorCode::Internal,
                      "CPU JIT of the epilogue: the IR is not in scalar form: " +
                          log.text().substr(0, log.text().find('\n')),
                      log.text());
  ModuleOp module = built->get();
  if (failed(expandOpsForCpu(module)))
    return compileError("could not expand the tilefuse ops", log);
  if (failed(lowerToLLVMDialect(module)))
    return compileError("lowering to the LLVM dialect failed", log);

  registerBuiltinDialectTranslation(*ctx);
  registerLLVMDialectTranslation(*ctx);

  // O2 over the LLVM IR; no fast-math flags exist in it (BatchModule clears
  // them) and no fmuladd is formed, so the numerics stay the IR's.
  auto optimize = makeOptimizingTransformer(/*optLevel=*/2, /*sizeLevel=*/0,
                                            /*targetMachine=*/nullptr);
  ExecutionEngineOptions options;
  options.transformer = optimize;
  options.jitCodeGenOptLevel = llvm::CodeGenOptLevel::Default;
  options.enableGDBNotificationListener = false;
  options.enablePerfNotificationListener = false;
  auto engine = ExecutionEngine::create(module, options);
  if (!engine)
    return compileError("ExecutionEngine creation failed", log,
                        llvm::toString(engine.takeError()) + "\n");
  (*engine)->registerSymbols(libmSymbols);

  // The first lookup compiles the module (`optimize` must still be alive).
  auto entry = (*engine)->lookup(kCpuBatchFunction);
  if (!entry)
    return compileError("JIT compilation failed", log, llvm::toString(entry.takeError()) + "\n");

  std::vector<std::string> parameters;
  for (Attribute name : op.getParamNames()) parameters.push_back(cast<StringAttr>(name).str());
  dsl::InputKind inputs = op.getGated() ? dsl::InputKind::Gated : dsl::InputKind::Single;
  std::vector<std::string> inputNames;
  if (op.isBackward()) inputNames.push_back("dy");
  if (op.getGated()) {
    inputNames.push_back("gate");
    inputNames.push_back("up");
  } else {
    inputNames.push_back("x");
  }
  auto names = [](ArrayAttr attr) {
    std::vector<std::string> out;
    for (Attribute name : attr) out.push_back(cast<StringAttr>(name).str());
    return out;
  };
  return std::unique_ptr<CpuEpilogue>(new JitCpuEpilogue(std::move(*engine), *entry, inputs,
                                                         std::move(inputNames), std::move(parameters),
                                                         names(op.getRowInputs()), names(op.getColInputs())));
}

}  // namespace tilefuse::compiler
