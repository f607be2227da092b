// tilefuse — the public C++ API: a GEMM with your activation fused into its
// epilogue, JIT-compiled on first use and launched on your CUDA stream.
//
//   tilefuse::Runtime rt;
//   auto op = rt.matmul({.activation = "gelu(x)", .dtype = tilefuse::DType::BF16, .bias = true});
//   if (!op) { report(op.error()); return; }
//   MatmulArgs args{.a = A, .b = B, .d = D, .shape = {M, N, K}, .bias = bias};
//   auto ok = (*op)(stream, args);                  // D = gelu(A·B + bias), on `stream`
//   // no bias, parameters by name:  (*op)(stream, A, B, D, {M, N, K}, {{"a", 0.2f}})
//
// Every call returns an Expected (error.hpp); nothing throws or aborts. A
// launch never synchronizes the host and never allocates once the kernel for
// its (architecture, tile) exists, so it can be captured in a CUDA graph.
// Without a CUDA driver every launch fails with ErrorCode::NoDevice while
// compiling (MatmulOp::compile) still works.
#pragma once

#include <array>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "tilefuse/error.hpp"
#include "tilefuse/types.hpp"  // DType, Precision, Arch, TileConfig (plain values)

// The driver's stream handle (identical to the runtime API's cudaStream_t);
// declared here so that this header does not need <cuda.h>.
struct CUstream_st;
typedef struct CUstream_st* CUstream;

