// See GemmCases.h.
#include "GemmCases.h"

#include <fmt/format.h>

#include "dsl/Library.h"

namespace tilefuse::gpu {
namespace {

/// A call of built-in `b` on the inputs, with a runtime parameter for each
/// argument that has no default (prelu's slope); defaults stay constants.
GemmCase builtin_case(const dsl::Builtin& b) {
  GemmCase c;
  std::string args = b.gated ? "gate, up" : "x";
  for (size_t i = b.gated ? 2 : 1; i < b.params.size(); ++i) {
    if (b.params[i].default_value) break;
    args += ", " + b.params[i].name;
    c.params[b.params[i].name] = 0.2f + 0.1f * static_cast<float>(i);
  }
  c.activation = fmt::format("{}({})", b.name, args);
  c.name = fmt::format("builtin_{}", b.name);
  return c;
}

GemmCase with_shape(GemmCase c, long long m, long long n, long long k) {
  c.m = m, c.n = n, c.k = k;
  c.name += fmt::format("_{}x{}x{}", m, n, k);
  return c;
}

}  // namespace

std::vector<GemmCase> gemm_check_cases(bool quick) {
  std::vector<GemmCase> cases;
  // Every built-in on a shape with tails in M, N and K, bf16.
  for (const dsl::Builtin& b : dsl::builtin_library()) cases.push_back(with_shape(builtin_case(b), 127, 255, 63));

  // Gated forms, both dtypes, both weight layouts and both B majors.
  for (DType dtype : {DType::BF16, DType::F16}) {
    const char* dt = dtype == DType::BF16 ? "bf16" : "f16";
    GemmCase separate{.name = fmt::format("swiglu_two_weights_{}", dt), .activation = "swiglu", .in = dtype,
                      .out = dtype};
    cases.push_back(with_shape(separate, 127, 255, 63));
    GemmCase interleaved{.name = fmt::format("geglu_interleaved16_{}", dt), .activation = "geglu", .in = dtype,
                         .out = dtype, .gate_interleave = 16};
    interleaved.unsupported_on_sm90a = true;  // row-major: 64-column TMA boxes need a multiple of 64
    cases.push_back(with_shape(interleaved, 100, 256, 72));
    GemmCase interleaved64{.name = fmt::format("geglu_interleaved64_rowB_{}", dt), .activation = "geglu",
                           .in = dtype, .out = dtype, .gate_interleave = 64};
    cases.push_back(with_shape(interleaved64, 100, 320, 72));
    GemmCase interleaved_col = interleaved;
    interleaved_col.name = fmt::format("swiglu_interleaved64_colB_{}", dt);
    interleaved_col.activation = "swiglu(gate, up)";
    interleaved_col.gate_interleave = 64;
    interleaved_col.b_col_major = true;
    cases.push_back(with_shape(interleaved_col, 33, 192, 200));
  }

  // Operand variants on the tail shape.
  cases.push_back(with_shape({.name = "gelu_f16", .activation = "gelu(x)", .in = DType::F16, .out = DType::F16},
                             127, 255, 63));
  cases.push_back(with_shape({.name = "silu_colB_bf16", .activation = "silu", .b_col_major = true}, 127, 255, 63));
  cases.push_back(with_shape({.name = "gelu_bias_residual_aux_bf16", .activation = "gelu", .bias = true,
                              .residual = true, .aux = true, .alpha = 0.75f, .beta = -0.5f},
                             127, 255, 63));
  cases.push_back(with_shape({.name = "leaky_bias_aux_f16_out_f32", .activation = "leaky_relu(x, a)",
                              .params = {{"a", 0.3f}}, .in = DType::F16, .out = DType::F32, .bias = true,
                              .aux = true},
                             127, 255, 63));
  cases.push_back(with_shape({.name = "gelu_tanh_fast_colB_f16", .activation = "gelu_tanh", .in = DType::F16,
                              .out = DType::F16, .b_col_major = true, .precision = Precision::Fast},
                             127, 255, 63));
  // Gated with aux ([gate | up], M x 2N): the mma.sync kernels only; on
  // Hopper a launch chooses the sm_90 kernel, a forced sm_90a is Unsupported.
  GemmCase gated_aux{.name = "swiglu_aux_bf16", .activation = "swiglu", .aux = true};
  gated_aux.unsupported_on_sm90a = true;
  cases.push_back(with_shape(gated_aux, 127, 255, 63));
  cases.push_back(with_shape({.name = "mish_batched3_bf16", .activation = "mish", .batch = 3}, 65, 130, 40));
  cases.push_back(with_shape({.name = "relu_batched4_broadcastB_residual_f16", .activation = "relu",
                              .in = DType::F16, .out = DType::F16, .residual = true, .batch = 4,
                              .broadcast_b = true},
                             48, 80, 96));
  cases.push_back(with_shape({.name = "swiglu_batched2_colB_bf16", .activation = "swiglu", .b_col_major = true,
                              .batch = 2},
                             70, 136, 64));

  // sm_90a: each schedule (ping-pong, cooperative) and warpgroup shape of the
  // wgmma mainloop, forced, on tail shapes (M, N, K not multiples of the tile;
  // K not of 64); several tiles per block (persistent loop) come with the
  // large shapes. tile = {block_m, block_n, 64, warp_m, warp_n, stages, 4, 8}.
  const auto sm90 = [&](GemmCase c, TileConfig tile, long long m, long long n, long long k) {
    c.name += fmt::format("_sm90_{}", compiler::to_string(tile));
    c.tile = tile;
    c.sm90a_only = true;
    cases.push_back(with_shape(c, m, n, k));
  };
  sm90({.name = "gelu_pingpong", .activation = "gelu"}, {128, 128, 64, 128, 128, 4, 4, 8}, 300, 390, 200);
  sm90({.name = "silu_coop_colB", .activation = "silu", .b_col_major = true}, {128, 128, 64, 64, 128, 3, 4, 8},
       257, 250, 129);
  sm90({.name = "gelu_tanh_coop256", .activation = "gelu_tanh", .in = DType::F16, .out = DType::F16},
       {256, 128, 64, 128, 128, 3, 4, 8}, 520, 130, 65);
  sm90({.name = "relu_pingpong_n256_bias_residual_aux", .activation = "relu", .bias = true, .residual = true,
        .aux = true, .alpha = 0.5f, .beta = 2.0f},
       {64, 256, 64, 64, 256, 3, 4, 8}, 130, 600, 100);
  sm90({.name = "mish_pingpong_n64_5stages_batched3", .activation = "mish", .batch = 3},
       {64, 64, 64, 64, 64, 5, 4, 8}, 100, 70, 333);
  sm90({.name = "swiglu_coop_gated", .activation = "swiglu"}, {128, 128, 64, 64, 128, 3, 4, 8}, 200, 260, 130);
  sm90({.name = "geglu_pingpong_gated_interleaved128_colB_f16", .activation = "geglu", .in = DType::F16,
        .out = DType::F16, .b_col_major = true, .gate_interleave = 128},
       {64, 128, 64, 64, 128, 4, 4, 8}, 150, 384, 96);
  sm90({.name = "reglu_pingpong_gated_interleaved32_colB_broadcastB", .activation = "reglu", .b_col_major = true,
        .gate_interleave = 32, .batch = 2, .broadcast_b = true},
       {64, 128, 64, 64, 128, 3, 4, 8}, 70, 160, 64);

  // The smallest problem, every kind.
  cases.push_back(with_shape({.name = "gelu_bf16", .activation = "gelu"}, 1, 1, 1));
  cases.push_back(with_shape({.name = "silu_bias_residual_aux_f16", .activation = "silu", .in = DType::F16,
                              .out = DType::F16, .bias = true, .residual = true, .aux = true},
                             1, 1, 1));
  cases.push_back(with_shape({.name = "swiglu_bf16", .activation = "swiglu"}, 1, 1, 1));
  cases.push_back(with_shape({.name = "reglu_interleaved8_colB_f16", .activation = "reglu", .in = DType::F16,
                              .out = DType::F16, .b_col_major = true, .gate_interleave = 8},
                             1, 8, 1));
  if (quick) return cases;

  // Large shapes (checked on a random set of rows x columns).
  for (DType dtype : {DType::BF16, DType::F16}) {
    const char* dt = dtype == DType::BF16 ? "bf16" : "f16";
    cases.push_back(with_shape({.name = fmt::format("gelu_{}", dt), .activation = "gelu", .in = dtype, .out = dtype},
                               4096, 4096, 4096));
    cases.push_back(with_shape({.name = fmt::format("silu_bias_colB_{}", dt), .activation = "silu", .in = dtype,
                                .out = dtype, .b_col_major = true, .bias = true},
                               8192, 14336, 4096));
    cases.push_back(with_shape({.name = fmt::format("swiglu_{}", dt), .activation = "swiglu", .in = dtype,
                                .out = dtype},
                               8192, 14336, 4096));
  }
  cases.push_back(with_shape({.name = "geglu_interleaved64_colB_bf16", .activation = "geglu", .b_col_major = true,
                              .gate_interleave = 64},
                             4096, 4096, 4096));
  cases.push_back(with_shape({.name = "relu_bias_residual_aux_bf16", .activation = "relu", .bias = true,
                              .residual = true, .aux = true},
                             4096, 4096, 4096));
  return cases;
}

}  // namespace tilefuse::gpu
