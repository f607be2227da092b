// tilefuse_gpu_reset_check: a launch after cudaDeviceReset on a real GPU.
// tilefuse caches the current device per (context, cuCtxGetId) and kernels
// per context; a primary-context reset keeps the handle but not the modules.
// The fake-driver tests (tests/unit/fakedriver/context_test.cpp) assume that
// cuCtxGetId fails for the reset context until it is retained again and then
// returns a new id: this prints what the real driver does and checks that
// the op's next launch reloads its kernel and computes the right result.
//
// D = relu(A·B) with A, B all ones (bf16): every element is exactly K.
// Exit status: 0 passed, 1 failed, 77 skipped (no CUDA driver or GPU).
#include <dlfcn.h>

#include <cstdio>
#include <cstring>
#include <vector>

#include <fmt/format.h>

#include "runtime/Driver.h"
#include "runtime/check/DeviceBuffer.h"
#include "tilefuse/tilefuse.hpp"

namespace tilefuse::gpu {
namespace {

constexpr int kExitSkip = 77;
constexpr long long kM = 128, kN = 128, kK = 64;

void report_context(const runtime::DriverApi& api, const char* when) {
  CUcontext ctx = nullptr;
  api.cuCtxGetCurrent(&ctx);
  unsigned long long id = 0;
  const CUresult r = ctx ? api.cuCtxGetId(ctx, &id) : CUDA_ERROR_INVALID_CONTEXT;
  const char* name = nullptr;
  api.cuGetErrorName(r, &name);
  std::printf("%s: current context %p, cuCtxGetId -> %s, id %llu\n", when, static_cast<void*>(ctx),
              name ? name : "?", id);
}

/// One launch on fresh buffers; the error says what went wrong.
Expected<void> launch_and_check(const MatmulOp& op, const runtime::DriverApi& api) {
  const std::vector<unsigned short> ones(kM * kK > kK * kN ? kM * kK : kK * kN, 0x3F80);  // bf16 1.0
  auto a = DeviceBuffer::allocate(kM * kK * 2), b = DeviceBuffer::allocate(kK * kN * 2),
       d = DeviceBuffer::allocate(kM * kN * 2);
  for (auto* buffer : {&a, &b, &d})
    if (!*buffer) return buffer->take_error();
  if (auto ok = a->upload(ones.data(), kM * kK * 2); !ok) return ok;
  if (auto ok = b->upload(ones.data(), kK * kN * 2); !ok) return ok;
  if (auto ok = d->fill(0xFF); !ok) return ok;
  if (auto ok = op(nullptr, a->get(), b->get(), d->get(), {kM, kN, kK}); !ok) return ok;
  if (CUresult r = api.cuCtxSynchronize(); r != CUDA_SUCCESS) return runtime::driver_error(api, r, "kernel execution");
  std::vector<unsigned short> out(kM * kN);
  if (auto ok = d->download(out.data(), out.size() * 2); !ok) return ok;
  const unsigned short expected = 0x4280;  // bf16 64.0
  for (std::size_t i = 0; i < out.size(); ++i)
    if (out[i] != expected)
      return make_error(ErrorCode::Internal,
                        fmt::format("D[{}] = {:#06x}, expected {:#06x} (bf16 64.0)", i, out[i], expected));
  return {};
}

int run() {
  auto device = runtime::query_device(0);
  if (!device) {
    std::printf("SKIPPED: needs a GPU: %s\n", device.error().message.c_str());
    return kExitSkip;
  }
  const runtime::DriverApi& api = **runtime::driver();
  auto op = Runtime().matmul({.activation = "relu", .dtype = DType::BF16});
  if (!op) {
    std::printf("FAILED: %s\n", op.error().message.c_str());
    return 1;
  }
  if (auto ok = launch_and_check(*op, api); !ok) {
    std::printf("FAILED before the reset: %s\n", ok.error().message.c_str());
    return 1;
  }
  report_context(api, "before the reset");

  // cudaDeviceReset is cuDevicePrimaryCtxReset on the current device.
  void* library = ::dlopen(api.library_path.c_str(), RTLD_NOW | RTLD_NOLOAD);
  auto reset = library ? reinterpret_cast<CUresult (*)(CUdevice)>(::dlsym(library, "cuDevicePrimaryCtxReset_v2"))
                       : nullptr;
  if (!reset) {
    std::printf("FAILED: %s has no cuDevicePrimaryCtxReset_v2\n", api.library_path.c_str());
    return 1;
  }
  if (CUresult r = reset(0); r != CUDA_SUCCESS) {
    std::printf("FAILED: cuDevicePrimaryCtxReset: %s\n", runtime::driver_error(api, r, "reset").message.c_str());
    return 1;
  }
  report_context(api, "after the reset");
  // What tilefuse's launch path does first (current_device → make_context_current).
  if (auto ctx = runtime::make_context_current(0); !ctx) {
    std::printf("FAILED: make_context_current after the reset: %s\n", ctx.error().message.c_str());
    return 1;
  }
  report_context(api, "after make_context_current");
  if (auto ok = launch_and_check(*op, api); !ok) {
    std::printf("FAILED after the reset: %s\n", ok.error().message.c_str());
    return 1;
  }
  std::printf("PASSED: the launch after cuDevicePrimaryCtxReset reloaded its kernel and computed D\n");
  return 0;
}

}  // namespace
}  // namespace tilefuse::gpu

int main() { return tilefuse::gpu::run(); }
