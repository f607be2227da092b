// The rewrites of tilefuse-simplify, each exact under IEEE-754 (the reason
// is in Passes.td). One epilogue per case, labelled by its `source`.
// RUN: tilefuse-opt %s --split-input-file --tilefuse-simplify | FileCheck %s

// x / 4 → x * 0.25 (4 = 2^2, 0.25 exact).
// CHECK-LABEL: source = "div_pow2"
// CHECK:       %[[C:.*]] = arith.constant 2.500000e-01 : f32
// CHECK-NEXT:  %[[R:.*]] = arith.mulf %arg0, %[[C]] : f32
// CHECK-NEXT:  tilefuse.yield %[[R]]
tilefuse.matmul attributes {input_type = bf16, output_type = bf16, source = "div_pow2"} {
^bb0(%x: f32):
  %c = arith.constant 4.0 : f32
  %r = arith.divf %x, %c : f32
  tilefuse.yield %r : f32
}

// -----

// Negative powers of two too: x / -0.5 → x * -2.
// CHECK-LABEL: source = "div_neg_half"
// CHECK:       %[[C:.*]] = arith.constant -2.000000e+00 : f32
// CHECK-NEXT:  arith.mulf %arg0, %[[C]] : f32
tilefuse.matmul attributes {input_type = bf16, output_type = bf16, source = "div_neg_half"} {
^bb0(%x: f32):
  %c = arith.constant -0.5 : f32
  %r = arith.divf %x, %c : f32
  tilefuse.yield %r : f32
}

// -----

// Vectors (a splat divisor) are handled the same way.
// CHECK-LABEL: source = "div_pow2_vector"
// CHECK:       %[[C:.*]] = arith.constant dense<1.250000e-01> : vector<2xf32>
// CHECK-NEXT:  arith.mulf %arg0, %[[C]] : vector<2xf32>
tilefuse.matmul attributes {input_type = bf16, output_type = bf16, source = "div_pow2_vector",
    tile = #tilefuse.tile<block_m = 128, block_n = 128, block_k = 32, warp_m = 64, warp_n = 64, stages = 3, vector_width = 2, group_m = 8>} {
^bb0(%x: vector<2xf32>):
  %c = arith.constant dense<8.0> : vector<2xf32>
  %r = arith.divf %x, %c : vector<2xf32>
  tilefuse.yield %r : vector<2xf32>
}

// -----

// x - (-y) → x + y
// CHECK-LABEL: source = "sub_neg"
// CHECK-NOT:   arith.negf
// CHECK:       %[[R:.*]] = arith.addf %arg0, %arg1 : f32
// CHECK-NEXT:  tilefuse.yield %[[R]]
tilefuse.matmul attributes {input_type = bf16, output_type = bf16, param_names = ["y"], source = "sub_neg"} {
^bb0(%x: f32, %y: f32):
  %n = arith.negf %y : f32
  %r = arith.subf %x, %n : f32
  tilefuse.yield %r : f32
}

// -----

// x + (-y) → x - y and (-y) + x → x - y
// CHECK-LABEL: source = "add_neg"
// CHECK-NOT:   arith.negf
// CHECK:       %[[A:.*]] = arith.subf %arg0, %arg1 : f32
// CHECK-NEXT:  %[[B:.*]] = arith.subf %arg0, %arg1 : f32
// CHECK-NEXT:  arith.mulf %[[A]], %[[B]]
tilefuse.matmul attributes {input_type = bf16, output_type = bf16, param_names = ["y"], source = "add_neg"} {
^bb0(%x: f32, %y: f32):
  %n = arith.negf %y : f32
  %a = arith.addf %x, %n : f32
  %b = arith.addf %n, %x : f32
  %r = arith.mulf %a, %b : f32
  tilefuse.yield %r : f32
}

// -----

// (-x) * c → x * (-c), (-x) / c → x / (-c), c * (-x) → (-c) * x
// CHECK-LABEL: source = "neg_times_const"
// CHECK-NOT:   arith.negf
// CHECK-DAG:   %[[M3:.*]] = arith.constant -3.000000e+00 : f32
// CHECK-DAG:   %[[M5:.*]] = arith.constant -5.000000e+00 : f32
// CHECK-DAG:   %[[P:.*]] = arith.mulf %arg0, %[[M3]] : f32
// CHECK-DAG:   %[[Q:.*]] = arith.divf %arg0, %[[M3]] : f32
// CHECK-DAG:   %[[S:.*]] = arith.mulf %arg0, %[[M5]] : f32
tilefuse.matmul attributes {input_type = bf16, output_type = bf16, source = "neg_times_const"} {
^bb0(%x: f32):
  %c3 = arith.constant 3.0 : f32
  %c5 = arith.constant 5.0 : f32
  %n = arith.negf %x : f32
  %p = arith.mulf %n, %c3 : f32
  %q = arith.divf %n, %c3 : f32
  %s = arith.mulf %c5, %n : f32
  %t = arith.addf %p, %q : f32
  %r = arith.addf %t, %s : f32
  tilefuse.yield %r : f32
}

// -----

// (-x) * (-y) → x * y, (-x) / (-y) → x / y
// CHECK-LABEL: source = "neg_times_neg"
// CHECK-NOT:   arith.negf
// CHECK:       %[[M:.*]] = arith.mulf %arg0, %arg1 : f32
// CHECK-NEXT:  %[[D:.*]] = arith.divf %arg0, %arg1 : f32
tilefuse.matmul attributes {input_type = bf16, output_type = bf16, param_names = ["y"], source = "neg_times_neg"} {
^bb0(%x: f32, %y: f32):
  %nx = arith.negf %x : f32
  %ny = arith.negf %y : f32
  %m = arith.mulf %nx, %ny : f32
  %d = arith.divf %nx, %ny : f32
  %r = arith.addf %m, %d : f32
  tilefuse.yield %r : f32
}

