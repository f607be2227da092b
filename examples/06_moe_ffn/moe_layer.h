// The host side of a mixture-of-experts FFN layer (example 06): weights
// that are a pure function of their position (so the CPU reference needs
// only the experts a token is routed to), top-k routing, the permutation of
// token rows by expert that a contiguous grouped GEMM reads, and the
// reference layer in double precision.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <vector>

#include "../common/example_support.h"

namespace moe {

/// Sizes of one MoE FFN layer. Qwen3-30B-A3B: 128 experts, top-8, d_model
/// 2048, expert hidden 768 (its config.json: num_experts, num_experts_per_tok,
/// hidden_size, moe_intermediate_size).
struct LayerSizes {
  int tokens = 0, d_model = 0, hidden = 0, experts = 0, top_k = 0;
  long long rows() const { return static_cast<long long>(tokens) * top_k; }  ///< routed rows T
};

/// Which tensor a weight belongs to (part of its value's hash).
enum class Tensor : uint32_t { Router = 1, Gate = 2, Up = 3, Down = 4, Input = 5 };

/// A value in [-scale, scale) representable in bf16, fixed by (tensor, index):
/// splitmix64 of the position. Filling an [E, N, K] tensor for the device and
/// reading one expert's weights for the reference give the same numbers.
inline float weight(Tensor tensor, uint64_t index, float scale) {
  uint64_t z = (static_cast<uint64_t>(tensor) << 56) ^ index;
  z += 0x9e3779b97f4a7c15ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  z ^= z >> 31;
  const float unit = static_cast<float>(z >> 40) / static_cast<float>(1ULL << 24);  // [0, 1)
  return example::round_bf16((2.0f * unit - 1.0f) * scale);
}

/// Scales that keep every activation of order 1 (uniform init, variance 1/3·s²).
inline float gate_up_scale(const LayerSizes& s) { return 2.0f / std::sqrt(static_cast<float>(s.d_model)); }
inline float down_scale(const LayerSizes& s) { return 2.0f / std::sqrt(static_cast<float>(s.hidden)); }

/// Element (expert e, out feature f, in feature i) of an [E, out, in] nn.Linear-style weight.
inline float expert_weight(Tensor tensor, const LayerSizes& s, int e, long long f, long long i) {
  const long long out = tensor == Tensor::Down ? s.d_model : s.hidden;
  const long long in = tensor == Tensor::Down ? s.hidden : s.d_model;
  const float scale = tensor == Tensor::Down ? down_scale(s) : gate_up_scale(s);
  return weight(tensor, static_cast<uint64_t>((e * out + f) * in + i), scale);
}

/// The whole [E, out, in] tensor (what the device holds).
inline std::vector<float> expert_tensor(Tensor tensor, const LayerSizes& s) {
  const long long out = tensor == Tensor::Down ? s.d_model : s.hidden;
  const long long in = tensor == Tensor::Down ? s.hidden : s.d_model;
  std::vector<float> w(static_cast<size_t>(s.experts * out * in));
  for (int e = 0; e < s.experts; ++e)
    for (long long f = 0; f < out; ++f)
      for (long long i = 0; i < in; ++i) w[(e * out + f) * in + i] = expert_weight(tensor, s, e, f, i);
  return w;
}

/// Each token's k experts and their weights.
struct Routing {
  std::vector<int> expert;    ///< [tokens, k]
  std::vector<float> weight;  ///< [tokens, k], softmax over the k chosen logits (sum 1)
};

/// Router logits x·W_routerᵀ, softmax over all experts, the top k, their
/// probabilities renormalised to sum 1 (Qwen3-MoE: norm_topk_prob = true,
/// which equals the softmax over the k chosen logits). Ties go to the lower expert.
inline Routing route(const std::vector<float>& x, const LayerSizes& s) {
  Routing r;
  r.expert.resize(static_cast<size_t>(s.tokens) * s.top_k);
  r.weight.resize(r.expert.size());
  const float router_scale = 4.0f / std::sqrt(static_cast<float>(s.d_model));
  std::vector<double> logits(s.experts);
  std::vector<int> order(s.experts);
  for (int t = 0; t < s.tokens; ++t) {
    for (int e = 0; e < s.experts; ++e) {
      double sum = 0;
      for (int i = 0; i < s.d_model; ++i)
        sum += double(x[size_t(t) * s.d_model + i]) *
               weight(Tensor::Router, uint64_t(e) * s.d_model + i, router_scale);
      logits[e] = sum;
    }
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return logits[a] > logits[b]; });
    const double top = logits[order[0]];
    double total = 0;
    for (int j = 0; j < s.top_k; ++j) total += std::exp(logits[order[j]] - top);
    for (int j = 0; j < s.top_k; ++j) {
      r.expert[size_t(t) * s.top_k + j] = order[j];
      r.weight[size_t(t) * s.top_k + j] = static_cast<float>(std::exp(logits[order[j]] - top) / total);
    }
  }
  return r;
}

