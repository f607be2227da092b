// RUN: tilefuse-opt %s --split-input-file --tilefuse-choose-approximations | FileCheck %s

// exp(x) → exp2(x * log2(e)); exp(-y) folds the negation into the constant.
// CHECK-LABEL: source = "exp"
// CHECK-DAG:   %[[L2E:.*]] = arith.constant 1.44269502 : f32
// CHECK-DAG:   %[[ML2E:.*]] = arith.constant -1.44269502 : f32
// CHECK-DAG:   %[[A:.*]] = arith.mulf %arg0, %[[L2E]] : f32
// CHECK-DAG:   %[[EA:.*]] = tilefuse.approx "exp2" %[[A]] : f32
// CHECK-DAG:   %[[B:.*]] = arith.mulf %arg0, %[[ML2E]] : f32
// CHECK-DAG:   %[[EB:.*]] = tilefuse.approx "exp2" %[[B]] : f32
// CHECK-NOT:   math.exp
tilefuse.matmul attributes {input_type = bf16, output_type = bf16, mode = "fast", source = "exp"} {
^bb0(%x: f32):
  %a = math.exp %x : f32
  %n = arith.negf %x : f32
  %b = math.exp %n : f32
  %r = arith.addf %a, %b : f32
  tilefuse.yield %r : f32
}

// -----

// One-to-one replacements: exp2, tanh, log2, rsqrt, sqrt.
// CHECK-LABEL: source = "direct"
// CHECK:       %[[A:.*]] = tilefuse.approx "exp2" %arg0 : f32
// CHECK-NEXT:  %[[B:.*]] = tilefuse.approx "tanh" %[[A]] : f32
// CHECK-NEXT:  %[[C:.*]] = tilefuse.approx "log2" %[[B]] : f32
// CHECK-NEXT:  %[[D:.*]] = tilefuse.approx "rsqrt" %[[C]] : f32
// CHECK-NEXT:  %[[E:.*]] = tilefuse.approx "sqrt" %[[D]] : f32
// CHECK-NEXT:  tilefuse.yield %[[E]]
tilefuse.matmul attributes {input_type = bf16, output_type = bf16, mode = "fast", source = "direct"} {
^bb0(%x: f32):
  %a = math.exp2 %x : f32
  %b = math.tanh %a : f32
  %c = math.log2 %b : f32
  %d = math.rsqrt %c : f32
  %e = math.sqrt %d : f32
  tilefuse.yield %e : f32
}

// -----

// log(x) → log2(x) * ln(2)
// CHECK-LABEL: source = "log"
// CHECK:       %[[LN2:.*]] = arith.constant 0.693147182 : f32
// CHECK:       %[[L:.*]] = tilefuse.approx "log2" %arg0 : f32
// CHECK-NEXT:  %[[R:.*]] = arith.mulf %[[L]], %[[LN2]] : f32
// CHECK-NEXT:  tilefuse.yield %[[R]]
tilefuse.matmul attributes {input_type = bf16, output_type = bf16, mode = "fast", source = "log"} {
^bb0(%x: f32):
  %r = math.log %x : f32
  tilefuse.yield %r : f32
}

// -----

// a / b → a * rcp(b); 1 / b → rcp(b).
// CHECK-LABEL: source = "div"
// CHECK-NOT:   arith.divf
// CHECK:       %[[R1:.*]] = tilefuse.approx "rcp" %arg1 : f32
// CHECK-NEXT:  %[[Q:.*]] = arith.mulf %arg0, %[[R1]] : f32
// CHECK-NEXT:  %[[R2:.*]] = tilefuse.approx "rcp" %arg0 : f32
// CHECK-NEXT:  arith.addf %[[Q]], %[[R2]] : f32
tilefuse.matmul attributes {input_type = bf16, output_type = bf16, mode = "fast", param_names = ["b"], source = "div"} {
^bb0(%x: f32, %b: f32):
  %one = arith.constant 1.0 : f32
  %q = arith.divf %x, %b : f32
  %r = arith.divf %one, %x : f32
  %s = arith.addf %q, %r : f32
  tilefuse.yield %s : f32
}

// -----

