// CUDA C++ emission of a fused epilogue: the `tilefuse.matmul` region becomes
// `tf_epilogue(...)`, the hook the GEMM templates call on each accumulator
// fragment (the text contract is documented at the top of CudaEmitter.cpp).
#pragma once

#include <string>

#include "mlir/Support/LogicalResult.h"

namespace tilefuse::ir {
class MatmulOp;
}

namespace tilefuse::compiler {

class TargetInfo;

/// Emits the epilogue of `op` as CUDA C++. Accepts the vectorized form (after
/// tilefuse-vectorize-epilogue: vector<Nxf32> values, yield of an
/// arith.truncf to the output type or of f32) and the scalar form (treated
/// as N = 1, converted to `output_type` here). Ops it cannot spell are
/// reported with emitOpError on the op and give failure().
mlir::FailureOr<std::string> emitEpilogueCuda(ir::MatmulOp op, const TargetInfo& target);

}  // namespace tilefuse::compiler
