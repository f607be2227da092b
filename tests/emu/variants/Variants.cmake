# The template configurations the emulator runs (tests/emu/CMakeLists.txt
# defines tilefuse_emu_variant). TILE: block_m block_n block_k warp_m warp_n
# stages group_m. Small tiles keep the emulation fast; the default sm_80 tile
# (128x128x32, 64x64 warps, 3 stages) is covered too.
tilefuse_emu_variant(gelu_bf16_rowb_s2 EXPR "gelu(x)" DTYPE bf16 OUT bf16 TILE 64 64 32 32 32 2 8)
tilefuse_emu_variant(gelu_f16_colb_s3 EXPR "gelu(x)" DTYPE f16 OUT f16 TILE 64 64 32 32 32 3 2 COL_MAJOR_B)
tilefuse_emu_variant(gelu_bf16_colb_default EXPR "gelu(x)" DTYPE bf16 OUT bf16 TILE 128 128 32 64 64 3 8 COL_MAJOR_B)
tilefuse_emu_variant(gelu_f16_rowb_default EXPR "gelu(x)" DTYPE f16 OUT f16 TILE 128 128 32 64 64 3 8)
# The default tile narrowed to a problem at most 64 high or 64 wide
# (compiler/Target/TargetInfo.cpp, fit_to_shape): with the two above and the
# 64x64 ones below, every default tile of the sm_80 target runs here.
tilefuse_emu_variant(gelu_bf16_rowb_default_64x128 EXPR "gelu(x)" DTYPE bf16 OUT bf16 TILE 64 128 32 32 64 3 8)
tilefuse_emu_variant(gelu_f16_colb_default_128x64 EXPR "gelu(x)" DTYPE f16 OUT f16 TILE 128 64 32 64 32 3 8 COL_MAJOR_B)
tilefuse_emu_variant(swiglu_bf16_colb_separate EXPR "silu(gate)*up" DTYPE bf16 OUT bf16
  TILE 64 64 32 32 32 3 8 COL_MAJOR_B)
tilefuse_emu_variant(swiglu_bf16_rowb_interleave64 EXPR "silu(gate)*up" DTYPE bf16 OUT bf16
  TILE 64 64 32 32 32 2 8 INTERLEAVE 64 FAST)
tilefuse_emu_variant(swiglu_f16_colb_interleave16_default EXPR "silu(gate)*up" DTYPE f16 OUT f16
  TILE 128 128 32 64 64 3 8 COL_MAJOR_B INTERLEAVE 16)
tilefuse_emu_variant(leaky_bf16_f32out_epilogue_inputs EXPR "leaky_relu(x, a)" DTYPE bf16 OUT f32
  TILE 64 64 32 32 32 2 8 BIAS RESIDUAL AUX)
tilefuse_emu_variant(gelu_f16_bf16out_epilogue_inputs_colb EXPR "gelu(x)" DTYPE f16 OUT bf16
  TILE 64 128 64 32 64 4 8 COL_MAJOR_B BIAS RESIDUAL AUX)
# Backward GEMMs (issue 8): z read from aux, D = (alpha·A·B) ⊙ act'(z).
tilefuse_emu_variant(gelu_backward_bf16_colb EXPR "gelu(x)" DTYPE bf16 OUT bf16 TILE 64 64 32 32 32 3 8 COL_MAJOR_B GRAD)
tilefuse_emu_variant(leaky_backward_f16_f32out_fast EXPR "leaky_relu(x, a)" DTYPE f16 OUT f32
  TILE 64 64 32 32 32 2 8 GRAD FAST)
tilefuse_emu_variant(gelu_bf16_rowb_8warps_s5_group1 EXPR "gelu(x)" DTYPE bf16 OUT bf16 TILE 128 128 64 32 64 5 1)
# Gated training path (issue 8): the forward stores aux = [gate | up] (M x 2N);
# the gated backward reads it and writes D = [dgate | dup] (M x 2N).
tilefuse_emu_variant(swiglu_aux_bf16_colb_separate EXPR "silu(gate)*up" DTYPE bf16 OUT bf16
  TILE 64 64 32 32 32 3 8 COL_MAJOR_B AUX)
tilefuse_emu_variant(geglu_aux_f16_f32out_rowb_interleave16 EXPR "gelu(gate)*up" DTYPE f16 OUT f32
  TILE 64 64 32 32 32 2 8 INTERLEAVE 16 AUX)
tilefuse_emu_variant(swiglu_backward_bf16_colb EXPR "silu(gate)*up" DTYPE bf16 OUT bf16
  TILE 64 64 32 32 32 3 8 COL_MAJOR_B GRAD)
tilefuse_emu_variant(geglu_backward_f16_f32out_rowb EXPR "gelu(gate)*up" DTYPE f16 OUT f32
  TILE 64 64 32 32 32 2 8 GRAD)
# Declared row and column inputs (issue 15): a per-channel scale inside the
# activation and a per-token routing weight outside it, f32 vectors read once
# per row / per column by the epilogue; a gated one with a row input too.
tilefuse_emu_variant(gelu_scaled_routed_bf16_colb EXPR "gelu(x * s) * route" DTYPE bf16 OUT bf16
  TILE 64 64 32 32 32 3 8 COL_MAJOR_B BIAS ROWS route COLS s)
tilefuse_emu_variant(swiglu_routed_f16_f32out_rowb EXPR "silu(gate) * up * route" DTYPE f16 OUT f32
  TILE 64 128 32 32 64 2 8 ROWS route)
# Grouped GEMMs (issue 15, mixture of experts): one launch for every expert,
# tiles found on the device from the group sizes (tilefuse/grouped.cuh). Cases:
# gemm_grouped_emulation_test.cpp (imbalanced routing, empty experts, group
# sizes 1, 7, 63, 129, tails in N and K).
tilefuse_emu_variant(grouped_contiguous_gelu_scaled_routed_bf16_colb EXPR "gelu(x * s) * route" DTYPE bf16 OUT bf16
  TILE 64 64 32 32 32 3 8 COL_MAJOR_B BIAS ROWS route COLS s GROUPED contiguous)
tilefuse_emu_variant(grouped_contiguous_swiglu_aux_bf16_f32out_rowb EXPR "silu(gate)*up" DTYPE bf16 OUT f32
  TILE 64 64 32 32 32 2 2 AUX GROUPED contiguous)
tilefuse_emu_variant(grouped_contiguous_swiglu_f16_colb_interleave16 EXPR "silu(gate)*up" DTYPE f16 OUT f16
  TILE 64 128 32 32 64 2 8 COL_MAJOR_B INTERLEAVE 16 GROUPED contiguous)
tilefuse_emu_variant(grouped_masked_routed_epilogue_inputs_bf16_f32out_rowb EXPR "x * route" DTYPE bf16 OUT f32
  TILE 64 64 32 32 32 3 8 BIAS RESIDUAL AUX ROWS route GROUPED masked)
tilefuse_emu_variant(grouped_masked_swiglu_f16_colb EXPR "silu(gate)*up" DTYPE f16 OUT f16
  TILE 64 64 32 32 32 3 8 COL_MAJOR_B GROUPED masked)
tilefuse_emu_variant(grouped_contiguous_gelu_backward_bf16_colb EXPR "gelu(x)" DTYPE bf16 OUT bf16
  TILE 64 64 32 32 32 3 8 COL_MAJOR_B GRAD GROUPED contiguous)
tilefuse_emu_variant(grouped_masked_swiglu_backward_f16_f32out_rowb EXPR "silu(gate)*up" DTYPE f16 OUT f32
  TILE 64 64 32 32 32 2 8 GRAD GROUPED masked)
