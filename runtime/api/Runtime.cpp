// tilefuse::Runtime: owns the kernel cache and the tuning records, and
// creates MatmulOps, checking each op's activation and option combination
// once, up front (see tilefuse.hpp). Tuning itself: RuntimeTune.cpp.
#include <fmt/format.h>

#include "dsl/Resolve.h"
#include "runtime/DiskStore.h"
#include "runtime/ops/GemmParams.h"
#include "runtime/ops/MatmulState.h"
#include "runtime/tune/RecordedTiles.h"

namespace tilefuse {
namespace {

Error invalid(std::string message) { return make_error(ErrorCode::InvalidInput, std::move(message)); }

Expected<void> check_options(const MatmulOptions& o, dsl::InputKind inputs) {
  const bool gated = inputs == dsl::InputKind::Gated;
  if (o.dtype == DType::F32)
    return invalid("dtype f32 is not a tensor-core input type: A and B must be bf16 or f16 "
                   "(out_dtype may be f32)");
  if (auto ok = ops::check_fp8_options(o); !ok) return ok;
  if (gated && (o.bias || o.residual))
    return invalid(fmt::format("activation '{}' is gated (gate, up): a gated op takes no bias or "
                               "residual; fold a bias into the weights",
                               o.activation));
  // The [gate | up] aux store lives in the mma.sync epilogue only; on a
  // Hopper chosen at launch such an op runs the sm_90 mma.sync kernel
  // (MatmulState::launch_arch).
  if (gated && o.aux && o.arch == compiler::Arch::Sm90a)
    return make_error(ErrorCode::Unsupported,
                      fmt::format("activation '{}' is gated with aux, which the sm_90a (wgmma) kernel does "
                                  "not store: on Hopper force Arch::Sm90 (the mma.sync kernel) or leave "
                                  "MatmulOptions::arch unset, which chooses it",
                                  o.activation));
  if (o.row_inputs.size() > static_cast<std::size_t>(kMaxRowColInputs) ||
      o.col_inputs.size() > static_cast<std::size_t>(kMaxRowColInputs))
    return make_error(ErrorCode::Unsupported,
                      fmt::format("the op declares {} row and {} column input(s); a fused GEMM takes at most "
                                  "{} of each (kMaxRowColInputs)",
                                  o.row_inputs.size(), o.col_inputs.size(), kMaxRowColInputs));
  if (!gated && o.gate_interleave != 0)
    return invalid(fmt::format("gate_interleave = {} but activation '{}' is not gated (it uses x, "
                               "not gate and up): leave gate_interleave at 0",
                               o.gate_interleave, o.activation));
  if (o.gate_interleave < 0 || o.gate_interleave % 8 != 0)
    return invalid(fmt::format("gate_interleave = {} must be 0 (two weight matrices) or a positive "
                               "multiple of 8 (gate/up feature blocks of one 16-byte chunk or more)",
                               o.gate_interleave));
  return {};
}

/// The tuning-record advisor `options` ask for (null: TuningMode::Heuristic).
std::shared_ptr<ops::TileAdvisor> make_advisor(const RuntimeOptions& options) {
  if (options.tuning == TuningMode::Heuristic) return nullptr;
  tune::RecordedTilesOptions advisor;
  if (options.tuning_file) {
    advisor.file = *options.tuning_file;
  } else if (options.cache_dir) {
    advisor.cache_dir = *options.cache_dir;
  } else if (auto dir = runtime::default_cache_dir()) {
    advisor.cache_dir = *dir;
  }  // else: no cache directory (e.g. no $HOME) means no records, the kernel cache warns about it
  return tune::RecordedTiles::create(std::move(advisor));
}

}  // namespace

Runtime::Runtime() : Runtime(RuntimeOptions{}, /*shared_cache=*/true) {}

Runtime::Runtime(const RuntimeOptions& options) : Runtime(options, /*shared_cache=*/false) {}

Runtime::Runtime(const RuntimeOptions& options, bool shared_cache)
    : state_(std::make_shared<detail::RuntimeState>()) {
  state_->options = options;
  state_->advisor = make_advisor(options);
  if (shared_cache) {
    state_->cache = &runtime::process_kernel_cache();
    return;
  }
  runtime::KernelCacheOptions cache_options;
  if (options.cache_dir) cache_options.directory = *options.cache_dir;
  cache_options.use_disk = options.disk_cache;
  state_->owned = std::make_unique<runtime::KernelCache>(std::move(cache_options));
  state_->cache = state_->owned.get();
}

Expected<MatmulOp> Runtime::matmul(const MatmulOptions& options) const {
  auto resolved = dsl::resolve(options.activation, {options.row_inputs, options.col_inputs});
  if (!resolved) return resolved.take_error();
  if (auto ok = check_options(options, resolved->analysis.inputs); !ok) return ok.take_error();

  auto state = std::make_shared<detail::MatmulState>();
  state->runtime = state_;
  state->options = options;

  compiler::KernelSpec& spec = state->spec;
  spec.expression = options.activation;
  spec.input_type = options.dtype;
  spec.output_type = options.out_dtype.value_or(options.dtype);
  spec.b_type = options.b_dtype;
  spec.scale = options.scale;
  spec.amax = options.amax;
  spec.b_col_major = options.b_col_major;
  spec.bias = options.bias;
  spec.residual = options.residual;
  spec.aux = options.aux;
  spec.gate_interleave = options.gate_interleave;
  spec.row_inputs = options.row_inputs;
  spec.col_inputs = options.col_inputs;
  spec.precision = options.precision;
  for (compiler::Arch arch : compiler::kAllArchs) {
    state->targets[static_cast<size_t>(arch)] = compiler::make_target(arch);
    if (state_->advisor && !options.tile) {
      compiler::KernelSpec for_arch = spec;
      for_arch.arch = arch;
      state->advisors[static_cast<size_t>(arch)] = state_->advisor->for_op(for_arch);
    }
  }

  // Run the whole pipeline once now: an activation or forced tile it rejects
  // fails here, not at the first launch; and it fixes the parameter order.
  compiler::KernelSpec check = spec;
  // An FP8 op is checked on sm_89 when no architecture is forced (sm_80 has no FP8).
  check.arch = options.arch.value_or(is_fp8(options.dtype) ? compiler::Arch::Sm89 : compiler::Arch::Sm80);
  // What tile_for's rules for a forced tile read (the rest of the operands below).
  state->operands.gated = resolved->analysis.inputs == dsl::InputKind::Gated;
  state->operands.fp8 = {is_fp8(spec.input_type), options.scale, is_fp8(spec.output_type), options.amax};
  if (options.tile) {  // a tile the target's template cannot build fails here
    auto forced = state->tile_for(check.arch, 0, 0, 0);
    if (!forced) return forced.take_error();
    check.tile = *forced;
  }
  auto epilogue = compiler::compile(check);
  if (!epilogue) return epilogue.take_error();
  if (epilogue->parameters.size() > ops::kMaxEpilogueParams)
    return make_error(ErrorCode::Unsupported,
                      fmt::format("activation '{}' has {} runtime parameters; a fused GEMM takes at "
                                  "most {}: make some of them constants",
                                  options.activation, epilogue->parameters.size(),
                                  ops::kMaxEpilogueParams));
  state->parameters = std::move(epilogue->parameters);

  ops::GemmOperands& operands = state->operands;
  operands.gated = epilogue->inputs == dsl::InputKind::Gated;
  operands.gate_interleave = options.gate_interleave;
  operands.b_col_major = options.b_col_major;
  operands.bias = options.bias;
  operands.residual = options.residual;
  operands.aux = options.aux;
  operands.output_bytes = dtype_bytes(spec.output_type);
  operands.input_bytes = dtype_bytes(spec.input_type);
  operands.fp8 = {is_fp8(spec.input_type), options.scale, is_fp8(spec.output_type), options.amax};
  operands.row_inputs = options.row_inputs;
  operands.col_inputs = options.col_inputs;

  MatmulOp op;
  op.state_ = std::move(state);
  return op;
}

}  // namespace tilefuse
