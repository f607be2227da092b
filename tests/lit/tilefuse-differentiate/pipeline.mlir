// The backward pipeline differentiates before choose-approximations: a fast
// backward epilogue gets the SFU approximations too, a precise one none.
// RUN: tilefuse-opt %s --split-input-file --tilefuse-pipeline="differentiate=true vectorize=false" | FileCheck %s

// CHECK-LABEL: tilefuse.matmul attributes {grad_wrt = "x", {{.*}}mode = "fast", {{.*}}source = "fast_sigmoid"
// CHECK:       tilefuse.approx "exp2"
// CHECK:       tilefuse.approx "rcp"
// CHECK:       tilefuse.yield
tilefuse.matmul attributes {input_type = bf16, output_type = bf16, mode = "fast", source = "fast_sigmoid"} {
^bb0(%x: f32):
  %c1 = arith.constant 1.0 : f32
  %n = arith.negf %x : f32
  %e = math.exp %n : f32
  %d = arith.addf %c1, %e : f32
  %y = arith.divf %c1, %d : f32
  tilefuse.yield %y : f32
}

// -----

// CHECK-LABEL: tilefuse.matmul attributes {grad_wrt = "x", {{.*}}source = "precise_sigmoid"
// CHECK-NOT:   tilefuse.approx
// CHECK:       math.exp
// CHECK:       tilefuse.yield
tilefuse.matmul attributes {input_type = bf16, output_type = bf16, mode = "precise", source = "precise_sigmoid"} {
^bb0(%x: f32):
  %c1 = arith.constant 1.0 : f32
  %n = arith.negf %x : f32
  %e = math.exp %n : f32
  %d = arith.addf %c1, %e : f32
  %y = arith.divf %c1, %d : f32
  tilefuse.yield %y : f32
}
