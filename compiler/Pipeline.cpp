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
  if (spec.program) return dsl::resolve(*spec.program);
  return dsl::resolve(spec.expression);
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
Expected<void> runPipeline(Compilation& compilation, Arch arch, bool vectorize,
                           llvm::raw_ostream* dump = nullptr) {
  DiagnosticCapture diagnostics(*compilation.context);
  PassManager pm(compilation.context.get());
  PipelineOptions options;
  options.arch = std::string(to_string(arch));
  options.vectorize = vectorize;
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

Expected<std::string> emitCuda(Compilation& compilation, ir::MatmulOp op, Arch arch) {
  DiagnosticCapture diagnostics(*compilation.context);
  std::unique_ptr<TargetInfo> target = make_target(arch);
  FailureOr<std::string> cuda = emitEpilogueCuda(op, *target);
  if (failed(cuda)) return pipelineError(compilation, "CUDA emission", diagnostics);
  return std::move(*cuda);
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

  if (auto ran = runPipeline(*compilation, spec.arch, /*vectorize=*/true); !ran) return ran.take_error();
  result.lowered = print(compilation->module->getOperation());
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
  if (auto ran = runPipeline(*compilation, spec.arch, /*vectorize=*/true, &os); !ran)
    return ran.take_error();
  auto op = theMatmul(*compilation);
  if (!op) return op.take_error();
  auto cuda = emitCuda(*compilation, *op, spec.arch);
  if (!cuda) return cuda.take_error();
  os << "\n// ===== cuda =====\n" << *cuda;
  return out;
}

Expected<std::unique_ptr<CpuEpilogue>> compile_for_cpu(const KernelSpec& spec) {
  auto compilation = lowerSpec(spec);
  if (!compilation) return compilation.take_error();
  if (auto ran = runPipeline(*compilation, spec.arch, /*vectorize=*/false); !ran) return ran.take_error();
  auto op = theMatmul(*compilation);
  if (!op) return op.take_error();
  return jitEpilogueForCpu(*op);  // captures its own diagnostics into the Error
}

}  // namespace tilefuse::compiler
