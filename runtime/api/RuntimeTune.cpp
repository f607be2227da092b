// tilefuse::Runtime::tune and export_tuning: the tuner of `tilefuse tune`
// behind the public API, recording into the same per-GPU database that
// launches read (runtime/tune/RecordedTiles.h).
#include <fmt/format.h>

#include "runtime/DiskStore.h"
#include "runtime/ImageChoice.h"
#include "runtime/ops/Sm90Params.h"
#include "runtime/ops/CurrentDevice.h"
#include "runtime/ops/MatmulState.h"
#include "runtime/tune/CandidateCompiler.h"
#include "runtime/api/GpuTimer.h"
#include "runtime/tune/RecordedTiles.h"
#include "runtime/tune/SimulatedTimer.h"
#include "runtime/tune/Tuner.h"
#include "runtime/tune/TuningDbFile.h"

namespace tilefuse {
namespace {

/// Where the tuning databases of `options` live (tuning/ under it).
Expected<std::filesystem::path> tuning_cache_dir(const RuntimeOptions& options) {
  if (options.cache_dir) return std::filesystem::path(*options.cache_dir);
  return runtime::default_cache_dir();
}

/// The architecture to tune for: asked, else the one launches on the
/// current GPU use (MatmulState::launch_arch), else sm_80 (without a GPU the
/// candidates are still compiled before NoDevice).
compiler::Arch tuning_arch(const detail::MatmulState& state, const TuneOptions& options) {
  if (options.arch) return *options.arch;
  if (!options.simulate)
    if (auto device = ops::current_device()) return state.launch_arch(device->arch);
  return compiler::Arch::Sm80;
}

/// Unsupported when timing on the current GPU is asked for an architecture
/// whose kernels it cannot load (runtime/ImageChoice.h): every candidate
/// would fail. Nothing to check when simulating or without a GPU.
Expected<void> check_tunable_here(compiler::Arch arch, const TuneOptions& options) {
  if (options.simulate || !options.arch) return {};
  auto device = ops::current_device();
  if (!device) return {};  // the timer reports NoDevice after compiling
  auto kernel = runtime::parse_target_arch(compiler::to_string(arch));
  auto here = runtime::parse_target_arch(compiler::to_string(device->arch));
  if (!kernel || !here || runtime::loadable_image(*kernel, here->cc) != runtime::LoadableImage::None) return {};
  return make_error(ErrorCode::Unsupported,
                    fmt::format("TuneOptions::arch = {}: {}", compiler::to_string(arch),
                                runtime::unloadable_explanation(compiler::to_string(arch), here->cc,
                                                                device->ordinal)));
}

TuneSummary summarize(const Shape& shape, compiler::Arch arch, const tune::TuneResult& result) {
  TuneSummary summary;
  summary.shape = shape;
  summary.arch = arch;
  summary.tile = result.chosen.tile;
  summary.ms = result.chosen_ms;
  summary.heuristic_ms = result.heuristic_ms;
  summary.chosen_from = result.chosen_from;
  summary.candidates = result.outcomes.size();
  summary.timed = result.timed;
  summary.failed = result.compile_failures + result.timing_failures;
  summary.wall_s = result.wall_s;
  summary.database = result.database.string();
  return summary;
}

}  // namespace

Expected<std::vector<TuneSummary>> Runtime::tune(const MatmulOp& op, std::span<const Shape> shapes,
                                                 const TuneOptions& options) const {
  const detail::MatmulState& state = *op.state_;
  if (state.backward)
    return make_error(ErrorCode::Unsupported,
                      "tuning a backward op (Runtime::matmul_backward) is not supported yet: it "
                      "launches with the mma.sync heuristic tile or MatmulOptions::tile");
  if (!state.options.row_inputs.empty() || !state.options.col_inputs.empty())
    return make_error(ErrorCode::Unsupported,
                      "tuning an op with row_inputs / col_inputs is not supported yet: it launches with the "
                      "heuristic tile or MatmulOptions::tile");
  if (state.operands.fp8.fp8)
    return make_error(ErrorCode::Unsupported,
                      "tuning an FP8 op is not supported yet: it launches with the heuristic tile or "
                      "MatmulOptions::tile");
  if (state.options.tile)
    return make_error(ErrorCode::InvalidInput,
                      fmt::format("the op for '{}' forces tile {}: there is nothing to tune (create "
                                  "it without MatmulOptions::tile)",
                                  state.options.activation, compiler::to_string(*state.options.tile)));
  auto dir = tuning_cache_dir(state_->options);
  if (!dir) return dir.take_error();

  compiler::KernelSpec spec = state.spec;
  spec.arch = tuning_arch(state, options);
  if (auto ok = check_tunable_here(spec.arch, options); !ok) return ok.take_error();
  const auto target = compiler::make_target(spec.arch);
  // The sm_90a (wgmma) kernel has no aux store for a gated op: every candidate
  // would fail to compile (see ops::check_sm90_operands).
  if (target->mainloop() == compiler::Mainloop::WgmmaWarpSpecialized && !ops::sm90a_kernel_serves(state.operands))
    return make_error(ErrorCode::Unsupported,
                      fmt::format("'{}' is not served by the sm_90a (wgmma) kernel (a gated op with aux, or a "
                                  "row-major interleave that is not a multiple of 64), so there is nothing to "
                                  "tune for sm_90a: tune it for Arch::Sm90 (TuneOptions::arch; the mma.sync "
                                  "kernel Hopper launches of this op use) or leave TuneOptions::arch unset on "
                                  "the GPU",
                                  state.options.activation));

  tune::SimulatedTimer simulated;
  tune::GpuTimerOptions timer_options;
  timer_options.runtime = *this;
  // Time on the device a launch from this thread would use (device 0 only
  // when no context is current), the one tuning_arch describes.
  if (!options.simulate) timer_options.device_ordinal = ops::launch_device_ordinal().value_or(0);
  tune::GpuTimer gpu(timer_options);
  tune::KernelTimer& timer = options.simulate ? static_cast<tune::KernelTimer&>(simulated) : gpu;
  tune::CacheCandidateCompiler compiler(*state_->cache);
  tune::TunerOptions tuner_options;
  tuner_options.budget_s = options.budget_s;
  tuner_options.deterministic = options.deterministic || tune::deterministic_from_environment();
  tuner_options.retime = options.retime;
  tuner_options.cache_dir = *dir;
  tuner_options.log = [](const std::string& line) {
    runtime::stderr_warning_sink()(fmt::format("tuning: {}", line));
  };
  tune::Tuner tuner(compiler, timer, tuner_options);

  std::vector<TuneSummary> summaries;
  for (const Shape& shape : shapes) {
    auto result = tuner.tune({spec, {shape.m, shape.n, shape.k}, state.operands.gated}, *target);
    if (!result) return result.take_error();
    summaries.push_back(summarize(shape, spec.arch, *result));
  }
  // Launches of this runtime read the new records from now on.
  if (auto* recorded = dynamic_cast<tune::RecordedTiles*>(state_->advisor.get())) recorded->reload();
  return summaries;
}

Expected<void> Runtime::export_tuning(const std::string& file, bool simulated) const {
  auto dir = tuning_cache_dir(state_->options);
  if (!dir) return dir.take_error();
  tune::DeviceIdentity device = tune::simulated_device_identity();
  if (!simulated) {
    tune::GpuTimerOptions timer_options;  // the current device's database, as tune wrote it
    timer_options.device_ordinal = ops::launch_device_ordinal().value_or(0);
    tune::GpuTimer gpu(timer_options);
    auto identity = gpu.device();
    if (!identity) return identity.take_error();
    device = std::move(*identity);
  }
  return tune::export_tuning_db(tune::tuning_db_path(*dir, device), device, file);
}

}  // namespace tilefuse
