// The full CUDA translation unit of a fused kernel: the generated epilogue,
// the compile-time tile configuration read from the IR, and the mainloop
// template of the target. Composes compiler output with templates/; knows no
// NVRTC or driver.
#pragma once

#include <string>

#include "compiler/Pipeline.h"

namespace tilefuse::ops {

/// Name of the GEMM kernel entry in every generated source.
inline constexpr const char* kGemmKernelName = "tf_gemm";
/// Name of the stand-alone element-wise epilogue kernel.
inline constexpr const char* kElementwiseKernelName = "tf_elementwise";

/// The fused GEMM kernel source for `spec`, whose epilogue `epilogue` was
/// compiled from it (its tile and vector width come from the IR).
std::string gemm_kernel_source(const compiler::KernelSpec& spec,
                               const compiler::CompiledEpilogue& epilogue);

/// The macro lines a grouped kernel's source puts before the mainloop
/// template: "#define TF_GEMM_GROUPED 1" (contiguous) or 2 (masked), which
/// adds TfGroupedParams to TfGemmParams and makes the template include
/// tilefuse/grouped.cuh; empty for GroupLayout::None.
std::string grouped_defines(compiler::GroupLayout layout);

/// The element-wise kernel source (epilogue applied to a flat fp32 tensor).
std::string elementwise_kernel_source(const compiler::CompiledEpilogue& epilogue);

}  // namespace tilefuse::ops
