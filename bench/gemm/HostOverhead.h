// Host-side costs a user pays per call and per new kernel, measured on the
// device machine (issue 7): what Triton's launcher and Triton's JIT cost is
// measured by bench/peers/peers.py the same way.
//
//  - launch: host microseconds per call of MatmulOp::operator() for a kernel
//    already loaded (steady_clock around 100 back-to-back launches, median of
//    20 rounds, the stream drained between rounds so the queue never blocks);
//    the full form with values in parameters() order and the named-parameter
//    form, and cublasGemmEx for scale;
//  - jit: the first call of a new op in a new Runtime over an empty cache
//    directory (cold: MLIR pipeline + NVRTC + store + module load + launch)
//    and over the directory that run left (warm: emit + disk hit + module
//    load + launch), until the call returns.
#pragma once

#include <cuda.h>

#include <nlohmann/json.hpp>

#include "CublasGemm.h"
#include "tilefuse/tilefuse.hpp"

namespace tilefuse::bench {

/// Records {impl, api, activation, M, N, K, us_per_call}.
Expected<nlohmann::json> measure_launch_overhead(CUstream stream, const CublasGemm& cublas, DType dtype);

/// Records {impl, activation, M, N, K, dtype, cold_ms, warm_ms}.
Expected<nlohmann::json> measure_jit(CUstream stream, DType dtype, const std::vector<std::string>& activations);

}  // namespace tilefuse::bench
