// 05 — fused GEMMs captured in a CUDA graph.
//
// A tilefuse launch never synchronizes the host and, once its kernel is
// loaded, allocates nothing: a chain of them can be captured into a CUDA
// graph and replayed with one cudaGraphLaunch (no per-kernel host work).
// Here a three-layer MLP, each layer one fused GEMM:
//
//   h1 = gelu(x·W1ᵀ + b1)        a built-in, with a bias
//   h2 = mish(h1·W2ᵀ)             a custom activation, as text: "x * tanh(softplus(x))"
//   y  = leaky_relu(h2·W3ᵀ, a)    a runtime parameter, a = 0.1, captured by value
//
// Without a GPU it compiles the three kernels (NVRTC needs no GPU) and stops
// there. With one: an eager run (which also loads the kernels: do that
// before capturing), a capture, a replay that must reproduce the eager
// output bit for bit, a check against a CPU reference, and a timing of
// eager launches vs graph replays.
#include <cmath>
#include <cstdio>
#include <random>
#include <vector>

#include <tilefuse/tilefuse.hpp>

#include "../common/example_support.h"

namespace {

using example::report;

constexpr int kTokens = 64, kWidth = 256;  // every layer kWidth -> kWidth
constexpr float kLeak = 0.1f;

struct Layer {
  const char* activation;
  bool bias;
};
constexpr Layer kLayers[] = {{"gelu(x)", true}, {"x * tanh(softplus(x))", false}, {"leaky_relu(x, a)", false}};

float activate_on_cpu(int layer, float v) {
  switch (layer) {
    case 0: return 0.5f * v * (1.0f + std::erf(v / std::sqrt(2.0f)));
    case 1: return v * std::tanh(std::log1p(std::exp(v)));
    default: return v >= 0 ? v : kLeak * v;
  }
}

}  // namespace