// a / c for a constant: multiply by the rounded reciprocal, no rcp; a
// subnormal divisor (1/c overflows) falls back to rcp.
// CHECK-LABEL: source = "div_const"
// CHECK-DAG:   %[[THIRD:.*]] = arith.constant 0.333333343 : f32
// CHECK-DAG:   %[[TINY:.*]] = arith.constant 1.401300e-45 : f32
// CHECK-DAG:   arith.mulf %arg0, %[[THIRD]] : f32
// CHECK-DAG:   %[[RT:.*]] = tilefuse.approx "rcp" %[[TINY]] : f32
// CHECK-DAG:   arith.mulf %arg0, %[[RT]] : f32
// CHECK-NOT:   arith.divf
tilefuse.matmul attributes {input_type = bf16, output_type = bf16, mode = "fast", source = "div_const"} {
^bb0(%x: f32):
  %three = arith.constant 3.0 : f32
  %tiny = arith.constant 1.0e-45 : f32
  %a = arith.divf %x, %three : f32
  %b = arith.divf %x, %tiny : f32
  %r = arith.addf %a, %b : f32
  tilefuse.yield %r : f32
}

// -----

// erf, erfc, log1p, expm1 and powf stay precise in fast mode.
// CHECK-LABEL: source = "kept"
// CHECK-NOT:   tilefuse.approx
// CHECK:       math.erf
// CHECK:       tilefuse.erfc
// CHECK:       math.log1p
// CHECK:       math.expm1
// CHECK:       math.powf
tilefuse.matmul attributes {input_type = bf16, output_type = bf16, mode = "fast", param_names = ["p"], source = "kept"} {
^bb0(%x: f32, %p: f32):
  %a = math.erf %x : f32
  %b = tilefuse.erfc %a : f32
  %c = math.log1p %b : f32
  %d = math.expm1 %c : f32
  %e = math.powf %d, %p : f32
  tilefuse.yield %e : f32
}

// -----

// Vectorized epilogues are rewritten the same way (splat constants).
// CHECK-LABEL: source = "vector"
// CHECK:       arith.constant dense<1.44269502> : vector<2xf32>
// CHECK:       tilefuse.approx "exp2" %{{.*}} : vector<2xf32>
tilefuse.matmul attributes {input_type = bf16, output_type = bf16, mode = "fast", source = "vector",
    tile = #tilefuse.tile<block_m = 128, block_n = 128, block_k = 32, warp_m = 64, warp_n = 64, stages = 3, vector_width = 2, group_m = 8>} {
^bb0(%x: vector<2xf32>):
  %r = math.exp %x : vector<2xf32>
  tilefuse.yield %r : vector<2xf32>
}

// -----

// exp(y * c) → exp2(y * (c·log2 e)): one multiplication per exponential.
// Not when y * c has another use (it is computed anyway).
// CHECK-LABEL: source = "exp_of_scaled"
// CHECK-DAG:   %[[K:.*]] = arith.constant 2.885390e+00 : f32
// CHECK-DAG:   %[[A:.*]] = arith.mulf %arg0, %[[K]] : f32
// CHECK-DAG:   tilefuse.approx "exp2" %[[A]] : f32
// CHECK-DAG:   %[[SHARED:.*]] = arith.mulf %arg0, %{{.*}} : f32
// CHECK-DAG:   %[[L2E:.*]] = arith.constant 1.44269502 : f32
// CHECK-DAG:   %[[B:.*]] = arith.mulf %[[SHARED]], %[[L2E]] : f32
// CHECK-DAG:   tilefuse.approx "exp2" %[[B]] : f32
tilefuse.matmul attributes {input_type = bf16, output_type = bf16, mode = "fast", source = "exp_of_scaled"} {
^bb0(%x: f32):
  %two = arith.constant 2.0 : f32
  %three = arith.constant 3.0 : f32
  %p = arith.mulf %x, %two : f32
  %a = math.exp %p : f32
  %q = arith.mulf %x, %three : f32
  %b = math.exp %q : f32
  %s = arith.addf %a, %b : f32
  %r = arith.addf %s, %q : f32
  tilefuse.yield %r : f32
}
