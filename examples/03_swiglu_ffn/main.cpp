// 03 — a SwiGLU feed-forward layer (the Llama MLP) from C++: two fused GEMMs.
//
//   h = swiglu(x·W_gateᵀ, x·W_upᵀ) = silu(x·W_gateᵀ) ⊙ x·W_upᵀ   one gated GEMM: both products
//                                                                 share the x tiles and neither
//                                                                 pre-activation reaches memory
//   y = h·W_downᵀ                                                 the down projection, a plain GEMM
//
// Weights are in PyTorch's nn.Linear layout (out_features x in_features), so
// both ops set b_col_major. Without a GPU the example builds both ops,
// compiles their kernels for sm_80 at Llama-3-8B sizes (NVRTC needs no GPU)
// and evaluates a tiny layer on the CPU; with one it also runs that layer on
// the device and compares.
#include <cmath>
#include <cstdio>
#include <random>
#include <vector>

#include <tilefuse/tilefuse.hpp>

#include "../common/example_support.h"

namespace {

using example::report;

// The layer on the CPU: float math on bf16 inputs; h is rounded to bf16
// because the GPU stores it in bf16 between the two GEMMs.
std::vector<float> ffn_on_cpu(const std::vector<float>& x, const std::vector<float>& w_gate,
                              const std::vector<float>& w_up, const std::vector<float>& w_down, int tokens,
                              int model, int hidden) {
  const auto gate = example::linear(x, w_gate, tokens, hidden, model);
  const auto up = example::linear(x, w_up, tokens, hidden, model);
  std::vector<float> h(gate.size());
  for (size_t i = 0; i < h.size(); ++i)
    h[i] = example::round_bf16(gate[i] / (1.0f + std::exp(-gate[i])) * up[i]);  // silu(gate)·up
  return example::linear(h, w_down, tokens, model, hidden);
}

}  // namespace

int main() {
  tilefuse::Runtime rt;
  auto gate_up = rt.matmul({.activation = "swiglu(gate, up)", .dtype = tilefuse::DType::BF16, .b_col_major = true});
  auto down = rt.matmul({.activation = "x", .dtype = tilefuse::DType::BF16, .b_col_major = true});
  if (!gate_up) return report(gate_up.error());
  if (!down) return report(down.error());
  std::printf("gate/up op: gated = %s; down op: plain GEMM\n", gate_up->gated() ? "yes" : "no");

  // Llama-3-8B: d_model 4096, hidden 14336; 128 tokens (a decoding batch).
  const long long tokens = 128, d_model = 4096, d_hidden = 14336;
  std::printf("kernels for %lld tokens, d_model %lld, hidden %lld:\n", tokens, d_model, d_hidden);
  auto gate_up_kernel = gate_up->compile({tokens, d_hidden, d_model}, tilefuse::Arch::Sm80);
  if (!gate_up_kernel) return report(gate_up_kernel.error());
  example::print_kernel("swiglu(x·W_gateᵀ, x·W_upᵀ)", *gate_up_kernel);
  auto down_kernel = down->compile({tokens, d_model, d_hidden}, tilefuse::Arch::Sm80);
  if (!down_kernel) return report(down_kernel.error());
  example::print_kernel("h·W_downᵀ", *down_kernel);

  // A tiny layer, evaluated on the CPU (and on the GPU if there is one).
  const int T = 8, D = 64, H = 128;
  std::mt19937 rng(7);
  const auto x = example::random_bf16_values(size_t(T) * D, 1.0f, rng);
  const auto w_gate = example::random_bf16_values(size_t(H) * D, 2.0f / std::sqrt(float(D)), rng);
  const auto w_up = example::random_bf16_values(size_t(H) * D, 2.0f / std::sqrt(float(D)), rng);
  const auto w_down = example::random_bf16_values(size_t(D) * H, 2.0f / std::sqrt(float(H)), rng);
  const auto y_cpu = ffn_on_cpu(x, w_gate, w_up, w_down, T, D, H);
  std::printf("CPU: y[0, 0:4] = %+.5f %+.5f %+.5f %+.5f (tokens %d, d_model %d, hidden %d)\n", y_cpu[0], y_cpu[1],
              y_cpu[2], y_cpu[3], T, D, H);

  if (const std::string why = example::why_no_gpu(); !why.empty()) {
    std::printf("no GPU: skipped the launch (%s)\n", why.c_str());
    return 0;
  }

  example::DeviceBf16 dx, dw_gate, dw_up, dw_down, dh, dy;
  if (!dx.upload(x) || !dw_gate.upload(w_gate) || !dw_up.upload(w_up) || !dw_down.upload(w_down) ||
      !dh.allocate(size_t(T) * H) || !dy.allocate(size_t(T) * D))
    return 1;
  cudaStream_t stream = nullptr;
  if (!example::cuda_ok(cudaStreamCreate(&stream), "cudaStreamCreate")) return 1;
  // cudaStream_t and CUstream are the same handle type.
  if (auto ok = (*gate_up)(stream, dx.get(), dw_gate.get(), dw_up.get(), dh.get(), {T, H, D}); !ok)
    return report(ok.error());
  if (auto ok = (*down)(stream, dh.get(), dw_down.get(), dy.get(), {T, D, H}); !ok) return report(ok.error());
  if (!example::cuda_ok(cudaStreamSynchronize(stream), "cudaStreamSynchronize")) return 1;
  cudaStreamDestroy(stream);

  std::vector<float> y_gpu;
  if (!dy.download(y_gpu)) return 1;
  const double error = example::relative_error(y_gpu, y_cpu);
  std::printf("GPU: y[0, 0:4] = %+.5f %+.5f %+.5f %+.5f; relative error vs the CPU %.2e\n", y_gpu[0], y_gpu[1],
              y_gpu[2], y_gpu[3], error);
  if (!(error <= 1e-2)) return std::fprintf(stderr, "error: the GPU result differs from the CPU reference\n"), 1;
  std::printf("ok\n");
  return 0;
}