int main() {
  tilefuse::Runtime rt;
  std::vector<tilefuse::MatmulOp> ops;
  std::printf("kernels (%d tokens, %d -> %d per layer):\n", kTokens, kWidth, kWidth);
  for (const Layer& layer : kLayers) {
    auto op = rt.matmul({.activation = layer.activation, .dtype = tilefuse::DType::BF16, .bias = layer.bias,
                         .b_col_major = true});
    if (!op) return report(op.error());
    auto info = op->compile({kTokens, kWidth, kWidth}, tilefuse::Arch::Sm80);
    if (!info) return report(info.error());
    example::print_kernel(layer.activation, *info);
    ops.push_back(*op);
  }
  if (const std::string why = example::why_no_gpu(); !why.empty()) {
    std::printf("no GPU: skipped the eager run, the graph capture and the replays (%s)\n", why.c_str());
    return 0;
  }

  std::mt19937 rng(5);
  const float w_scale = 2.0f / std::sqrt(float(kWidth));
  const auto x = example::random_bf16_values(size_t(kTokens) * kWidth, 1.0f, rng);
  std::vector<std::vector<float>> w;
  for (int l = 0; l < 3; ++l) w.push_back(example::random_bf16_values(size_t(kWidth) * kWidth, w_scale, rng));
  const auto b1 = example::random_bf16_values(kWidth, 0.5f, rng);

  example::DeviceBf16 dx, dw[3], db1, dh1, dh2, dy;
  if (!dx.upload(x) || !dw[0].upload(w[0]) || !dw[1].upload(w[1]) || !dw[2].upload(w[2]) || !db1.upload(b1) ||
      !dh1.allocate(size_t(kTokens) * kWidth) || !dh2.allocate(size_t(kTokens) * kWidth) ||
      !dy.allocate(size_t(kTokens) * kWidth))
    return 1;
  cudaStream_t stream = nullptr;
  if (!example::cuda_ok(cudaStreamCreate(&stream), "cudaStreamCreate")) return 1;

  const tilefuse::Shape shape{kTokens, kWidth, kWidth};
  const void* inputs[] = {dx.get(), dh1.get(), dh2.get()};
  void* outputs[] = {dh1.get(), dh2.get(), dy.get()};
  auto forward = [&]() -> tilefuse::Expected<void> {
    for (int l = 0; l < 3; ++l) {
      tilefuse::MatmulArgs args{.a = inputs[l], .b = dw[l].get(), .d = outputs[l], .shape = shape,
                                .bias = kLayers[l].bias ? db1.get() : nullptr};
      if (auto ok = ops[l](stream, args, l == 2 ? tilefuse::Params{{"a", kLeak}} : tilefuse::Params{}); !ok)
        return ok;
    }
    return {};
  };

  // 1. Eager (compiles for this GPU and loads the kernels).
  if (auto ok = forward(); !ok) return report(ok.error());
  if (!example::cuda_ok(cudaStreamSynchronize(stream), "eager run")) return 1;
  std::vector<float> y_eager;
  if (!dy.download(y_eager)) return 1;

  // 2. Capture the same three launches, then replay them into a poisoned output.
  cudaGraph_t graph = nullptr;
  cudaGraphExec_t exec = nullptr;
  if (!example::cuda_ok(cudaStreamBeginCapture(stream, cudaStreamCaptureModeGlobal), "cudaStreamBeginCapture"))
    return 1;
  auto captured = forward();
  const bool ended = example::cuda_ok(cudaStreamEndCapture(stream, &graph), "cudaStreamEndCapture");
  if (!captured) return report(captured.error());
  if (!ended || !example::cuda_ok(cudaGraphInstantiate(&exec, graph, 0), "cudaGraphInstantiate")) return 1;
  size_t nodes = 0;
  cudaGraphGetNodes(graph, nullptr, &nodes);
  std::printf("captured a graph of %zu nodes\n", nodes);
  if (!example::cuda_ok(cudaMemsetAsync(dy.get(), 0xFF, size_t(kTokens) * kWidth * 2, stream), "cudaMemsetAsync") ||
      !example::cuda_ok(cudaGraphLaunch(exec, stream), "cudaGraphLaunch") ||
      !example::cuda_ok(cudaStreamSynchronize(stream), "graph replay"))
    return 1;
  std::vector<float> y_graph;
  if (!dy.download(y_graph)) return 1;
  for (size_t i = 0; i < y_graph.size(); ++i)
    if (example::to_bf16(y_graph[i]) != example::to_bf16(y_eager[i]))
      return std::fprintf(stderr, "error: the replay differs from the eager run at %zu\n", i), 1;
  std::printf("graph replay == eager run, bit for bit\n");

  // 3. Against the CPU (intermediate layers stored in bf16, as on the GPU).
  std::vector<float> h = x;
  for (int l = 0; l < 3; ++l) {
    auto z = example::linear(h, w[l], kTokens, kWidth, kWidth);
    for (size_t i = 0; i < z.size(); ++i)
      z[i] = example::round_bf16(activate_on_cpu(l, z[i] + (kLayers[l].bias ? b1[i % kWidth] : 0.0f)));
    h = z;
  }
  const double error = example::relative_error(y_graph, h);
  std::printf("relative error vs the CPU: %.2e\n", error);
  if (!(error <= 1e-2)) return std::fprintf(stderr, "error: the GPU result differs from the CPU reference\n"), 1;

  // 4. Per-forward time: three eager launches vs one graph launch (small
  //    layers, so host launch cost is what differs).
  cudaEvent_t start, stop;
  cudaEventCreate(&start);
  cudaEventCreate(&stop);
  constexpr int kReps = 200;
  float eager_ms = 0, graph_ms = 0;
  cudaEventRecord(start, stream);
  for (int i = 0; i < kReps; ++i)
    if (auto ok = forward(); !ok) return report(ok.error());
  cudaEventRecord(stop, stream);
  cudaEventSynchronize(stop);
  cudaEventElapsedTime(&eager_ms, start, stop);
  cudaEventRecord(start, stream);
  for (int i = 0; i < kReps; ++i) cudaGraphLaunch(exec, stream);
  cudaEventRecord(stop, stream);
  if (!example::cuda_ok(cudaEventSynchronize(stop), "timed replays")) return 1;
  cudaEventElapsedTime(&graph_ms, start, stop);
  std::printf("per forward: eager %.2f us, graph %.2f us (%d repetitions)\n", 1e3 * eager_ms / kReps,
              1e3 * graph_ms / kReps, kReps);

  cudaGraphExecDestroy(exec);
  cudaGraphDestroy(graph);
  cudaEventDestroy(start);
  cudaEventDestroy(stop);
  cudaStreamDestroy(stream);
  std::printf("ok\n");
  return 0;
}
