// Identities the upstream arith folders already apply; the greedy driver of
// tilefuse-simplify folds, so the pass alone removes them as well.
// RUN: tilefuse-opt %s --split-input-file --tilefuse-simplify | FileCheck %s

// x * 1 → x, x / 1 → x, x - 0 → x, x + (-0) → x, -(-x) → x
// CHECK-LABEL: source = "identities"
// CHECK-NOT:   arith.
// CHECK:       tilefuse.yield %arg0 : f32
tilefuse.matmul attributes {input_type = bf16, output_type = bf16, source = "identities"} {
^bb0(%x: f32):
  %one = arith.constant 1.0 : f32
  %zero = arith.constant 0.0 : f32
  %negzero = arith.constant -0.0 : f32
  %a = arith.mulf %x, %one : f32
  %b = arith.divf %a, %one : f32
  %c = arith.subf %b, %zero : f32
  %d = arith.addf %c, %negzero : f32
  %e = arith.negf %d : f32
  %f = arith.negf %e : f32
  tilefuse.yield %f : f32
}
