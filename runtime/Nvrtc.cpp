#include "runtime/Nvrtc.h"

#include <nvrtc.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <mutex>
#include <sstream>
#include <thread>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "runtime/EmbeddedFiles.h"
#include "runtime/PtxInstructions.h"
#include "runtime/PtxasLog.h"

namespace tilefuse::runtime {
namespace {

std::string join_options(const std::vector<std::string>& options) {
  return fmt::format("{}", fmt::join(options, " "));
}

// Saves the failing source so the user can reproduce with nvcc/NVRTC; the
// embedded headers are part of the library, the main file is what varies.
std::string save_failed_source(const Source& source) {
  std::error_code ec;
  std::filesystem::path dir = std::filesystem::temp_directory_path(ec);
  if (ec) dir = "/tmp";
  std::string stem = source.name.empty() ? "kernel" : source.name;
  std::replace_if(stem.begin(), stem.end(), [](char c) { return c == '/' || c == ' '; }, '_');
  std::string path = (dir / fmt::format("tilefuse-{}-XXXXXX.cu", stem)).string();
  const int fd = ::mkstemps(path.data(), 3);
  if (fd < 0) return "<could not save the source: mkstemps failed>";
  size_t written = 0;
  while (written < source.code.size()) {
    const ssize_t n = ::write(fd, source.code.data() + written, source.code.size() - written);
    if (n <= 0) break;
    written += static_cast<size_t>(n);
  }
  ::close(fd);
  return path;
}

struct ProgramDeleter {
  void operator()(nvrtcProgram* p) const {
    nvrtcDestroyProgram(p);
    delete p;
  }
};
using ProgramHandle = std::unique_ptr<nvrtcProgram, ProgramDeleter>;

Error nvrtc_call_failed(const char* call, nvrtcResult r, const Source& source) {
  return make_error(ErrorCode::CompileFailed,
                    fmt::format("NVRTC {} failed for '{}': {}", call, source.name,
                                nvrtcGetErrorString(r)));
}

std::string program_log(nvrtcProgram prog) {
  size_t size = 0;
  if (nvrtcGetProgramLogSize(prog, &size) != NVRTC_SUCCESS || size == 0) return {};
  std::string log(size, '\0');
  if (nvrtcGetProgramLog(prog, log.data()) != NVRTC_SUCCESS) return {};
  if (!log.empty() && log.back() == '\0') log.pop_back();
  return log;
}

}  // namespace

Expected<void> check_arch(std::string_view arch) {
  for (auto supported : kSupportedArchs)
    if (arch == supported) return {};
  return make_error(ErrorCode::InvalidInput,
                    fmt::format("unsupported target architecture '{}': tilefuse generates code "
                                "for {}; pass one of them",
                                arch, fmt::join(kSupportedArchs, ", ")));
}

std::string Compiled::lowered_name(std::string_view name_expression) const {
  for (const auto& [expr, lowered] : lowered_names)
    if (expr == name_expression) return lowered;
  return std::string(name_expression);
}

std::string nvrtc_version() {
  int major = 0, minor = 0;
  if (nvrtcVersion(&major, &minor) != NVRTC_SUCCESS) return "unknown";
  return fmt::format("{}.{}", major, minor);
}

std::vector<std::string> nvrtc_options(const CompileOptions& options) {
  std::vector<std::string> out = {
      "--gpu-architecture=" + options.arch,
      "-std=c++17",
      "--ptxas-options=-v",  // registers, spills, smem per kernel in the log
      "-default-device",     // no __device__ annotations needed in helpers
      // Leaves texture/surface and device-runtime declarations out of NVRTC's
      // built-in header, which the templates never use: ~15 ms less front end.
      "--minimal",
  };
  out.insert(out.end(), options.extra.begin(), options.extra.end());
  if (watchdog_from_environment()) out.emplace_back(kWatchdogDefine);
  const std::vector<std::string> from_environment = nvrtc_options_from_environment();
  out.insert(out.end(), from_environment.begin(), from_environment.end());
  return out;
}

std::vector<std::string> nvrtc_options_from_environment() {
  std::vector<std::string> out;
  const char* text = std::getenv("TILEFUSE_NVRTC_OPTIONS");
  if (!text) return out;
  std::istringstream words(text);
  for (std::string word; words >> word;) out.push_back(word);
  return out;
}

bool watchdog_from_environment() {
  const char* text = std::getenv("TILEFUSE_WATCHDOG");
  return text && *text && std::string_view(text) != "0";
}

void prewarm_nvrtc() {
  // Joined when the process exits: NVRTC must not run during static teardown.
  struct Prewarm {
    std::thread thread;
    ~Prewarm() {
      if (thread.joinable()) thread.join();
    }
  };
  static Prewarm prewarm;
  static std::once_flag once;
  std::call_once(once, [] {
    prewarm.thread = std::thread([] {
      // An empty kernel: what is warmed up is NVRTC itself, not a template.
      // Its result is irrelevant; any real failure will show in compile().
      nvrtcProgram prog;
      if (nvrtcCreateProgram(&prog, "extern \"C\" __global__ void tf_prewarm() {}",
                             "tf_prewarm.cu", 0, nullptr, nullptr) != NVRTC_SUCCESS)
        return;
      const char* options[] = {"--gpu-architecture=sm_80", "-default-device"};
      (void)nvrtcCompileProgram(prog, 2, options);
      nvrtcDestroyProgram(&prog);
    });
  });
}

Expected<Compiled> compile(const Source& source) {
  if (auto ok = check_arch(source.options.arch); !ok) return ok.take_error();
  const auto start = std::chrono::steady_clock::now();

  // Every embedded template is offered as an in-memory header; NVRTC only
  // parses the ones the source includes.
  const auto files = embedded_files();
  std::vector<std::string> header_names, header_contents;
  header_names.reserve(files.size());
  header_contents.reserve(files.size());
  for (const auto& f : files) {
    header_names.emplace_back(f.name);
    header_contents.emplace_back(f.content);
  }
  std::vector<const char*> names_c, contents_c;
  for (size_t i = 0; i < files.size(); ++i) {
    names_c.push_back(header_names[i].c_str());
    contents_c.push_back(header_contents[i].c_str());
  }

  ProgramHandle prog(new nvrtcProgram{});
  if (nvrtcResult r = nvrtcCreateProgram(prog.get(), source.code.c_str(), source.name.c_str(),
                                         static_cast<int>(files.size()), contents_c.data(),
                                         names_c.data());
      r != NVRTC_SUCCESS) {
    delete prog.release();
    return nvrtc_call_failed("nvrtcCreateProgram", r, source);
  }
  for (const auto& name : source.kernel_names)
    if (nvrtcResult r = nvrtcAddNameExpression(*prog, name.c_str()); r != NVRTC_SUCCESS)
      return nvrtc_call_failed("nvrtcAddNameExpression", r, source);

  const std::vector<std::string> options = nvrtc_options(source.options);
  std::vector<const char*> options_c;
  for (const auto& o : options) options_c.push_back(o.c_str());

  const nvrtcResult compiled =
      nvrtcCompileProgram(*prog, static_cast<int>(options_c.size()), options_c.data());
  Compiled out;
  out.log = program_log(*prog);
  if (compiled != NVRTC_SUCCESS) {
    return make_error(
        ErrorCode::CompileFailed,
        fmt::format("NVRTC could not compile '{}' ({}) with options [{}]; the source was saved "
                    "to {} and the compiler log is attached",
                    source.name, nvrtcGetErrorString(compiled), join_options(options),
                    save_failed_source(source)),
        out.log);
  }

  size_t size = 0;
  if (nvrtcResult r = nvrtcGetPTXSize(*prog, &size); r != NVRTC_SUCCESS)
    return nvrtc_call_failed("nvrtcGetPTXSize", r, source);
  out.ptx.resize(size);
  if (nvrtcResult r = nvrtcGetPTX(*prog, out.ptx.data()); r != NVRTC_SUCCESS)
    return nvrtc_call_failed("nvrtcGetPTX", r, source);
  if (!out.ptx.empty() && out.ptx.back() == '\0') out.ptx.pop_back();  // size counts the NUL

  if (nvrtcResult r = nvrtcGetCUBINSize(*prog, &size); r != NVRTC_SUCCESS)
    return nvrtc_call_failed("nvrtcGetCUBINSize", r, source);
  out.cubin.resize(size);
  if (nvrtcResult r = nvrtcGetCUBIN(*prog, out.cubin.data()); r != NVRTC_SUCCESS)
    return nvrtc_call_failed("nvrtcGetCUBIN", r, source);

  for (const auto& name : source.kernel_names) {
    const char* lowered = nullptr;
    if (nvrtcResult r = nvrtcGetLoweredName(*prog, name.c_str(), &lowered); r != NVRTC_SUCCESS)
      return nvrtc_call_failed("nvrtcGetLoweredName", r, source);
    out.lowered_names.emplace_back(name, lowered);
  }
  out.nvrtc_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();

  out.arch = source.options.arch;
  out.kernels = parse_ptxas_log(out.log);
  out.performance_warnings = parse_ptxas_performance_warnings(out.log);
  for (const auto& k : out.kernels) {
    out.registers = std::max(out.registers, k.registers);
    out.spill_bytes = std::max(out.spill_bytes, k.spill_bytes);
    out.shared_bytes = std::max(out.shared_bytes, k.shared_bytes);
    out.stack_bytes = std::max(out.stack_bytes, k.stack_bytes);
  }
  out.ptx_instructions = count_ptx_instructions(out.ptx);
  return out;
}

}  // namespace tilefuse::runtime
