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
///
/// A backward epilogue (grad_wrt set, tilefuse-differentiate) becomes
/// `tf_epilogue(dy, x, params)` or, gated, `tf_epilogue(dy, gate, up, params)`
/// and defines TF_EPILOGUE_GRAD 1.
struct EpilogueEmitOptions {
  std::string function_name = "tf_epilogue";
  /// The #defines and structs before the function; false emits the function
  /// alone (a second function over the same params/output types, e.g. the
  /// `dup` half of a gated backward next to `dgate`).
  bool declarations = true;
};
mlir::FailureOr<std::string> emitEpilogueCuda(ir::MatmulOp op, const TargetInfo& target,
                                              const EpilogueEmitOptions& options = {});

}  // namespace tilefuse::compiler
