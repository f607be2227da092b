// tilefuse/gemm_params.cuh — the flat parameter block of every fused GEMM
// kernel (sm_80 and sm_90a drivers), passed by value. The host fills the
// same layout (runtime/GemmParams.h mirrors it field for field).
//
// Tensors are 16-bit element storage (`unsigned short`: bf16 or f16 bits, as
// TfGemmConfig::kInputBf16 says) or the output type for D, C and aux.
#pragma once

struct TfGemmParams {
  const unsigned short* a;       // M x K, row-major, leading dimension lda
  const unsigned short* b;       // B: K x N row-major (ldb) or N x K (col-major B, ldb);
                                 // gated + interleaved: the 2N-wide interleaved matrix
  const unsigned short* b_up;    // gated + separate weights: W_up, same layout as b; else null
  void* d;                       // M x N output, ldd
  const unsigned short* bias;    // N values in the input dtype, or null
  const void* c;                 // M x N residual in the output dtype, ldc, or null
  void* aux;                     // M x N pre-activation in the output dtype, ld_aux, or null
  long long m, n, k;
  long long lda, ldb, ldc, ldd, ld_aux;
  long long batch_stride_a, batch_stride_b, batch_stride_c, batch_stride_d, batch_stride_aux;
  float alpha, beta;
  TfEpilogueParams epilogue;     // runtime parameters of the activation
};

// The layout the host packs (runtime/ops/GemmParams.h, kernel_params_bytes):
// checked here by NVRTC for every kernel, and by the host compiler in
// tests/unit/ops/gemm_params_test.cpp, which includes this header and
// compares each offset with the host's GemmParams.
static_assert(sizeof(void*) == 8 && sizeof(long long) == 8 && sizeof(float) == 4,
              "TfGemmParams assumes 64-bit pointers (as the host's GemmParams)");
static_assert(__builtin_offsetof(TfGemmParams, a) == 0 && __builtin_offsetof(TfGemmParams, aux) == 48,
              "TfGemmParams: 7 pointers at offsets 0..48 (runtime/ops/GemmParams.h)");
static_assert(__builtin_offsetof(TfGemmParams, m) == 56 && __builtin_offsetof(TfGemmParams, ld_aux) == 112,
              "TfGemmParams: m, n, k, lda .. ld_aux at 56..112 (runtime/ops/GemmParams.h)");
static_assert(__builtin_offsetof(TfGemmParams, batch_stride_a) == 120 &&
                  __builtin_offsetof(TfGemmParams, batch_stride_aux) == 152,
              "TfGemmParams: batch strides at 120..152 (runtime/ops/GemmParams.h)");
static_assert(__builtin_offsetof(TfGemmParams, alpha) == 160 && __builtin_offsetof(TfGemmParams, beta) == 164 &&
                  __builtin_offsetof(TfGemmParams, epilogue) == 168,
              "TfGemmParams: alpha, beta, epilogue at 160, 164, 168 (runtime/ops/GemmParams.h)");
static_assert(alignof(TfGemmParams) == 8, "TfGemmParams is 8-byte aligned (kGemmParamsAlign)");
static_assert(sizeof(TfGemmParams) % 8 == 0 && sizeof(TfGemmParams) >= 168 + sizeof(TfEpilogueParams),
              "TfGemmParams: the epilogue parameters end the struct, rounded up to 8 bytes");