namespace tilefuse {

/// Problem size: D is M x N, the reduction runs over K. Each must be >= 1.
struct Shape {
  long long m = 0, n = 0, k = 0;
};

/// Runtime parameters of the activation by name, e.g. {{"a", 0.2f}}.
using Params = std::map<std::string, float, std::less<>>;

/// Row inputs and column inputs one op may declare (each kind).
inline constexpr int kMaxRowColInputs = 4;

/// How the rows of a grouped (mixture-of-experts) GEMM belong to its groups
/// (experts). Every group e multiplies its rows of A by its own weights B[e];
/// one launch covers all groups, reading the group sizes from device memory
/// (no host synchronization: the launch can be captured in a CUDA graph).
enum class GroupLayout {
  /// A plain (batched) GEMM.
  None,
  /// A is [T, K] with the tokens sorted by group; MatmulArgs::group_offsets
  /// holds E+1 ascending device int32 row offsets (offsets[0] = 0,
  /// offsets[E] = T = shape.m): group e owns rows [offsets[e], offsets[e+1]).
  /// D (and C, aux, row inputs) are [T, ...] in the same row order. Groups
  /// may be empty; any sizes (not multiples of the tile).
  Contiguous,
  /// A is [E, M_max, K] (shape.m = M_max; MatmulArgs::group_rows holds E
  /// device int32 valid-row counts in [0, M_max]): the decode case. D is
  /// [E, M_max, N]; rows past a group's count are neither read for a result
  /// nor written.
  Masked,
};

/// What is fused: fixed when the op is created (each combination is one kernel).
struct MatmulOptions {
  /// Activation in the tilefuse DSL (docs/dsl.md): "gelu(x)", "x * sigmoid(1.702 * x)",
  /// "leaky_relu(x, a)" (runtime parameter a), or a gated form "swiglu(gate, up)".
  std::string activation = "x";
  /// Element type of A, B and the bias. DType::E4M3: FP8 inputs (sm_89,
  /// sm_90 through mma.sync; docs/fp8.md): A row-major and B as N x K
  /// (b_col_major = true, PyTorch Linear weights), K a multiple of 16; the
  /// bias is then bf16; scaled by `scale` (MatmulArgs::scale_a / scale_b);
  /// D is then e4m3 unless out_dtype says otherwise (e.g. DType::BF16).
  DType dtype = DType::BF16;
  /// FP8 only: B's element type when it differs from A's (DType::E5M2).
  std::optional<DType> b_dtype;
  /// FP8 inputs only: how MatmulArgs::scale_a / scale_b scale A and B.
  ScaleMode scale = ScaleMode::PerTensor;
  /// FP8 (E4M3) output only: also write max |value| over all of D, taken
  /// before scale_d and the quantisation, to MatmulArgs::amax (one float).
  bool amax = false;
  /// Add a per-column bias (N values in `dtype`; bf16 for FP8 inputs) before the activation.
  bool bias = false;
  /// Names the activation reads as per-row / per-column f32 vectors that
  /// each launch supplies (MatmulArgs::row_inputs / col_inputs, same order),
  /// e.g. row_inputs = {"route"} (a token's routing weight), col_inputs =
  /// {"s"} (a per-channel scale) for "gelu(x * s) * route". At most
  /// kMaxRowColInputs each; every one must be read by the activation
  /// (docs/dsl.md, "Row and column inputs"). Forward ops only (not
  /// matmul_backward, not Runtime::tune yet).
  std::vector<std::string> row_inputs;
  std::vector<std::string> col_inputs;
  /// Add a residual beta·C (M x N in the output type) before the activation.
  bool residual = false;
  /// Also store the pre-activation value alpha·A·B + bias + beta·C (M x N, output type).
  /// Gated: store both pre-activations for the backward, aux = [gate | up]
  /// (M x 2N: gate = A·W_gate in columns [0, N), up = A·W_up in [N, 2N));
  /// mma.sync kernels only: on Hopper such an op runs the sm_90 kernel
  /// (Unsupported when Arch::Sm90a is forced: the wgmma kernel has no aux).
  bool aux = false;
  /// Element type of D, C and aux; default: `dtype`. DType::E4M3 (FP8
  /// inputs only): D = satfinite_e4m3(value * scale_d), no C and no aux.
  std::optional<DType> out_dtype;
  /// B is N x K (a PyTorch Linear weight) instead of K x N.
  bool b_col_major = false;
  /// Gated activations only. 0: two weight matrices W_gate and W_up, each
  /// shaped like a plain B. k > 0: ONE matrix of 2N features in which blocks of
  /// k gate features alternate with blocks of k up features (feature f of
  /// block j: gate f + j·2k, up f + j·2k + k); k must divide N and be a multiple of 8.
  int gate_interleave = 0;
  Precision precision = Precision::Precise;
  /// Force a tile (the autotuner does); default: the target's heuristic for the launch shape.
  std::optional<TileConfig> tile;
  /// A grouped GEMM (mixture of experts): one launch for MatmulArgs::groups
  /// experts with per-expert B (MatmulArgs::stride_b between experts,
  /// packed: one K x N / N x K matrix each; gated: W_gate and W_up each
  /// [E, ...], or one interleaved [E, ...] matrix), per-expert bias
  /// (stride_bias) and column inputs (stride_col_inputs); row inputs follow
  /// A's rows. See GroupLayout. Forward and matmul_backward ops.
  GroupLayout grouped = GroupLayout::None;
  /// Compile for this architecture instead of the current device's. A device
  /// loads the kernel's cubin (same major, equal or newer minor) or JITs its
  /// PTX (a newer major, e.g. Arch::Sm80 on Hopper); a launch on a device
  /// that can do neither (an older one, or sm_90a off Hopper) is Unsupported.
  std::optional<Arch> arch;
};

/// Marks a batch stride as "tightly packed" (rows x leading dimension).
inline constexpr long long kPackedStride = -1;

/// Every argument of one launch. Pointers are device pointers; leading
/// dimensions and strides count elements. Requirements (checked on the host,
/// an error says which is violated): A, B, W_up, D, C, aux 16-byte aligned;
/// leading dimensions and batch strides multiples of 8 elements; bias 8-byte
/// aligned; M, N, K >= 1.
struct MatmulArgs {
  const void* a = nullptr;     ///< M x K, row-major
  const void* b = nullptr;     ///< K x N row-major (N x K with b_col_major); gated: W_gate,
                               ///< or the 2N-feature interleaved matrix
  const void* b_up = nullptr;  ///< gated with two weight matrices: W_up (same layout as b)
  void* d = nullptr;           ///< M x N, row-major, output type
  Shape shape;
  /// 0: packed (lda = K; ldb = the width of B: N, 2N interleaved, K col-major;
  /// ldd = N). Packed rows of a width that is not a multiple of 8 are rejected
  /// (Unsupported): pad them and pass the leading dimension.
  long long lda = 0, ldb = 0, ldd = 0;
  float alpha = 1.0f;                   ///< scales A·B (single-input activations only)
  float beta = 1.0f;                    ///< scales C
  const void* bias = nullptr;           ///< N values in the input type, bf16 for FP8 (options.bias)
  const void* c = nullptr;              ///< M x N residual in the output type (options.residual)
  long long ldc = 0;                    ///< 0: N
  void* aux = nullptr;                  ///< M x N pre-activation output (options.aux);
                                        ///< gated: M x 2N, row = [gate | up]
  long long ld_aux = 0;                 ///< 0: N (gated: 2N; must be >= 2N)
  int batch = 1;                        ///< independent problems, strides below
  long long stride_a = kPackedStride, stride_b = kPackedStride, stride_c = kPackedStride,
            stride_d = kPackedStride, stride_aux = kPackedStride;  ///< 0 broadcasts (e.g. one B)
  /// The declared row inputs (options.row_inputs order): M f32 values each,
  /// 4-byte aligned; stride_row_inputs[k] elements between batches
  /// (kPackedStride: M; 0: one vector for every batch). Likewise the column
  /// inputs with N values. Unused slots must stay null.
  std::array<const float*, kMaxRowColInputs> row_inputs{};
  std::array<const float*, kMaxRowColInputs> col_inputs{};
  std::array<long long, kMaxRowColInputs> stride_row_inputs{kPackedStride, kPackedStride, kPackedStride,
                                                             kPackedStride};
  std::array<long long, kMaxRowColInputs> stride_col_inputs{kPackedStride, kPackedStride, kPackedStride,
                                                             kPackedStride};
  /// Grouped ops (MatmulOptions::grouped) only; `batch` must then stay 1.
  /// groups: E >= 1 experts. Contiguous: group_offsets = E+1 device int32
  /// (group_rows null). Masked: group_rows = E device int32 counts
  /// (group_offsets null); A, D, C, aux and row inputs are batch-strided by
  /// expert (stride_a, stride_d, ... with the packed defaults M_max x ld).
  /// B, bias and column inputs are per expert in both layouts.
  int groups = 0;
  const int* group_offsets = nullptr;
  const int* group_rows = nullptr;
  /// Elements between the bias vectors of consecutive experts (grouped ops;
  /// kPackedStride: N; 0: one bias shared by every expert).
  long long stride_bias = kPackedStride;
  /// FP8 ops only (MatmulOptions::dtype E4M3; docs/fp8.md), device f32.
  /// D = act(alpha * scale_a * scale_b * (A·B) + bias + ...).
  /// ScaleMode::PerTensor: one float each, null = 1.0.
  /// ScaleMode::Block128 (both required): scale_a is float[ceil(K/128)][M]
  /// (K-block-major, M contiguous; per batch stride ceil(K/128)*M), scale_b
  /// is float[ceil(N/128)][ceil(K/128)] per batch (block (n/128, k/128) of B
  /// as N x K).
  const float* scale_a = nullptr;
  const float* scale_b = nullptr;
  /// FP8 output only: D = satfinite_e4m3(value * scale_d); null = 1.0.
  const float* scale_d = nullptr;
  /// MatmulOptions::amax only: receives max |value| over all of D (before
  /// scale_d and the quantisation); the launch zeroes it first, in stream
  /// order (a cuMemsetD32Async: capturable in a CUDA graph).
  float* amax = nullptr;
};

/// What compiling one kernel variant produced (no GPU needed).
struct KernelInfo {
  std::string arch;        ///< "sm_80", "sm_90a", ...
  TileConfig tile;
  int registers = 0;
  int spill_bytes = 0;
  int shared_bytes = 0;    ///< dynamic shared memory a launch uses
  unsigned threads = 0;    ///< per block
  std::map<std::string, int> ptx_instructions;  ///< mma_sync, ldmatrix, cp_async, ...
  bool cache_hit = false;  ///< memory or disk cache
  double compile_ms = 0;   ///< NVRTC time (0 on a hit)
};

namespace detail {
struct RuntimeState;
struct MatmulState;
}  // namespace detail

/// A fused GEMM: cheap to copy (copies share the compiled kernels); thread-safe.
class MatmulOp {
 public:
  /// Runtime parameter names, in the order the span overload expects values.
  const std::vector<std::string>& parameters() const;
  /// True for a forward op of a gate/up activation (dual GEMM: b and b_up);
  /// false for every backward op (one B, the gated one included).
  bool gated() const;
  const MatmulOptions& options() const;

