// `tilefuse doctor`: is this machine ready to run tilefuse kernels? Prints the
// versions (tilefuse, NVRTC, CUDA driver), the device and the architecture and
// kernel path tilefuse picks for it, the cache directory and whether it is
// writable, then compiles a tiny fused GEMM (gelu + bias, 127x255x63: tails in
// M, N and K) on every kernel path of the device and launches it on real
// device buffers, checked against the float64 reference of the GPU harness
// (runtime/check: poisoned outputs, every element written, relative error).
//
// Without a CUDA driver or GPU it compiles the GEMM for every architecture
// tilefuse generates code for and says that the launches were skipped.
// Exit status: 0 when every check that could run passed (also without a GPU,
// then "GPU checks: skipped" is printed and --json has "gpu_checks": "skipped";
// --require-gpu makes a skip exit 1), 1 when a check failed, 2 usage error.
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <future>
#include <optional>
#include <random>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "CliSupport.h"
#include "compiler/Target/TargetInfo.h"
#include "runtime/DiskStore.h"
#include "runtime/Driver.h"
#include "runtime/Nvrtc.h"
#include "runtime/check/GemmCheck.h"
#include "tilefuse/tilefuse.hpp"

namespace tilefuse::cli {
namespace {

using nlohmann::json;

const char* kernel_path_name(Arch arch) {
  return compiler::make_target(arch)->mainloop() == compiler::Mainloop::WgmmaWarpSpecialized
             ? "wgmma (TMA, warp-specialized)"
             : "mma.sync (cp.async multistage)";
}

/// The kernel paths doctor checks. With a GPU: every architecture tilefuse
/// launches on it (one per compute capability; on Hopper two: the sm_90a
/// wgmma kernel and the sm_90 mma.sync kernel, which launches choose for what
/// the wgmma kernel lacks). Without one: every architecture tilefuse
/// generates code for (compile only).
std::vector<Arch> kernel_paths(const runtime::DeviceInfo* device) {
  std::vector<Arch> paths;
  if (!device) {
    for (std::string_view name : runtime::kSupportedArchs)
      if (auto arch = compiler::parse_arch(name)) paths.push_back(*arch);
    return paths;
  }
  auto name = runtime::arch_for_compute_capability(device->compute_major, device->compute_minor);
  if (!name) return paths;
  if (auto arch = compiler::parse_arch(*name)) paths.push_back(*arch);
  if (!paths.empty() && paths.front() == Arch::Sm90a) paths.push_back(Arch::Sm90);
  return paths;
}

/// The tiny fused GEMM of every path: tails in M, N and K, a bias, alpha.
gpu::GemmCase doctor_case() {
  return gpu::GemmCase{.name = "doctor_gelu_bias_127x255x63", .activation = "gelu", .bias = true,
                       .m = 127, .n = 255, .k = 63, .alpha = 0.75f};
}

json check_cache_directory() {
  json out = {{"directory", nullptr}, {"writable", false}};
  auto dir = runtime::default_cache_dir();
  if (!dir) {
    out["problem"] = dir.error().message;
    return out;
  }
  out["directory"] = dir->string();
  std::error_code ec;
  std::filesystem::create_directories(*dir, ec);
  if (ec) {
    out["problem"] = fmt::format("cannot create it: {}", ec.message());
    return out;
  }
  // A real write, not a permission-bit guess (root, read-only mounts, quotas).
  std::string probe = (*dir / ".doctor-probe-XXXXXX").string();
  const int fd = ::mkstemp(probe.data());
  if (fd < 0) {
    out["problem"] = fmt::format("cannot write a file in it: {}", std::strerror(errno));
    return out;
  }
  const bool wrote = ::write(fd, "ok", 2) == 2;
  ::close(fd);
  std::filesystem::remove(probe, ec);
  out["writable"] = wrote;
  if (!wrote) out["problem"] = "writing a file in it failed";
  return out;
}

/// Driver and device 0; `gpu_skip` says why launches cannot run (empty: they can).
struct GpuState {
  json driver = {{"loaded", false}};
  json device = nullptr;
  std::optional<runtime::DeviceInfo> info;
  std::string gpu_skip;
};

GpuState probe_gpu() {
  GpuState s;
  auto api = runtime::driver();
  if (!api) {
    s.driver["error"] = api.error().message;
    s.gpu_skip = "no driver: " + api.error().message;
    return s;
  }
  s.driver["loaded"] = true;
  s.driver["library"] = (*api)->library_path;
  int version = 0;
  if ((*api)->cuDriverGetVersion(&version) == CUDA_SUCCESS)
    s.driver["version"] = fmt::format("{}.{}", version / 1000, version % 1000 / 10);
  auto count = runtime::device_count();
  if (!count || *count == 0) {
    s.gpu_skip = count ? "the CUDA driver reports no GPU" : count.error().message;
    return s;
  }
  auto info = runtime::query_device(0);
  if (!info) {
    s.gpu_skip = info.error().message;
    s.device = {{"error", info.error().message}};
    return s;
  }
  s.info = *info;
  s.device = {{"ordinal", 0},
              {"name", info->name},
              {"compute_capability", fmt::format("{}.{}", info->compute_major, info->compute_minor)},
              {"sm_count", info->sm_count}};
  auto arch = runtime::arch_for_compute_capability(info->compute_major, info->compute_minor);
  if (!arch) {
    s.device["error"] = arch.error().message;
    return s;
  }
  s.device["arch"] = *arch;
  if (auto parsed = compiler::parse_arch(*arch)) s.device["kernel_path"] = kernel_path_name(*parsed);
  return s;
}

/// Launches `op` on fresh random data and compares with the float64 reference.
void launch_and_check(const MatmulOp& op, const gpu::GemmCase& c, json& path) {
  auto fail = [&](const std::string& why) {
    path["passed"] = false;
    path["error"] = why;
  };
  auto api = runtime::driver();
  if (!api) return fail(api.error().message);
  if (auto context = runtime::make_context_current(0); !context) return fail(context.error().message);
  auto program = dsl::resolve(c.activation);
  if (!program) return fail(program.error().message);
  const uint64_t seed = std::random_device{}();
  path["seed"] = seed;
  std::mt19937_64 rng(seed);
  const gpu::GemmProblem problem = gpu::GemmProblem::make(c, op.gated(), rng);
  auto device = gpu::DeviceProblem::upload(problem);
  if (!device) return fail(device.error().message);
  if (auto ok = device->poison_outputs(); !ok) return fail(ok.error().message);
  path["launched"] = true;
  if (auto launched = op(nullptr, device->args, c.params); !launched) return fail(launched.error().message);
  if (CUresult r = (*api)->cuCtxSynchronize(); r != CUDA_SUCCESS)
    return fail(runtime::driver_error(**api, r, "cuCtxSynchronize after the fused GEMM").message);
  gpu::HostTensor d = gpu::output_tensor(problem);
  if (auto ok = device->d.download(d.data(), d.size_bytes()); !ok) return fail(ok.error().message);
  auto result = gpu::check_outputs(problem, *program, {}, d, nullptr, rng);
  if (!result) return fail(result.error().message);
  path["checked"] = result->checked;
  path["unwritten"] = result->unwritten;
  path["padding_clobbered"] = result->padding_clobbered;
  path["rel_error"] = result->rel_error;
  path["max_abs_error"] = result->max_abs_error;
  path["passed"] = gpu::passed(*result);
  if (!gpu::passed(*result))
    path["error"] = fmt::format("wrong result: rel error {:.3e} (bound {:.0e}), {} unwritten, {} padding "
                                "elements clobbered",
                                result->rel_error, gpu::kRelErrorBound, result->unwritten,
                                result->padding_clobbered);
}

/// Compiles the doctor case for `arch` (a fresh in-memory cache: NVRTC runs)
/// and, when `launch`, runs and checks it.
json check_path(const Runtime& rt, Arch arch, bool launch) {
  const gpu::GemmCase c = doctor_case();
  json path = {{"arch", compiler::to_string(arch)}, {"kernel_path", kernel_path_name(arch)},
               {"case", c.name},  {"compiled", false},
               {"launched", false}, {"passed", false}};
  MatmulOptions options{.activation = c.activation, .dtype = c.in, .bias = c.bias, .arch = arch};
  auto op = rt.matmul(options);
  if (!op) {
    path["error"] = op.error().message;
    return path;
  }
  auto info = op->compile({c.m, c.n, c.k}, arch);
  if (!info) {
    path["error"] = info.error().message;
    return path;
  }
  path["compiled"] = true;
  path["compile_ms"] = info->compile_ms;
  path["tile"] = compiler::to_string(info->tile);
  path["registers"] = info->registers;
  path["spill_bytes"] = info->spill_bytes;
  if (info->spill_bytes != 0) {
    path["error"] = fmt::format("the kernel spills {} bytes", info->spill_bytes);
    return path;
  }
  if (!launch) {
    path["passed"] = true;  // everything that can be checked without a GPU
    return path;
  }
  launch_and_check(*op, c, path);
  return path;
}

void print_text(const json& r) {
  const json& driver = r["driver"];
  fmt::print("tilefuse doctor\n");
  fmt::print("  tilefuse       {}\n", r["tilefuse_version"].get<std::string>());
  fmt::print("  NVRTC          {}\n", r["nvrtc_version"].get<std::string>());
  if (driver["loaded"].get<bool>())
    fmt::print("  CUDA driver    {} ({})\n", driver.value("version", std::string("version unknown")),
               driver["library"].get<std::string>());
  else
    fmt::print("  CUDA driver    not loaded: {}\n", driver.value("error", std::string("?")));
  const json& device = r["device"];
  if (device.is_null()) {
    fmt::print("  device         none\n");
  } else if (device.contains("name")) {
    fmt::print("  device 0       {}, compute capability {}, {} SMs\n", device["name"].get<std::string>(),
               device["compute_capability"].get<std::string>(), device["sm_count"].get<int>());
    if (device.contains("arch"))
      fmt::print("  architecture   {} (kernel path: {})\n", device["arch"].get<std::string>(),
                 device["kernel_path"].get<std::string>());
    else
      fmt::print("  architecture   none: {}\n", device.value("error", std::string("?")));
  } else {
    fmt::print("  device 0       error: {}\n", device.value("error", std::string("?")));
  }
  const json& cache = r["cache"];
  fmt::print("  cache          {} ({})\n", cache["directory"].is_null() ? "?" : cache["directory"].get<std::string>(),
             cache["writable"].get<bool>() ? "writable" : "NOT writable: " + cache.value("problem", std::string()));
  fmt::print("  watchdog       {}\n", r["watchdog"].get<bool>() ? "on (TILEFUSE_WATCHDOG)" : "off");
  fmt::print("kernel paths ({}):\n", r["gpu_checks"] == "ran" ? "compile + launch + check" : "compile only");
  for (const json& p : r["paths"]) {
    std::string what = p["compiled"].get<bool>()
                           ? fmt::format("compiled in {:.0f} ms, tile {}, {} registers, {} spill bytes",
                                         p["compile_ms"].get<double>(), p["tile"].get<std::string>(),
                                         p["registers"].get<int>(), p["spill_bytes"].get<int>())
                           : std::string("not compiled");
    if (p.contains("rel_error"))
      what += fmt::format("; launched: rel error {:.2e}, max|e| {:.2e}, {} checked, {} unwritten",
                          p["rel_error"].get<double>(), p["max_abs_error"].get<double>(),
                          p["checked"].get<long long>(), p["unwritten"].get<long long>());
    fmt::print("  {} {:<7} {:<31} {}\n", p["passed"].get<bool>() ? "ok  " : "FAIL", p["arch"].get<std::string>(),
               p["kernel_path"].get<std::string>(), what);
    if (p.contains("error")) fmt::print("       error: {}\n", p["error"].get<std::string>());
  }
  if (r["gpu_checks"] == "ran") fmt::print("GPU checks: ran\n");
  else fmt::print("GPU checks: skipped ({}); launches not checked\n", r["gpu_skip_reason"].get<std::string>());
  const bool required_skip = r["gpu_checks"] == "skipped" && r["require_gpu"].get<bool>();
  fmt::print("result: {}\n", r["passed"].get<bool>() ? "ok"
                              : required_skip     ? "FAILED (--require-gpu: the GPU checks could not run)"
                                                  : "FAILED");
}

int run_doctor(bool as_json, bool require_gpu) {
  json report = {{"tilefuse_version", TILEFUSE_VERSION},
                 {"nvrtc_version", runtime::nvrtc_version()},
                 {"watchdog", runtime::watchdog_from_environment()},
                 {"require_gpu", require_gpu}};
  GpuState gpu = probe_gpu();
  report["driver"] = gpu.driver;
  report["device"] = gpu.device;
  report["cache"] = check_cache_directory();

  const bool launch = gpu.gpu_skip.empty() && gpu.device.contains("arch");
  const std::vector<Arch> paths = kernel_paths(launch ? &*gpu.info : nullptr);
  bool ok = report["cache"]["writable"].get<bool>() && !paths.empty();
  // Memory only: the compile must exercise NVRTC, not find a cached cubin.
  Runtime rt(RuntimeOptions{.disk_cache = false});
  // Without a GPU the paths are independent compiles: run them side by side.
  // With one, one after another (one launch at a time on the device).
  std::vector<std::future<json>> pending;
  for (Arch arch : paths)
    pending.push_back(std::async(launch ? std::launch::deferred : std::launch::async,
                                 [&rt, arch, launch] { return check_path(rt, arch, launch); }));
  json checked = json::array();
  for (auto& path : pending) {
    checked.push_back(path.get());
    ok = ok && checked.back()["passed"].get<bool>();
  }
  report["paths"] = std::move(checked);
  if (launch) {
    report["gpu_checks"] = "ran";
  } else {
    report["gpu_checks"] = "skipped";
    std::string reason = gpu.gpu_skip;
    if (reason.empty() && gpu.device.is_object()) reason = gpu.device.value("error", std::string());
    report["gpu_skip_reason"] = reason.empty() ? std::string("no usable GPU") : reason;
    // A device tilefuse has no architecture for is a failure, not a skip.
    if (gpu.info) ok = false;
    if (require_gpu) ok = false;
  }
  report["passed"] = ok;
  if (as_json) fmt::print("{}\n", report.dump(2));
  else print_text(report);
  return ok ? kExitOk : kExitInternal;
}

}  // namespace

void add_doctor_command(CLI::App& root, int& exit_code) {
  auto* cmd = root.add_subcommand(
      "doctor", "check this machine: versions, device, cache, and a fused GEMM on every kernel path");
  auto json_output = std::make_shared<bool>(false);
  auto require_gpu = std::make_shared<bool>(false);
  cmd->add_flag("--json", *json_output, "print one JSON object");
  cmd->add_flag("--require-gpu", *require_gpu,
                "fail (exit 1) when the GPU checks cannot run (no driver or GPU); default: they are skipped");
  cmd->callback([json_output, require_gpu, &exit_code] { exit_code = run_doctor(*json_output, *require_gpu); });
}

}  // namespace tilefuse::cli
