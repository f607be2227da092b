// RUN: tilefuse-opt %s --split-input-file --tilefuse-inline-builtins | FileCheck %s

// Built-ins calling built-ins are inlined transitively; the functions go away.
// CHECK-LABEL: module
// CHECK-NOT:   func.func
// CHECK:       source = "swiglu"
// CHECK-NEXT:  ^bb0(%[[G:.*]]: f32, %[[U:.*]]: f32):
// CHECK-NOT:   call
// CHECK:       %[[N:.*]] = arith.negf %[[G]] : f32
// CHECK-NEXT:  %[[E:.*]] = math.exp %[[N]] : f32
// CHECK-NEXT:  %[[D:.*]] = arith.addf %{{.*}}, %[[E]] : f32
// CHECK-NEXT:  %[[S:.*]] = arith.divf %{{.*}}, %[[D]] : f32
// CHECK-NEXT:  %[[SILU:.*]] = arith.mulf %[[G]], %[[S]] : f32
// CHECK-NEXT:  %[[R:.*]] = arith.mulf %[[SILU]], %[[U]] : f32
// CHECK-NEXT:  tilefuse.yield %[[R]] : f32
// CHECK-NOT:   func.func
func.func private @tf_builtin_sigmoid(%x: f32) -> f32 {
  %one = arith.constant 1.0 : f32
  %n = arith.negf %x : f32
  %e = math.exp %n : f32
  %d = arith.addf %one, %e : f32
  %r = arith.divf %one, %d : f32
  return %r : f32
}
func.func private @tf_builtin_silu(%x: f32) -> f32 {
  %s = func.call @tf_builtin_sigmoid(%x) : (f32) -> f32
  %r = arith.mulf %x, %s : f32
  return %r : f32
}
func.func private @tf_builtin_swiglu(%gate: f32, %up: f32) -> f32 {
  %s = func.call @tf_builtin_silu(%gate) : (f32) -> f32
  %r = arith.mulf %s, %up : f32
  return %r : f32
}
tilefuse.matmul attributes {input_type = bf16, output_type = bf16, gated, source = "swiglu"} {
^bb0(%g: f32, %u: f32):
  %y = func.call @tf_builtin_swiglu(%g, %u) : (f32, f32) -> f32
  tilefuse.yield %y : f32
}

// -----

// Two calls of one built-in with different arguments: both inlined, each
// with its own operands.
// CHECK-LABEL: module
// CHECK:       source = "two_calls"
// CHECK-NEXT:  ^bb0(%[[X:.*]]: f32, %[[A:.*]]: f32):
// CHECK-NEXT:  %[[P:.*]] = arith.mulf %[[X]], %[[X]] : f32
// CHECK-NEXT:  %[[Q:.*]] = arith.mulf %[[A]], %[[A]] : f32
// CHECK-NEXT:  %[[R:.*]] = arith.addf %[[P]], %[[Q]] : f32
// CHECK-NEXT:  tilefuse.yield %[[R]]
func.func private @tf_builtin_square(%x: f32) -> f32 {
  %r = arith.mulf %x, %x : f32
  return %r : f32
}
tilefuse.matmul attributes {input_type = bf16, output_type = bf16, param_names = ["a"], source = "two_calls"} {
^bb0(%x: f32, %a: f32):
  %p = func.call @tf_builtin_square(%x) : (f32) -> f32
  %q = func.call @tf_builtin_square(%a) : (f32) -> f32
  %r = arith.addf %p, %q : f32
  tilefuse.yield %r : f32
}

// -----

// Only unused private functions are erased: a public function stays.
// CHECK-LABEL: module
// CHECK:       func.func @kept_public
// CHECK-NOT:   func.func private @tf_builtin_used
// CHECK:       source = "public_kept"
func.func @kept_public(%x: f32) -> f32 {
  return %x : f32
}
func.func private @tf_builtin_used(%x: f32) -> f32 {
  return %x : f32
}
tilefuse.matmul attributes {input_type = bf16, output_type = bf16, source = "public_kept"} {
^bb0(%x: f32):
  %y = func.call @tf_builtin_used(%x) : (f32) -> f32
  tilefuse.yield %y : f32
}