  /// D = act(A·B [+ bias])... with packed leading dimensions (single input), or
  /// act(gate, up) with an interleaved weight matrix B (gate_interleave > 0).
  Expected<void> operator()(CUstream stream, const void* a, const void* b, void* d, Shape shape,
                            const Params& params = {}) const;
  /// Gated with two weight matrices: D = act(A·W_gate, A·W_up).
  Expected<void> operator()(CUstream stream, const void* a, const void* w_gate, const void* w_up,
                            void* d, Shape shape, const Params& params = {}) const;
  /// Full form: leading dimensions, alpha, beta, bias, C, aux, batch.
  Expected<void> operator()(CUstream stream, const MatmulArgs& args, const Params& params = {}) const;
  /// Full form with parameter values in parameters() order (no name lookups).
  Expected<void> operator()(CUstream stream, const MatmulArgs& args,
                            std::span<const float> parameter_values) const;

  /// Compiles (or finds in the cache) the kernel a launch of `shape` would
  /// use on `arch`. Needs no GPU.
  Expected<KernelInfo> compile(Shape shape, Arch arch) const;

 private:
  friend class Runtime;
  MatmulOp() = default;  // made by Runtime::matmul
  std::shared_ptr<detail::MatmulState> state_;
};

/// How a launch whose op forces no tile chooses one.
enum class TuningMode {
  /// The tuner's recorded choice for the op and shape (from `tilefuse tune`
  /// or Runtime::tune on this GPU, or from `tuning_file`), else the heuristic.
  Recorded,
  /// Always the zero-GPU-time heuristic; no tuning database is read.
  Heuristic,
};

struct RuntimeOptions {
  /// Kernel cache directory; unset: $TILEFUSE_CACHE_DIR or the user cache
  /// directory (runtime/DiskStore.h). disk_cache = false keeps kernels in memory only.
  /// The per-GPU tuning databases live in its tuning/ folder either way.
  std::optional<std::string> cache_dir;
  bool disk_cache = true;
  TuningMode tuning = TuningMode::Recorded;
  /// Use the records of this file (one GPU's database, written by `tilefuse
  /// tune --export` or Runtime::export_tuning and shipped with a deployment)
  /// whatever GPU is current, instead of the cache's database for the current
  /// GPU. Read once, on first use, and never written: launches are then
  /// deterministic across processes and ranks. A missing or malformed file
  /// makes launches fail with an error naming it.
  std::optional<std::string> tuning_file;
};

/// Runtime::tune's knobs; the defaults tune for real on the current GPU.
struct TuneOptions {
  /// Stop timing new candidates after this much wall time per shape (the
  /// heuristic and the recorded ones are always known).
  std::optional<double> budget_s;
  /// Use recorded choices only: compile and time nothing.
  bool deterministic = false;
  /// Time again the configs the database already has.
  bool retime = false;
  /// Time with the deterministic model of tune/SimulatedTimer instead of CUDA
  /// events: for CI and demos without a GPU. Its records go to the
  /// "simulated" database, never to a real GPU's.
  bool simulate = false;
  /// Architecture to tune for; default: the current GPU's (sm_80 when simulating).
  std::optional<Arch> arch;
};

/// The outcome of tuning one shape.
struct TuneSummary {
  Shape shape;
  Arch arch = Arch::Sm80;              ///< the architecture tuned for
  TileConfig tile;                     ///< what launches of this shape will use
  std::optional<double> ms;            ///< its median time; unset when nothing was timed
  std::optional<double> heuristic_ms;  ///< the heuristic's median time
  std::string chosen_from;             ///< "tuned", "recorded-nearest" or "heuristic"
  std::size_t candidates = 0, timed = 0, failed = 0;
  double wall_s = 0;
  std::string database;                ///< the file the records went to
};

/// Owns the kernel cache; ops created from it keep it alive.
class Runtime {
 public:
  /// Shares the process-wide kernel cache.
  Runtime();
  /// A kernel cache of its own.
  explicit Runtime(const RuntimeOptions& options);

