// ptxas -v output looks like (one block per function):
//   ptxas info    : Compiling entry function 'tf_elementwise' for 'sm_90a'
//   ptxas info    : Function properties for tf_elementwise
//   ptxas         .     0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads
//   ptxas info    : Used 31 registers, used 0 barriers, 1024 bytes smem, 388 bytes cmem[0]
#include "runtime/PtxasLog.h"

#include <regex>
#include <string>

namespace tilefuse::runtime {
namespace {

int match_int(const std::string& line, const std::regex& re) {
  std::smatch m;
  return std::regex_search(line, m, re) ? std::stoi(m[1].str()) : 0;
}

}  // namespace

std::vector<KernelResources> parse_ptxas_log(std::string_view log) {
  static const std::regex entry_re(R"(Compiling entry function '([^']+)')");
  static const std::regex props_re(R"(Function properties for (\S+))");
  static const std::regex stack_re(R"((\d+) bytes stack frame)");
  static const std::regex spill_store_re(R"((\d+) bytes spill stores)");
  static const std::regex spill_load_re(R"((\d+) bytes spill loads)");
  static const std::regex used_re(R"(Used (\d+) registers)");
  static const std::regex smem_re(R"((\d+) bytes smem)");

  std::vector<KernelResources> out;
  auto record_for = [&out](const std::string& name) -> KernelResources& {
    for (auto& r : out)
      if (r.name == name) return r;
    out.push_back(KernelResources{name});
    return out.back();
  };

  std::string current;  // function the following lines describe
  size_t pos = 0;
  while (pos < log.size()) {
    size_t end = log.find('\n', pos);
    if (end == std::string_view::npos) end = log.size();
    const std::string line(log.substr(pos, end - pos));
    pos = end + 1;

    std::smatch m;
    if (std::regex_search(line, m, entry_re)) {
      current = m[1].str();
      record_for(current);
    } else if (std::regex_search(line, m, props_re)) {
      current = m[1].str();
      record_for(current);
    } else if (!current.empty() && line.find("bytes stack frame") != std::string::npos) {
      KernelResources& r = record_for(current);
      r.stack_bytes = match_int(line, stack_re);
      r.spill_bytes = match_int(line, spill_store_re) + match_int(line, spill_load_re);
    } else if (!current.empty() && line.find("Used ") != std::string::npos) {
      KernelResources& r = record_for(current);
      r.registers = match_int(line, used_re);
      r.shared_bytes = match_int(line, smem_re);
    }
  }
  return out;
}

std::vector<std::string> parse_ptxas_performance_warnings(std::string_view log) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos < log.size()) {
    size_t end = log.find('\n', pos);
    if (end == std::string_view::npos) end = log.size();
    std::string_view line = log.substr(pos, end - pos);
    pos = end + 1;
    if (line.find("Potential Performance Loss") == std::string_view::npos) continue;
    if (const size_t colon = line.find(": "); line.starts_with("ptxas") && colon != std::string_view::npos)
      line.remove_prefix(colon + 2);
    out.emplace_back(line);
  }
  return out;
}

}  // namespace tilefuse::runtime
