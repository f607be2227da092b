// tilefuse_bench_template_ab: does a change to templates/ make NVRTC faster?
//
// Compiles one generated kernel source (`tilefuse emit --stage kernel`)
// against two or more template directories, with the options the runtime
// uses (runtime::nvrtc_options), in alternating rounds so that a slow phase of
// a shared machine lands on every directory alike. Prints the median, min and
// max NVRTC time per directory and what ptxas reports (registers, spills,
// "Potential Performance Loss" remarks), since a faster compile that spills or
// serializes wgmma is no win.
//
//   tilefuse emit --expr gelu --arch sm_90a --stage kernel > k.cu
//   git archive HEAD templates | tar -x -C /tmp/before
//   tilefuse_bench_template_ab k.cu --arch sm_90a --templates /tmp/before/templates templates
#include <nvrtc.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "Statistics.h"
#include "runtime/Nvrtc.h"
#include "runtime/PtxasLog.h"

namespace tilefuse::bench {
namespace {

struct Measured {
  std::vector<double> ms;
  std::string log;  // of the first compile
  bool failed = false;
};

/// One compile of `code` with `options`; the time of nvrtcCompileProgram.
/// NVRTC directly, not runtime::compile: that one offers the embedded
/// templates as in-memory headers, which NVRTC prefers over any -I directory.
double compile_once(const std::string& code, const std::vector<std::string>& options, std::string* log,
                    bool* failed) {
  nvrtcProgram program;
  if (nvrtcCreateProgram(&program, code.c_str(), "tilefuse_kernel.cu", 0, nullptr, nullptr) != NVRTC_SUCCESS) {
    *failed = true;
    return 0;
  }
  std::vector<const char*> argv;
  for (const auto& o : options) argv.push_back(o.c_str());
  const auto start = std::chrono::steady_clock::now();
  const nvrtcResult result = nvrtcCompileProgram(program, static_cast<int>(argv.size()), argv.data());
  const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  if (log) {
    size_t size = 0;
    nvrtcGetProgramLogSize(program, &size);
    log->assign(size, '\0');
    nvrtcGetProgramLog(program, log->data());
  }
  *failed = result != NVRTC_SUCCESS;
  nvrtcDestroyProgram(&program);
  return ms;
}

int run(const std::string& source_path, const std::string& arch, const std::vector<std::string>& directories,
        int rounds) {
  std::ifstream in(source_path);
  if (!in) {
    fmt::print(stderr, "error: cannot read {}: give the file `tilefuse emit --stage kernel` wrote\n", source_path);
    return 1;
  }
  std::stringstream text;
  text << in.rdbuf();
  const std::string code = text.str();

  std::vector<Measured> measured(directories.size());
  for (int round = 0; round < rounds; ++round)
    for (size_t d = 0; d < directories.size(); ++d) {
      runtime::CompileOptions options{arch, {"-I" + directories[d]}};
      bool failed = false;
      const double ms = compile_once(code, runtime::nvrtc_options(options), round == 0 ? &measured[d].log : nullptr,
                                     &failed);
      if (failed) {
        fmt::print(stderr, "error: NVRTC failed with templates from {}:\n{}\n", directories[d], measured[d].log);
        return 1;
      }
      measured[d].ms.push_back(ms);
    }

  fmt::print("NVRTC {} for {}, {} rounds (median / min / max ms):\n", runtime::nvrtc_version(), arch, rounds);
  for (size_t d = 0; d < directories.size(); ++d) {
    const Summary s = summarize(measured[d].ms);
    int registers = 0, spill = 0, stack = 0;
    for (const auto& k : runtime::parse_ptxas_log(measured[d].log)) {
      registers = std::max(registers, k.registers);
      spill = std::max(spill, k.spill_bytes);
      stack = std::max(stack, k.stack_bytes);
    }
    fmt::print("  {:>6.0f} {:>6.0f} {:>6.0f}   {} registers, {} B spill, {} B stack   {}\n", s.median, s.min, s.max,
               registers, spill, stack, directories[d]);
    for (const auto& remark : runtime::parse_ptxas_performance_warnings(measured[d].log))
      fmt::print("         ptxas: {}\n", remark);
  }
  return 0;
}

}  // namespace
}  // namespace tilefuse::bench

int main(int argc, char** argv) {
  CLI::App app{"NVRTC time of one kernel source against several template directories (A/B)"};
  std::string source, arch = "sm_80";
  std::vector<std::string> directories;
  int rounds = 7;
  app.add_option("source", source, "kernel source from `tilefuse emit --stage kernel`")->required();
  app.add_option("--arch", arch, "target architecture (sm_80, sm_86, sm_89, sm_90, sm_90a)");
  app.add_option("--templates", directories, "template directories (each holds tilefuse/*.cuh)")
      ->required()
      ->expected(1, -1);
  app.add_option("--rounds", rounds, "compiles per directory, alternating")->check(CLI::Range(1, 1000));
  CLI11_PARSE(app, argc, argv);
  return tilefuse::bench::run(source, arch, directories, rounds);
}
