// The module the CPU JIT compiles: the epilogue region as a function plus a
// loop that applies it to a batch of elements.
#pragma once

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"
#include "mlir/Support/LogicalResult.h"

namespace tilefuse::ir {
class MatmulOp;
}

namespace tilefuse::compiler {

/// Name of the batch entry point:
///   void tf_eval(const float* const* arrays, const float* params, float* out, int64_t n)
/// computing out[i] = tf_epilogue(in[i]..., params[0]..., row[i]..., col[i]...)
/// where `arrays` holds the input arrays, then the row-input and the
/// column-input arrays (one value per element each).
inline constexpr const char* kCpuBatchFunction = "tf_eval";

/// Builds, in `op`'s context, a module with `func.func private @tf_epilogue`
/// (a copy of the scalar region, fast-math flags cleared so that LLVM may not
/// reassociate or contract) and `func.func @tf_eval` (an scf.for over
/// !llvm.ptr arguments). Fails with emitOpError if the region is not scalar.
mlir::FailureOr<mlir::OwningOpRef<mlir::ModuleOp>> buildCpuBatchModule(ir::MatmulOp op);

}  // namespace tilefuse::compiler
