// RUN: tilefuse-opt %s --split-input-file --tilefuse-vectorize-epilogue --verify-diagnostics

// expected-error @below {{has no tile; run tilefuse-select-tile-config before tilefuse-vectorize-epilogue}}
tilefuse.matmul attributes {input_type = bf16, output_type = bf16} {
^bb0(%x: f32):
  tilefuse.yield %x : f32
}

// -----

func.func private @tf_builtin_id(%x: f32) -> f32 {
  return %x : f32
}
tilefuse.matmul attributes {input_type = bf16, output_type = bf16,
    tile = #tilefuse.tile<block_m = 128, block_n = 128, block_k = 32, warp_m = 64, warp_n = 64, stages = 3, vector_width = 2, group_m = 8>} {
^bb0(%x: f32):
  // expected-error @below {{is not element-wise, so the epilogue cannot be vectorized}}
  %y = func.call @tf_builtin_id(%x) : (f32) -> f32
  tilefuse.yield %y : f32
}
