// tilefuse::Runtime::matmul_backward: a MatmulOp whose kernel is the backward
// GEMM dZ = (alpha·A·B) ⊙ act'(z) (runtime/ops/BackwardKernelSource.h). It
// shares the forward op's launch path: argument checks, per-(arch, tile)
// kernels, parameter packing; only the source and the tile rules differ.
#include <fmt/format.h>

#include "dsl/Resolve.h"
#include "runtime/ops/GemmParams.h"
#include "runtime/ops/MatmulState.h"

namespace tilefuse {
namespace {

Error invalid(std::string message) { return make_error(ErrorCode::InvalidInput, std::move(message)); }

}  // namespace

Expected<MatmulOp> Runtime::matmul_backward(const MatmulOptions& options) const {
  auto resolved = dsl::resolve(options.activation);
  if (!resolved) return resolved.take_error();
  // Gated: dH = alpha·A·B, then dgate and dup from dH and the forward's
  // aux = [gate | up]; D = [dgate | dup] (M x 2N).
  const bool gated = resolved->analysis.inputs == dsl::InputKind::Gated;
  if (options.dtype == DType::F32)
    return invalid("dtype f32 is not a tensor-core input type: dY and W must be bf16 or f16");
  if (is_fp8(options.dtype) || is_fp8(options.out_dtype.value_or(options.dtype)) || options.b_dtype ||
      options.amax || options.scale != ScaleMode::PerTensor)
    return make_error(ErrorCode::Unsupported,
                      "the backward GEMM has no FP8 path yet: create it with bf16 or f16 inputs and output "
                      "(and no b_dtype, scale or amax)");
  if (!options.row_inputs.empty() || !options.col_inputs.empty())
    return make_error(ErrorCode::Unsupported,
                      "row_inputs / col_inputs are not supported by the backward GEMM yet: create the "
                      "backward op without them");
  if (options.bias || options.residual || options.gate_interleave != 0)
    return invalid("the backward GEMM takes no bias, residual or gate_interleave (the bias gradient is "
                   "the column sum of dZ and is not fused)");

  auto state = std::make_shared<detail::MatmulState>();
  state->runtime = state_;
  state->options = options;
  state->options.aux = true;
  state->backward = true;
  compiler::KernelSpec& spec = state->spec;
  spec.expression = options.activation;
  spec.input_type = options.dtype;
  spec.output_type = options.out_dtype.value_or(options.dtype);
  spec.b_col_major = options.b_col_major;
  spec.precision = options.precision;
  spec.gradient = true;
  // The backward epilogue lives in the mma.sync driver: its tile rules apply
  // on every architecture (sm_90a runs mma.sync too).
  for (compiler::Arch arch : compiler::kAllArchs) state->targets[static_cast<size_t>(arch)] = compiler::make_target(compiler::Arch::Sm80);

  compiler::KernelSpec check = spec;
  check.arch = options.arch.value_or(compiler::Arch::Sm80);
  auto check_tile = state->tile_for(check.arch, 0, 0, 0);  // a forced tile is checked here
  if (!check_tile) return check_tile.take_error();
  check.tile = *check_tile;
  auto epilogue = compiler::compile(check);
  if (!epilogue) return epilogue.take_error();
  if (epilogue->parameters.size() > ops::kMaxEpilogueParams)
    return make_error(ErrorCode::Unsupported,
                      fmt::format("activation '{}' has {} runtime parameters; a fused GEMM takes at most {}",
                                  options.activation, epilogue->parameters.size(), ops::kMaxEpilogueParams));
  state->parameters = std::move(epilogue->parameters);

  ops::GemmOperands& operands = state->operands;
  operands.b_col_major = options.b_col_major;
  operands.aux = true;  // z (gated: [gate | up]): read, not written
  operands.aux_is_input = true;
  operands.gated_backward = gated;
  operands.output_bytes = spec.output_type == DType::F32 ? 4 : 2;

  MatmulOp op;
  op.state_ = std::move(state);
  return op;
}

}  // namespace tilefuse
