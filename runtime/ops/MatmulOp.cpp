// tilefuse::MatmulOp: the launch path of a fused GEMM (see tilefuse.hpp).
//
// launch = check arguments (host) → current device (NoDevice without a
// driver) → tile for the shape → kernel for (arch, tile), compiled and loaded
// on first use → pack TfGemmParams → cuLaunchKernel on the caller's stream.
// After the first launch of a (context, arch, tile) nothing here allocates or
// synchronizes.
#include <fmt/format.h>

#include "compiler/Target/TilePruning.h"
#include "runtime/ImageChoice.h"
#include "runtime/ops/CurrentDevice.h"
#include "runtime/ops/EpilogueParameterValues.h"
#include "runtime/ops/GemmGeometry.h"
#include "runtime/ops/GemmParams.h"
#include "runtime/ops/MatmulState.h"
#include "runtime/ops/Sm90Params.h"

namespace tilefuse {
namespace detail {
namespace {

/// Unsupported when a device of `device_arch` can load neither the cubin nor
/// the PTX of a kernel for `arch` (runtime/ImageChoice.h; the NVRTC
/// architecture is the Arch's name): a forced architecture is refused before
/// anything is compiled for it.
Expected<void> check_loadable(compiler::Arch arch, compiler::Arch device_arch, int ordinal) {
  const char* name = compiler::to_string(arch);
  auto kernel = runtime::parse_target_arch(name);
  auto device = runtime::parse_target_arch(compiler::to_string(device_arch));
  if (!kernel || !device) return {};  // tilefuse's own names always parse
  if (runtime::loadable_image(*kernel, device->cc) != runtime::LoadableImage::None) return {};
  return make_error(ErrorCode::Unsupported,
                    fmt::format("MatmulOptions::arch = {}: {}", name,
                                runtime::unloadable_explanation(name, device->cc, ordinal)));
}

}  // namespace

compiler::Arch MatmulState::launch_arch(compiler::Arch device_arch) const {
  if (options.arch) return *options.arch;
  // FP8 inputs run the sm_90 mma.sync kernel on Hopper (no FP8 wgmma path yet).
  if (device_arch == compiler::Arch::Sm90a && !backward &&
      (operands.fp8.fp8 || !ops::sm90a_kernel_serves(operands)))
    return compiler::Arch::Sm90;
  return device_arch;
}

Expected<compiler::TileConfig> MatmulState::tile_for(compiler::Arch arch, long long m, long long n,
                                                     long long k, const ops::AdvisedDevice& device,
                                                     long long batch, int sm_count) const {
  // Backward kernels are built on the mma.sync driver on every target
  // (BackwardKernelSource.cpp), so their tiles follow its rules.
  const bool wgmma_target = targets[static_cast<size_t>(arch)]->mainloop() == compiler::Mainloop::WgmmaWarpSpecialized;
  const compiler::TargetInfo& target =
      *targets[static_cast<size_t>(backward && wgmma_target ? compiler::Arch::Sm80 : arch)];
  if (!options.tile) {
    if (ops::OpTileAdvisor* advisor = advisors[static_cast<size_t>(arch)].get()) {
      auto recorded = advisor->recorded_tile(device, m, n, k);
      if (!recorded) return recorded.take_error();
      // A record made for another mainloop's tile rules (e.g. an sm_90a entry
      // from before the wgmma kernel) is ignored, not compiled into an error.
      if (*recorded && !compiler::tile_shape_rejection(target.mainloop(), **recorded)) return **recorded;
    }
    // The target's heuristic knows one 16-bit accumulator set; a gated op
    // has two, a Block128 FP8 op twice as many (the k-tile's partial sums),
    // and FP8 MMAs on sm_90 take more registers (ops::fit_tile_to_fp8).
    compiler::TileConfig tile = target.default_tile(m, n, k);
    if (operands.gated) tile = compiler::fit_tile_to_gated(target, tile);
    if (operands.fp8.fp8) tile = ops::fit_tile_to_fp8(tile, arch, operands.gated, operands.fp8.scale);
    if (target.mainloop() == compiler::Mainloop::WgmmaWarpSpecialized)
      tile = ops::sm90_schedule_for_tile_count(tile, m, n, batch, sm_count);
    return tile;
  }
  compiler::TileConfig tile = *options.tile;
  // The vector width is the target's (the epilogue contract), not a tuning knob.
  tile.vector_width = target.accumulator_vector_width();
  if (auto why = compiler::tile_shape_rejection(target.mainloop(), tile))
    return make_error(ErrorCode::InvalidInput,
                      fmt::format("MatmulOptions::tile {} cannot be built for {}: {}", compiler::to_string(tile),
                                  compiler::to_string(arch), *why));
  if (operands.fp8.fp8) {
    const int sets = (operands.gated ? 2 : 1) * (operands.fp8.scale == ScaleMode::Block128 ? 2 : 1);
    const int accumulators = compiler::tile_accumulators_per_thread(tile, false) * sets;
    if (accumulators > ops::fp8_max_accumulators_per_thread(arch, sets))
      return make_error(ErrorCode::InvalidInput,
                        fmt::format("MatmulOptions::tile {}: {} fp32 accumulators per thread ({} set(s) of "
                                    "{}x{}/32) spill registers in the FP8 kernel for {}; at most {}: use a "
                                    "smaller warp tile",
                                    compiler::to_string(tile), accumulators, sets, tile.warp_m, tile.warp_n,
                                    compiler::to_string(arch), ops::fp8_max_accumulators_per_thread(arch, sets)));
  }
  if (operands.fp8.scale == ScaleMode::Block128 && 64 % tile.block_k != 0)
    return make_error(ErrorCode::InvalidInput,
                      fmt::format("MatmulOptions::tile {}: with scale = block128 a k-tile must lie in one "
                                  "128-wide K block: block_k (16-bit slots, 2 FP8 values each) must divide "
                                  "64 (16, 32 or 64)",
                                  compiler::to_string(tile)));
  return tile;
}

Expected<ops::GemmVariant*> MatmulState::variant(compiler::Arch arch, const compiler::TileConfig& tile,
                                                 bool* built_now) {
  if (built_now) *built_now = false;
  auto find = [&]() -> ops::GemmVariant* {
    for (const auto& v : variants)
      if (v->arch() == arch && v->tile() == tile) return v.get();
    return nullptr;
  };
  {
    std::lock_guard lock(mutex);
    if (ops::GemmVariant* known = find()) return known;
  }
  if (operands.fp8.fp8)  // before NVRTC would reject the FP8 mma for the target
    if (auto ok = ops::check_fp8_arch(arch); !ok) return ok.take_error();
  // The sm_90a kernel's TMA boxes cannot load every interleaved weight layout:
  // say so before NVRTC stops at the template's static_assert.
  if (!backward && targets[static_cast<size_t>(arch)]->mainloop() == compiler::Mainloop::WgmmaWarpSpecialized)
    if (auto ok = ops::check_sm90_operands(operands, tile); !ok) return ok.take_error();
  // Compile without the lock so that launches of kernels that exist go on;
  // the kernel cache makes concurrent first launches share one NVRTC run.
  compiler::KernelSpec variant_spec = spec;
  variant_spec.arch = arch;
  variant_spec.tile = tile;
  auto built = ops::GemmVariant::build(variant_spec, operands.gated, *runtime->cache, backward);
  if (!built) return built.take_error();
  if (!((*built)->tile() == tile))
    return make_error(ErrorCode::Internal,
                      fmt::format("the compiler returned tile {} for the forced tile {}; this is a "
                                  "tilefuse bug, please report it",
                                  compiler::to_string((*built)->tile()), compiler::to_string(tile)));
  std::lock_guard lock(mutex);
  if (ops::GemmVariant* known = find()) return known;  // another thread was first
  if (built_now) *built_now = true;
  variants.push_back(std::move(*built));
  return variants.back().get();
}

Expected<void> MatmulState::launch(CUstream stream, const MatmulArgs& args,
                                   std::span<const float> values) {
  auto params = ops::make_gemm_params(operands, args);
  if (!params) return params.take_error();
  auto vectors = ops::make_operand_vectors(operands, args);
  if (!vectors) return vectors.take_error();
  auto fp8 = ops::make_fp8_params(operands.fp8, args);
  if (!fp8) return fp8.take_error();
  if (values.size() != parameters.size())
    return make_error(ErrorCode::InvalidInput,
                      fmt::format("activation '{}' takes {} runtime parameter(s) but {} value(s) "
                                  "were passed (MatmulOp::parameters() lists them in order)",
                                  options.activation, parameters.size(), values.size()));

  auto device = ops::current_device();
  if (!device) return device.take_error();
  const compiler::Arch arch = launch_arch(device->arch);
  if (options.arch)  // say so before compiling a kernel the device cannot load
    if (auto ok = check_loadable(arch, device->arch, device->ordinal); !ok)
      return ok;
  const Shape& s = args.shape;
  auto chosen = tile_for(arch, s.m, s.n, s.k, ops::AdvisedDevice{device->ordinal}, args.batch, device->sm_count);
  if (!chosen) return chosen.take_error();
  const compiler::TileConfig& tile = *chosen;
  // sm_90a: the persistent TMA/wgmma kernel (gemm_sm90.cuh); backward kernels
  // stay on the mma.sync template everywhere.
  const bool wgmma = !backward && targets[static_cast<size_t>(arch)]->mainloop() ==
                                      compiler::Mainloop::WgmmaWarpSpecialized;
  auto config = wgmma ? ops::persistent_gemm_launch_config(tile, operands.gated, s.m, s.n, s.k, args.batch,
                                                           device->sm_count)
                      : ops::gemm_launch_config(tile, operands.gated, s.m, s.n, args.batch);
  if (!config) return config.take_error();
  if (static_cast<long long>(config->dynamic_shared_bytes) > device->max_shared_bytes)
    return make_error(ErrorCode::Unsupported,
                      fmt::format("tile {} needs {} bytes of shared memory per block but device {} "
                                  "allows {}: force a smaller tile (fewer stages or a smaller block)",
                                  compiler::to_string(tile), config->dynamic_shared_bytes,
                                  device->ordinal, device->max_shared_bytes));

  auto built = variant(arch, tile);
  if (!built) return built.take_error();
  auto kernel = (*built)->kernel_for(device->context, device->context_id, device->ordinal);
  if (!kernel) return kernel.take_error();

  ops::KernelParamBuffer buffer;
  ops::pack_kernel_params(*params, values, buffer, *vectors, operands.fp8.fp8 ? &*fp8 : nullptr);
  if (operands.fp8.amax) {
    // The kernel reduces into amax with atomicMax: it starts at 0, in stream
    // order (a memset node when captured in a graph).
    auto api = runtime::driver();
    if (!api) return api.take_error();
    if (CUresult r = (*api)->cuMemsetD32Async(reinterpret_cast<CUdeviceptr>(args.amax), 0u, 1, stream);
        r != CUDA_SUCCESS)
      return runtime::driver_error(**api, r, "cuMemsetD32Async(MatmulArgs::amax, 0, 1) before the FP8 GEMM");
  }
  if (wgmma) {
    auto api = runtime::driver();
    if (!api) return api.take_error();
    auto tma = ops::cached_sm90_params(this, **api, *params, operands, spec.input_type, tile, args.batch);
    if (!tma) return tma.take_error();
    void* kernel_args[] = {buffer.bytes, const_cast<ops::Sm90KernelParams*>(*tma)};
    return runtime::launch(**kernel, *config, stream, kernel_args);
  }
  void* kernel_args[] = {buffer.bytes};
  return runtime::launch(**kernel, *config, stream, kernel_args);
}

}  // namespace detail

const std::vector<std::string>& MatmulOp::parameters() const { return state_->parameters; }
bool MatmulOp::gated() const { return state_->operands.gated; }
const MatmulOptions& MatmulOp::options() const { return state_->options; }

Expected<void> MatmulOp::operator()(CUstream stream, const void* a, const void* b, void* d, Shape shape,
                                    const Params& params) const {
  MatmulArgs args;
  args.a = a;
  args.b = b;
  args.d = d;
  args.shape = shape;
  return (*this)(stream, args, params);
}

Expected<void> MatmulOp::operator()(CUstream stream, const void* a, const void* w_gate, const void* w_up,
                                    void* d, Shape shape, const Params& params) const {
  if (!gated())
    return make_error(ErrorCode::InvalidInput,
                      fmt::format("activation '{}' is not gated: call op(stream, A, B, D, shape) "
                                  "with one weight matrix",
                                  state_->options.activation));
  MatmulArgs args;
  args.a = a;
  args.b = w_gate;
  args.b_up = w_up;
  args.d = d;
  args.shape = shape;
  return (*this)(stream, args, params);
}

Expected<void> MatmulOp::operator()(CUstream stream, const MatmulArgs& args, const Params& params) const {
  float values[ops::kMaxEpilogueParams];
  const std::span<float> out(values, state_->parameters.size());
  if (auto ok = ops::parameter_values_by_name(state_->parameters, params, state_->options.activation, out);
      !ok)
    return ok;
  return state_->launch(stream, args, out);
}

Expected<void> MatmulOp::operator()(CUstream stream, const MatmulArgs& args,
                                    std::span<const float> parameter_values) const {
  return state_->launch(stream, args, parameter_values);
}

Expected<KernelInfo> MatmulOp::compile(Shape shape, Arch arch) const {
  // The tile a launch here would use: with a GPU, its tuning records count.
  // Compiling needs no context: the thread's (or its absence) stays as it is.
  const ops::AdvisedDevice advised{ops::launch_device_ordinal().value_or(-1)};
  auto tile = state_->tile_for(arch, shape.m, shape.n, shape.k, advised);
  if (!tile) return tile.take_error();
  bool built_now = false;
  auto built = state_->variant(arch, *tile, &built_now);
  if (!built) return built.take_error();
  const runtime::Compiled& compiled = (*built)->compiled();
  KernelInfo info;
  info.arch = compiled.arch;
  info.tile = (*built)->tile();
  info.registers = compiled.registers;
  info.spill_bytes = compiled.spill_bytes;
  info.shared_bytes = (*built)->shared_bytes();
  const compiler::Mainloop mainloop =
      state_->backward ? compiler::Mainloop::MmaSyncMultistage
                       : state_->targets[static_cast<size_t>(arch)]->mainloop();
  info.threads = static_cast<unsigned>(compiler::tile_threads(mainloop, info.tile));
  info.ptx_instructions = compiled.ptx_instructions;
  // Built by an earlier call of this op: nothing was compiled now.
  info.cache_hit = !built_now || runtime::is_hit((*built)->cache_outcome());
  info.compile_ms = built_now ? (*built)->compile_ms() : 0.0;
  return info;
}

}  // namespace tilefuse
