// RUN: tilefuse-opt %s --split-input-file --tilefuse-select-tile-config | FileCheck %s --check-prefix=SM80
// RUN: tilefuse-opt %s --split-input-file --tilefuse-select-tile-config=arch=sm_86 | FileCheck %s --check-prefix=SM80
// RUN: tilefuse-opt %s --split-input-file --tilefuse-select-tile-config=arch=sm_90a | FileCheck %s --check-prefix=SM90

// No hint: the large-problem default of each target (on sm_90a the "warp"
// tile is one consumer warpgroup's: block_m = warp_m is the ping-pong schedule).
// SM80-LABEL: source = "no_hint"
// SM80-SAME:  tile = #tilefuse.tile<block_m = 128, block_n = 128, block_k = 32, warp_m = 64, warp_n = 64, stages = 3, vector_width = 4, group_m = 8>
// SM90-LABEL: source = "no_hint"
// SM90-SAME:  tile = #tilefuse.tile<block_m = 128, block_n = 128, block_k = 64, warp_m = 128, warp_n = 128, stages = 4, vector_width = 4, group_m = 8>
tilefuse.matmul attributes {input_type = bf16, output_type = bf16, source = "no_hint"} {
^bb0(%x: f32):
  tilefuse.yield %x : f32
}

// -----

// A decode-sized M narrows the block to 64 rows (sm_80: warps of 32 rows).
// SM80-LABEL: source = "small_m"
// SM80-SAME:  tile = #tilefuse.tile<block_m = 64, block_n = 128, block_k = 32, warp_m = 32, warp_n = 64, stages = 3
// SM90-LABEL: source = "small_m"
// SM90-SAME:  tile = #tilefuse.tile<block_m = 64, block_n = 128, block_k = 64, warp_m = 64, warp_n = 128, stages = 4
tilefuse.matmul attributes {input_type = bf16, output_type = bf16, shape_hint = array<i64: 16, 14336, 4096>, source = "small_m"} {
^bb0(%x: f32):
  tilefuse.yield %x : f32
}

// -----

// Small N likewise narrows block_n.
// SM80-LABEL: source = "small_n"
// SM80-SAME:  tile = #tilefuse.tile<block_m = 128, block_n = 64, block_k = 32, warp_m = 64, warp_n = 32, stages = 3
tilefuse.matmul attributes {input_type = bf16, output_type = bf16, shape_hint = array<i64: 4096, 64, 4096>, source = "small_n"} {
^bb0(%x: f32):
  tilefuse.yield %x : f32
}

// -----

// A tile that is already set (the autotuner's) is kept.
// SM80-LABEL: source = "forced"
// SM80-SAME:  tile = #tilefuse.tile<block_m = 256, block_n = 128, block_k = 64, warp_m = 64, warp_n = 64, stages = 2, vector_width = 2, group_m = 4>
// SM90-LABEL: source = "forced"
// SM90-SAME:  tile = #tilefuse.tile<block_m = 256, block_n = 128, block_k = 64, warp_m = 64, warp_n = 64, stages = 2, vector_width = 2, group_m = 4>
tilefuse.matmul attributes {input_type = bf16, output_type = bf16, source = "forced",
    tile = #tilefuse.tile<block_m = 256, block_n = 128, block_k = 64, warp_m = 64, warp_n = 64, stages = 2, vector_width = 2, group_m = 4>} {
^bb0(%x: f32):
  tilefuse.yield %x : f32
}
