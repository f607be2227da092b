// tilefuse/elementwise.cuh — the stand-alone epilogue kernel.
//
// Applies a generated epilogue to a flat fp32 tensor (or to a gate/up pair)
// and writes N outputs per thread step. It is the "separate activation
// kernel" and the element-wise backward, and it is what the JIT compiles
// until the fused GEMM templates exist.
//
// Included AFTER a generated epilogue that provides (the epilogue contract):
//   #define TF_EPILOGUE_VEC        N          // elements per call: 1, 2, 4 or 8
//   #define TF_EPILOGUE_GATED      0 | 1      // 1: tf_epilogue(gate, up, params)
//   #define TF_EPILOGUE_OUT_BYTES  2 | 4      // bf16/f16 bits or fp32
//   struct TfEpilogueParams { ... };          // flat, passed by value
//   struct alignas(N * OUT_BYTES) TfEpilogueOut { unsigned short v[N]; };  // or float v[N]
//   __device__ TfEpilogueOut tf_epilogue(const float (&x)[N], const TfEpilogueParams&);
//   __device__ TfEpilogueOut tf_epilogue(const float (&gate)[N], const float (&up)[N],
//                                        const TfEpilogueParams&);          // gated
// A backward epilogue (TF_EPILOGUE_GRAD 1, tilefuse-differentiate) instead provides
//   tf_epilogue(dy, x, params)                                  single input, or
//   tf_epilogue_dgate(dy, gate, up, params), tf_epilogue_dup(dy, gate, up, params)
// and this file defines tf_elementwise_backward / tf_elementwise_gated_backward.
//
// Deliberately includes nothing: NVRTC compile latency is user-visible.

#pragma once

#if !defined(TF_EPILOGUE_VEC) || !defined(TF_EPILOGUE_GATED) || !defined(TF_EPILOGUE_OUT_BYTES)
#error "tilefuse/elementwise.cuh must be included after a generated epilogue that defines TF_EPILOGUE_VEC, TF_EPILOGUE_GATED and TF_EPILOGUE_OUT_BYTES"
#endif

static_assert(TF_EPILOGUE_VEC == 1 || TF_EPILOGUE_VEC == 2 || TF_EPILOGUE_VEC == 4 ||
                  TF_EPILOGUE_VEC == 8,
              "TF_EPILOGUE_VEC must be 1, 2, 4 or 8 (one vector load of at most 32 bytes)");
static_assert(TF_EPILOGUE_OUT_BYTES == 2 || TF_EPILOGUE_OUT_BYTES == 4,
              "TF_EPILOGUE_OUT_BYTES must be 2 (bf16/f16) or 4 (fp32)");
static_assert(sizeof(TfEpilogueOut) == TF_EPILOGUE_VEC * TF_EPILOGUE_OUT_BYTES,
              "TfEpilogueOut must hold exactly TF_EPILOGUE_VEC outputs with no padding");
static_assert(alignof(TfEpilogueOut) == sizeof(TfEpilogueOut),
              "TfEpilogueOut must be aligned to its size so that stores vectorize");

// The element type of TfEpilogueOut::v (unsigned short or float).
template <typename T, int K>
__device__ T tf_element_of(const T (&)[K]);
using TfOutElement = decltype(tf_element_of(TfEpilogueOut{}.v));
static_assert(sizeof(TfOutElement) == TF_EPILOGUE_OUT_BYTES,
              "TfEpilogueOut::v must have TF_EPILOGUE_OUT_BYTES bytes per element");

// N fp32 inputs read with one vector load (ld.global.v2/v4).
struct alignas(TF_EPILOGUE_VEC * 4) TfInputVec {
  float v[TF_EPILOGUE_VEC];
};

// Copies the N inputs starting at element `i`; only the first `count` are
// real (the tail), the rest are zero so the epilogue sees finite values.
__device__ __forceinline__ void tf_load_inputs(const float* __restrict__ src, long long i,
                                               int count, bool vector_ok,
                                               float (&dst)[TF_EPILOGUE_VEC]) {
  if (vector_ok && count == TF_EPILOGUE_VEC) {
    const TfInputVec in = *reinterpret_cast<const TfInputVec*>(src + i);
#pragma unroll
    for (int k = 0; k < TF_EPILOGUE_VEC; ++k) dst[k] = in.v[k];
  } else {
#pragma unroll
    for (int k = 0; k < TF_EPILOGUE_VEC; ++k) dst[k] = k < count ? src[i + k] : 0.0f;
  }
}

// Writes the first `count` results of `r` to element `i` of `out`.
__device__ __forceinline__ void tf_store_outputs(void* __restrict__ out, long long i, int count,
                                                 bool vector_ok, const TfEpilogueOut& r) {
  char* base = static_cast<char*>(out) + i * TF_EPILOGUE_OUT_BYTES;
  if (vector_ok && count == TF_EPILOGUE_VEC) {
    *reinterpret_cast<TfEpilogueOut*>(base) = r;
  } else {
    auto* dst = reinterpret_cast<TfOutElement*>(base);
#pragma unroll
    for (int k = 0; k < TF_EPILOGUE_VEC; ++k)
      if (k < count) dst[k] = r.v[k];
  }
}

