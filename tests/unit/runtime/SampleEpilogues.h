// Hand-written epilogues that follow the generated-epilogue contract of
// templates/tilefuse/elementwise.cuh, for the runtime tests (the real emitter
// lives in the compiler). SiLU (x * sigmoid(x)) scaled by params.alpha:
// single → silu(x), gated → silu(gate) * up; output bf16 (2 bytes) or fp32.
#pragma once

#include <string>

#include <fmt/format.h>

#include "runtime/Nvrtc.h"

namespace tilefuse::runtime::testing {

inline std::string silu_epilogue_code(int vec, bool gated, int out_bytes) {
  const char* out_type = out_bytes == 2 ? "unsigned short" : "float";
  const char* convert = out_bytes == 2 ? "tf_to_bf16" : "";
  return fmt::format(R"(#define TF_EPILOGUE_VEC {vec}
#define TF_EPILOGUE_GATED {gated}
#define TF_EPILOGUE_OUT_BYTES {out_bytes}
struct TfEpilogueParams {{ float alpha; }};
struct alignas({align}) TfEpilogueOut {{ {out_type} v[{vec}]; }};
__device__ __forceinline__ unsigned short tf_to_bf16(float f) {{
  unsigned int u = __float_as_uint(f);
  if ((u & 0x7fffffffu) > 0x7f800000u) return 0x7fc0;  // NaN stays NaN
  u += 0x7fffu + ((u >> 16) & 1u);                      // round to nearest even
  return (unsigned short)(u >> 16);
}}
__device__ __forceinline__ float tf_silu(float x) {{ return x / (1.0f + expf(-x)); }}
#if TF_EPILOGUE_GATED
__device__ TfEpilogueOut tf_epilogue(const float (&g)[{vec}], const float (&u)[{vec}],
                                     const TfEpilogueParams& p) {{
  TfEpilogueOut o;
#pragma unroll
  for (int k = 0; k < {vec}; ++k) o.v[k] = {convert}(p.alpha * tf_silu(g[k]) * u[k]);
  return o;
}}
#else
__device__ TfEpilogueOut tf_epilogue(const float (&x)[{vec}], const TfEpilogueParams& p) {{
  TfEpilogueOut o;
#pragma unroll
  for (int k = 0; k < {vec}; ++k) o.v[k] = {convert}(p.alpha * tf_silu(x[k]));
  return o;
}}
#endif
#include "tilefuse/elementwise.cuh"
)",
                     fmt::arg("vec", vec), fmt::arg("gated", gated ? 1 : 0),
                     fmt::arg("out_bytes", out_bytes), fmt::arg("align", vec * out_bytes),
                     fmt::arg("out_type", out_type), fmt::arg("convert", convert));
}

inline Source silu_source(const std::string& arch, int vec = 4, bool gated = false,
                          int out_bytes = 2) {
  Source s;
  s.name = fmt::format("silu_v{}{}_o{}.cu", vec, gated ? "_gated" : "", out_bytes);
  s.code = silu_epilogue_code(vec, gated, out_bytes);
  s.kernel_names = {"tf_elementwise"};
  s.options.arch = arch;
  return s;
}

}  // namespace tilefuse::runtime::testing
