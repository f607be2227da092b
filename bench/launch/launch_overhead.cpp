// tilefuse's host work per launch, measured on the CPU against the fake CUDA
// driver (tests/fakecuda; recording off, so a driver call costs about a mutex
// and a few checks): the median time of `(*op)(stream, ...)` with warm caches
// beside the same loop calling the driver's cuLaunchKernel directly with the
// same function, grid and parameter bytes. The difference is tilefuse's own
// work (target: <= 1 us). Allocations per launch are counted (target: 0).
//
//   tilefuse_bench_launch_overhead [--iterations N] [--json FILE] [--fail-on-allocation]
//
// Ops: plain (relu), gated (swiglu, two weights), parameterised
// (leaky_relu(x, a) by name); on an 8.0 device (mma.sync kernel) and a 9.0
// device (wgmma kernel, tensor maps from the per-thread cache).
#include <stdlib.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "AllocationCounter.h"
#include "FakeCudaControl.h"
#include "runtime/Driver.h"
#include "tilefuse/tilefuse.hpp"

namespace tilefuse::bench {
namespace {

using Clock = std::chrono::steady_clock;

struct Row {
  std::string device, arch, op;
  double tilefuse_ns = 0, driver_ns = 0;
  double allocations_per_launch = 0;
};

/// Median over rounds of the nanoseconds per call of `call`.
double median_ns(int iterations, const std::function<bool()>& call) {
  constexpr int kRounds = 25;
  const int per_round = std::max(1, iterations / kRounds);
  std::vector<double> ns;
  for (int round = 0; round < kRounds; ++round) {
    const auto start = Clock::now();
    for (int i = 0; i < per_round; ++i)
      if (!call()) return -1;
    ns.push_back(std::chrono::duration<double, std::nano>(Clock::now() - start).count() / per_round);
  }
  std::nth_element(ns.begin(), ns.begin() + kRounds / 2, ns.end());
  return ns[kRounds / 2];
}

struct Buffers {
  const runtime::DriverApi& api;
  std::vector<CUdeviceptr> owned;
  void* get(std::size_t bytes) {
    CUdeviceptr p = 0;
    if (api.cuMemAlloc(&p, bytes) != CUDA_SUCCESS) return nullptr;
    owned.push_back(p);
    return reinterpret_cast<void*>(p);
  }
  ~Buffers() {
    for (CUdeviceptr p : owned) api.cuMemFree(p);
  }
};

class Bench {
 public:
  Bench(const runtime::DriverApi& api, const fakecuda::FakeCudaControl& fake, int iterations)
      : api_(api), fake_(fake), iterations_(iterations) {}

  /// Times one op on `device`; `launch` launches it once.
  Expected<Row> measure(int device, const std::string& name, const std::function<Expected<void>()>& launch) {
    CUcontext ctx = nullptr;
    if (api_.cuDevicePrimaryCtxRetain(&ctx, device) != CUDA_SUCCESS || api_.cuCtxSetCurrent(ctx) != CUDA_SUCCESS)
      return make_error(ErrorCode::DriverError, "cannot make the fake device current");
    // Warm: compile (or read the disk cache), load, set the attribute, encode maps.
    for (int i = 0; i < 3; ++i)
      if (auto ok = launch(); !ok) return ok.take_error();
    // The launch as the driver saw it, to replay it directly.
    fake_.tf_fake_set_recording(1);
    fake_.tf_fake_clear_log();
    if (auto ok = launch(); !ok) return ok.take_error();
    if (fake_.tf_fake_launch_count() != 1)
      return make_error(ErrorCode::Internal, "the op did not reach cuLaunchKernel exactly once");
    const TfFakeLaunch recorded = *fake_.tf_fake_launch(0);
    fake_.tf_fake_set_recording(0);

    std::vector<std::vector<unsigned char>> params;
    std::vector<void*> args;
    for (int i = 0; i < recorded.param_count; ++i)
      params.emplace_back(recorded.params + recorded.param_offset[i],
                          recorded.params + recorded.param_offset[i] + recorded.param_size[i]);
    for (auto& p : params) args.push_back(p.data());
    auto direct = [&] {
      return api_.cuLaunchKernel(recorded.function, recorded.grid[0], recorded.grid[1], recorded.grid[2],
                                 recorded.block[0], recorded.block[1], recorded.block[2], recorded.shared_bytes,
                                 nullptr, args.data(), nullptr) == CUDA_SUCCESS;
    };
    auto through_tilefuse = [&] { return static_cast<bool>(launch()); };

    Row row;
    row.device = fmt::format("fake {}", device == 0 ? "8.0" : "9.0");
    row.arch = recorded.module_arch;
    row.op = name;
    std::uint64_t allocations = 0;
    {
      AllocationScope scope;
      for (int i = 0; i < 100; ++i) through_tilefuse();
      allocations = scope.count();
    }
    row.allocations_per_launch = allocations / 100.0;
    // Interleave the two loops so that both see the same machine state.
    std::vector<double> ours, theirs;
    for (int rep = 0; rep < 3; ++rep) {
      ours.push_back(median_ns(iterations_ / 3, through_tilefuse));
      theirs.push_back(median_ns(iterations_ / 3, direct));
    }
    std::sort(ours.begin(), ours.end());
    std::sort(theirs.begin(), theirs.end());
    row.tilefuse_ns = ours[1];
    row.driver_ns = theirs[1];
    if (row.tilefuse_ns < 0 || row.driver_ns < 0) return make_error(ErrorCode::Internal, "a timed launch failed");
    return row;
  }

