// One compiled configuration of templates/tilefuse/gemm_sm80.cuh or
// gemm_sm90.cuh under the emulator: a generated epilogue + a TfGemmConfig, in
// its own translation unit (variants/variant.cpp.in, sm90_variant.cpp.in),
// registered here at static-initialization time.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "emulator/Launch.h"

namespace emu {

/// A launch of the fused GEMM, in the layout of TfGemmParams (gemm_params.cuh)
/// minus the epilogue struct, whose floats come in `epilogue_parameters`.
struct GemmArguments {
  const std::uint16_t* a = nullptr;
  const std::uint16_t* b = nullptr;
  const std::uint16_t* b_up = nullptr;
  void* d = nullptr;
  const std::uint16_t* bias = nullptr;
  const void* c = nullptr;
  void* aux = nullptr;
  long long m = 0, n = 0, k = 0;
  long long lda = 0, ldb = 0, ldc = 0, ldd = 0, ld_aux = 0;
  long long batch_stride_a = 0, batch_stride_b = 0, batch_stride_c = 0, batch_stride_d = 0, batch_stride_aux = 0;
  float alpha = 1.0f, beta = 0.0f;
  std::vector<float> epilogue_parameters;  ///< in the activation's parameter order
  /// Declared row / column inputs (f32 vectors, declaration order) and their
  /// batch strides in elements (0: one vector for every batch).
  std::vector<const float*> row_inputs, col_inputs;
  std::vector<long long> row_input_batch_strides, col_input_batch_strides;
  unsigned batch = 1;
  /// FP8 variants only (TfFp8Params): device f32 scales and the amax output.
  const float* scale_a = nullptr;
  const float* scale_b = nullptr;
  const float* scale_d = nullptr;
  float* amax = nullptr;
};

struct RunOptions {
  std::uint64_t seed = 1;
  CpAsyncLanding landing = CpAsyncLanding::AtWait;
  SchedulePolicy schedule = SchedulePolicy::RandomThreads;
  /// sm_90a only: multiprocessors of the emulated device, which sets the
  /// persistent grid (min(tiles, SMs)); 0 for the default (Sm90Host.h).
  unsigned sm_count = 0;
  AccessCounters* counters = nullptr;  ///< where to count the launch's memory accesses (null: not counted)
};

struct GemmVariant {
  std::string name;
  std::string expression;  ///< the activation, as given to `tilefuse emit`
  bool fast_mode = false;
  int block_m = 0, block_n = 0, block_k = 0, warp_m = 0, warp_n = 0, stages = 0, group_m = 0;
  bool input_bf16 = true, b_col_major = false, bias = false, residual = false, aux = false;
  bool gated = false;
  std::vector<std::string> row_inputs, col_inputs;  ///< declared (tilefuse emit --row/--col)
  bool backward = false;  ///< a backward epilogue (TF_EPILOGUE_GRAD): aux is the input z
  int gate_interleave = 0;
  int out_bytes = 2;  ///< 1: e4m3 (out_e4m3), 2: bf16 or f16 (out_bf16), 4: fp32
  bool out_bf16 = true;
  /// FP8 inputs (TF_GEMM_FP8): A e4m3, B e4m3 or e5m2 (b_e5m2), K in 1-byte
  /// elements; Block128 or per-tensor scales; an e4m3 D (out_bytes 1) with
  /// optional amax.
  bool fp8 = false, b_e5m2 = false, block128 = false, out_e4m3 = false, amax = false;
  std::size_t shared_bytes = 0;  ///< kSmemBytes of the template
  /// Launches the kernel on the emulator; returns the violations it found.
  std::vector<std::string> (*run)(const GemmArguments&, const RunOptions&) = nullptr;
};

bool register_variant(GemmVariant variant);
const std::vector<GemmVariant>& registered_variants();

}  // namespace emu
