// The compiler's public entry points (no MLIR types): expression text or a
// builder-made AST in, IR stages and the CUDA epilogue out; and a CPU-JIT'd
// evaluator of the lowered epilogue IR.
#pragma once

#include <array>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "compiler/Types.h"
#include "dsl/Ast.h"
#include "dsl/Resolve.h"
#include "tilefuse/error.hpp"

namespace tilefuse::compiler {

/// What the user asks for.
struct KernelSpec {
  std::string expression;                ///< DSL text (ignored when `program` is set)
  std::optional<dsl::Program> program;   ///< builder-made AST
  DType input_type = DType::BF16;   ///< A's (and B's) element type; E4M3: FP8 inputs
  DType output_type = DType::BF16;
  /// FP8 inputs only: B's element type when it is not input_type (E5M2).
  std::optional<DType> b_type;
  /// FP8 inputs only: how the scales apply (MatmulOptions::scale).
  ScaleMode scale = ScaleMode::PerTensor;
  /// FP8 output only: also reduce max |value| into the amax output.
  bool amax = false;
  bool b_col_major = false;
  bool bias = false;
  bool residual = false;
  bool aux = false;
  /// Gated weights: 0 = two separate matrices (W_gate, W_up); k > 0 = one
  /// matrix whose gate/up features alternate in blocks of k (see gemm_sm80.cuh).
  int gate_interleave = 0;
  /// Declared per-row / per-column f32 input vectors the expression may read
  /// by name (dsl::OperandDeclarations; MatmulOptions::row_inputs/col_inputs).
  std::vector<std::string> row_inputs;
  std::vector<std::string> col_inputs;
  Precision precision = Precision::Precise;
  Arch arch = Arch::Sm80;
  std::optional<std::array<long long, 3>> shape_hint;  ///< M, N, K for the tile heuristic
  std::optional<TileConfig> tile;                      ///< forced (autotuner) config
  /// Compile the BACKWARD epilogue(s) (tilefuse-differentiate): for each input
  /// w of the activation f, dy · ∂f/∂w. The CUDA text then defines
  /// TF_EPILOGUE_GRAD 1 and `tf_epilogue(dy, x, params)` (single input) or
  /// `tf_epilogue_dgate(dy, gate, up, params)` + `tf_epilogue_dup(...)` (gated).
  bool gradient = false;
};

/// Every stage of one compilation.
struct CompiledEpilogue {
  std::string ast;        ///< S-expression of the resolved AST      (--stage ast)
  std::string mlir;       ///< tilefuse dialect as lowered from the AST (--stage mlir)
  std::string lowered;    ///< after the whole pass pipeline           (--stage lowered)
  std::string cuda;       ///< CUDA C++ of the epilogue                (--stage cuda)
  dsl::InputKind inputs = dsl::InputKind::Single;
  std::vector<std::string> parameters;  ///< runtime parameter names, in order
  std::vector<std::string> row_inputs;  ///< declared row inputs, in order
  std::vector<std::string> col_inputs;  ///< declared column inputs, in order
  TileConfig tile;                      ///< the tile config the IR carries
  /// Backward compilations: the inputs differentiated, in order ("x", or
  /// "gate", "up"); empty for a forward epilogue.
  std::vector<std::string> gradient_inputs;
};

/// Runs the whole pipeline. Errors: InvalidInput for DSL problems (positioned
/// diagnostics), CompileFailed for pipeline failures (with MLIR diagnostics).
Expected<CompiledEpilogue> compile(const KernelSpec& spec);

/// Like compile(), but prints the IR after every pass into `out` (for
/// `--stage=all` debugging and the docs).
Expected<std::string> dump_all_stages(const KernelSpec& spec);

/// The lowered (post-approximation, scalar) epilogue JIT-compiled for the
/// host CPU through MLIR → LLVM.
class CpuEpilogue {
 public:
  virtual ~CpuEpilogue() = default;
  virtual dsl::InputKind inputs() const = 0;
  virtual const std::vector<std::string>& parameters() const = 0;
  /// Declared row / column inputs (KernelSpec::row_inputs / col_inputs).
  virtual const std::vector<std::string>& row_inputs() const = 0;
  virtual const std::vector<std::string>& col_inputs() const = 0;
  /// Input arrays evaluate() takes: 1 (x) or 2 (gate, up), a backward
  /// epilogue takes dy first (2 or 3); then one array per row input and one
  /// per column input, in declaration order.
  virtual std::size_t input_count() const = 0;
  /// out[i] = epilogue(inputs[0][i] (, inputs[1][i]); params...; rows[i]...; cols[i]...).
  /// `inputs` has input_count() pointers of out.size() elements (the row and
  /// column values of element i's row and column); `params` one value per
  /// parameter in parameters() order.
  virtual Expected<void> evaluate(std::span<const float* const> inputs,
                                  std::span<const float> params,
                                  std::span<float> out) const = 0;
};

/// `spec.gradient` must be false here (see compile_gradient_for_cpu).
Expected<std::unique_ptr<CpuEpilogue>> compile_for_cpu(const KernelSpec& spec);

/// The backward epilogues of `spec`'s activation (spec.gradient is implied),
/// JIT-compiled for the CPU: partials[k] computes dy · ∂f/∂wrt[k] and takes
/// the input arrays (dy, x) or (dy, gate, up). With dy = 1 it is the
/// derivative itself (1 · d = d exactly in IEEE arithmetic).
struct CpuGradient {
  std::vector<std::string> wrt;                       ///< "x", or "gate", "up"
  std::vector<std::unique_ptr<CpuEpilogue>> partials;  ///< one per entry of wrt
};
Expected<CpuGradient> compile_gradient_for_cpu(KernelSpec spec);

}  // namespace tilefuse::compiler
