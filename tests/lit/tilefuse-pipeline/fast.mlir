// Fast mode through the whole pipeline: simplify runs before the
// approximations, so x / 2 is a multiplication and not an rcp.
// RUN: tilefuse-opt %s --tilefuse-pipeline | FileCheck %s

// CHECK-NOT:   arith.divf
// CHECK:       ^bb0(%[[X:.*]]: vector<4xf32>):
// CHECK-DAG:   %[[HALF:.*]] = arith.constant dense<5.000000e-01> : vector<4xf32>
// CHECK-DAG:   %[[M:.*]] = arith.mulf %[[X]], %[[HALF]] : vector<4xf32>
// CHECK-DAG:   %[[T:.*]] = tilefuse.approx "tanh" %[[M]] : vector<4xf32>
// CHECK-NOT:   tilefuse.approx "rcp"
// CHECK:       arith.truncf
tilefuse.matmul attributes {input_type = bf16, output_type = bf16, mode = "fast", source = "tanh(x / 2) * x"} {
^bb0(%x: f32):
  %two = arith.constant 2.0 : f32
  %h = arith.divf %x, %two : f32
  %t = math.tanh %h : f32
  %r = arith.mulf %t, %x : f32
  tilefuse.yield %r : f32
}
