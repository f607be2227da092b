// CPU expansion of the ops that have no exact upstream LLVM lowering.
#pragma once

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Support/LogicalResult.h"

namespace tilefuse::compiler {

/// In `module` (scalar f32 code), replaces
///  - tilefuse.erfc %x with a call to libm `erfcf`, declared in `module`;
///  - tilefuse.approx "<fn>" %x with the exact function (exp2, tanh, 1/x,
///    log2, rsqrt, sqrt) followed by a worst-case model of the hardware's
///    error: for a finite result, the low (23 - bits) significand bits are
///    cleared (bits = ApproxOp::precisionBits(fn)), i.e. the result is moved
///    toward zero by up to the documented relative error 2^-bits.
///  - math.rsqrt %x with 1.0 / math.sqrt %x.
/// Fails (with emitOpError) on a vector-typed tilefuse op.
mlir::LogicalResult expandOpsForCpu(mlir::ModuleOp module);

}  // namespace tilefuse::compiler
