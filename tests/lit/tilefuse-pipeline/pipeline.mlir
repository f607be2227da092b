// The whole pipeline as compile() (vectorize=true) and compile_for_cpu()
// (vectorize=false) run it. The gated op gets the default tile shrunk to fit
// two accumulator sets in registers.
// RUN: tilefuse-opt %s --tilefuse-pipeline | FileCheck %s --check-prefix=GPU
// RUN: tilefuse-opt %s --tilefuse-pipeline="arch=sm_90a vectorize=false" | FileCheck %s --check-prefix=CPU

// GPU-NOT:     func.
// GPU:         tile = #tilefuse.tile<block_m = 128, block_n = 64, block_k = 32, warp_m = 64, warp_n = 32,
// GPU-NEXT:    ^bb0(%[[G:.*]]: vector<4xf32>, %[[U:.*]]: vector<4xf32>):
// GPU-DAG:     %[[ONE:.*]] = arith.constant dense<1.000000e+00> : vector<4xf32>
// GPU-DAG:     %[[N:.*]] = arith.negf %[[G]] : vector<4xf32>
// GPU-DAG:     %[[E:.*]] = math.exp %[[N]] : vector<4xf32>
// GPU-DAG:     %[[D:.*]] = arith.addf %[[E]], %[[ONE]] : vector<4xf32>
// GPU-DAG:     %[[S:.*]] = arith.divf %[[ONE]], %[[D]] : vector<4xf32>
// GPU-DAG:     %[[SILU:.*]] = arith.mulf %[[G]], %[[S]] : vector<4xf32>
// GPU-DAG:     %[[R:.*]] = arith.mulf %[[SILU]], %[[U]] : vector<4xf32>
// GPU:         %[[O:.*]] = arith.truncf %[[R]] : vector<4xf32> to vector<4xbf16>
// GPU-NEXT:    tilefuse.yield %[[O]] : vector<4xbf16>

// CPU-NOT:     func.
// On sm_90a the tile is the wgmma path's (warp_m x warp_n = one consumer
// warpgroup's tile); its gated fit halves block_m: two 64x128 accumulator sets.
// CPU:         tile = #tilefuse.tile<block_m = 64, block_n = 128, block_k = 64, warp_m = 64, warp_n = 128,
// CPU-NEXT:    ^bb0(%{{.*}}: f32, %{{.*}}: f32):
// CPU-NOT:     vector
// CPU:         tilefuse.yield %{{.*}} : f32
func.func private @tf_builtin_sigmoid(%x: f32) -> f32 {
  %one = arith.constant 1.0 : f32
  %n = arith.negf %x : f32
  %e = math.exp %n : f32
  %d = arith.addf %one, %e : f32
  %r = arith.divf %one, %d : f32
  return %r : f32
}
func.func private @tf_builtin_silu(%x: f32) -> f32 {
  %one = arith.constant 1.0 : f32
  %s = func.call @tf_builtin_sigmoid(%x) : (f32) -> f32
  %xs = arith.mulf %x, %s : f32
  %r = arith.mulf %xs, %one : f32
  return %r : f32
}
tilefuse.matmul attributes {input_type = bf16, output_type = bf16, gated, source = "silu(gate) * up"} {
^bb0(%g: f32, %u: f32):
  %s = func.call @tf_builtin_silu(%g) : (f32) -> f32
  %y = arith.mulf %s, %u : f32
  tilefuse.yield %y : f32
}
