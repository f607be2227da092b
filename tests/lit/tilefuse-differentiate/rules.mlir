// tilefuse-differentiate: one backward epilogue per input, dy first, the
// derivative built from the cloned (reused) primal values. Each case is
// cleaned with canonicalize + cse so the checks read like the rule.
// RUN: tilefuse-opt %s --split-input-file --tilefuse-differentiate --canonicalize --cse | FileCheck %s

// relu'(x) = x > 0 (relu'(0) = 0: at the tie max takes the smaller tangent).
// CHECK-LABEL: tilefuse.matmul attributes {grad_wrt = "x", {{.*}}source = "relu"
// CHECK:       ^bb0(%[[DY:.*]]: f32, %[[X:.*]]: f32):
// CHECK-DAG:   %[[ONE:.*]] = arith.constant 1.000000e+00 : f32
// CHECK-DAG:   %[[ZERO:.*]] = arith.constant 0.000000e+00 : f32
// CHECK:       %[[POS:.*]] = arith.cmpf ogt, %[[X]], %[[ZERO]] : f32
// CHECK:       %[[D:.*]] = arith.select %[[POS]], %[[ONE]], %[[ZERO]] : f32
// CHECK:       %[[G:.*]] = arith.mulf %[[DY]], %[[D]] : f32
// CHECK:       %[[NAN:.*]] = arith.cmpf uno, %[[X]], %[[X]] : f32
// CHECK:       %[[R:.*]] = arith.select %[[NAN]], %[[X]], %[[G]] : f32
// CHECK:       tilefuse.yield %[[R]] : f32
// CHECK-NEXT:  }
// CHECK-NEXT:  }
tilefuse.matmul attributes {input_type = bf16, output_type = bf16, source = "relu"} {
^bb0(%x: f32):
  %c0 = arith.constant 0.0 : f32
  %y = arith.maximumf %x, %c0 : f32
  tilefuse.yield %y : f32
}

// -----

// exp reuses the forward value: d exp(2x) = exp(2x) · 2 (the tangent 2 is a
// constant, so no zero-tangent guard).
// CHECK-LABEL: source = "exp"
// CHECK:       %[[T:.*]] = arith.mulf %arg1, %{{.*}} : f32
// CHECK:       %[[E:.*]] = math.exp %[[T]] : f32
// CHECK:       %[[D:.*]] = arith.mulf %[[E]], %{{.*}} : f32
// CHECK:       arith.mulf %arg0, %[[D]] : f32
// CHECK-NOT:   math.exp
tilefuse.matmul attributes {input_type = bf16, output_type = bf16, source = "exp"} {
^bb0(%x: f32):
  %c2 = arith.constant 2.0 : f32
  %t = arith.mulf %x, %c2 : f32
  %y = math.exp %t : f32
  tilefuse.yield %y : f32
}

// -----

// x · g(x): the product rule, with the primal·tangent term guarded so that an
// exact zero factor wins: a tangent that underflowed to 0 gives 0 even where
// x = ±inf. d erfc(u) = -2/√π · exp(-u·u) · u' reuses u.
// CHECK-LABEL: source = "x_erfc"
// CHECK:       %[[U:.*]] = arith.mulf %arg1, %[[C:.*]] : f32
// CHECK:       %[[G:.*]] = tilefuse.erfc %[[U]] : f32
// CHECK:       %[[UU:.*]] = arith.mulf %[[U]], %[[U]] : f32
// CHECK:       %[[N:.*]] = arith.negf %[[UU]] : f32
// CHECK:       %[[E:.*]] = math.exp %[[N]] : f32
// CHECK:       %[[K:.*]] = arith.mulf %[[E]], %{{.*}} : f32
// CHECK:       %[[TG:.*]] = arith.mulf %[[K]], %[[C]] : f32
// CHECK:       %[[P:.*]] = arith.mulf %arg1, %[[TG]] : f32
// CHECK:       %[[XZ:.*]] = arith.cmpf oeq, %arg1, %{{.*}} : f32
// CHECK:       %[[TZ:.*]] = arith.cmpf oeq, %[[TG]], %{{.*}} : f32
// CHECK:       %[[S1:.*]] = arith.select %[[XZ]], %arg1, %[[P]] : f32
// CHECK:       %[[S2:.*]] = arith.select %[[TZ]], %[[TG]], %[[S1]] : f32
// CHECK:       arith.addf %[[G]], %[[S2]] : f32
tilefuse.matmul attributes {input_type = bf16, output_type = bf16, source = "x_erfc"} {
^bb0(%x: f32):
  %c = arith.constant -0.70710678 : f32
  %u = arith.mulf %x, %c : f32
  %g = tilefuse.erfc %u : f32
  %y = arith.mulf %x, %g : f32
  tilefuse.yield %y : f32
}

// -----

// Gated: two backward epilogues, dgate then dup, each (dy, gate, up).
// CHECK-LABEL: tilefuse.matmul attributes {gated, grad_wrt = "gate"
// CHECK:       ^bb0(%[[DY:.*]]: f32, %[[G:.*]]: f32, %[[U:.*]]: f32):
// CHECK:       arith.mulf %[[DY]], %[[U]] : f32
// CHECK:       arith.cmpf uno, %[[G]], %[[G]] : f32
// CHECK-LABEL: tilefuse.matmul attributes {gated, grad_wrt = "up"
// CHECK:       ^bb0(%[[DY2:.*]]: f32, %[[G2:.*]]: f32, %[[U2:.*]]: f32):
// CHECK:       arith.mulf %[[DY2]], %[[G2]] : f32
// CHECK:       arith.cmpf uno, %[[U2]], %[[U2]] : f32
tilefuse.matmul attributes {input_type = bf16, output_type = bf16, gated, source = "bilinear"} {
^bb0(%g: f32, %u: f32):
  %y = arith.mulf %g, %u : f32
  tilefuse.yield %y : f32
}

// -----

// Runtime parameters are held constant and stay after the inputs; bias,
// residual and aux are dropped (the backward reads none of them).
// CHECK-LABEL: tilefuse.matmul attributes {grad_wrt = "x", input_type = bf16, output_type = bf16, param_names = ["a"], source = "param"}
// CHECK:       ^bb0(%[[DY:.*]]: f32, %[[X:.*]]: f32, %[[A:.*]]: f32):
// CHECK:       %[[D:.*]] = arith.mulf %[[DY]], %[[A]] : f32
tilefuse.matmul attributes {input_type = bf16, output_type = bf16, has_bias, has_aux, param_names = ["a"], source = "param"} {
^bb0(%x: f32, %a: f32):
  %y = arith.mulf %a, %x : f32
  tilefuse.yield %y : f32
}
