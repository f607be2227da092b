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
