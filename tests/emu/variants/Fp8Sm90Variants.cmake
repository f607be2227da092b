# FP8 configurations of gemm_sm90.cuh (issue 16: sm_90a wgmma m64nNk32 e4m3),
# run by tilefuse_emu_fp8_sm90_tests (fp8_sm90_gemm_emulation_test.cpp).
# FP8 needs B as N x K (COL_MAJOR_B). block_k is 64 16-bit slots: one
# 128-byte row = 128 FP8 values of K per k-tile, i.e. one Block128 block.
# block_m == warp_m is the ping-pong schedule, 2 * warp_m the cooperative one.
# The default sm_90a tile (128x128, ping-pong) with per-tensor scales and a bias.
tilefuse_emu_variant(fp8_sm90_gelu_pertensor_bias_bf16out EXPR "gelu(x)" DTYPE e4m3 OUT bf16
  TILE 128 128 64 128 128 4 8 COL_MAJOR_B BIAS SM90)
tilefuse_emu_variant(fp8_sm90_identity_e5m2b_f16out_coop EXPR "x" DTYPE e4m3 B_DTYPE e5m2 OUT f16
  TILE 128 64 64 64 64 3 2 COL_MAJOR_B SM90)
# Block128 (DeepSeek-V3): per-k-tile partial sums (scale-d 0) promoted with
# scale_a[kb][row] * scale_b[nb][kb]. 64x128 ping-pong is the launch tile
# (the default fitted for two accumulator sets); block_n 64 puts odd tiles at
# column 64 of a 128-column scale block.
tilefuse_emu_variant(fp8_sm90_gelu_block128_f32out EXPR "gelu(x)" DTYPE e4m3 OUT f32 SCALE block128
  TILE 64 128 64 64 128 4 8 COL_MAJOR_B SM90)
tilefuse_emu_variant(fp8_sm90_silu_block128_e5m2b_coop EXPR "silu(x)" DTYPE e4m3 B_DTYPE e5m2 OUT bf16
  SCALE block128 TILE 128 64 64 64 64 3 8 COL_MAJOR_B SM90)
# Per-token x per-channel scaling through the row/column inputs (issue 15).
tilefuse_emu_variant(fp8_sm90_gelu_rowcol_scales EXPR "gelu(x * sa * sb)" DTYPE e4m3 OUT bf16
  TILE 128 64 64 64 64 3 2 COL_MAJOR_B ROWS sa COLS sb SM90)
# Gated: separate W_gate / W_up, and one interleaved weight.
tilefuse_emu_variant(fp8_sm90_swiglu_pertensor EXPR "silu(gate) * up" DTYPE e4m3 OUT bf16
  TILE 64 64 64 64 64 3 8 COL_MAJOR_B SM90)
tilefuse_emu_variant(fp8_sm90_geglu_interleave32_f32out EXPR "gelu(gate) * up" DTYPE e4m3 OUT f32
  TILE 128 64 64 64 64 2 8 COL_MAJOR_B INTERLEAVE 32 SM90)
# e4m3 output with amax, each with its f32 twin (same inputs, tile and
# epilogue): the twin's D is the value the first one quantises.
tilefuse_emu_variant(fp8_sm90_gelu_e4m3out_amax EXPR "gelu(x)" DTYPE e4m3 OUT e4m3 AMAX
  TILE 128 128 64 64 128 3 8 COL_MAJOR_B BIAS SM90)
tilefuse_emu_variant(fp8_sm90_gelu_f32out_amax_twin EXPR "gelu(x)" DTYPE e4m3 OUT f32
  TILE 128 128 64 64 128 3 8 COL_MAJOR_B BIAS SM90)
tilefuse_emu_variant(fp8_sm90_block128_e4m3out_amax EXPR "x" DTYPE e4m3 OUT e4m3 AMAX SCALE block128
  TILE 64 64 64 64 64 3 8 COL_MAJOR_B SM90)
tilefuse_emu_variant(fp8_sm90_block128_f32out_amax_twin EXPR "x" DTYPE e4m3 OUT f32 SCALE block128
  TILE 64 64 64 64 64 3 8 COL_MAJOR_B SM90)
# Grouped FP8 (issue 16 item 4; cases in fp8_sm90_gemm_emulation_test.cpp,
# GroupedFp8Sm90GemmEmulation): a contiguous A through an unbatched UINT8 map
# with global rows, Block128 scale_a [ceil(K/128)][T]; gated per-tensor with
# an e4m3 output and amax.
tilefuse_emu_variant(fp8_sm90_grouped_contiguous_gelu_block128_bias_bf16out EXPR "gelu(x)" DTYPE e4m3 OUT bf16
  SCALE block128 TILE 64 128 64 64 128 3 8 COL_MAJOR_B BIAS GROUPED contiguous SM90)
tilefuse_emu_variant(fp8_sm90_grouped_contiguous_swiglu_pertensor_e4m3out_amax EXPR "silu(gate) * up" DTYPE e4m3
  OUT e4m3 AMAX TILE 64 64 64 64 64 3 8 COL_MAJOR_B GROUPED contiguous SM90)
