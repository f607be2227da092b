// RUN: tilefuse-opt %s --split-input-file --verify-diagnostics --tilefuse-differentiate

// expected-error @+1 {{is already a backward epilogue}}
tilefuse.matmul attributes {input_type = bf16, output_type = bf16, grad_wrt = "x"} {
^bb0(%dy: f32, %x: f32):
  tilefuse.yield %x : f32
}

// -----

// expected-error @+1 {{takes the scalar epilogue}}
tilefuse.matmul attributes {input_type = bf16, output_type = bf16,
    tile = #tilefuse.tile<block_m = 128, block_n = 128, block_k = 32, warp_m = 64, warp_n = 64, stages = 3, vector_width = 2, group_m = 8>} {
^bb0(%x: vector<2xf32>):
  tilefuse.yield %x : vector<2xf32>
}

// -----

func.func private @tf_builtin_f(%x: f32) -> f32 {
  return %x : f32
}
tilefuse.matmul attributes {input_type = bf16, output_type = bf16} {
^bb0(%x: f32):
  // expected-error @+1 {{run tilefuse-inline-builtins first}}
  %y = func.call @tf_builtin_f(%x) : (f32) -> f32
  tilefuse.yield %y : f32
}
