// Uses only the installed public headers: an activation string → a fused
// GEMM kernel compiled by NVRTC (no GPU needed), and the error path.
#include <cstdio>

#include <tilefuse/tilefuse.hpp>

int main() {
  tilefuse::Runtime rt;

  auto bad = rt.matmul({.activation = "gelu(x"});
  if (bad || bad.error().code != tilefuse::ErrorCode::InvalidInput)
    return std::fprintf(stderr, "consumer: a malformed activation was not rejected as InvalidInput\n"), 1;

  auto op = rt.matmul({.activation = "x * sigmoid(x)", .dtype = tilefuse::DType::BF16});
  if (!op) return std::fprintf(stderr, "consumer: %s\n", op.error().message.c_str()), 1;
  auto info = op->compile({256, 256, 256}, tilefuse::Arch::Sm80);
  if (!info) return std::fprintf(stderr, "consumer: %s\n%s\n", info.error().message.c_str(), info.error().detail.c_str()), 1;
  const int mma = info->ptx_instructions.count("mma_sync") ? info->ptx_instructions.at("mma_sync") : 0;
  std::printf("kernel %s tile %s: %d registers, %d spill bytes, %d mma.sync\n", info->arch.c_str(),
              tilefuse::to_string(info->tile).c_str(), info->registers, info->spill_bytes, mma);
  if (info->arch != "sm_80" || mma == 0 || info->registers == 0)
    return std::fprintf(stderr, "consumer: the compiled kernel is not an sm_80 tensor-core GEMM\n"), 1;
  std::printf("consumer: ok\n");
  return 0;
}
