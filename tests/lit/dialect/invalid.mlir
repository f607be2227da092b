// Every verifier error of the dialect, one per split.
// RUN: tilefuse-opt %s --split-input-file --verify-diagnostics

// expected-error @below {{input_type must be bf16 or f16, got 'f32'}}
tilefuse.matmul attributes {input_type = f32, output_type = bf16} {
^bb0(%x: f32):
  tilefuse.yield %x : f32
}

// -----

// expected-error @below {{output_type must be bf16, f16 or f32, got 'i32'}}
tilefuse.matmul attributes {input_type = bf16, output_type = i32} {
^bb0(%x: f32):
  tilefuse.yield %x : f32
}

// -----

// expected-error @below {{b_layout must be "row" or "col", got "diag"}}
tilefuse.matmul attributes {input_type = bf16, output_type = bf16, b_layout = "diag"} {
^bb0(%x: f32):
  tilefuse.yield %x : f32
}

// -----

// expected-error @below {{mode must be "precise" or "fast", got "turbo"}}
tilefuse.matmul attributes {input_type = bf16, output_type = bf16, mode = "turbo"} {
^bb0(%x: f32):
  tilefuse.yield %x : f32
}

// -----

// expected-error @below {{a gated matmul takes no bias (fold it into the weights)}}
tilefuse.matmul attributes {input_type = bf16, output_type = bf16, gated, has_bias} {
^bb0(%g: f32, %u: f32):
  tilefuse.yield %g : f32
}

// -----

// expected-error @below {{epilogue expects 3 block arguments (2 input(s) + 1 parameter(s)), got 2}}
tilefuse.matmul attributes {input_type = bf16, output_type = bf16, gated, param_names = ["a"]} {
^bb0(%g: f32, %u: f32):
  tilefuse.yield %g : f32
}

// -----

// expected-error @below {{epilogue arguments must be f32 or vector of f32, got 'f16'}}
tilefuse.matmul attributes {input_type = bf16, output_type = bf16} {
^bb0(%x: f16):
  %y = arith.extf %x : f16 to f32
  tilefuse.yield %y : f32
}

// -----

// expected-error @below {{epilogue arguments must all have the same type}}
tilefuse.matmul attributes {input_type = bf16, output_type = bf16, param_names = ["a"], tile = #tilefuse.tile<block_m = 128, block_n = 128, block_k = 32, warp_m = 64, warp_n = 64, stages = 3, vector_width = 2, group_m = 8>} {
^bb0(%x: vector<2xf32>, %a: f32):
  tilefuse.yield %x : vector<2xf32>
}

// -----

// expected-error @below {{vectorized epilogue width 4 does not match tile.vector_width}}
tilefuse.matmul attributes {input_type = bf16, output_type = bf16, tile = #tilefuse.tile<block_m = 128, block_n = 128, block_k = 32, warp_m = 64, warp_n = 64, stages = 3, vector_width = 2, group_m = 8>} {
^bb0(%x: vector<4xf32>):
  tilefuse.yield %x : vector<4xf32>
}

// -----

// expected-error @below {{vectorized epilogue width 2 does not match tile.vector_width}}
tilefuse.matmul attributes {input_type = bf16, output_type = bf16} {
^bb0(%x: vector<2xf32>):
  tilefuse.yield %x : vector<2xf32>
}

// -----

// expected-error @below {{vectorized epilogue must yield 'vector<2xf32>' or 'vector<2xbf16>', got 'vector<2xf16>'}}
tilefuse.matmul attributes {input_type = bf16, output_type = bf16, tile = #tilefuse.tile<block_m = 128, block_n = 128, block_k = 32, warp_m = 64, warp_n = 64, stages = 3, vector_width = 2, group_m = 8>} {
^bb0(%x: vector<2xf32>):
  %o = arith.truncf %x : vector<2xf32> to vector<2xf16>
  tilefuse.yield %o : vector<2xf16>
}

// -----

// expected-error @below {{scalar epilogue must yield f32, got 'i1'}}
tilefuse.matmul attributes {input_type = bf16, output_type = bf16} {
^bb0(%x: f32):
  %p = arith.cmpf ogt, %x, %x : f32
  tilefuse.yield %p : i1
}

// -----

// expected-error @below {{shape_hint must be [M, N, K]}}
tilefuse.matmul attributes {input_type = bf16, output_type = bf16, shape_hint = array<i64: 128, 128>} {
^bb0(%x: f32):
  tilefuse.yield %x : f32
}

// -----

// expected-error @below {{'tilefuse.matmul' op expects a non-empty block}}
tilefuse.matmul attributes {input_type = bf16, output_type = bf16} {
^bb0(%x: f32):
}

// -----

tilefuse.matmul attributes {input_type = bf16, output_type = bf16} {
^bb0(%x: f32):
  // expected-error @below {{unknown approximation 'cos'; expected one of exp2, tanh, rcp, log2, rsqrt, sqrt}}
  %y = tilefuse.approx "cos" %x : f32
  tilefuse.yield %y : f32
}

// -----

func.func @yield_outside(%x: f32) -> f32 {
  // expected-error @below {{'tilefuse.yield' op expects parent op 'tilefuse.matmul'}}
  tilefuse.yield %x : f32
}

// -----

// expected-error @+1 {{grad_wrt must name an input of the activation ("x"), got "gate"}}
tilefuse.matmul attributes {input_type = bf16, output_type = bf16, grad_wrt = "gate"} {
^bb0(%dy: f32, %x: f32):
  tilefuse.yield %x : f32
}

// -----

// expected-error @+1 {{a backward epilogue (grad_wrt) reads no bias or residual and writes no aux}}
tilefuse.matmul attributes {input_type = bf16, output_type = bf16, grad_wrt = "x", has_bias} {
^bb0(%dy: f32, %x: f32):
  tilefuse.yield %x : f32
}

// -----

// Declared row and column inputs are block arguments after the parameters.
// expected-error @below {{epilogue expects 4 block arguments (1 input(s) + 1 parameter(s) + 1 row input(s) + 1 column input(s)), got 3}}
tilefuse.matmul attributes {input_type = bf16, output_type = bf16, param_names = ["a"], row_inputs = ["route"], col_inputs = ["s"]} {
^bb0(%x: f32, %a: f32, %route: f32):
  tilefuse.yield %x : f32
}