  /// Parses and checks the activation (InvalidInput with a positioned
  /// diagnostic) and the option combination; kernels are compiled on first use.
  Expected<MatmulOp> matmul(const MatmulOptions& options) const;
  /// The backward GEMM of a single-input activation (its derivative comes
  /// from tilefuse-differentiate, docs/dsl.md "Derivatives"), as cuBLASLt's
  /// DGELU epilogue but for any activation. A launch computes
  ///   D = (alpha · A·B) ⊙ act'(z),   z read from args.aux (ld_aux, stride_aux)
  /// e.g. A = dY (M x N_out), B = W (b_col_major for a K x N_out row-major W,
  /// so that A·B = dY·Wᵀ), z = the forward's pre-activation (the forward op's
  /// aux output, in out_dtype), D = dZ (M x K, out_dtype).
  /// `options.aux` is implied (args.aux is required); bias, residual and
  /// gate_interleave must be off. Gated activation (SwiGLU, GeGLU): A·B is
  /// dH (M x N, e.g. dY·W_downᵀ), args.aux is the gated forward's aux
  /// [gate | up] (M x 2N, ld_aux >= 2N) and D = [dgate | dup] (M x 2N,
  /// ldd default 2N): dgate = dH ⊙ ∂act/∂gate, dup = dH ⊙ ∂act/∂up. With
  /// W_gate and W_up stored side by side as one K x 2N matrix W = [W_gate | W_up],
  /// D is exactly the left operand of the input gradient dX = D · Wᵀ and of
  /// dW = Xᵀ · D (plain matmuls). Every architecture runs the mma.sync
  /// template; Runtime::tune rejects the op.
  Expected<MatmulOp> matmul_backward(const MatmulOptions& options) const;

  /// Autotunes `op`'s tile for each shape (the tuner of `tilefuse tune`:
  /// candidates compiled in parallel, timed with CUDA events, every result
  /// recorded in the GPU's tuning database), so that later launches of these
  /// shapes — in this process and in later ones — use the fastest config.
  /// Synchronizes the device: call it at start-up, not inside a CUDA graph.
  /// NoDevice without a GPU (after compiling the candidates) unless `simulate`.
  Expected<std::vector<TuneSummary>> tune(const MatmulOp& op, std::span<const Shape> shapes,
                                          const TuneOptions& options = {}) const;
  /// Writes the current GPU's tuning database (the simulated one with
  /// `simulated`) to `file`, for RuntimeOptions::tuning_file or `tilefuse tune --import`.
  Expected<void> export_tuning(const std::string& file, bool simulated = false) const;

 private:
  Runtime(const RuntimeOptions& options, bool shared_cache);
  std::shared_ptr<detail::RuntimeState> state_;
};

}  // namespace tilefuse