/// The routed rows sorted by expert (the contiguous layout of a grouped GEMM):
/// row r is token token_of[r] for expert expert_of[r] with weight route[r];
/// expert e owns rows [offsets[e], offsets[e+1]).
struct Permutation {
  std::vector<int> offsets;   ///< E+1, ascending, offsets[E] = rows
  std::vector<int> token_of, expert_of;
  std::vector<float> route;   ///< the down GEMM's row input
};

inline Permutation permute(const Routing& r, const LayerSizes& s) {
  Permutation p;
  p.offsets.assign(s.experts + 1, 0);
  for (int e : r.expert) ++p.offsets[e + 1];
  std::partial_sum(p.offsets.begin(), p.offsets.end(), p.offsets.begin());
  std::vector<int> next(p.offsets.begin(), p.offsets.end() - 1);
  p.token_of.resize(r.expert.size());
  p.expert_of.resize(r.expert.size());
  p.route.resize(r.expert.size());
  for (size_t slot = 0; slot < r.expert.size(); ++slot) {  // token order within an expert (stable)
    const int row = next[r.expert[slot]]++;
    p.token_of[row] = static_cast<int>(slot / s.top_k);
    p.expert_of[row] = r.expert[slot];
    p.route[row] = r.weight[slot];
  }
  return p;
}

/// A: the token rows gathered in permuted order ([rows, d_model]).
inline std::vector<float> gather_rows(const std::vector<float>& x, const Permutation& p, int d_model) {
  std::vector<float> a(p.token_of.size() * d_model);
  for (size_t row = 0; row < p.token_of.size(); ++row)
    std::copy_n(x.begin() + size_t(p.token_of[row]) * d_model, d_model, a.begin() + row * d_model);
  return a;
}

/// y[token] = Σ over its rows of y_rows[row] (the route weight is already in y_rows).
inline std::vector<float> unpermute_sum(const std::vector<float>& y_rows, const Permutation& p, const LayerSizes& s) {
  std::vector<double> y(size_t(s.tokens) * s.d_model, 0.0);
  for (size_t row = 0; row < p.token_of.size(); ++row)
    for (int i = 0; i < s.d_model; ++i) y[size_t(p.token_of[row]) * s.d_model + i] += y_rows[row * s.d_model + i];
  return std::vector<float>(y.begin(), y.end());
}

/// One routed row on the CPU in double: gate = W_gate[e]·x, up = W_up[e]·x.
inline void gate_up_products(const float* x, int e, const LayerSizes& s, std::vector<double>& gate,
                             std::vector<double>& up) {
  gate.assign(s.hidden, 0.0);
  up.assign(s.hidden, 0.0);
  for (int f = 0; f < s.hidden; ++f) {
    double g = 0, u = 0;
    for (int i = 0; i < s.d_model; ++i) {
      g += double(x[i]) * expert_weight(Tensor::Gate, s, e, f, i);
      u += double(x[i]) * expert_weight(Tensor::Up, s, e, f, i);
    }
    gate[f] = g;
    up[f] = u;
  }
}

/// The layer token by token, straight from its definition (no permutation):
/// y[t] = Σ_j w_j · W_down[e_j] · bf16(silu(W_gate[e_j]·x) ⊙ W_up[e_j]·x). h is
/// rounded to bf16 because the device stores it in bf16 between the GEMMs.
inline std::vector<float> reference_layer(const std::vector<float>& x, const Routing& r, const LayerSizes& s) {
  std::vector<float> y(size_t(s.tokens) * s.d_model, 0.0f);
  std::vector<double> gate, up, acc(s.d_model);
  std::vector<float> h(s.hidden);
  for (int t = 0; t < s.tokens; ++t) {
    std::fill(acc.begin(), acc.end(), 0.0);
    for (int j = 0; j < s.top_k; ++j) {
      const int e = r.expert[size_t(t) * s.top_k + j];
      const double w = r.weight[size_t(t) * s.top_k + j];
      gate_up_products(&x[size_t(t) * s.d_model], e, s, gate, up);
      for (int f = 0; f < s.hidden; ++f)
        h[f] = example::round_bf16(static_cast<float>(gate[f] / (1.0 + std::exp(-gate[f])) * up[f]));
      for (int o = 0; o < s.d_model; ++o) {
        double sum = 0;
        for (int f = 0; f < s.hidden; ++f) sum += double(h[f]) * expert_weight(Tensor::Down, s, e, o, f);
        acc[o] += w * sum;
      }
    }
    for (int o = 0; o < s.d_model; ++o) y[size_t(t) * s.d_model + o] = static_cast<float>(acc[o]);
  }
  return y;
}

}  // namespace moe
