// CPU execution of a scalar epilogue: the `tilefuse.matmul` region lowered
// through MLIR's LLVM dialect and JIT-compiled with mlir::ExecutionEngine, so
// every stage except the tensor-core mainloop runs without a GPU.
#pragma once

#include <memory>

#include "compiler/Pipeline.h"
#include "tilefuse/error.hpp"

namespace tilefuse::ir {
class MatmulOp;
}

namespace tilefuse::compiler {

/// JIT-compiles the SCALAR epilogue of `op` (f32 arguments and yield: after
/// tilefuse-choose-approximations, before tilefuse-vectorize-epilogue) for
/// the host. `op` is read, not modified; its context gets the func, scf and
/// llvm dialects loaded and the LLVM IR translations registered.
/// Numerics are the IR's: no fast-math flags, no FP contraction; erf/erfc
/// and friends call the process's libm; tilefuse.approx is the exact function
/// with the hardware's documented worst-case error applied (ExpandForCpu.h).
/// Errors: CompileFailed with every MLIR/LLVM diagnostic in `detail`, or
/// Internal if `op` is not in scalar form.
Expected<std::unique_ptr<CpuEpilogue>> jitEpilogueForCpu(ir::MatmulOp op);

}  // namespace tilefuse::compiler
