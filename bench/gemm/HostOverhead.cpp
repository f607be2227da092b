// See HostOverhead.h.
#include "HostOverhead.h"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <random>

#include <fmt/format.h>

#include "runtime/Driver.h"
#include "runtime/check/DeviceBuffer.h"

namespace tilefuse::bench {
namespace {

using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

Expected<void> synchronize(CUstream stream) {
  auto api = runtime::driver();
  if (!api) return api.take_error();
  if (CUresult r = (*api)->cuStreamSynchronize(stream); r != CUDA_SUCCESS)
    return runtime::driver_error(**api, r, "cuStreamSynchronize");
  return {};
}

/// Median over rounds of the host time per call of `launch`.
Expected<double> host_us_per_call(CUstream stream, const std::function<Expected<void>()>& launch) {
  constexpr int kRounds = 20, kCallsPerRound = 100;
  for (int i = 0; i < 10; ++i)
    if (auto ok = launch(); !ok) return ok.take_error();
  std::vector<double> us;
  for (int round = 0; round < kRounds; ++round) {
    if (auto ok = synchronize(stream); !ok) return ok.take_error();
    const auto start = Clock::now();
    for (int i = 0; i < kCallsPerRound; ++i)
      if (auto ok = launch(); !ok) return ok.take_error();
    us.push_back(1e3 * ms_since(start) / kCallsPerRound);
  }
  if (auto ok = synchronize(stream); !ok) return ok.take_error();
  std::nth_element(us.begin(), us.begin() + kRounds / 2, us.end());
  return us[kRounds / 2];
}

}  // namespace

Expected<nlohmann::json> measure_launch_overhead(CUstream stream, const CublasGemm& cublas, DType dtype) {
  // A small problem so that the GPU keeps up with the host: the host cost is what is timed.
  const long long m = 16, n = 4096, k = 4096;
  auto a = gpu::DeviceBuffer::allocate(m * k * 2);
  auto w = gpu::DeviceBuffer::allocate(n * k * 2);
  auto d = gpu::DeviceBuffer::allocate(m * n * 2);
  for (auto* buffer : {&a, &w, &d})
    if (!*buffer) return buffer->take_error();
  for (auto* buffer : {&a, &w})
    if (auto ok = (*buffer)->fill(0x3C); !ok) return ok.take_error();  // small positive values, no NaN

  nlohmann::json records = nlohmann::json::array();
  auto add = [&](const char* impl, const char* api, const std::string& activation, double us) {
    records.push_back({{"impl", impl}, {"api", api}, {"activation", activation}, {"M", m}, {"N", n}, {"K", k},
                       {"dtype", compiler::to_string(dtype)}, {"us_per_call", us}});
    fmt::print("  launch {:<10} {:<34} {:<18} {:6.2f} us/call\n", impl, api, activation, us);
  };

  Runtime rt;
  for (const std::string activation : {"gelu", "leaky_relu(x, a)"}) {
    auto op = rt.matmul({.activation = activation, .dtype = dtype, .b_col_major = true});
    if (!op) return op.take_error();
    const MatmulArgs args{.a = a->get(), .b = w->get(), .d = d->get(), .shape = {m, n, k}};
    const std::vector<float> values(op->parameters().size(), 0.1f);
    auto by_position = host_us_per_call(stream, [&] { return (*op)(stream, args, std::span<const float>(values)); });
    if (!by_position) return by_position.take_error();
    add("tilefuse", "MatmulArgs + values in order", activation, *by_position);
    Params named;
    for (const std::string& name : op->parameters()) named[name] = 0.1f;
    auto by_name = host_us_per_call(stream, [&] { return (*op)(stream, args, named); });
    if (!by_name) return by_name.take_error();
    add("tilefuse", "MatmulArgs + Params by name", activation, *by_name);
  }
  auto plain = host_us_per_call(stream, [&] { return cublas.run(stream, a->get(), w->get(), d->get(), m, n, k, dtype); });
  if (!plain) return plain.take_error();
  add("cublas", "cublasGemmEx", "none", *plain);
  return records;
}

Expected<nlohmann::json> measure_jit(CUstream stream, DType dtype, const std::vector<std::string>& activations) {
  const long long m = 4096, n = 4096, k = 4096;
  auto a = gpu::DeviceBuffer::allocate(m * k * 2);
  auto w = gpu::DeviceBuffer::allocate(2 * n * k * 2);
  auto d = gpu::DeviceBuffer::allocate(m * n * 2);
  for (auto* buffer : {&a, &w, &d})
    if (!*buffer) return buffer->take_error();

  const auto dir = std::filesystem::temp_directory_path() /
                   fmt::format("tilefuse-bench-jit-{}", std::random_device{}());
  nlohmann::json records = nlohmann::json::array();
  for (const std::string& activation : activations) {
    std::filesystem::remove_all(dir);
    double ms[2] = {0, 0};  // cold, warm
    for (int warm = 0; warm < 2; ++warm) {
      Runtime rt(RuntimeOptions{.cache_dir = dir.string()});  // a new memory cache each time
      auto op = rt.matmul({.activation = activation, .dtype = dtype, .b_col_major = true});
      if (!op) return op.take_error();
      MatmulArgs args{.a = a->get(), .b = w->get(), .d = d->get(), .shape = {m, n, k}};
      if (op->gated()) args.b_up = static_cast<const char*>(w->get()) + n * k * 2;
      const auto start = Clock::now();
      if (auto ok = (*op)(stream, args); !ok) return ok.take_error();
      ms[warm] = ms_since(start);
      if (auto ok = synchronize(stream); !ok) return ok.take_error();
    }
    records.push_back({{"impl", "tilefuse"}, {"activation", activation}, {"M", m}, {"N", n}, {"K", k},
                       {"dtype", compiler::to_string(dtype)}, {"cold_ms", ms[0]}, {"warm_ms", ms[1]}});
    fmt::print("  jit    tilefuse {:<24} cold {:8.1f} ms, warm {:6.2f} ms (first call until it returns)\n",
               activation, ms[0], ms[1]);
  }
  std::filesystem::remove_all(dir);
  return records;
}

}  // namespace tilefuse::bench
