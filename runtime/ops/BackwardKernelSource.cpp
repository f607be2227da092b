// See BackwardKernelSource.h.
#include "runtime/ops/BackwardKernelSource.h"

#include <fmt/format.h>

#include "compiler/Target/TargetInfo.h"
#include "compiler/Target/TilePruning.h"
#include "runtime/ops/KernelSource.h"

namespace tilefuse::ops {
namespace {

std::string prologue(const compiler::CompiledEpilogue& epilogue) {
  return fmt::format("// tilefuse backward kernel (generated)\n#include \"tilefuse/epilogue_support.cuh\"\n\n{}\n",
                     epilogue.cuda);
}

Expected<void> require_backward(const compiler::CompiledEpilogue& epilogue) {
  if (epilogue.gradient_inputs.empty())
    return make_error(ErrorCode::InvalidInput,
                      "a backward kernel needs the backward epilogue: compile the KernelSpec with gradient = true");
  return {};
}

}  // namespace

compiler::KernelSpec backward_gemm_spec(compiler::KernelSpec spec, long long m, long long n, long long k) {
  spec.gradient = true;
  spec.bias = spec.residual = spec.aux = false;
  spec.shape_hint = std::array<long long, 3>{m, n, k};
  if (!spec.tile) spec.tile = compiler::make_target(compiler::Arch::Sm80)->default_tile(m, n, k);
  return spec;
}

Expected<std::string> backward_gemm_kernel_source(const compiler::KernelSpec& spec,
                                                  const compiler::CompiledEpilogue& epilogue) {
  if (auto ok = require_backward(epilogue); !ok) return ok.take_error();
  // A gated epilogue brings tf_epilogue_dgate and tf_epilogue_dup; the
  // template then reads [gate | up] from aux and writes [dgate | dup] to D.
  const compiler::TileConfig& t = epilogue.tile;
  std::string config = fmt::format(
      "struct TfGemmConfig {{\n"
      "  static constexpr int kBlockM = {}, kBlockN = {}, kBlockK = {};\n"
      "  static constexpr int kWarpM = {}, kWarpN = {}, kStages = {}, kGroupM = {};\n"
      "  static constexpr bool kInputBf16 = {}, kBColMajor = {};\n"
      "  static constexpr bool kHasBias = false, kHasResidual = false, kHasAux = false;\n"
      "  static constexpr int kGateInterleave = 0;\n"
      "}};\n",
      t.block_m, t.block_n, t.block_k, t.warp_m, t.warp_n, t.stages, t.group_m,
      spec.input_type == compiler::DType::BF16 ? "true" : "false", spec.b_col_major ? "true" : "false");
  const long long shared = compiler::tile_shared_bytes(compiler::Mainloop::MmaSyncMultistage, t, /*gated=*/false);
  return prologue(epilogue) + config + grouped_defines(spec.grouped) + "\n#include \"tilefuse/gemm_sm80.cuh\"\n" +
         fmt::format("static_assert(tf::sm80::kSmemBytes == {}, \"the host (compiler/Target/TilePruning.cpp) "
                     "and gemm_sm80.cuh disagree on the shared memory of this tile\");\n",
                     shared);
}

Expected<std::string> backward_elementwise_kernel_source(const compiler::CompiledEpilogue& epilogue) {
  if (auto ok = require_backward(epilogue); !ok) return ok.take_error();
  return prologue(epilogue) + "#include \"tilefuse/elementwise.cuh\"\n";
}

}  // namespace tilefuse::ops
