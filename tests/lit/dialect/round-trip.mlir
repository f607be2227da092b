// Printing and parsing the dialect is lossless (scalar and vectorized forms).
// RUN: tilefuse-opt %s | tilefuse-opt | FileCheck %s

// CHECK-LABEL: tilefuse.matmul attributes
// CHECK-SAME:  b_layout = "col"
// CHECK-SAME:  has_aux
// CHECK-SAME:  has_bias
// CHECK-SAME:  has_residual
// CHECK-SAME:  mode = "fast"
// CHECK-SAME:  param_names = ["alpha"]
// CHECK-SAME:  shape_hint = array<i64: 128, 4096, 4096>
// CHECK-SAME:  source = "leaky_relu(x, alpha)"
// CHECK-NEXT:  ^bb0(%[[X:.*]]: f32, %[[A:.*]]: f32):
// CHECK:       %[[E:.*]] = tilefuse.erfc %[[X]] : f32
// CHECK-NEXT:  %[[P:.*]] = tilefuse.approx "tanh" %[[E]] : f32
// CHECK-NEXT:  tilefuse.yield %[[P]] : f32
tilefuse.matmul attributes {input_type = bf16, output_type = f32, b_layout = "col", mode = "fast",
    param_names = ["alpha"], has_bias, has_residual, has_aux, shape_hint = array<i64: 128, 4096, 4096>,
    source = "leaky_relu(x, alpha)"} {
^bb0(%x: f32, %a: f32):
  %e = tilefuse.erfc %x : f32
  %p = tilefuse.approx "tanh" %e : f32
  tilefuse.yield %p : f32
}

// CHECK-LABEL: tilefuse.matmul attributes
// CHECK-SAME:  gated
// CHECK-SAME:  tile = #tilefuse.tile<block_m = 64, block_n = 256, block_k = 64, warp_m = 32, warp_n = 64, stages = 4, vector_width = 2, group_m = 8>
// CHECK-NEXT:  ^bb0(%[[G:.*]]: vector<2xf32>, %[[U:.*]]: vector<2xf32>):
// CHECK-NEXT:  %[[M:.*]] = arith.mulf %[[G]], %[[U]] : vector<2xf32>
// CHECK-NEXT:  %[[O:.*]] = arith.truncf %[[M]] : vector<2xf32> to vector<2xf16>
// CHECK-NEXT:  tilefuse.yield %[[O]] : vector<2xf16>
tilefuse.matmul attributes {input_type = f16, output_type = f16, gated,
    tile = #tilefuse.tile<block_m = 64, block_n = 256, block_k = 64, warp_m = 32, warp_n = 64, stages = 4, vector_width = 2, group_m = 8>} {
^bb0(%g: vector<2xf32>, %u: vector<2xf32>):
  %m = arith.mulf %g, %u : vector<2xf32>
  %o = arith.truncf %m : vector<2xf32> to vector<2xf16>
  tilefuse.yield %o : vector<2xf16>
}

// Declared row and column inputs: block arguments after the parameters.
// CHECK-LABEL: tilefuse.matmul attributes
// CHECK-SAME:  col_inputs = ["s"]
// CHECK-SAME:  param_names = ["a"]
// CHECK-SAME:  row_inputs = ["route"]
// CHECK-NEXT:  ^bb0(%[[X:.*]]: f32, %[[A:.*]]: f32, %[[R:.*]]: f32, %[[S:.*]]: f32):
// CHECK-NEXT:  %[[M:.*]] = arith.mulf %[[X]], %[[S]] : f32
// CHECK-NEXT:  %[[N:.*]] = arith.mulf %[[M]], %[[R]] : f32
// CHECK-NEXT:  tilefuse.yield %[[N]] : f32
tilefuse.matmul attributes {input_type = bf16, output_type = bf16, param_names = ["a"], row_inputs = ["route"],
    col_inputs = ["s"]} {
^bb0(%x: f32, %a: f32, %route: f32, %s: f32):
  %m = arith.mulf %x, %s : f32
  %n = arith.mulf %m, %route : f32
  tilefuse.yield %n : f32
}
