// The tilefuse pass pipeline (see PassPipeline.h).
#include "compiler/Transforms/PassPipeline.h"

#include "compiler/Transforms/Passes.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"

namespace tilefuse::compiler {

void buildTilefusePipeline(mlir::OpPassManager& pm, const PipelineOptions& options) {
  pm.addPass(createInlineBuiltins());
  pm.addPass(mlir::createCanonicalizerPass());
  pm.addPass(mlir::createCSEPass());
  pm.addPass(createSimplify());
  // Simplify exposes new folds (x * 1 after x / 1.0 became x * 1.0, ...).
  pm.addPass(mlir::createCanonicalizerPass());
  if (options.differentiate) {
    // Before choose-approximations, so a fast backward gets approximations too.
    pm.addPass(createDifferentiate());
    pm.addPass(mlir::createCanonicalizerPass());
    pm.addPass(mlir::createCSEPass());
    pm.addPass(createSimplify());
    pm.addPass(mlir::createCanonicalizerPass());
  }
  pm.addPass(createChooseApproximations());
  // Approximations introduce constants (log2(e), ln(2)) that CSE merges.
  pm.addPass(mlir::createCSEPass());
  SelectTileConfigOptions tile_options;
  tile_options.arch = options.arch;
  pm.addPass(createSelectTileConfig(tile_options));
  if (options.vectorize) pm.addPass(createVectorizeEpilogue());
}

void registerTilefusePipeline() {
  mlir::PassPipelineRegistration<PipelineOptions>(
      "tilefuse-pipeline", "The whole tilefuse epilogue pipeline (as compile() runs it)",
      buildTilefusePipeline);
}

}  // namespace tilefuse::compiler
