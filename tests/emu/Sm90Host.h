// The host side of an emulated sm_90a launch, done by the production host
// code: the tensor maps by runtime/ops/Sm90Params.cpp (encode_sm90_params,
// through a DriverApi whose cuTensorMapEncodeTiled is the emulator's
// fake_encode_tiled), the grid, block and dynamic shared memory by
// runtime/ops/GemmGeometry.cpp (persistent_gemm_launch_config). A host/device
// disagreement (box, stride, coordinate order, shared memory size) therefore
// shows up in the emulated run. The wgmma instruction the emulator executes is
// read from the kernel source production composes (gemm_kernel_source), so a
// generated wrapper with the wrong N, type or B major-ness shows up too.
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "GemmVariant.h"
#include "emulator/Wgmma.h"

namespace emu {

/// What the variant knows of its configuration (TfGemmConfig + epilogue).
struct Sm90Configuration {
  int block_m = 0, block_n = 0, warp_m = 0, warp_n = 0, stages = 0, group_m = 0;
  bool input_bf16 = true, b_col_major = false, bias = false, residual = false, aux = false;
  bool gated = false;
  int gate_interleave = 0;
  int out_bytes = 2;  ///< of the epilogue's values (an e4m3 D: 4, stored as 1 byte)
  int grouped = 0;    ///< TF_GEMM_GROUPED: 0 not grouped, 1 contiguous, 2 masked
  /// FP8 inputs (TfFp8Config): A e4m3, B e4m3 or e5m2, per-tensor or Block128
  /// scales, an e4m3 D with optional amax.
  bool fp8 = false, b_e5m2 = false, block128 = false, out_e4m3 = false, amax = false;
};

struct Sm90HostLaunch {
  std::string error;                     ///< non-empty: the host rejected the launch
  /// The wgmma instruction of the kernel source production composes for this
  /// configuration (runtime/ops/KernelSource.cpp + WgmmaSource.cpp): N, operand
  /// types (k16 bf16/f16, k32 e4m3/e5m2) and B's major-ness (imm-trans-b),
  /// which the emulated wgmma executes.
  GeneratedWgmma wgmma;
  alignas(128) std::array<std::uint8_t, 512> kernel_params{};  ///< Sm90KernelParams (TfSm90Params)
  unsigned grid_x = 1, threads = 0, shared_bytes = 0;
};

/// SMs of the emulated device when RunOptions::sm_count is 0.
constexpr unsigned kDefaultEmulatedSms = 2;

/// Grouped configurations: the launch's groups are `args.groups` (the host
/// never reads the group sizes, as in production).
Sm90HostLaunch prepare_sm90_launch(const Sm90Configuration& config, const GemmArguments& args, unsigned sm_count);

}  // namespace emu
