// The one pass pipeline of tilefuse. compile(), compile_for_cpu() and
// `tilefuse-opt --tilefuse-pipeline` all build it here, so they never diverge.
#pragma once

#include <string>

#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassOptions.h"

namespace tilefuse::compiler {

struct PipelineOptions : public mlir::PassPipelineOptions<PipelineOptions> {
  Option<std::string> arch{*this, "arch",
                           llvm::cl::desc("Target architecture: sm_80, sm_86, sm_89, sm_90 or sm_90a"),
                           llvm::cl::init("sm_80")};
  Option<bool> vectorize{*this, "vectorize",
                         llvm::cl::desc("Vectorize the epilogue over the accumulator fragment "
                                        "(the CUDA path); false keeps it scalar (the CPU path)"),
                         llvm::cl::init(true)};
  Option<bool> differentiate{*this, "differentiate",
                             llvm::cl::desc("Replace each epilogue by its backward epilogue(s) "
                                            "(tilefuse-differentiate, then canonicalize, cse, "
                                            "simplify, canonicalize)"),
                             llvm::cl::init(false)};
};

/// Appends, in order: inline-builtins, canonicalize, cse, simplify,
/// canonicalize, [if `options.differentiate`: differentiate, canonicalize,
/// cse, simplify, canonicalize,] choose-approximations, cse, select-tile-config and (if
/// `options.vectorize`) vectorize-epilogue. The precision mode is not an
/// option: each matmul carries its own `mode` attribute.
void buildTilefusePipeline(mlir::OpPassManager& pm, const PipelineOptions& options);

/// Registers `tilefuse-pipeline` (options arch, vectorize) for tilefuse-opt.
void registerTilefusePipeline();

}  // namespace tilefuse::compiler
