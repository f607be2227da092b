// Checks a benchmarked FP8 GEMM's output once against the float64 reference
// of Fp8Reference.h on a sample of rows x columns (first and last included):
// the e4m3 rows of A and W are read back and decoded exactly, the scaled
// accumulator is summed in float64, the activation applied by the DSL
// interpreter (with the row/column inputs sa, sb of row-wise scaling), and an
// FP8 output compared with the e4m3 rounding of that value times scale_d.
// ‖out − ref‖/‖ref‖ <= 1e-2 and no NaN = correct (as bench/gemm's check).
#pragma once

#include <random>

#include "bench/fp8/Fp8Reference.h"
#include "bench/gemm/SampledCheck.h"
#include "dsl/Interpreter.h"
#include "runtime/check/DeviceBuffer.h"

namespace tilefuse::bench {

/// A (M x K) and W (N x K) e4m3, row-major, on the device, and their scales.
struct Fp8Operands {
  const gpu::DeviceBuffer* a = nullptr;
  const gpu::DeviceBuffer* w = nullptr;
  const HostScales* scales = nullptr;
  long long m = 0, n = 0, k = 0;
};

struct Fp8SampleResult {
  SampleResult sample;
  double max_abs_ref = 0;  ///< largest |act(x)| among the sampled elements (before scale_d)
};

/// `out` is M x N, bf16 or (fp8_out) e4m3. `program` null: the plain scaled
/// product (activation "none"). Row-wise scaling: `program` reads sa and sb.
Expected<Fp8SampleResult> check_fp8_sample(const Fp8Operands& operands, const gpu::DeviceBuffer& out, bool fp8_out,
                                           float scale_d, const dsl::ResolvedProgram* program, std::mt19937_64& rng);

}  // namespace tilefuse::bench
