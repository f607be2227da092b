// The FP8 benchmark's helper kernels, compiled with NVRTC (sm_89 or newer:
// the e4m3 conversion instruction):
//  - Fp8Fill: fresh uniform e4m3 data on the device (the hash of
//    bench/gemm/BenchKernels.h's fill, rounded by cvt.rn.satfinite.e4m3x2.f32;
//    a value that rounds to zero becomes the smallest subnormal: never zero);
//  - MaxAbs: max |x| over a bf16 buffer into one float (atomicMax on the bit
//    pattern, which orders non-negative floats), the exact amax of a bf16
//    output that an FP8 output's amax is checked against.
#pragma once

#include <cuda.h>

#include <string>

#include "runtime/Module.h"
#include "tilefuse/error.hpp"

namespace tilefuse::bench {

class Fp8Kernels {
 public:
  static Expected<Fp8Kernels> load(const std::string& arch);
  /// Compiles (or finds in the kernel cache) the kernels for `arch` without loading them: no GPU needed.
  static Expected<void> compile(const std::string& arch);
  /// n e4m3 bytes at `data`, uniform in [-scale, scale) before rounding, never zero.
  Expected<void> fill_e4m3(CUstream stream, void* data, long long n, unsigned long long seed, float scale) const;
  /// *result = max |in[i]| over n bf16 values (*result must be 0 before; the
  /// caller zeroes it). NaN anywhere gives a NaN pattern.
  Expected<void> max_abs_bf16(CUstream stream, const void* in, long long n, float* result) const;

 private:
  runtime::Kernel fill_, max_abs_;
  int sm_count_ = 1;
};

}  // namespace tilefuse::bench
