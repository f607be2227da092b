// RUN: tilefuse-opt %s --split-input-file --tilefuse-inline-builtins --verify-diagnostics

func.func private @tf_builtin_declared(f32) -> f32
tilefuse.matmul attributes {input_type = bf16, output_type = bf16} {
^bb0(%x: f32):
  // expected-error @below {{cannot inline @tf_builtin_declared: it has no body}}
  %y = func.call @tf_builtin_declared(%x) : (f32) -> f32
  tilefuse.yield %y : f32
}

// -----

func.func private @tf_builtin_forever(%x: f32) -> f32 {
  // expected-error @below {{built-in calls nest deeper than 64 levels; is a built-in recursive?}}
  %r = func.call @tf_builtin_forever(%x) : (f32) -> f32
  return %r : f32
}
tilefuse.matmul attributes {input_type = bf16, output_type = bf16} {
^bb0(%x: f32):
  %y = func.call @tf_builtin_forever(%x) : (f32) -> f32
  tilefuse.yield %y : f32
}
