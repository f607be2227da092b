// See Sm90Host.h.
#include "Sm90Host.h"

#include <cstring>
#include <fmt/format.h>
#include <regex>

#include "emulator/TensorMap.h"
#include "runtime/Driver.h"
#include "runtime/ops/GemmGeometry.h"
#include "runtime/ops/KernelSource.h"
#include "runtime/ops/Sm90Params.h"

namespace emu {
namespace {

CUresult fake_error_name(CUresult, const char** out) {
  *out = "CUDA_ERROR_INVALID_VALUE";
  return CUDA_SUCCESS;
}
CUresult fake_error_string(CUresult, const char** out) {
  *out = last_encode_error().c_str();
  return CUDA_SUCCESS;
}

/// A driver table with only what encode_sm90_params calls.
const tilefuse::runtime::DriverApi& emulated_driver() {
  static const tilefuse::runtime::DriverApi api = [] {
    tilefuse::runtime::DriverApi a;
    a.cuTensorMapEncodeTiled = &fake_encode_tiled;
    a.cuGetErrorName = &fake_error_name;
    a.cuGetErrorString = &fake_error_string;
    a.library_path = "tests/emu (emulated driver)";
    return a;
  }();
  return api;
}

tilefuse::GroupLayout group_layout(const Sm90Configuration& c) {
  if (c.grouped == 1) return tilefuse::GroupLayout::Contiguous;
  if (c.grouped == 2) return tilefuse::GroupLayout::Masked;
  return tilefuse::GroupLayout::None;
}

/// Reads the wgmma.mma_async of the production kernel source for `c`.
std::string read_production_wgmma(const Sm90Configuration& c, const tilefuse::compiler::TileConfig& tile,
                                  Sm90HostLaunch& out) {
  using namespace tilefuse;
  compiler::KernelSpec spec;
  spec.input_type = c.fp8 ? compiler::DType::E4M3 : c.input_bf16 ? compiler::DType::BF16 : compiler::DType::F16;
  if (c.fp8 && c.b_e5m2) spec.b_type = compiler::DType::E5M2;
  if (c.block128) spec.scale = compiler::ScaleMode::Block128;
  if (c.out_e4m3) spec.output_type = compiler::DType::E4M3;
  spec.amax = c.amax;
  spec.b_col_major = c.b_col_major;
  spec.bias = c.bias, spec.residual = c.residual, spec.aux = c.aux;
  spec.gate_interleave = c.gate_interleave;
  spec.grouped = group_layout(c);
  spec.arch = compiler::Arch::Sm90a;
  compiler::CompiledEpilogue epilogue;  // the epilogue text does not matter here
  epilogue.tile = tile;
  epilogue.inputs = c.gated ? dsl::InputKind::Gated : dsl::InputKind::Single;
  const std::string source = ops::gemm_kernel_source(spec, epilogue);
  // 16-bit: m64nNk16 with (scale-d, 1, 1, trans-a 0, trans-b); FP8: m64nNk32
  // with (scale-d, 1, 1) and no transpose operands.
  static const std::regex instruction(
      R"(wgmma\.mma_async\.sync\.aligned\.m64n(\d+)k(16|32)\.f32\.(bf16|f16|e4m3|e5m2)\.(bf16|f16|e4m3|e5m2) )"
      R"(\{[^}]*\}, %\d+, %\d+, p, 1, 1(, 0, ([01]))?;)");
  std::smatch match;
  if (!std::regex_search(source, match, instruction))
    return "no wgmma.mma_async.m64nNk16 (p, 1, 1, 0, trans-b) or m64nNk32 e4m3 (p, 1, 1) in the composed kernel "
           "source";
  auto type = [](const std::string& name) {
    return name == "bf16" ? WgmmaOperand::BF16 : name == "f16" ? WgmmaOperand::F16
         : name == "e4m3" ? WgmmaOperand::E4M3 : WgmmaOperand::E5M2;
  };
  out.wgmma.n = std::stoi(match[1].str());
  out.wgmma.a_type = type(match[3].str());
  out.wgmma.b_type = type(match[4].str());
  out.wgmma.b_mn_major = match[6].str() == "1";
  const bool fp8 = operand_bytes(out.wgmma.a_type) == 1;
  if (std::to_string(wgmma_k(out.wgmma.a_type)) != match[2].str() || fp8 != match[5].str().empty() ||
      operand_bytes(out.wgmma.a_type) != operand_bytes(out.wgmma.b_type) ||
      (!fp8 && out.wgmma.a_type != out.wgmma.b_type))
    return "the composed wgmma is no valid instruction (K, types and operands must agree): " + match[0].str();
  return {};
}

}  // namespace

Sm90HostLaunch prepare_sm90_launch(const Sm90Configuration& c, const GemmArguments& args, unsigned sm_count) {
  using namespace tilefuse;
  Sm90HostLaunch out;
  ops::GemmParams p;
  p.a = args.a, p.b = args.b, p.b_up = args.b_up, p.d = args.d, p.bias = args.bias, p.c = args.c, p.aux = args.aux;
  p.m = args.m, p.n = args.n, p.k = args.k;
  p.lda = args.lda, p.ldb = args.ldb, p.ldc = args.ldc, p.ldd = args.ldd, p.ld_aux = args.ld_aux;
  p.batch_stride_a = args.batch_stride_a, p.batch_stride_b = args.batch_stride_b;
  p.batch_stride_c = args.batch_stride_c, p.batch_stride_d = args.batch_stride_d;
  p.batch_stride_aux = args.batch_stride_aux;
  p.alpha = args.alpha, p.beta = args.beta;
  ops::GemmOperands operands;
  operands.gated = c.gated;
  operands.gate_interleave = c.gate_interleave;
  operands.b_col_major = c.b_col_major;
  operands.bias = c.bias, operands.residual = c.residual, operands.aux = c.aux;
  operands.output_bytes = c.out_e4m3 ? 1 : c.out_bytes;
  operands.input_bytes = c.fp8 ? 1 : 2;
  operands.grouped = group_layout(c);
  compiler::TileConfig tile{c.block_m, c.block_n, 64, c.warp_m, c.warp_n, c.stages, 4, c.group_m};
  // Grouped: the experts are the batch of every host function (MatmulOp.cpp).
  const long long batch = c.grouped ? args.groups : args.batch;

  const compiler::DType input_type = c.fp8 ? compiler::DType::E4M3
                                     : c.input_bf16 ? compiler::DType::BF16
                                                    : compiler::DType::F16;
  auto encoded = ops::encode_sm90_params(emulated_driver(), p, operands, input_type, tile, batch);
  if (!encoded) {
    out.error = "encode_sm90_params: " + encoded.error().message;
    return out;
  }
  if (std::string problem = read_production_wgmma(c, tile, out); !problem.empty()) {
    out.error = "gemm_kernel_source: " + problem;
    return out;
  }
  static_assert(sizeof(ops::Sm90KernelParams) == 512);
  std::memcpy(out.kernel_params.data(), &*encoded, sizeof(ops::Sm90KernelParams));
  auto launch = ops::persistent_gemm_launch_config(tile, c.gated, args.m, args.n, args.k, batch,
                                                   static_cast<int>(sm_count == 0 ? kDefaultEmulatedSms : sm_count),
                                                   operands.grouped);
  if (!launch) {
    out.error = "persistent_gemm_launch_config: " + launch.error().message;
    return out;
  }
  out.grid_x = launch->grid[0];
  out.threads = launch->block[0];
  out.shared_bytes = launch->dynamic_shared_bytes;
  if (launch->grid[1] != 1 || launch->grid[2] != 1)
    out.error = fmt::format("persistent launch with grid {}x{}x{}: the emulator runs grid.x only", launch->grid[0],
                            launch->grid[1], launch->grid[2]);
  return out;
}

}  // namespace emu
