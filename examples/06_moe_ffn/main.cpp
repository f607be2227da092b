// 06 — a mixture-of-experts FFN layer (Qwen3-30B-A3B sizes) with two grouped GEMMs.
//
//   routing      softmax(x·W_routerᵀ) over 128 experts, top 8, renormalised  (host)
//   permute      the 8 rows of every token sorted by expert: offsets[E+1]    (host)
//   h = silu(A·W_gate[e]ᵀ) ⊙ A·W_up[e]ᵀ     ONE grouped gated GEMM for all experts
//   y_rows = (h·W_down[e]ᵀ) * route           ONE grouped GEMM, the routing weight
//                                            fused as a row input ("x * route")
//   y[token] = Σ of its 8 rows                un-permute and sum            (host)
//
// Weights are [E, out, in] nn.Linear tensors (b_col_major), the expert
// offsets live on the device and no launch synchronises with the host. Without
// a GPU the example builds both ops, compiles their kernels for sm_80 (NVRTC
// needs no GPU), and runs the layer on the CPU twice: token by token straight
// from its definition, and in the permuted order of the device path (gather,
// the grouped products, the epilogues, bf16 storage, un-permute and sum); the
// two must agree. With a GPU it runs the layer on the device and compares it
// with the CPU reference. (The example links no CPU JIT, so that it stays
// small enough to travel to the GPU machine in scripts/gpu_run.sh's bundle.)
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include <tilefuse/tilefuse.hpp>

#include "../common/example_support.h"
#include "moe_layer.h"

namespace {

using example::report;

/// The permuted-order pipeline on the CPU, as the device runs it: A gathered
/// by expert, each row's grouped products (float accumulators), the fused
/// epilogues silu(gate)·up and x·route in float, h and y_rows stored in bf16,
/// then un-permuted and summed per token.
std::vector<float> permuted_layer_on_cpu(const std::vector<float>& x, const moe::Permutation& p,
                                         const moe::LayerSizes& s) {
  const std::vector<float> a = moe::gather_rows(x, p, s.d_model);
  std::vector<float> y_rows(p.token_of.size() * s.d_model);
  std::vector<double> gate, up;
  std::vector<float> h(s.hidden);
  for (size_t row = 0; row < p.token_of.size(); ++row) {
    const int e = p.expert_of[row];
    moe::gate_up_products(&a[row * s.d_model], e, s, gate, up);
    for (int f = 0; f < s.hidden; ++f) {
      const float g = float(gate[f]), u = float(up[f]);
      h[f] = example::round_bf16(g / (1.0f + std::exp(-g)) * u);  // silu(gate) * up
    }
    for (int o = 0; o < s.d_model; ++o) {
      double sum = 0;
      for (int f = 0; f < s.hidden; ++f) sum += double(h[f]) * moe::expert_weight(moe::Tensor::Down, s, e, o, f);
      y_rows[row * s.d_model + o] = example::round_bf16(float(sum) * p.route[row]);  // x * route
    }
  }
  return moe::unpermute_sum(y_rows, p, s);
}

/// The layer on the device; y (tokens x d_model) on return.
int layer_on_gpu(const tilefuse::MatmulOp& gate_up, const tilefuse::MatmulOp& down, const std::vector<float>& x,
                 const moe::Permutation& p, const moe::LayerSizes& s, std::vector<float>& y) {
  const long long rows = static_cast<long long>(p.token_of.size());
  example::DeviceBf16 da, dw_gate, dw_up, dw_down, dh, dy_rows;
  if (!da.upload(moe::gather_rows(x, p, s.d_model)) || !dw_gate.upload(moe::expert_tensor(moe::Tensor::Gate, s)) ||
      !dw_up.upload(moe::expert_tensor(moe::Tensor::Up, s)) ||
      !dw_down.upload(moe::expert_tensor(moe::Tensor::Down, s)) || !dh.allocate(size_t(rows) * s.hidden) ||
      !dy_rows.allocate(size_t(rows) * s.d_model))
    return 1;
  int* offsets = nullptr;
  float* route = nullptr;
  if (!example::cuda_ok(cudaMalloc(&offsets, p.offsets.size() * sizeof(int)), "cudaMalloc") ||
      !example::cuda_ok(cudaMalloc(&route, p.route.size() * sizeof(float)), "cudaMalloc") ||
      !example::cuda_ok(cudaMemcpy(offsets, p.offsets.data(), p.offsets.size() * sizeof(int), cudaMemcpyHostToDevice),
                        "cudaMemcpy offsets") ||
      !example::cuda_ok(cudaMemcpy(route, p.route.data(), p.route.size() * sizeof(float), cudaMemcpyHostToDevice),
                        "cudaMemcpy route"))
    return 1;
  cudaStream_t stream = nullptr;
  if (!example::cuda_ok(cudaStreamCreate(&stream), "cudaStreamCreate")) return 1;

  // Both launches read the group offsets on the device: nothing here waits
  // for the GPU, so the pair could be captured in a CUDA graph (example 05).
  tilefuse::MatmulArgs first{.a = da.get(), .b = dw_gate.get(), .b_up = dw_up.get(), .d = dh.get(),
                             .shape = {rows, s.hidden, s.d_model}};
  first.groups = s.experts;
  first.group_offsets = offsets;
  if (auto ok = gate_up(stream, first); !ok) return report(ok.error());
  tilefuse::MatmulArgs second{.a = dh.get(), .b = dw_down.get(), .d = dy_rows.get(),
                              .shape = {rows, s.d_model, s.hidden}};
  second.groups = s.experts;
  second.group_offsets = offsets;
  second.row_inputs[0] = route;
  if (auto ok = down(stream, second); !ok) return report(ok.error());
  if (!example::cuda_ok(cudaStreamSynchronize(stream), "cudaStreamSynchronize")) return 1;
  cudaStreamDestroy(stream);
  cudaFree(offsets);
  cudaFree(route);

  std::vector<float> y_rows;
  if (!dy_rows.download(y_rows)) return 1;
  y = moe::unpermute_sum(y_rows, p, s);
  return 0;
}

}  // namespace

