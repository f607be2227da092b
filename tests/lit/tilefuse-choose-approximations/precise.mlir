// In precise mode (the default) the pass changes nothing.
// RUN: tilefuse-opt %s --tilefuse-choose-approximations | FileCheck %s

// CHECK-NOT:   tilefuse.approx
// CHECK:       math.exp %arg0
// CHECK-NEXT:  math.tanh
// CHECK-NEXT:  math.log
// CHECK-NEXT:  math.sqrt
// CHECK-NEXT:  arith.divf
tilefuse.matmul attributes {input_type = bf16, output_type = bf16, source = "precise"} {
^bb0(%x: f32):
  %a = math.exp %x : f32
  %b = math.tanh %a : f32
  %c = math.log %b : f32
  %d = math.sqrt %c : f32
  %e = arith.divf %d, %x : f32
  tilefuse.yield %e : f32
}
