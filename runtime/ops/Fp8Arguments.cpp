// See Fp8Arguments.h.
#include "runtime/ops/Fp8Arguments.h"

#include <algorithm>
#include <cstdint>

#include <fmt/format.h>

#include "compiler/Target/TilePruning.h"

namespace tilefuse::ops {
namespace {

Error invalid(std::string message) { return make_error(ErrorCode::InvalidInput, std::move(message)); }
Error unsupported(std::string message) { return make_error(ErrorCode::Unsupported, std::move(message)); }

}  // namespace

Expected<void> check_fp8_options(const MatmulOptions& o) {
  const bool fp8_in = is_fp8(o.dtype);
  const DType out = o.out_dtype.value_or(o.dtype);
  if (o.dtype == DType::E5M2)
    return invalid("dtype e5m2 is for B only: A must be e4m3 (set dtype = DType::E4M3 and "
                   "b_dtype = DType::E5M2)");
  if (o.b_dtype && !fp8_in)
    return invalid(fmt::format("b_dtype = {} is for FP8 ops only: with dtype {} B has A's type; leave "
                               "b_dtype unset",
                               to_string(*o.b_dtype), to_string(o.dtype)));
  if (o.b_dtype && !is_fp8(*o.b_dtype))
    return invalid(fmt::format("b_dtype = {}: B of an FP8 op is e4m3 or e5m2", to_string(*o.b_dtype)));
  if (o.scale == ScaleMode::Block128 && !fp8_in)
    return invalid(fmt::format("scale = block128 needs FP8 inputs (dtype e4m3), not {}", to_string(o.dtype)));
  if (out == DType::E5M2)
    return invalid("out_dtype e5m2 is not supported: an FP8 output is e4m3 (or use bf16, f16, f32)");
  if (is_fp8(out) && !fp8_in)
    return invalid(fmt::format("out_dtype e4m3 needs FP8 inputs (dtype e4m3): a {} GEMM writes bf16, f16 or f32",
                               to_string(o.dtype)));
  if (o.amax && out != DType::E4M3)
    return invalid(fmt::format("amax is the delayed-scaling statistic of an FP8 output: it needs "
                               "out_dtype e4m3 (the op writes {})",
                               to_string(out)));
  if (!fp8_in) return {};
  if (!o.b_col_major)
    return unsupported("FP8 inputs need both operands K-major (the FP8 tensor-core instructions read "
                       "A row-major and B column-major): pass B as N x K (b_col_major = true), as "
                       "PyTorch Linear weights are stored");
  if (o.arch)
    if (auto ok = check_fp8_arch(*o.arch); !ok) return ok;
  if (is_fp8(out) && (o.residual || o.aux))
    return unsupported("an e4m3 output takes no residual C or aux: use out_dtype bf16 (or f16, f32) "
                       "for those");
  if (o.grouped != GroupLayout::None)
    return unsupported("grouped FP8 GEMMs are not supported yet: use a 16-bit grouped op");
  return {};
}

Expected<void> check_fp8_spec(const compiler::KernelSpec& spec) {
  MatmulOptions o;
  o.dtype = spec.input_type;
  o.out_dtype = spec.output_type;
  o.b_dtype = spec.b_type;
  o.scale = spec.scale;
  o.amax = spec.amax;
  o.b_col_major = spec.b_col_major;
  o.residual = spec.residual;
  o.aux = spec.aux;
  o.arch = spec.arch;
  if (spec.gradient && (is_fp8(spec.input_type) || is_fp8(spec.output_type)))
    return unsupported("the backward GEMM has no FP8 path yet: use bf16 or f16");
  return check_fp8_options(o);
}

int fp8_max_accumulators_per_thread(compiler::Arch arch, int sets) {
  constexpr int kSm90PerSet = 32;
  return arch == compiler::Arch::Sm90 ? kSm90PerSet * sets : compiler::kMaxAccumulatorsPerThread;
}

compiler::TileConfig fit_tile_to_fp8(compiler::TileConfig tile, compiler::Arch arch, bool gated, ScaleMode scale) {
  constexpr int kSmallestWarpSide = 32;
  const int sets = (gated ? 2 : 1) * (scale == ScaleMode::Block128 ? 2 : 1);
  while (compiler::tile_accumulators_per_thread(tile, false) * sets > fp8_max_accumulators_per_thread(arch, sets)) {
    if (tile.warp_n > kSmallestWarpSide) {
      tile.warp_n /= 2;
      tile.block_n /= 2;
    } else if (tile.warp_m > kSmallestWarpSide) {
      tile.warp_m /= 2;
      tile.block_m /= 2;
    } else {
      break;
    }
  }
  if (scale == ScaleMode::Block128) tile.block_k = std::min(tile.block_k, 64);
  return tile;
}

Expected<void> check_fp8_arch(compiler::Arch arch) {
  switch (arch) {
    case compiler::Arch::Sm89:
    case compiler::Arch::Sm90: return {};
    case compiler::Arch::Sm90a:
      return unsupported("FP8 inputs on sm_90a (the wgmma kernel) are not yet supported: force "
                         "Arch::Sm90 (the mma.sync kernel) or leave MatmulOptions::arch unset, "
                         "which chooses it on Hopper");
    case compiler::Arch::Sm80:
    case compiler::Arch::Sm86: break;
  }
  return unsupported(fmt::format("FP8 inputs need FP8 tensor cores (sm_89 Ada or sm_90 Hopper); {} has "
                                 "none: use bf16 or f16 inputs there",
                                 to_string(arch)));
}

Expected<Fp8Params> make_fp8_params(const Fp8Operands& operands, const MatmulArgs& args) {
  Fp8Params p{args.scale_a, args.scale_b, args.scale_d, args.amax};
  if (!operands.fp8) {
    if (args.scale_a || args.scale_b || args.scale_d || args.amax)
      return invalid("MatmulArgs::scale_a / scale_b / scale_d / amax are for FP8 ops (dtype e4m3): this "
                     "op has 16-bit inputs, leave them null");
    return p;
  }
  if (args.shape.k % 16 != 0)
    return unsupported(fmt::format("K = {} is not a multiple of 16: the FP8 kernel reads K in 16-byte "
                                   "chunks; pad K with zeros to a multiple of 16 (in A and B)",
                                   args.shape.k));
  if (operands.scale == ScaleMode::Block128 && (!args.scale_a || !args.scale_b))
    return invalid("scale = block128: pass MatmulArgs::scale_a (float[ceil(K/128)][M]) and scale_b "
                   "(float[ceil(N/128)][ceil(K/128)])");
  if (args.scale_d && !operands.fp8_output)
    return invalid("MatmulArgs::scale_d scales an e4m3 output, but this op writes a 16/32-bit D: leave "
                   "it null (or create the op with out_dtype = DType::E4M3)");
  if (operands.amax && !args.amax)
    return invalid("the op was created with amax: pass MatmulArgs::amax (one device float)");
  if (!operands.amax && args.amax)
    return invalid("MatmulArgs::amax is set but the op was created without amax: create it with "
                   "MatmulOptions::amax = true or pass nullptr");
  const struct {
    const char* name;
    const void* pointer;
  } pointers[] = {{"scale_a", p.scale_a}, {"scale_b", p.scale_b}, {"scale_d", p.scale_d}, {"amax", p.amax}};
  for (const auto& q : pointers)
    if (q.pointer && reinterpret_cast<std::uintptr_t>(q.pointer) % alignof(float) != 0)
      return unsupported(fmt::format("MatmulArgs::{} = {} is not 4-byte aligned: it holds f32 values", q.name,
                                     q.pointer));
  return p;
}

}  // namespace tilefuse::ops
