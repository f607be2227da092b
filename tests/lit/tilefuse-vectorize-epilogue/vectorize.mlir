// RUN: tilefuse-opt %s --split-input-file --tilefuse-vectorize-epilogue | FileCheck %s

// bf16 output: f32 lanes, then one packed truncation before the yield.
// CHECK-LABEL: source = "bf16_out"
// CHECK-NEXT:  ^bb0(%[[X:.*]]: vector<2xf32>, %[[A:.*]]: vector<2xf32>):
// CHECK-NEXT:  %[[C:.*]] = arith.constant dense<5.000000e-01> : vector<2xf32>
// CHECK-NEXT:  %[[M:.*]] = arith.mulf %[[X]], %[[C]] : vector<2xf32>
// CHECK-NEXT:  %[[T:.*]] = math.tanh %[[M]] : vector<2xf32>
// CHECK-NEXT:  %[[E:.*]] = tilefuse.erfc %[[T]] : vector<2xf32>
// CHECK-NEXT:  %[[P:.*]] = tilefuse.approx "exp2" %[[E]] : vector<2xf32>
// CHECK-NEXT:  %[[R:.*]] = arith.addf %[[P]], %[[A]] : vector<2xf32>
// CHECK-NEXT:  %[[O:.*]] = arith.truncf %[[R]] : vector<2xf32> to vector<2xbf16>
// CHECK-NEXT:  tilefuse.yield %[[O]] : vector<2xbf16>
tilefuse.matmul attributes {input_type = bf16, output_type = bf16, param_names = ["a"], source = "bf16_out",
    tile = #tilefuse.tile<block_m = 128, block_n = 128, block_k = 32, warp_m = 64, warp_n = 64, stages = 3, vector_width = 2, group_m = 8>} {
^bb0(%x: f32, %a: f32):
  %c = arith.constant 0.5 : f32
  %m = arith.mulf %x, %c : f32
  %t = math.tanh %m : f32
  %e = tilefuse.erfc %t : f32
  %p = tilefuse.approx "exp2" %e : f32
  %r = arith.addf %p, %a : f32
  tilefuse.yield %r : f32
}

// -----

// f16 output with 4 lanes.
// CHECK-LABEL: source = "f16_out"
// CHECK:       arith.truncf %{{.*}} : vector<4xf32> to vector<4xf16>
// CHECK-NEXT:  tilefuse.yield %{{.*}} : vector<4xf16>
tilefuse.matmul attributes {input_type = f16, output_type = f16, source = "f16_out",
    tile = #tilefuse.tile<block_m = 128, block_n = 128, block_k = 32, warp_m = 64, warp_n = 64, stages = 3, vector_width = 4, group_m = 8>} {
^bb0(%x: f32):
  %r = math.exp %x : f32
  tilefuse.yield %r : f32
}

// -----

// f32 output: the f32 vector is yielded as is.
// CHECK-LABEL: source = "f32_out"
// CHECK-NOT:   arith.truncf
// CHECK:       tilefuse.yield %{{.*}} : vector<2xf32>
tilefuse.matmul attributes {input_type = bf16, output_type = f32, source = "f32_out",
    tile = #tilefuse.tile<block_m = 128, block_n = 128, block_k = 32, warp_m = 64, warp_n = 64, stages = 3, vector_width = 2, group_m = 8>} {
^bb0(%x: f32):
  %r = math.exp %x : f32
  tilefuse.yield %r : f32
}

// -----

// Width 1 still uses vector<1xf32>; a yielded block argument is packed too.
// CHECK-LABEL: source = "width_1"
// CHECK-NEXT:  ^bb0(%[[X:.*]]: vector<1xf32>):
// CHECK-NEXT:  %[[O:.*]] = arith.truncf %[[X]] : vector<1xf32> to vector<1xbf16>
// CHECK-NEXT:  tilefuse.yield %[[O]] : vector<1xbf16>
tilefuse.matmul attributes {input_type = bf16, output_type = bf16, source = "width_1",
    tile = #tilefuse.tile<block_m = 128, block_n = 128, block_k = 32, warp_m = 64, warp_n = 64, stages = 3, vector_width = 1, group_m = 8>} {
^bb0(%x: f32):
  tilefuse.yield %x : f32
}

// -----

// Comparisons give vector<Nxi1>; select, uitofp and i1 constants follow.
// CHECK-LABEL: source = "predicates"
// CHECK-DAG:   %[[Z:.*]] = arith.constant dense<0.000000e+00> : vector<2xf32>
// CHECK-DAG:   %[[T:.*]] = arith.constant dense<true> : vector<2xi1>
// CHECK:       %[[P:.*]] = arith.cmpf ogt, %arg0, %[[Z]] : vector<2xf32>
// CHECK-NEXT:  %[[Q:.*]] = arith.andi %[[P]], %[[T]] : vector<2xi1>
// CHECK-NEXT:  %[[S:.*]] = arith.select %[[Q]], %arg0, %[[Z]] : vector<2xi1>, vector<2xf32>
// CHECK-NEXT:  %[[F:.*]] = arith.uitofp %[[Q]] : vector<2xi1> to vector<2xf32>
// CHECK-NEXT:  %[[R:.*]] = arith.addf %[[S]], %[[F]] : vector<2xf32>
tilefuse.matmul attributes {input_type = bf16, output_type = bf16, source = "predicates",
    tile = #tilefuse.tile<block_m = 128, block_n = 128, block_k = 32, warp_m = 64, warp_n = 64, stages = 3, vector_width = 2, group_m = 8>} {
^bb0(%x: f32):
  %zero = arith.constant 0.0 : f32
  %true = arith.constant true
  %p = arith.cmpf ogt, %x, %zero : f32
  %q = arith.andi %p, %true : i1
  %s = arith.select %q, %x, %zero : f32
  %f = arith.uitofp %q : i1 to f32
  %r = arith.addf %s, %f : f32
  tilefuse.yield %r : f32
}

// -----

// Row and column inputs widen like every other argument (a row input's lanes
// all hold the same row's value).
// CHECK-LABEL: source = "row_col"
// CHECK-NEXT:  ^bb0(%[[X:.*]]: vector<4xf32>, %[[R:.*]]: vector<4xf32>, %[[S:.*]]: vector<4xf32>):
// CHECK-NEXT:  %[[M:.*]] = arith.mulf %[[X]], %[[S]] : vector<4xf32>
// CHECK-NEXT:  %[[N:.*]] = arith.mulf %[[M]], %[[R]] : vector<4xf32>
tilefuse.matmul attributes {input_type = bf16, output_type = f32, row_inputs = ["route"], col_inputs = ["s"],
    source = "row_col",
    tile = #tilefuse.tile<block_m = 128, block_n = 128, block_k = 32, warp_m = 64, warp_n = 64, stages = 3, vector_width = 4, group_m = 8>} {
^bb0(%x: f32, %route: f32, %s: f32):
  %m = arith.mulf %x, %s : f32
  %n = arith.mulf %m, %route : f32
  tilefuse.yield %n : f32
}
