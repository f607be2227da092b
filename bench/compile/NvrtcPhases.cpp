// See NvrtcPhases.h.
#include "NvrtcPhases.h"

#include <stdlib.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

#include <fmt/format.h>

namespace tilefuse::bench {
namespace {

std::string trim(std::string text) {
  text.erase(0, text.find_first_not_of(" \t"));
  text.erase(text.find_last_not_of(" \t\r") + 1);
  return text;
}

// Lines look like "tilefuse_gemm.cu, NVVM Optimizer, 2043, ms" after a
// "File name, phase name, metric, unit" header.
Expected<std::map<std::string, double>> parse_time_report(const std::string& text) {
  std::map<std::string, double> phases;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    std::vector<std::string> fields;
    std::istringstream cells(line);
    for (std::string cell; std::getline(cells, cell, ',');) fields.push_back(trim(cell));
    if (fields.size() != 4 || fields[0] == "File name") continue;
    try {
      const double value = std::stod(fields[2]);
      phases[fields[1]] += fields[3] == "s" ? value * 1000 : value;
    } catch (const std::exception&) {
      return make_error(ErrorCode::Internal,
                        fmt::format("unexpected line in NVRTC's --time report: '{}'", line));
    }
  }
  if (phases.empty())
    return make_error(ErrorCode::Internal,
                      "NVRTC's --time report has no phase lines; this NVRTC may not support "
                      "--time (CUDA 12.x or later does)");
  return phases;
}

}  // namespace

Expected<PhasedCompile> compile_with_phase_times(runtime::Source source) {
  std::error_code ec;
  std::filesystem::path dir = std::filesystem::temp_directory_path(ec);
  if (ec) dir = "/tmp";
  std::string path = (dir / "tilefuse-nvrtc-time-XXXXXX.csv").string();
  const int fd = ::mkstemps(path.data(), 4);
  if (fd < 0)
    return make_error(ErrorCode::IoError,
                      fmt::format("cannot create a temporary file in {} for NVRTC's --time report",
                                  dir.string()));
  ::close(fd);
  source.options.extra.push_back("--time=" + path);

  PhasedCompile out;
  const auto start = std::chrono::steady_clock::now();
  auto compiled = runtime::compile(source);
  out.wall_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  std::ifstream report(path);
  std::stringstream text;
  text << report.rdbuf();
  std::filesystem::remove(path, ec);
  if (!compiled) return compiled.take_error();
  out.compiled = std::move(*compiled);
  auto phases = parse_time_report(text.str());
  if (!phases) return phases.take_error();
  out.phase_ms = std::move(*phases);
  return out;
}

}  // namespace tilefuse::bench
