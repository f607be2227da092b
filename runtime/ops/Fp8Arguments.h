// The FP8 (issue 16) rules of a fused GEMM, checked on the host: which option
// combinations an FP8 op may have, which architectures run it, and the scale
// and amax pointers of one launch (TfFp8Params). docs/fp8.md has the numerics.
#pragma once

#include "compiler/Pipeline.h"
#include "compiler/Types.h"
#include "runtime/ops/GemmParams.h"
#include "tilefuse/error.hpp"
#include "tilefuse/tilefuse.hpp"

namespace tilefuse::ops {

/// What one compiled op expects of the FP8 arguments of a launch.
struct Fp8Operands {
  bool fp8 = false;          ///< FP8 inputs (the kernel has TfFp8Params)
  ScaleMode scale = ScaleMode::PerTensor;
  bool fp8_output = false;   ///< D is e4m3 (scale_d allowed)
  bool amax = false;         ///< the launch must pass MatmulArgs::amax
};

/// The FP8 rules of MatmulOptions (forward ops): InvalidInput for a
/// contradiction (E5M2 for A, an FP8 output of 16-bit inputs, amax without an
/// FP8 output, Block128 without FP8 inputs, b_dtype without FP8 inputs),
/// Unsupported for what the kernels cannot do (B not K-major, a forced
/// architecture without FP8 tensor cores, C or aux with an FP8 output).
Expected<void> check_fp8_options(const MatmulOptions& options);

/// check_fp8_options for a KernelSpec (the CLI builds specs directly), with
/// its architecture: what Runtime::matmul and the launch would reject.
Expected<void> check_fp8_spec(const compiler::KernelSpec& spec);

/// fp32 accumulators per thread an FP8 mma.sync kernel with `sets`
/// accumulator sets (x2 gated, x2 Block128's partial sums) holds without
/// spilling: 128 in all on sm_89; 32 per set (a 32x32 warp tile) on sm_90,
/// where the FP8 MMA's fragments take many more registers (measured with
/// fp8_compile_test, 2026-12-06: a 64x64 warp tile takes 240 registers on
/// sm_89 and spills 260 bytes on sm_90; 64x32 spills 40-60 bytes on sm_90;
/// two sets of 32x32 take 214-254 registers there).
int fp8_max_accumulators_per_thread(compiler::Arch arch, int sets);

/// The default `tile` (already fitted for a gated op) fitted for an FP8 op
/// on `arch`: the warp tile halved (N first, then M, down to 32) until the
/// accumulators fit fp8_max_accumulators_per_thread, and for Block128
/// k-tiles inside one 128-wide K block (block_k <= 64 slots = 128 values).
compiler::TileConfig fit_tile_to_fp8(compiler::TileConfig tile, compiler::Arch arch, bool gated, ScaleMode scale);

/// Unsupported unless `arch` runs FP8 inputs through the mma.sync kernel
/// (sm_89, sm_90); sm_90a (wgmma) is not there yet.
Expected<void> check_fp8_arch(compiler::Arch arch);

/// Checks the launch's FP8 pointers against `operands` (a 16-bit op takes
/// none; Block128 needs scale_a and scale_b; scale_d only with an FP8 output;
/// amax exactly when the op was created with it; every one 4-byte aligned)
/// and that K is a multiple of 16.
Expected<Fp8Params> make_fp8_params(const Fp8Operands& operands, const MatmulArgs& args);

}  // namespace tilefuse::ops
