// See WgmmaSource.h.
#include "runtime/ops/WgmmaSource.h"

#include <fmt/format.h>

namespace tilefuse::ops {

std::string wgmma_opcode(const WgmmaShape& shape) {
  if (shape.fp8) return fmt::format("m64n{}k32.f32.e4m3.{}", shape.n, shape.b_e5m2 ? "e5m2" : "e4m3");
  const char* type = shape.bf16 ? "bf16" : "f16";
  return fmt::format("m64n{}k16.f32.{}.{}", shape.n, type, type);
}

std::string wgmma_wrapper_source(const WgmmaShape& shape) {
  const int registers = shape.n / 2;
  std::string accumulators, operands;
  for (int i = 0; i < registers; ++i) {
    accumulators += fmt::format("{}%{}", i == 0 ? "" : ", ", i);
    operands += fmt::format("{}\"+f\"(d[{}])", i == 0 ? "" : ", ", i);
  }
  if (shape.fp8) {
    // Operands after the accumulators: desc_a, desc_b, accumulate (scale-d:
    // 0 overwrites d, which Block128's per-k-tile partial sums use). A and B
    // are not negated; FP8 wgmma has no transpose operands (both K-major).
    return fmt::format(
        "namespace tf::sm90 {{\n"
        "/// d = A·B + (accumulate ? d : 0), one 64x{n}x32 FP8 step of a warpgroup, A and B from shared\n"
        "/// memory (generated: runtime/ops/WgmmaSource.cpp). d is the m64n{n} fp32 fragment, {r} values per thread.\n"
        "__device__ __forceinline__ void wgmma_m64k32(float (&d)[{r}], unsigned long long desc_a,\n"
        "                                             unsigned long long desc_b, int accumulate) {{\n"
        "  asm volatile(\n"
        "      \"{{\\n .reg .pred p;\\n setp.ne.b32 p, %{sd}, 0;\\n\"\n"
        "      \" wgmma.mma_async.sync.aligned.{op} {{{acc}}}, %{da}, %{db}, p, 1, 1;\\n}}\\n\"\n"
        "      : {ops}\n"
        "      : \"l\"(desc_a), \"l\"(desc_b), \"r\"(accumulate));\n"
        "}}\n"
        "}}  // namespace tf::sm90\n",
        fmt::arg("n", shape.n), fmt::arg("r", registers), fmt::arg("op", wgmma_opcode(shape)),
        fmt::arg("acc", accumulators), fmt::arg("da", registers), fmt::arg("db", registers + 1),
        fmt::arg("sd", registers + 2), fmt::arg("ops", operands));
  }
  // Operands after the accumulators: desc_a, desc_b. Scale-d is the constant
  // predicate 1 (the kernel zeroes the accumulators of a new tile); A and B
  // are not negated; A is K-major; B is K-major (0) or N-major (1).
  return fmt::format(
      "namespace tf::sm90 {{\n"
      "/// d += A·B, one 64x{n}x16 step of a warpgroup, A and B from shared memory (generated:\n"
      "/// runtime/ops/WgmmaSource.cpp). d is the m64n{n} fp32 fragment, {r} values per thread.\n"
      "__device__ __forceinline__ void wgmma_m64k16(float (&d)[{r}], unsigned long long desc_a,\n"
      "                                             unsigned long long desc_b) {{\n"
      "  asm volatile(\n"
      "      \"{{\\n .reg .pred p;\\n setp.ne.b32 p, 1, 0;\\n\"\n"
      "      \" wgmma.mma_async.sync.aligned.{op} {{{acc}}}, %{da}, %{db}, p, 1, 1, 0, {tb};\\n}}\\n\"\n"
      "      : {ops}\n"
      "      : \"l\"(desc_a), \"l\"(desc_b));\n"
      "}}\n"
      "}}  // namespace tf::sm90\n",
      fmt::arg("n", shape.n), fmt::arg("r", registers), fmt::arg("op", wgmma_opcode(shape)),
      fmt::arg("acc", accumulators), fmt::arg("da", registers), fmt::arg("db", registers + 1),
      fmt::arg("tb", shape.b_n_major ? 1 : 0), fmt::arg("ops", operands));
}

}  // namespace tilefuse::ops
