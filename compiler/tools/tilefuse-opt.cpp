// tilefuse-opt: mlir-opt with the tilefuse dialect, passes and pipeline (for
// lit tests and for debugging one pass at a time).
#include "compiler/Dialect/TilefuseDialect.h"
#include "compiler/Transforms/PassPipeline.h"
#include "compiler/Transforms/Passes.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/Extensions/InlinerExtension.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"
#include "mlir/Transforms/Passes.h"

int main(int argc, char** argv) {
  mlir::DialectRegistry registry;
  registry.insert<tilefuse::ir::TilefuseDialect, mlir::arith::ArithDialect, mlir::math::MathDialect,
                  mlir::func::FuncDialect, mlir::vector::VectorDialect>();
  mlir::func::registerInlinerExtension(registry);
  mlir::registerCanonicalizerPass();
  mlir::registerCSEPass();
  mlir::registerInlinerPass();
  mlir::registerSymbolDCEPass();
  tilefuse::compiler::registerTilefusePasses();
  tilefuse::compiler::registerTilefusePipeline();
  return mlir::asMainReturnCode(
      mlir::MlirOptMain(argc, argv, "tilefuse optimizer driver\n", registry));
}