// -----

// |(-x)| → |x|
// CHECK-LABEL: source = "abs_neg"
// CHECK-NOT:   arith.negf
// CHECK:       %[[R:.*]] = math.absf %arg0 : f32
// CHECK-NEXT:  tilefuse.yield %[[R]]
tilefuse.matmul attributes {input_type = bf16, output_type = bf16, source = "abs_neg"} {
^bb0(%x: f32):
  %n = arith.negf %x : f32
  %r = math.absf %n : f32
  tilefuse.yield %r : f32
}

// -----

// pow(x, 0) → 1 and pow(x, -0) → 1 (then x * 1 folds to x).
// CHECK-LABEL: source = "pow_0"
// CHECK-NOT:   math.powf
// CHECK:       %[[ONE:.*]] = arith.constant 1.000000e+00 : f32
// CHECK-NEXT:  %[[S:.*]] = arith.addf %arg0, %[[ONE]] : f32
// CHECK-NEXT:  tilefuse.yield %[[S]]
tilefuse.matmul attributes {input_type = bf16, output_type = bf16, source = "pow_0"} {
^bb0(%x: f32):
  %c0 = arith.constant 0.0 : f32
  %m0 = arith.constant -0.0 : f32
  %a = math.powf %x, %c0 : f32
  %b = math.powf %x, %m0 : f32
  %s = arith.addf %x, %a : f32
  %r = arith.mulf %s, %b : f32
  tilefuse.yield %r : f32
}

// -----

// pow(x, 1) → x
// CHECK-LABEL: source = "pow_1"
// CHECK-NOT:   math.powf
// CHECK:       tilefuse.yield %arg0 : f32
tilefuse.matmul attributes {input_type = bf16, output_type = bf16, source = "pow_1"} {
^bb0(%x: f32):
  %c = arith.constant 1.0 : f32
  %r = math.powf %x, %c : f32
  tilefuse.yield %r : f32
}

// -----

// pow(x, -1) → 1 / x
// CHECK-LABEL: source = "pow_minus_1"
// CHECK-NOT:   math.powf
// CHECK:       %[[ONE:.*]] = arith.constant 1.000000e+00 : f32
// CHECK-NEXT:  %[[R:.*]] = arith.divf %[[ONE]], %arg0 : f32
// CHECK-NEXT:  tilefuse.yield %[[R]]
tilefuse.matmul attributes {input_type = bf16, output_type = bf16, source = "pow_minus_1"} {
^bb0(%x: f32):
  %c = arith.constant -1.0 : f32
  %r = math.powf %x, %c : f32
  tilefuse.yield %r : f32
}

// -----

// pow(x, 2) → x * x
// CHECK-LABEL: source = "pow_2"
// CHECK-NOT:   math.powf
// CHECK:       %[[R:.*]] = arith.mulf %arg0, %arg0 : f32
// CHECK-NEXT:  tilefuse.yield %[[R]]
tilefuse.matmul attributes {input_type = bf16, output_type = bf16, source = "pow_2"} {
^bb0(%x: f32):
  %c = arith.constant 2.0 : f32
  %r = math.powf %x, %c : f32
  tilefuse.yield %r : f32
}

// -----

// pow(x, 3) → (x * x) * x
// CHECK-LABEL: source = "pow_3"
// CHECK-NOT:   math.powf
// CHECK:       %[[SQ:.*]] = arith.mulf %arg0, %arg0 : f32
// CHECK-NEXT:  %[[R:.*]] = arith.mulf %[[SQ]], %arg0 : f32
// CHECK-NEXT:  tilefuse.yield %[[R]]
tilefuse.matmul attributes {input_type = bf16, output_type = bf16, source = "pow_3"} {
^bb0(%x: f32):
  %c = arith.constant 3.0 : f32
  %r = math.powf %x, %c : f32
  tilefuse.yield %r : f32
}

// -----

// -(x * c) → x * (-c) and -(x / c) → x / (-c) when the product is used once.
// CHECK-LABEL: source = "neg_of_scaled"
// CHECK-NOT:   arith.negf
// CHECK-DAG:   %[[M:.*]] = arith.constant -1.702000e+00 : f32
// CHECK-DAG:   %[[D:.*]] = arith.constant -3.000000e+00 : f32
// CHECK-DAG:   arith.mulf %arg0, %[[M]] : f32
// CHECK-DAG:   arith.divf %arg0, %[[D]] : f32
tilefuse.matmul attributes {input_type = bf16, output_type = bf16, source = "neg_of_scaled"} {
^bb0(%x: f32):
  %c = arith.constant 1.702 : f32
  %three = arith.constant 3.0 : f32
  %p = arith.mulf %x, %c : f32
  %np = arith.negf %p : f32
  %q = arith.divf %x, %three : f32
  %nq = arith.negf %q : f32
  // (powf has no negation rewrites that could fire first)
  %r = math.powf %np, %nq : f32
  tilefuse.yield %r : f32
}

// -----

// ...but not when the product has another use (that would add an op).
// CHECK-LABEL: source = "neg_of_shared_product"
// CHECK:       %[[P:.*]] = arith.mulf %arg0, %{{.*}} : f32
// CHECK-NEXT:  %[[N:.*]] = arith.negf %[[P]] : f32
tilefuse.matmul attributes {input_type = bf16, output_type = bf16, source = "neg_of_shared_product"} {
^bb0(%x: f32):
  %c = arith.constant 1.702 : f32
  %p = arith.mulf %x, %c : f32
  %np = arith.negf %p : f32
  %r = arith.mulf %np, %p : f32
  tilefuse.yield %r : f32
}
