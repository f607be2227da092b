// The tilefuse side of the FP8 benchmark: which variants a run measures and
// how each becomes a tilefuse op (options, the kernel compiled for the launch
// shape, the sm_90a -> sm_90 fallback), and the DSL program its float64
// check applies. No GPU needed (tilefuse_bench_fp8 --compile-only uses it).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "bench/fp8/Fp8Scaling.h"
#include "dsl/Resolve.h"
#include "tilefuse/tilefuse.hpp"

namespace tilefuse::bench {

struct Shape3 {
  long long m, n, k;
};

/// One measured combination: what the record names.
struct Variant {
  const char* impl;
  std::string activation;  ///< "none" for a plain GEMM
  Fp8Scaling scaling;
  bool fp8_out = false;
};

/// What a run measures (command-line options).
struct Selection {
  std::vector<std::string> activations;
  std::vector<Fp8Scaling> scalings;
  bool fp8_out = true;
};

/// Every tilefuse variant a run of `sel` launches (FP8 outputs: per-tensor scaling only).
std::vector<Variant> tilefuse_variants(const Selection& sel);

/// The activation as tilefuse takes it: row-wise scaling multiplies x by the
/// row/column inputs first ("gelu(x * sa * sb)").
std::string tilefuse_expression(const std::string& activation, Fp8Scaling scaling);

/// The program the float64 check applies (row-wise: with sa, sb declared).
Expected<dsl::ResolvedProgram> reference_program(const std::string& activation, Fp8Scaling scaling);

/// The tilefuse options of a variant: e4m3 A and B (B as N x K), bf16 or e4m3
/// (with amax) D; row-wise scaling through the row/column inputs sa, sb.
MatmulOptions tilefuse_options(const Variant& v);

struct CompiledOp {
  MatmulOp op;
  KernelInfo info;
  std::optional<Error> sm90a_unsupported;  ///< set when sm_90a fell back to the mma.sync sm_90 kernel
};

/// The tilefuse op of a variant, compiled for shape `s` on `arch` (the
/// device's, which a launch uses without forcing one): on sm_90a falls back to
/// the mma.sync sm_90 kernel when the wgmma one is Unsupported. Unsupported
/// both ways: the error.
Expected<CompiledOp> compile_tilefuse(Runtime& rt, const Variant& v, const Shape3& s, Arch arch);

/// One tilefuse kernel a run needs: a variant at a launch shape.
struct CompileJob {
  Shape3 shape;
  Variant variant;
};
/// Every (shape, tilefuse variant) pair of a run, in the order it measures them.
std::vector<CompileJob> compile_jobs(const std::vector<Shape3>& shapes, const Selection& sel);
/// compile_tilefuse for every job, `jobs` at a time (NVRTC runs on the host's
/// cores: a run compiles its kernels up front in a few seconds instead of one
/// after another between measurements); results in job order.
std::vector<Expected<CompiledOp>> compile_all(Runtime& rt, const std::vector<CompileJob>& work, Arch arch,
                                              unsigned jobs);

}  // namespace tilefuse::bench
