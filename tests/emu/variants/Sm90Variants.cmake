# The gemm_sm90.cuh configurations the emulator runs (tilefuse_emu_sm90_tests;
# tests/emu/CMakeLists.txt defines tilefuse_emu_variant). TILE: block_m
# block_n block_k warp_m warp_n stages group_m; block_k is 64, warp_n ==
# block_n; block_m == warp_m is the ping-pong schedule, 2 * warp_m the
# cooperative one. The default sm_90a tile (128x128x64, one 128x128 tile per
# consumer, 4 stages, ping-pong: compiler/Target/TargetInfo.cpp) and three
# others (64x64 and 64x128 ping-pong, 128x64 and 256x128 cooperative).
tilefuse_emu_variant(sm90_gelu_bf16_colb_default EXPR "gelu(x)" DTYPE bf16 OUT bf16
  TILE 128 128 64 128 128 4 8 COL_MAJOR_B SM90)
tilefuse_emu_variant(sm90_gelu_f16_rowb_default EXPR "gelu(x)" DTYPE f16 OUT f16
  TILE 128 128 64 128 128 4 8 SM90)
tilefuse_emu_variant(sm90_gelu_bf16_rowb_coop128x64 EXPR "gelu(x)" DTYPE bf16 OUT bf16
  TILE 128 64 64 64 64 3 2 SM90)
tilefuse_emu_variant(sm90_swiglu_bf16_colb_separate_pingpong64 EXPR "silu(gate)*up" DTYPE bf16 OUT bf16
  TILE 64 64 64 64 64 3 8 COL_MAJOR_B SM90)
tilefuse_emu_variant(sm90_swiglu_f16_rowb_separate_coop128x64 EXPR "silu(gate)*up" DTYPE f16 OUT f16
  TILE 128 64 64 64 64 2 8 SM90)
tilefuse_emu_variant(sm90_swiglu_bf16_rowb_interleave64_coop EXPR "silu(gate)*up" DTYPE bf16 OUT bf16
  TILE 128 64 64 64 64 3 2 INTERLEAVE 64 FAST SM90)
tilefuse_emu_variant(sm90_geglu_f16_f32out_colb_interleave16 EXPR "gelu(gate)*up" DTYPE f16 OUT f32
  TILE 64 64 64 64 64 3 8 COL_MAJOR_B INTERLEAVE 16 SM90)
tilefuse_emu_variant(sm90_leaky_bf16_f32out_epilogue_inputs EXPR "leaky_relu(x, a)" DTYPE bf16 OUT f32
  TILE 64 128 64 64 128 3 8 BIAS RESIDUAL AUX SM90)
tilefuse_emu_variant(sm90_gelu_f16_bf16out_epilogue_inputs_colb_coop256 EXPR "gelu(x)" DTYPE f16 OUT bf16
  TILE 256 128 64 128 128 3 8 COL_MAJOR_B BIAS RESIDUAL AUX SM90)
# Declared row and column inputs (issue 15): per-channel scale inside the
# activation, per-token routing weight outside it; a gated one with a row input.
tilefuse_emu_variant(sm90_gelu_scaled_routed_bf16_colb EXPR "gelu(x * s) * route" DTYPE bf16 OUT bf16
  TILE 128 64 64 64 64 3 2 COL_MAJOR_B BIAS ROWS route COLS s SM90)
tilefuse_emu_variant(sm90_swiglu_routed_f16_f32out_pingpong64 EXPR "silu(gate) * up * route" DTYPE f16 OUT f32
  TILE 64 64 64 64 64 3 8 ROWS route SM90)
# Grouped GEMMs (issue 15, mixture of experts; GROUPED contiguous|masked):
# the persistent loops walk the tiles of every expert (tilefuse/grouped.cuh),
# A covers the expert dimension (masked) or one [T, K] matrix (contiguous).
# Cases: gemm_sm90_grouped_emulation_test.cpp. Plain with a bias per expert
# and row/column inputs (cooperative), gated with separate weights
# (ping-pong), interleaved row-major weights (cooperative), the default
# 128x128 ping-pong tile, bias + residual + aux with a row input (masked,
# ping-pong), interleaved column-major weights (masked); every output type.
tilefuse_emu_variant(sm90_grouped_contiguous_gelu_scaled_routed_bf16_colb_coop EXPR "gelu(x * s) * route" DTYPE bf16
  OUT bf16 TILE 128 64 64 64 64 3 2 COL_MAJOR_B BIAS ROWS route COLS s GROUPED contiguous SM90)
tilefuse_emu_variant(sm90_grouped_contiguous_swiglu_f16_rowb_separate_pingpong64 EXPR "silu(gate)*up" DTYPE f16
  OUT f16 TILE 64 64 64 64 64 3 8 GROUPED contiguous SM90)
tilefuse_emu_variant(sm90_grouped_contiguous_swiglu_bf16_f32out_rowb_interleave64_coop EXPR "silu(gate)*up"
  DTYPE bf16 OUT f32 TILE 128 64 64 64 64 3 2 INTERLEAVE 64 GROUPED contiguous SM90)
tilefuse_emu_variant(sm90_grouped_contiguous_gelu_f16_colb_default EXPR "gelu(x)" DTYPE f16 OUT f16
  TILE 128 128 64 128 128 4 8 COL_MAJOR_B GROUPED contiguous SM90)
tilefuse_emu_variant(sm90_grouped_masked_routed_epilogue_inputs_bf16_f32out_rowb_pingpong EXPR "x * route"
  DTYPE bf16 OUT f32 TILE 64 128 64 64 128 3 8 BIAS RESIDUAL AUX ROWS route GROUPED masked SM90)
tilefuse_emu_variant(sm90_grouped_masked_geglu_bf16_colb_interleave16 EXPR "gelu(gate)*up" DTYPE bf16 OUT bf16
  TILE 64 64 64 64 64 3 8 COL_MAJOR_B INTERLEAVE 16 GROUPED masked SM90)
