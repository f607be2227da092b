// See KernelSource.h.
#include "runtime/ops/KernelSource.h"

#include <fmt/format.h>

#include "compiler/Target/TargetInfo.h"
#include "runtime/ops/GemmGeometry.h"
#include "runtime/ops/WgmmaSource.h"

namespace tilefuse::ops {
namespace {

const char* cpp_bool(bool value) { return value ? "true" : "false"; }

/// Header shared by every generated source: provenance and the epilogue.
std::string prologue(const compiler::CompiledEpilogue& epilogue) {
  return fmt::format("// tilefuse fused kernel (generated)\n#include \"tilefuse/epilogue_support.cuh\"\n\n{}\n",
                     epilogue.cuda);
}

/// FP8 inputs: TF_GEMM_FP8 (which adds TfFp8Params to TfGemmParams) and the
/// FP8 constants of gemm_sm80.cuh; nothing for a 16-bit op, whose source
/// (and so its kernel-cache key) stays as it was.
std::string fp8_config(const compiler::KernelSpec& spec) {
  if (!compiler::is_fp8(spec.input_type)) return "";
  return fmt::format(
      "#define TF_GEMM_FP8 1\n"
      "struct TfFp8Config {{\n"
      "  static constexpr bool kBE5M2 = {}, kBlock128 = {}, kOutE4M3 = {}, kAmax = {};\n"
      "}};\n",
      cpp_bool(spec.b_type == compiler::DType::E5M2), cpp_bool(spec.scale == compiler::ScaleMode::Block128),
      cpp_bool(spec.output_type == compiler::DType::E4M3), cpp_bool(spec.amax));
}

}  // namespace

std::string gemm_kernel_source(const compiler::KernelSpec& spec,
                               const compiler::CompiledEpilogue& epilogue) {
  const compiler::TileConfig& t = epilogue.tile;
  // Every tile parameter is a compile-time constant; the template
  // static_asserts each precondition with a message.
  std::string config = fmt::format(
      "struct TfGemmConfig {{\n"
      "  static constexpr int kBlockM = {}, kBlockN = {}, kBlockK = {};\n"
      "  static constexpr int kWarpM = {}, kWarpN = {}, kStages = {}, kGroupM = {};\n"
      "  static constexpr bool kInputBf16 = {}, kBColMajor = {};\n"
      "  static constexpr bool kHasBias = {}, kHasResidual = {}, kHasAux = {};\n"
      "  static constexpr int kGateInterleave = {};\n"
      "}};\n",
      t.block_m, t.block_n, t.block_k, t.warp_m, t.warp_n, t.stages, t.group_m,
      cpp_bool(spec.input_type == compiler::DType::BF16 || compiler::is_fp8(spec.input_type)),
      cpp_bool(spec.b_col_major), cpp_bool(spec.bias), cpp_bool(spec.residual), cpp_bool(spec.aux),
      spec.gate_interleave);
  config = fp8_config(spec) + config;
  // The host sizes the launch's dynamic shared memory itself; a template
  // change that is not mirrored there must fail here, not corrupt memory.
  const bool gated = epilogue.inputs == dsl::InputKind::Gated;
  const compiler::Mainloop mainloop = compiler::make_target(spec.arch)->mainloop();
  const long long shared = compiler::tile_shared_bytes(mainloop, t, gated);
  if (mainloop == compiler::Mainloop::WgmmaWarpSpecialized) {
    if (compiler::is_fp8(spec.input_type))  // the launch and build_fused_kernel refuse it first
      return prologue(epilogue) + config +
             "#error \"FP8 inputs on sm_90a (gemm_sm90.cuh, wgmma) are not yet supported: compile for sm_90\"\n";
    const WgmmaShape wgmma{t.warp_n, spec.input_type == compiler::DType::BF16, !spec.b_col_major};
    return prologue(epilogue) + config + "\n" + wgmma_wrapper_source(wgmma) +
           "\n#include \"tilefuse/gemm_sm90.cuh\"\n" +
           fmt::format("static_assert(tf::sm90::kSmemBytes == {}, \"the host (compiler/Target/TilePruning.cpp) "
                       "and gemm_sm90.cuh disagree on the shared memory of this tile\");\n",
                       shared);
  }
  const std::string shared_check = fmt::format(
      "static_assert(tf::sm80::kSmemBytes == {}, \"the host (runtime/ops/GemmGeometry.cpp) and "
      "gemm_sm80.cuh disagree on the shared memory of this tile\");\n",
      shared);
  return prologue(epilogue) + config + "\n#include \"tilefuse/gemm_sm80.cuh\"\n" + shared_check;
}

std::string elementwise_kernel_source(const compiler::CompiledEpilogue& epilogue) {
  return prologue(epilogue) + "#include \"tilefuse/elementwise.cuh\"\n";
}

}  // namespace tilefuse::ops
