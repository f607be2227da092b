// RUN: tilefuse-opt %s --tilefuse-select-tile-config=arch=sm_70 --verify-diagnostics

// expected-error @below {{tilefuse-select-tile-config: unknown architecture 'sm_70'; expected sm_80, sm_86, sm_89, sm_90 or sm_90a}}
module {
  tilefuse.matmul attributes {input_type = bf16, output_type = bf16} {
  ^bb0(%x: f32):
    tilefuse.yield %x : f32
  }
}
