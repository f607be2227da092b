// Checks a benchmarked output once against a float64 reference on a sample
// of rows x columns (edges included): A rows and W rows are read back, the
// accumulator is summed in float64, and for an activation the DSL
// interpreter applies it. ‖out − ref‖/‖ref‖ <= 1e-2 and no NaN = correct.
#pragma once

#include <random>

#include "dsl/Interpreter.h"
#include "dsl/Resolve.h"
#include "runtime/check/DeviceBuffer.h"
#include "tilefuse/tilefuse.hpp"

namespace tilefuse::bench {

/// A (M x K) and W (features x K) row-major, 16-bit, on the device. Gated:
/// gate feature j is W row j, up feature j is W row n + j.
struct BenchOperands {
  const gpu::DeviceBuffer* a = nullptr;
  const gpu::DeviceBuffer* w = nullptr;
  long long m = 0, n = 0, k = 0;
  DType type = DType::BF16;
};

struct SampleResult {
  double rel_error = 0;
  long long nan_count = 0;
  long long checked = 0;
  bool correct() const { return nan_count == 0 && checked > 0 && rel_error <= 1e-2; }
};

/// `out` is M x `out_ld` (16-bit). `program` null: plain GEMM (columns 0..n-1
/// hold features 0..n-1); else the activation (gated when `gated`).
Expected<SampleResult> check_sample(const BenchOperands& operands, const gpu::DeviceBuffer& out, long long out_ld,
                                    const dsl::ResolvedProgram* program, const dsl::ParameterValues& params,
                                    bool gated, std::mt19937_64& rng);

}  // namespace tilefuse::bench
