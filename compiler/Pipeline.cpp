// compile(), dump_all_stages() and compile_for_cpu(): resolve the DSL, lower
// it to the tilefuse dialect, run the one pass pipeline (PassPipeline.h),
// then emit CUDA or JIT for the CPU. Every MLIR diagnostic raised on the way
// is captured into the returned Error, never printed and lost.
#include "compiler/Pipeline.h"

#include <fmt/format.h>

#include "compiler/Conversion/AstToTilefuse.h"
#include "compiler/Cpu/CpuEvaluator.h"
#include "compiler/Dialect/TilefuseDialect.h"
#include "compiler/Target/CudaEmitter.h"
#include "compiler/Target/TargetInfo.h"
#include "compiler/Transforms/PassPipeline.h"
#include "mlir/Dialect/Func/Extensions/InlinerExtension.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Pass/PassManager.h"

using namespace mlir;

namespace tilefuse::compiler {
namespace {

/// A context of its own per compilation (callers may compile from several
/// threads), without a thread pool: the epilogue IR is a few dozen ops.
std::unique_ptr<MLIRContext> makeContext() {
  DialectRegistry registry;
  registry.insert<ir::TilefuseDialect, arith::ArithDialect, math::MathDialect, func::FuncDialect>();
  func::registerInlinerExtension(registry);
  auto context = std::make_unique<MLIRContext>(registry, MLIRContext::Threading::DISABLED);
  context->loadAllAvailableDialects();
  return context;
}

/// Records every diagnostic emitted in a context while it is alive.
class DiagnosticCapture {
 public:
  explicit DiagnosticCapture(MLIRContext& context)
      : handler_(&context, [this](Diagnostic& diagnostic) {
          append(diagnostic);
          return success();
        }) {}

  /// All diagnostics, one per line ("loc: error: message"), notes indented.
  const std::string& text() const { return text_; }
  /// The first error's message, for the one-line Error::message.
  const std::string& firstError() const { return first_error_; }

 private:
  void append(Diagnostic& diagnostic, int depth = 0) {
    llvm::raw_string_ostream os(text_);
    os.indent(depth * 2) << diagnostic.getLocation() << ": "
                         << severity(diagnostic.getSeverity()) << ": " << diagnostic << "\n";
    if (first_error_.empty() && diagnostic.getSeverity() == DiagnosticSeverity::Error)
      first_error_ = diagnostic.str();
    for (Diagnostic& note : diagnostic.getNotes()) append(note, depth + 1);
  }
  static const char* severity(DiagnosticSeverity s) {
    switch (s) {
      case DiagnosticSeverity::Error: return "error";
      case DiagnosticSeverity::Warning: return "warning";
      case DiagnosticSeverity::Note: return "note";
      case DiagnosticSeverity::Remark: return "remark";
    }
    return "diagnostic";
  }

