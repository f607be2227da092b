// The cases the GPU harness runs: every built-in activation, the gated forms
// (two weight matrices and interleaved), bf16 and fp16, row- and col-major B,
// bias / residual / aux, batched, and the shapes 1x1x1, 127x255x63, 4096³,
// 8192x14336x4096.
#pragma once

#include <vector>

#include "runtime/check/GemmProblem.h"

namespace tilefuse::gpu {

/// `quick`: only the small shapes (for compute-sanitizer, which is slow).
std::vector<GemmCase> gemm_check_cases(bool quick);

}  // namespace tilefuse::gpu
