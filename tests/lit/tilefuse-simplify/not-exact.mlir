// Tempting rewrites that are NOT exact under IEEE-754: tilefuse-simplify (and
// the folders it runs) must leave every one of them in place.
// RUN: tilefuse-opt %s --split-input-file --tilefuse-simplify | FileCheck %s

// x + 0.0 is not x: -0 + 0 = +0.
// CHECK-LABEL: source = "add_pos_zero"
// CHECK:       arith.addf %arg0, %{{.*}} : f32
tilefuse.matmul attributes {input_type = bf16, output_type = bf16, source = "add_pos_zero"} {
^bb0(%x: f32):
  %zero = arith.constant 0.0 : f32
  %r = arith.addf %x, %zero : f32
  tilefuse.yield %r : f32
}

// -----

// x * 0 is not 0: inf * 0 = NaN, -1 * 0 = -0.
// CHECK-LABEL: source = "mul_zero"
// CHECK:       arith.mulf %arg0, %{{.*}} : f32
tilefuse.matmul attributes {input_type = bf16, output_type = bf16, source = "mul_zero"} {
^bb0(%x: f32):
  %zero = arith.constant 0.0 : f32
  %r = arith.mulf %x, %zero : f32
  tilefuse.yield %r : f32
}

// -----

// x - x is not 0 (inf - inf = NaN); x / x is not 1 (0/0, inf/inf).
// CHECK-LABEL: source = "self_cancel"
// CHECK:       arith.subf %arg0, %arg0 : f32
// CHECK:       arith.divf %arg0, %arg0 : f32
tilefuse.matmul attributes {input_type = bf16, output_type = bf16, source = "self_cancel"} {
^bb0(%x: f32):
  %a = arith.subf %x, %x : f32
  %b = arith.divf %x, %x : f32
  %r = arith.addf %a, %b : f32
  tilefuse.yield %r : f32
}

// -----

// pow(x, 0.5) is not sqrt(x): pow(-0, 0.5) = +0, pow(-inf, 0.5) = +inf.
// pow(x, 4) and pow(x, y) have no exact expansion either.
// CHECK-LABEL: source = "pow_kept"
// CHECK-NOT:   math.sqrt
// CHECK:       math.powf %arg0, %{{.*}} : f32
// CHECK:       math.powf %arg0, %{{.*}} : f32
// CHECK:       math.powf %arg0, %arg1 : f32
tilefuse.matmul attributes {input_type = bf16, output_type = bf16, param_names = ["y"], source = "pow_kept"} {
^bb0(%x: f32, %y: f32):
  %half = arith.constant 0.5 : f32
  %four = arith.constant 4.0 : f32
  %a = math.powf %x, %half : f32
  %b = math.powf %x, %four : f32
  %c = math.powf %x, %y : f32
  %s = arith.addf %a, %b : f32
  %r = arith.addf %s, %c : f32
  tilefuse.yield %r : f32
}

// -----

// x / c stays a division when 1/c is rounded (3), a subnormal (2^127), or
// does not exist (0).
// CHECK-LABEL: source = "div_kept"
// CHECK-NOT:   arith.mulf
// CHECK:       arith.divf %arg0, %{{.*}} : f32
// CHECK:       arith.divf %arg0, %{{.*}} : f32
// CHECK:       arith.divf %arg0, %{{.*}} : f32
tilefuse.matmul attributes {input_type = bf16, output_type = bf16, source = "div_kept"} {
^bb0(%x: f32):
  %three = arith.constant 3.0 : f32
  %huge = arith.constant 0x7F000000 : f32
  %zero = arith.constant 0.0 : f32
  %a = arith.divf %x, %three : f32
  %b = arith.divf %x, %huge : f32
  %c = arith.divf %x, %zero : f32
  %s = arith.addf %a, %b : f32
  %r = arith.addf %s, %c : f32
  tilefuse.yield %r : f32
}

// -----

// sqrt(x * x) is not |x|: x * x overflows for |x| > 1.8e19.
// CHECK-LABEL: source = "sqrt_square"
// CHECK:       arith.mulf %arg0, %arg0 : f32
// CHECK-NEXT:  math.sqrt
tilefuse.matmul attributes {input_type = bf16, output_type = bf16, source = "sqrt_square"} {
^bb0(%x: f32):
  %sq = arith.mulf %x, %x : f32
  %r = math.sqrt %sq : f32
  tilefuse.yield %r : f32
}