int main() {
  using tilefuse::GroupLayout;
  tilefuse::Runtime rt;
  auto gate_up = rt.matmul({.activation = "silu(gate) * up", .dtype = tilefuse::DType::BF16, .b_col_major = true,
                            .grouped = GroupLayout::Contiguous});
  auto down = rt.matmul({.activation = "x * route", .dtype = tilefuse::DType::BF16, .row_inputs = {"route"},
                         .b_col_major = true, .grouped = GroupLayout::Contiguous});
  if (!gate_up) return report(gate_up.error());
  if (!down) return report(down.error());

  // Qwen3-30B-A3B; 8 tokens (a small decoding batch): 64 routed rows over 128
  // experts, so most groups are empty and a few hold several rows.
  const moe::LayerSizes s{.tokens = 8, .d_model = 2048, .hidden = 768, .experts = 128, .top_k = 8};
  std::printf("MoE FFN: %d experts, top-%d, d_model %d, expert hidden %d, %d tokens (%lld routed rows)\n",
              s.experts, s.top_k, s.d_model, s.hidden, s.tokens, s.rows());
  // The kernels of a prefill of 512 tokens (4096 rows, 32 per expert), compiled
  // for sm_80. A grouped op's tile is chosen for ONE expert's rows, so
  // compile() takes the rows per expert as shape.m: 32 rows get 64-row blocks.
  const long long rows_per_expert = 512LL * s.top_k / s.experts;
  auto gate_up_kernel = gate_up->compile({rows_per_expert, s.hidden, s.d_model}, tilefuse::Arch::Sm80);
  if (!gate_up_kernel) return report(gate_up_kernel.error());
  example::print_kernel("silu(A·W_gate[e]ᵀ)·A·W_up[e]ᵀ", *gate_up_kernel);
  auto down_kernel = down->compile({rows_per_expert, s.d_model, s.hidden}, tilefuse::Arch::Sm80);
  if (!down_kernel) return report(down_kernel.error());
  example::print_kernel("(h·W_down[e]ᵀ) * route", *down_kernel);

  std::vector<float> x(size_t(s.tokens) * s.d_model);
  for (size_t i = 0; i < x.size(); ++i) x[i] = moe::weight(moe::Tensor::Input, i, 1.0f);
  const moe::Routing routing = moe::route(x, s);
  const moe::Permutation permutation = moe::permute(routing, s);
  int used = 0, largest = 0;
  for (int e = 0; e < s.experts; ++e) {
    const int size = permutation.offsets[e + 1] - permutation.offsets[e];
    used += size > 0;
    largest = std::max(largest, size);
  }
  std::printf("routing: token 0 -> experts %d %d %d ... (weights %.3f %.3f %.3f ...); %d experts used, the "
              "largest group %d rows\n",
              routing.expert[0], routing.expert[1], routing.expert[2], routing.weight[0], routing.weight[1],
              routing.weight[2], used, largest);

  const std::vector<float> reference = moe::reference_layer(x, routing, s);
  const std::vector<float> permuted = permuted_layer_on_cpu(x, permutation, s);
  const double cpu_error = example::relative_error(permuted, reference);
  std::printf("CPU: y[0, 0:4] = %+.5f %+.5f %+.5f %+.5f; the permuted (device-order) path vs the token-by-token "
              "reference: relative error %.2e\n",
              reference[0], reference[1], reference[2], reference[3], cpu_error);
  if (!(cpu_error <= 1e-2))
    return std::fprintf(stderr, "error: the permuted CPU layer differs from the reference\n"), 1;

  if (const std::string why = example::why_no_gpu(); !why.empty()) {
    std::printf("no GPU: skipped the grouped launches on the device (%s)\n", why.c_str());
    return 0;
  }
  std::vector<float> y_gpu;
  if (int failed = layer_on_gpu(*gate_up, *down, x, permutation, s, y_gpu)) return failed;
  const double error = example::relative_error(y_gpu, reference);
  std::printf("GPU: y[0, 0:4] = %+.5f %+.5f %+.5f %+.5f; relative error vs the CPU reference %.2e\n", y_gpu[0],
              y_gpu[1], y_gpu[2], y_gpu[3], error);
  if (!(error <= 1e-2)) return std::fprintf(stderr, "error: the GPU layer differs from the CPU reference\n"), 1;
  std::printf("ok\n");
  return 0;
}
