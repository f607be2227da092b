// The benchmark's helper kernels, compiled with NVRTC:
//  - fill_random: fresh uniform bf16/f16 data on the device (hash of the
//    index and a seed; never zero), so that multi-GB inputs need no host RNG;
//  - the separate activation kernel of the "cublas+act" baseline: reads the
//    GEMM's 16-bit output (4 adjacent elements, one 8-byte load), applies
//    tilefuse's generated epilogue (the same tf_epilogue the fused kernel
//    runs) and writes 16-bit output — what a framework's activation kernel
//    after a GEMM does.
#pragma once

#include <cuda.h>

#include "compiler/Pipeline.h"
#include "runtime/Module.h"
#include "tilefuse/error.hpp"

namespace tilefuse::bench {

/// CUDA source the benchmarks' stand-alone element-wise kernels start with:
/// tf_bench_load (a 16-bit input element → float, bf16 or f16 as the
/// epilogue's output type) and TfBenchIn (4 such elements, one 8-byte load).
extern const char* const kBenchKernelPrelude;

class RandomFill {
 public:
  static Expected<RandomFill> load(const std::string& arch);
  /// n elements at `data` (16-bit), uniform in [-scale, scale) \ {0}.
  Expected<void> run(CUstream stream, void* data, long long n, unsigned long long seed, float scale,
                     compiler::DType type) const;

 private:
  runtime::Kernel bf16_, f16_;
  int sm_count_ = 1;  ///< device 0's, queried once by load()
};

class ActivationKernel {
 public:
  /// The epilogue of `spec` (16-bit in and out, 4 elements per call).
  static Expected<ActivationKernel> load(const compiler::KernelSpec& spec);
  /// out[r, c] = act(in[r, c]) for a rows x cols output (cols % 4 == 0);
  /// gated: act(in[r, c], in[r, cols + c]) with `in` rows of 2*cols.
  Expected<void> run(CUstream stream, const void* in, void* out, long long rows, long long cols,
                     const std::vector<float>& params) const;
  bool gated() const { return gated_; }

 private:
  runtime::Kernel kernel_;
  bool gated_ = false;
  size_t parameter_count_ = 0;
  int sm_count_ = 1;  ///< device 0's, queried once by load(), not per timed launch
};

}  // namespace tilefuse::bench
