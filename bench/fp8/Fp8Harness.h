// The measuring half of tilefuse_bench_fp8 (fp8_bench.cpp has the command
// line): one shape at a time, every variant of the selection for tilefuse and
// the cuBLASLt peers — timed (EventTimer), checked against float64
// (Fp8Check.h), recorded in the results.json format, or listed as not run
// with the reason, or as an error; a failing variant never stops the others.
#pragma once

#include <cuda.h>

#include <random>

#include <nlohmann/json.hpp>

#include "bench/fp8/CublasLtFp8.h"
#include "bench/fp8/Fp8Kernels.h"
#include "bench/fp8/Fp8Variants.h"
#include "bench/gemm/EventTimer.h"
#include "runtime/Driver.h"

namespace tilefuse::bench {

struct Bench {
  CUstream stream;
  const runtime::DriverApi& api;
  EventTimer timer;
  TimingOptions timing;
  Fp8Kernels kernels;
  CublasLtFp8 lt;
  Runtime rt;
  Arch arch;
  std::mt19937_64 rng;
  nlohmann::json records = nlohmann::json::array();
  nlohmann::json not_run = nlohmann::json::array();
  nlohmann::json errors = nlohmann::json::array();
};

/// Fresh e4m3 A and W for `s`, then for each scaling: cuBLASLt plain (and
/// with fast accumulation), and per activation tilefuse, cuBLASLt + the
/// separate activation, cuBLASLt's GELU epilogue (gelu_tanh); per-tensor also
/// with e4m3 output and amax. An error returned here (allocation, fill) ends
/// the shape; the variants' own errors are in b.errors.
Expected<void> bench_shape(Bench& b, const Shape3& s, const Selection& sel);

}  // namespace tilefuse::bench