  std::string text_;
  std::string first_error_;
  ScopedDiagnosticHandler handler_;
};

std::string print(Operation* op) {
  std::string text;
  llvm::raw_string_ostream os(text);
  op->print(os);
  return text;
}

Expected<dsl::ResolvedProgram> resolveSpec(const KernelSpec& spec) {
  dsl::OperandDeclarations declared{spec.row_inputs, spec.col_inputs};
  if (spec.program) return dsl::resolve(*spec.program, declared);
  return dsl::resolve(spec.expression, declared);
}

/// One compilation in progress: the resolved program and its IR.
struct Compilation {
  std::unique_ptr<MLIRContext> context;
  dsl::ResolvedProgram resolved;
  OwningOpRef<ModuleOp> module;
  std::string source;  ///< for messages
};

Expected<Compilation> lowerSpec(const KernelSpec& spec) {
  auto resolved = resolveSpec(spec);
  if (!resolved) return resolved.take_error();
  Compilation compilation{makeContext(), std::move(*resolved), nullptr, {}};
  auto module = lowerToTilefuse(compilation.resolved, spec, *compilation.context);
  if (!module) return module.take_error();
  compilation.module = std::move(*module);
  const dsl::Program& program = compilation.resolved.program;
  compilation.source = program.source.empty() ? dsl::to_string(program) : program.source;
  return compilation;
}

Error pipelineError(const Compilation& compilation, std::string_view stage,
                    const DiagnosticCapture& diagnostics) {
  std::string cause = diagnostics.firstError().empty() ? "no diagnostic was emitted"
                                                       : diagnostics.firstError();
  return make_error(ErrorCode::CompileFailed,
                    fmt::format("compiling '{}' failed in {}: {}. This is a tilefuse bug; please "
                                "report it with the output of `tilefuse emit --stage all`",
                                compilation.source, stage, cause),
                    diagnostics.text());
}

/// Runs the pass pipeline; `dump` (optional) receives the IR after every pass.
Expected<void> runPipeline(Compilation& compilation, Arch arch, bool vectorize, bool differentiate,
                           llvm::raw_ostream* dump = nullptr) {
  DiagnosticCapture diagnostics(*compilation.context);
  PassManager pm(compilation.context.get());
  PipelineOptions options;
  options.arch = std::string(to_string(arch));
  options.vectorize = vectorize;
  options.differentiate = differentiate;
  buildTilefusePipeline(pm, options);
  if (dump) {
    pm.enableIRPrinting(
        /*shouldPrintBeforePass=*/[](Pass*, Operation*) { return false; },
        /*shouldPrintAfterPass=*/[](Pass*, Operation*) { return true; },
        /*printModuleScope=*/true, /*printAfterOnlyOnChange=*/false,
        /*printAfterOnlyOnFailure=*/false, *dump);
  }
  if (failed(pm.run(*compilation.module)))
    return pipelineError(compilation, "the tilefuse pass pipeline", diagnostics);
  return {};
}

Expected<ir::MatmulOp> theMatmul(Compilation& compilation) {
  auto ops = compilation.module->getOps<ir::MatmulOp>();
  if (std::distance(ops.begin(), ops.end()) != 1)
    return make_error(ErrorCode::Internal,
                      fmt::format("compiling '{}': expected exactly one tilefuse.matmul in the module",
                                  compilation.source));
  return *ops.begin();
}

TileConfig tileOf(ir::MatmulOp op) {
  TileConfig tile;
  if (auto attr = op.getTile()) {
    tile = TileConfig{static_cast<int>(attr->getBlockM()), static_cast<int>(attr->getBlockN()),
                      static_cast<int>(attr->getBlockK()), static_cast<int>(attr->getWarpM()),
                      static_cast<int>(attr->getWarpN()), static_cast<int>(attr->getStages()),
                      static_cast<int>(attr->getVectorWidth()), static_cast<int>(attr->getGroupM())};
  }
  return tile;
}

Expected<std::string> emitCuda(Compilation& compilation, ir::MatmulOp op, Arch arch,
                               const EpilogueEmitOptions& options = {}) {
  DiagnosticCapture diagnostics(*compilation.context);
  std::unique_ptr<TargetInfo> target = make_target(arch);
  FailureOr<std::string> cuda = emitEpilogueCuda(op, *target, options);
  if (failed(cuda)) return pipelineError(compilation, "CUDA emission", diagnostics);
  return std::move(*cuda);
}

/// The backward matmuls tilefuse-differentiate made, in input order.
Expected<std::vector<ir::MatmulOp>> backwardMatmuls(Compilation& compilation) {
  std::vector<ir::MatmulOp> ops(compilation.module->getOps<ir::MatmulOp>().begin(),
                                compilation.module->getOps<ir::MatmulOp>().end());
  const std::size_t expected = compilation.resolved.analysis.inputs == dsl::InputKind::Gated ? 2 : 1;
  if (ops.size() != expected || !llvm::all_of(ops, [](ir::MatmulOp op) { return op.isBackward(); }))
    return make_error(ErrorCode::Internal,
                      fmt::format("compiling the gradient of '{}': expected {} backward tilefuse.matmul "
                                  "op(s) after tilefuse-differentiate, found {} op(s)",
                                  compilation.source, expected, ops.size()));
  return ops;
}

/// CUDA of a backward compilation: one function for a single input; for a
/// gated activation the declarations once, then tf_epilogue_dgate and
/// tf_epilogue_dup (the element-wise backward kernel calls both).
Expected<std::string> emitGradientCuda(Compilation& compilation, std::vector<ir::MatmulOp>& ops,
                                       Arch arch) {
  if (ops.size() == 1) return emitCuda(compilation, ops[0], arch);
  std::string text;
  for (std::size_t k = 0; k < ops.size(); ++k) {
    EpilogueEmitOptions options;
    options.function_name = "tf_epilogue_d" + ops[k].getGradWrt().str();
    options.declarations = k == 0;
    auto cuda = emitCuda(compilation, ops[k], arch, options);
    if (!cuda) return cuda.take_error();
    if (k > 0) text += "\n";
    text += *cuda;
  }
  return text;
}

}  // namespace

Expected<CompiledEpilogue> compile(const KernelSpec& spec) {
  auto compilation = lowerSpec(spec);
  if (!compilation) return compilation.take_error();
  CompiledEpilogue result;
  result.ast = dsl::to_string(compilation->resolved.program);
  result.mlir = print(compilation->module->getOperation());
  result.inputs = compilation->resolved.analysis.inputs;
  result.parameters = compilation->resolved.analysis.parameters;
  result.row_inputs = compilation->resolved.analysis.row_inputs;
  result.col_inputs = compilation->resolved.analysis.col_inputs;

  if (auto ran = runPipeline(*compilation, spec.arch, /*vectorize=*/true, spec.gradient); !ran)
    return ran.take_error();
  result.lowered = print(compilation->module->getOperation());
  if (spec.gradient) {
    auto ops = backwardMatmuls(*compilation);
    if (!ops) return ops.take_error();
    for (ir::MatmulOp op : *ops) result.gradient_inputs.push_back(op.getGradWrt().str());
    result.tile = tileOf(ops->front());
    auto cuda = emitGradientCuda(*compilation, *ops, spec.arch);
    if (!cuda) return cuda.take_error();
    result.cuda = std::move(*cuda);
    return result;
  }
  auto op = theMatmul(*compilation);
  if (!op) return op.take_error();
  result.tile = tileOf(*op);
  auto cuda = emitCuda(*compilation, *op, spec.arch);
  if (!cuda) return cuda.take_error();
  result.cuda = std::move(*cuda);
  return result;
}

Expected<std::string> dump_all_stages(const KernelSpec& spec) {
  auto compilation = lowerSpec(spec);
  if (!compilation) return compilation.take_error();
  std::string out;
  llvm::raw_string_ostream os(out);
  os << "// ===== ast =====\n" << dsl::to_string(compilation->resolved.program) << "\n\n";
  os << "// ===== mlir (lowered from the AST) =====\n" << print(compilation->module->getOperation()) << "\n";
  if (auto ran = runPipeline(*compilation, spec.arch, /*vectorize=*/true, spec.gradient, &os); !ran)
    return ran.take_error();
  if (spec.gradient) {
    auto ops = backwardMatmuls(*compilation);
    if (!ops) return ops.take_error();
    auto cuda = emitGradientCuda(*compilation, *ops, spec.arch);
    if (!cuda) return cuda.take_error();
    os << "\n// ===== cuda =====\n" << *cuda;
    return out;
  }
  auto op = theMatmul(*compilation);
  if (!op) return op.take_error();
  auto cuda = emitCuda(*compilation, *op, spec.arch);
  if (!cuda) return cuda.take_error();
  os << "\n// ===== cuda =====\n" << *cuda;
  return out;
}

Expected<std::unique_ptr<CpuEpilogue>> compile_for_cpu(const KernelSpec& spec) {
  if (spec.gradient)
    return make_error(ErrorCode::InvalidInput,
                      "compile_for_cpu evaluates a forward epilogue; for KernelSpec::gradient use "
                      "compile_gradient_for_cpu (one CPU epilogue per input)");
  auto compilation = lowerSpec(spec);
  if (!compilation) return compilation.take_error();
  if (auto ran = runPipeline(*compilation, spec.arch, /*vectorize=*/false, /*differentiate=*/false); !ran)
    return ran.take_error();
  auto op = theMatmul(*compilation);
  if (!op) return op.take_error();
  return jitEpilogueForCpu(*op);  // captures its own diagnostics into the Error
}

Expected<CpuGradient> compile_gradient_for_cpu(KernelSpec spec) {
  spec.gradient = true;
  auto compilation = lowerSpec(spec);
  if (!compilation) return compilation.take_error();
  if (auto ran = runPipeline(*compilation, spec.arch, /*vectorize=*/false, /*differentiate=*/true); !ran)
    return ran.take_error();
  auto ops = backwardMatmuls(*compilation);
  if (!ops) return ops.take_error();
  CpuGradient gradient;
  for (ir::MatmulOp op : *ops) {
    auto cpu = jitEpilogueForCpu(op);
    if (!cpu) return cpu.take_error();
    gradient.wrt.push_back(op.getGradWrt().str());
    gradient.partials.push_back(std::move(*cpu));
  }
  return gradient;
}

}  // namespace tilefuse::compiler