// True when every pointer is aligned to its vector access.
__device__ __forceinline__ bool tf_vectors_aligned(const void* const* inputs, int num_inputs,
                                                   void* const* outputs, int num_outputs) {
  unsigned long long in = 0, out = 0;
  for (int k = 0; k < num_inputs; ++k) in |= reinterpret_cast<unsigned long long>(inputs[k]);
  for (int k = 0; k < num_outputs; ++k) out |= reinterpret_cast<unsigned long long>(outputs[k]);
  return in % (TF_EPILOGUE_VEC * 4) == 0 && out % (TF_EPILOGUE_VEC * TF_EPILOGUE_OUT_BYTES) == 0;
}

#if defined(TF_EPILOGUE_GRAD) && TF_EPILOGUE_GRAD
#if TF_EPILOGUE_GATED
/// dgate[i] = dy[i] · ∂f/∂gate(gate[i], up[i]),  dup[i] = dy[i] · ∂f/∂up(...):
/// the gated backward, both partials from one read of dy, gate and up.
extern "C" __global__ void tf_elementwise_gated_backward(const float* __restrict__ dy,
                                                         const float* __restrict__ gate,
                                                         const float* __restrict__ up,
                                                         void* __restrict__ dgate, void* __restrict__ dup,
                                                         long long n, TfEpilogueParams params) {
  constexpr int N = TF_EPILOGUE_VEC;
  const void* inputs[] = {dy, gate, up};
  void* outputs[] = {dgate, dup};
  const bool vector_ok = tf_vectors_aligned(inputs, 3, outputs, 2);
  const long long groups = (n + N - 1) / N;
  const long long stride = static_cast<long long>(gridDim.x) * blockDim.x;
  for (long long g = static_cast<long long>(blockIdx.x) * blockDim.x + threadIdx.x; g < groups;
       g += stride) {
    const long long i = g * N;
    const long long left = n - i;
    const int count = left < N ? static_cast<int>(left) : N;
    float d[N], a[N], b[N];
    tf_load_inputs(dy, i, count, vector_ok, d);
    tf_load_inputs(gate, i, count, vector_ok, a);
    tf_load_inputs(up, i, count, vector_ok, b);
    tf_store_outputs(dgate, i, count, vector_ok, tf_epilogue_dgate(d, a, b, params));
    tf_store_outputs(dup, i, count, vector_ok, tf_epilogue_dup(d, a, b, params));
  }
}
#else
/// dx[i] = dy[i] · f'(x[i]): the separate element-wise backward (x is the
/// saved pre-activation z).
extern "C" __global__ void tf_elementwise_backward(const float* __restrict__ dy,
                                                   const float* __restrict__ x, void* __restrict__ dx,
                                                   long long n, TfEpilogueParams params) {
  constexpr int N = TF_EPILOGUE_VEC;
  const void* inputs[] = {dy, x};
  void* outputs[] = {dx};
  const bool vector_ok = tf_vectors_aligned(inputs, 2, outputs, 1);
  const long long groups = (n + N - 1) / N;
  const long long stride = static_cast<long long>(gridDim.x) * blockDim.x;
  for (long long g = static_cast<long long>(blockIdx.x) * blockDim.x + threadIdx.x; g < groups;
       g += stride) {
    const long long i = g * N;
    const long long left = n - i;
    const int count = left < N ? static_cast<int>(left) : N;
    float d[N], a[N];
    tf_load_inputs(dy, i, count, vector_ok, d);
    tf_load_inputs(x, i, count, vector_ok, a);
    tf_store_outputs(dx, i, count, vector_ok, tf_epilogue(d, a, params));
  }
}
#endif
#else
/// out[i] = epilogue(x[i])            (TF_EPILOGUE_GATED == 0; `up` is unused)
/// out[i] = epilogue(gate[i], up[i])  (TF_EPILOGUE_GATED == 1)
/// Grid-stride over groups of N elements; vector loads/stores when every
/// pointer is aligned to its vector size, element by element otherwise and
/// for the last n % N elements.
extern "C" __global__ void tf_elementwise(const float* __restrict__ x_or_gate,
                                          const float* __restrict__ up, void* __restrict__ out,
                                          long long n, TfEpilogueParams params) {
  constexpr int N = TF_EPILOGUE_VEC;
  const unsigned long long in_misalign =
      (reinterpret_cast<unsigned long long>(x_or_gate) |
       (TF_EPILOGUE_GATED ? reinterpret_cast<unsigned long long>(up) : 0ull)) %
      (N * 4);
  const unsigned long long out_misalign =
      reinterpret_cast<unsigned long long>(out) % (N * TF_EPILOGUE_OUT_BYTES);
  const bool vector_ok = in_misalign == 0 && out_misalign == 0;

  const long long groups = (n + N - 1) / N;
  const long long stride = static_cast<long long>(gridDim.x) * blockDim.x;
  for (long long g = static_cast<long long>(blockIdx.x) * blockDim.x + threadIdx.x; g < groups;
       g += stride) {
    const long long i = g * N;
    const long long left = n - i;
    const int count = left < N ? static_cast<int>(left) : N;
    float a[N];
    tf_load_inputs(x_or_gate, i, count, vector_ok, a);
#if TF_EPILOGUE_GATED
    float b[N];
    tf_load_inputs(up, i, count, vector_ok, b);
    const TfEpilogueOut r = tf_epilogue(a, b, params);
#else
    const TfEpilogueOut r = tf_epilogue(a, params);
#endif
    tf_store_outputs(out, i, count, vector_ok, r);
  }
}
#endif  // TF_EPILOGUE_GRAD
