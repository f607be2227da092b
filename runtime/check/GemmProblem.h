// One fused-GEMM test problem: its description, fresh random host data in
// the exact device layout, the device copies, and the float64 reference of
// any output element (the DSL interpreter applied to the float64 accumulator).
#pragma once

#include <optional>
#include <random>
#include <string>

#include "runtime/check/DeviceBuffer.h"
#include "runtime/check/HostTensor.h"
#include "dsl/Interpreter.h"
#include "dsl/Resolve.h"
#include "tilefuse/tilefuse.hpp"

namespace tilefuse::gpu {

struct GemmCase {
  std::string name;
  std::string activation;
  Params params;                 ///< runtime parameter values
  DType in = DType::BF16;
  DType out = DType::BF16;
  bool b_col_major = false;
  bool bias = false, residual = false, aux = false;
  int gate_interleave = 0;       ///< gated only: 0 = two weight matrices
  Precision precision = Precision::Precise;
  long long m = 1, n = 1, k = 1;
  int batch = 1;
  bool broadcast_b = false;      ///< stride_b = 0: one B for every batch
  float alpha = 1.0f, beta = 1.0f;
  /// Forced tile (MatmulOptions::tile); default: the target's heuristic.
  std::optional<TileConfig> tile;
  /// Runs only where the GPU's kernels use the sm_90a (wgmma) mainloop: its
  /// forced tile is a warpgroup tile (compiler/Target/TargetInfo.h, Mainloop).
  bool sm90a_only = false;
  /// The sm_90a kernel cannot load this operand layout with TMA boxes: there
  /// the case passes when the launch reports Unsupported (never a wrong result).
  bool unsupported_on_sm90a = false;
  bool small() const { return m * n * k * batch <= (1LL << 24); }
};

/// Rounds up to a multiple of 8 elements (16-byte rows), plus `pad` more.
long long padded_ld(long long width, long long pad = 0);

struct GemmProblem {
  GemmCase spec;
  bool gated = false;
  long long features = 0;  ///< rows (col-major) or columns (row-major) of B: N, or 2N interleaved
  HostTensor a, b, b_up, bias, c;
  long long ldd = 0, ld_aux = 0;

  /// Fresh data: A uniform in [-1, 1), weights scaled by 2/sqrt(K) so that the
  /// accumulator spans the activations' interesting range; bias, C in [-1, 1).
  static GemmProblem make(const GemmCase& spec, bool gated, std::mt19937_64& rng);

  struct Reference {
    double out = 0;  ///< activation value
    double pre = 0;  ///< pre-activation (aux); for gated: the gate accumulator
    double up = 0;   ///< gated: the up accumulator (aux column N + col)
  };
  Expected<Reference> reference(const dsl::ResolvedProgram& program, const dsl::ParameterValues& params,
                                int batch, long long row, long long col) const;
};

/// The problem's tensors on the device, and the MatmulArgs that point at them.
struct DeviceProblem {
  DeviceBuffer a, b, b_up, bias, c, d, aux;
  MatmulArgs args;
  static Expected<DeviceProblem> upload(const GemmProblem& problem);
  /// 0xFF in every byte of D and aux (NaN in bf16, f16 and f32).
  Expected<void> poison_outputs();
};

/// The output tensor D the device writes (and aux of a single-input op).
HostTensor output_tensor(const GemmProblem& problem);
/// The aux tensor: like D, or M x 2N = [gate | up] for a gated op.
HostTensor aux_tensor(const GemmProblem& problem);

}  // namespace tilefuse::gpu
