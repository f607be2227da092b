// Verifier errors of #tilefuse.tile.
// RUN: tilefuse-opt %s --split-input-file --verify-diagnostics

// expected-error @below {{tile sizes must be positive}}
tilefuse.matmul attributes {input_type = bf16, output_type = bf16, tile = #tilefuse.tile<block_m = 0, block_n = 128, block_k = 32, warp_m = 64, warp_n = 64, stages = 3, vector_width = 2, group_m = 8>} {
^bb0(%x: f32):
  tilefuse.yield %x : f32
}

// -----

// expected-error @below {{block tile 128x96 is not a multiple of the warp tile 64x64}}
tilefuse.matmul attributes {input_type = bf16, output_type = bf16, tile = #tilefuse.tile<block_m = 128, block_n = 96, block_k = 32, warp_m = 64, warp_n = 64, stages = 3, vector_width = 2, group_m = 8>} {
^bb0(%x: f32):
  tilefuse.yield %x : f32
}

// -----

// expected-error @below {{stages must be in [1, 8], got 9}}
tilefuse.matmul attributes {input_type = bf16, output_type = bf16, tile = #tilefuse.tile<block_m = 128, block_n = 128, block_k = 32, warp_m = 64, warp_n = 64, stages = 9, vector_width = 2, group_m = 8>} {
^bb0(%x: f32):
  tilefuse.yield %x : f32
}

// -----

// expected-error @below {{vector_width must be 1, 2 or 4, got 3}}
tilefuse.matmul attributes {input_type = bf16, output_type = bf16, tile = #tilefuse.tile<block_m = 128, block_n = 128, block_k = 32, warp_m = 64, warp_n = 64, stages = 3, vector_width = 3, group_m = 8>} {
^bb0(%x: f32):
  tilefuse.yield %x : f32
}

// -----

// expected-error @below {{group_m must be >= 1, got 0}}
tilefuse.matmul attributes {input_type = bf16, output_type = bf16, tile = #tilefuse.tile<block_m = 128, block_n = 128, block_k = 32, warp_m = 64, warp_n = 64, stages = 3, vector_width = 2, group_m = 0>} {
^bb0(%x: f32):
  tilefuse.yield %x : f32
}