 private:
  const runtime::DriverApi& api_;
  const fakecuda::FakeCudaControl& fake_;
  int iterations_;
};

int run(int argc, char** argv) {
  CLI::App app{"tilefuse host launch overhead against the fake CUDA driver"};
  int iterations = 30000;
  std::string json_file, cache_dir = TILEFUSE_FAKECUDA_CACHE_DIR;
  bool fail_on_allocation = false;
  app.add_option("--iterations", iterations, "timed launches per loop (split into rounds)")->check(CLI::PositiveNumber);
  app.add_option("--json", json_file, "write the results as JSON to this file");
  app.add_option("--cache-dir", cache_dir, "kernel cache directory");
  app.add_flag("--fail-on-allocation", fail_on_allocation, "exit 1 if any launch allocates");
  CLI11_PARSE(app, argc, argv);

  // The counter must see allocations, or "0 per launch" would mean nothing.
  {
    AllocationScope scope;
    auto* probe = new std::vector<int>(16);
    void* raw = std::malloc(64);
    asm volatile("" : : "r"(probe), "r"(raw) : "memory");  // keep the compiler from eliding them
    std::free(raw);
    delete probe;
    if (scope.count() < 3) {
      std::fprintf(stderr, "launch_overhead: the allocation counter saw %llu of 3 allocations\n",
                   static_cast<unsigned long long>(scope.count()));
      return 1;
    }
  }

  // The fake driver with an 8.0 and a 9.0 device, unless the caller chose.
  ::setenv("TILEFUSE_CUDA_DRIVER", TILEFUSE_FAKECUDA_PATH, 0);
  ::setenv("TILEFUSE_FAKE_CUDA_DEVICES", "8.0,9.0", 0);
  auto api = runtime::driver();
  if (!api) {
    std::fprintf(stderr, "launch_overhead: %s\n", api.error().message.c_str());
    return 1;
  }
  fakecuda::FakeCudaControl fake((*api)->library_path);
  Bench bench(**api, fake, iterations);
  Runtime rt(RuntimeOptions{.cache_dir = cache_dir, .tuning = TuningMode::Heuristic});
  Buffers buffers{**api};

  std::vector<Row> rows;
  for (int device : {0, 1}) {
    CUcontext ctx = nullptr;
    (*api)->cuDevicePrimaryCtxRetain(&ctx, device);
    (*api)->cuCtxSetCurrent(ctx);
    const long long m = 256, n = 256, k = 256;
    void* a = buffers.get(m * k * 2);
    void* b = buffers.get(k * n * 2);
    void* b_up = buffers.get(k * n * 2);
    void* d = buffers.get(m * n * 2);
    const Shape shape{m, n, k};
    auto plain = rt.matmul({.activation = "relu"});
    auto gated = rt.matmul({.activation = "swiglu"});
    auto param = rt.matmul({.activation = "leaky_relu(x, a)"});
    for (auto* op : {&plain, &gated, &param})
      if (!*op) {
        std::fprintf(stderr, "launch_overhead: %s\n", op->error().message.c_str());
        return 1;
      }
    const Params slope{{"a", 0.1f}};
    struct Case {
      const char* name;
      std::function<Expected<void>()> launch;
    } cases[] = {
        {"plain", [&] { return (*plain)(nullptr, a, b, d, shape); }},
        {"gated", [&] { return (*gated)(nullptr, a, b, b_up, d, shape); }},
        {"parameterised", [&] { return (*param)(nullptr, a, b, d, shape, slope); }},
    };
    for (const Case& c : cases) {
      auto row = bench.measure(device, c.name, c.launch);
      if (!row) {
        std::fprintf(stderr, "launch_overhead: %s on device %d: %s\n", c.name, device, row.error().message.c_str());
        return 1;
      }
      rows.push_back(*row);
    }
  }

  std::printf("%-10s %-7s %-14s %12s %12s %12s %7s %14s\n", "device", "arch", "op", "tilefuse ns", "driver ns",
              "overhead ns", "ratio", "allocs/launch");
  bool allocated = false;
  nlohmann::json results = nlohmann::json::array();
  for (const Row& r : rows) {
    const double overhead = r.tilefuse_ns - r.driver_ns;
    const double ratio = r.tilefuse_ns / r.driver_ns;
    std::printf("%-10s %-7s %-14s %12.0f %12.0f %12.0f %7.2f %14.2f\n", r.device.c_str(), r.arch.c_str(),
                r.op.c_str(), r.tilefuse_ns, r.driver_ns, overhead, ratio, r.allocations_per_launch);
    allocated |= r.allocations_per_launch > 0;
    results.push_back({{"device", r.device},
                       {"arch", r.arch},
                       {"op", r.op},
                       {"tilefuse_ns_per_launch", r.tilefuse_ns},
                       {"driver_ns_per_launch", r.driver_ns},
                       {"tilefuse_overhead_ns", overhead},
                       {"ratio", ratio},
                       {"allocations_per_launch", r.allocations_per_launch},
                       {"target_overhead_ns", 1000},
                       {"meets_target", overhead <= 1000 && r.allocations_per_launch == 0}});
  }
  if (!json_file.empty()) {
    std::ofstream out(json_file);
    out << nlohmann::json{{"benchmark", "launch_overhead"},
                          {"driver", (*api)->library_path},
                          {"iterations", iterations},
                          {"results", results}}
               .dump(2)
        << "\n";
    if (!out) {
      std::fprintf(stderr, "launch_overhead: cannot write %s\n", json_file.c_str());
      return 1;
    }
  }
  if (allocated && fail_on_allocation) {
    std::fprintf(stderr, "launch_overhead: a launch allocated on the heap (target: none)\n");
    return 1;
  }
  return 0;
}

}  // namespace
}  // namespace tilefuse::bench

int main(int argc, char** argv) { return tilefuse::bench::run(argc, argv); }
