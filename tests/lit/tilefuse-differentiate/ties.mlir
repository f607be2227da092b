// The left-derivative convention at kinks and branch points: a select's
// tangent uses the comparison's outcome just LEFT of a tie, folded into the
// predicate when the tangents are compile-time constants.
// RUN: tilefuse-opt %s --split-input-file --tilefuse-differentiate --canonicalize --cse | FileCheck %s

// x >= 0 is false just left of 0: the tangent select uses x > 0 (so
// leaky_relu'(0) = a, as PyTorch), the primal select keeps x >= 0.
// CHECK-LABEL: source = "leaky"
// CHECK:       %[[STRICT:.*]] = arith.cmpf ogt, %arg1, %{{.*}} : f32
// CHECK:       arith.select %[[STRICT]], %{{.*}}, %{{.*}} : f32
// CHECK-NOT:   arith.cmpf oge
tilefuse.matmul attributes {input_type = bf16, output_type = bf16, source = "leaky"} {
^bb0(%x: f32):
  %c0 = arith.constant 0.0 : f32
  %a = arith.constant 0.01 : f32
  %ge = arith.cmpf oge, %x, %c0 : f32
  %n = arith.mulf %x, %a : f32
  %y = arith.select %ge, %x, %n : f32
  tilefuse.yield %y : f32
}

// -----

// x <= 1 is true just left of 1: the tangent select uses x <= 1 unchanged;
// x < 1 becomes x <= 1.
// CHECK-LABEL: source = "lt"
// CHECK:       %[[LE:.*]] = arith.cmpf ole, %arg1, %{{.*}} : f32
// CHECK:       arith.select %[[LE]]
tilefuse.matmul attributes {input_type = bf16, output_type = bf16, source = "lt"} {
^bb0(%x: f32):
  %c1 = arith.constant 1.0 : f32
  %c3 = arith.constant 3.0 : f32
  %lt = arith.cmpf olt, %x, %c1 : f32
  %t = arith.mulf %x, %c3 : f32
  %y = arith.select %lt, %t, %x : f32
  tilefuse.yield %y : f32
}

// -----

// |x| at 0: -1 (the slope just left of 0).
// CHECK-LABEL: source = "abs"
// CHECK-DAG:   %[[M1:.*]] = arith.constant -1.000000e+00 : f32
// CHECK-DAG:   %[[P1:.*]] = arith.constant 1.000000e+00 : f32
// CHECK:       %[[POS:.*]] = arith.cmpf ogt, %arg1, %{{.*}} : f32
// CHECK:       arith.select %[[POS]], %[[P1]], %[[M1]] : f32
tilefuse.matmul attributes {input_type = bf16, output_type = bf16, source = "abs"} {
^bb0(%x: f32):
  %y = math.absf %x : f32
  tilefuse.yield %y : f32
}

// -----

// A comparison of two computed values decides the tie at run time from the
// tangents (here g == 0 with g = x - 5: just left of x = 5, g != 0).
// CHECK-LABEL: source = "dynamic"
// CHECK:       arith.cmpf oeq, %[[G:.*]], %{{.*}} : f32
// CHECK:       arith.select %{{.*}}, %{{.*}}, %{{.*}} : i1
tilefuse.matmul attributes {input_type = bf16, output_type = bf16, source = "dynamic"} {
^bb0(%x: f32):
  %c5 = arith.constant 5.0 : f32
  %c0 = arith.constant 0.0 : f32
  %g = arith.subf %x, %c5 : f32
  %h = arith.mulf %g, %g : f32
  %z = arith.cmpf oeq, %g, %h : f32
  %a = arith.mulf %g, %c0 : f32
  %b = arith.mulf %x, %g : f32
  %y = arith.select %z, %a, %b : f32
  tilefuse.yield %y : f32
}
