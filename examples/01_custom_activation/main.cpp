// 01 — a custom activation as a string → a fused GEMM kernel.
//
// Compiles "x * tanh(softplus(x))" (Mish written by hand) into the epilogue of
// the sm_80 GEMM, prints the generated CUDA epilogue and what NVRTC made of the
// whole kernel, then evaluates the same lowered IR on the CPU. No GPU needed;
// on a GPU, `(*op)(stream, A, B, D, {M, N, K})` launches it.
#include <cstdio>
#include <string>

#include <tilefuse/tilefuse.hpp>

#include "compiler/Pipeline.h"

int main(int argc, char** argv) {
  const std::string activation = argc > 1 ? argv[1] : "x * tanh(softplus(x))";

  tilefuse::Runtime rt;
  auto op = rt.matmul({.activation = activation, .dtype = tilefuse::DType::BF16});
  if (!op) return std::fprintf(stderr, "%s\n", op.error().message.c_str()), 2;

  // The generated epilogue (what `tilefuse emit --stage cuda` prints).
  auto stages = tilefuse::compiler::compile({.expression = activation});
  if (!stages) return std::fprintf(stderr, "%s\n", stages.error().message.c_str()), 1;
  std::printf("%s\n", stages->cuda.c_str());

  // The whole fused GEMM, compiled with NVRTC (cached on disk).
  auto info = op->compile({4096, 4096, 4096}, tilefuse::Arch::Sm80);
  if (!info) return std::fprintf(stderr, "%s\n", info.error().message.c_str()), 1;
  std::printf("kernel for %s: tile %s, %d registers, %d spill bytes, %d mma.sync, %s\n",
              info->arch.c_str(), tilefuse::to_string(info->tile).c_str(), info->registers,
              info->spill_bytes, info->ptx_instructions["mma_sync"],
              info->cache_hit ? "from the cache" : "compiled now");

  // The same epilogue IR, JIT-compiled for this CPU.
  auto cpu = tilefuse::compiler::compile_for_cpu({.expression = activation});
  if (!cpu) return std::fprintf(stderr, "%s\n", cpu.error().message.c_str()), 1;
  const float x[] = {-2.0f, -0.5f, 0.0f, 0.5f, 2.0f};
  float y[5];
  const float* inputs[] = {x};
  if (auto ok = (*cpu)->evaluate(inputs, {}, y); !ok) return 1;
  for (int i = 0; i < 5; ++i) std::printf("act(%+.1f) = %+.6f\n", x[i], y[i]);
  return 0;
}
