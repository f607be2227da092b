//===- Passes.td - tilefuse pass definitions ---------------*- tablegen -*-===//
#ifndef TILEFUSE_PASSES_TD
#define TILEFUSE_PASSES_TD

include "mlir/Pass/PassBase.td"

#endif // TILEFUSE_PASSES_TD
