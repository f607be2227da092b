# FP8 configurations of gemm_sm80.cuh (issue 16: sm_89 / sm_90 mma.sync
# m16n8k32), run by tilefuse_emu_fp8_gemm_tests (fp8_gemm_emulation_test.cpp).
# FP8 needs B as N x K (COL_MAJOR_B). block_k counts 16-bit slots: 32 = 64 FP8
# values per k-tile (two per Block128 scale block), 64 = one block, 16 = a quarter.
tilefuse_emu_variant(fp8_gelu_pertensor_bias_bf16out EXPR "gelu(x)" DTYPE e4m3 OUT bf16
  TILE 64 64 32 32 32 3 8 COL_MAJOR_B BIAS)
tilefuse_emu_variant(fp8_identity_e5m2b_f16out_bk64 EXPR "x" DTYPE e4m3 B_DTYPE e5m2 OUT f16
  TILE 64 64 64 32 32 2 8 COL_MAJOR_B)
# Block128 (DeepSeek-V3): per-k-tile partial sums promoted with scale_a[kb][row] * scale_b[nb][kb].
tilefuse_emu_variant(fp8_gelu_block128_f32out EXPR "gelu(x)" DTYPE e4m3 OUT f32 SCALE block128
  TILE 64 64 32 32 32 3 8 COL_MAJOR_B)
tilefuse_emu_variant(fp8_identity_block128_bk16_bf16out EXPR "x" DTYPE e4m3 OUT bf16 SCALE block128
  TILE 64 64 16 32 32 4 8 COL_MAJOR_B)
# The Block128 launch tile: the default 128x128x32 fitted for two accumulator sets.
tilefuse_emu_variant(fp8_silu_block128_e5m2b_128x64 EXPR "silu(x)" DTYPE e4m3 B_DTYPE e5m2 OUT bf16 SCALE block128
  TILE 128 64 32 64 32 3 8 COL_MAJOR_B)
# Per-token x per-channel scaling through the row/column inputs (issue 15).
tilefuse_emu_variant(fp8_gelu_rowcol_scales EXPR "gelu(x * sa * sb)" DTYPE e4m3 OUT bf16
  TILE 64 64 32 32 32 3 8 COL_MAJOR_B ROWS sa COLS sb)
tilefuse_emu_variant(fp8_swiglu_pertensor EXPR "silu(gate) * up" DTYPE e4m3 OUT bf16
  TILE 64 64 32 32 32 3 8 COL_MAJOR_B)
tilefuse_emu_variant(fp8_geglu_interleave32 EXPR "gelu(gate) * up" DTYPE e4m3 OUT f32
  TILE 64 64 32 32 32 2 8 COL_MAJOR_B INTERLEAVE 32)
# e4m3 output with amax, and its f32 twin (same inputs, tile and epilogue):
# the twin's D is the value the first one quantises (amax bit for bit).
tilefuse_emu_variant(fp8_gelu_e4m3out_amax EXPR "gelu(x)" DTYPE e4m3 OUT e4m3 AMAX
  TILE 64 64 32 32 32 3 8 COL_MAJOR_B BIAS)
tilefuse_emu_variant(fp8_gelu_f32out_amax_twin EXPR "gelu(x)" DTYPE e4m3 OUT f32
  TILE 64 64 32 32 32 3 8 COL_MAJOR_B BIAS)
tilefuse_emu_variant(fp8_block128_e4m3out_amax EXPR "x" DTYPE e4m3 OUT e4m3 AMAX SCALE block128
  TILE 128 64 32 64 32 3 8 COL_MAJOR_B)
tilefuse_emu_variant(fp8_block128_f32out_amax_twin EXPR "x" DTYPE e4m3 OUT f32 SCALE block128
  TILE 128 64 32 64 32 3 8 COL_MAJOR_B)
