#include "runtime/PtxInstructions.h"

#include <array>
#include <utility>

namespace tilefuse::runtime {
namespace {

struct Counted {
  const char* key;
  std::string_view opcode_prefix;
};

// One row per counted key; a key may have several opcode prefixes (adjacent
// rows). A line counts once per key; it may count for several keys
// (mma_sync_fp8 is a subset of mma_sync).
constexpr std::array<Counted, 11> kCounted = {{
    {"mma_sync", "mma.sync."},
    {"mma_sync_fp8", "mma.sync.aligned.m16n8k32.row.col.f32.e4m3."},
    {"cvt_e4m3", "cvt.rn.satfinite.e4m3x2.f32"},
    {"wgmma", "wgmma.mma_async."},
    {"ldmatrix", "ldmatrix."},
    {"cp_async", "cp.async.ca."},
    {"cp_async", "cp.async.cg."},
    {"cp_async_bulk_tensor", "cp.async.bulk.tensor."},
    {"ld_local", "ld.local."},
    {"st_local", "st.local."},
    {"setmaxnreg", "setmaxnreg."},
}};

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r'; }

// The opcode of one PTX line: skips indentation and an "@%p" / "@!%p" guard.
std::string_view opcode_of(std::string_view line) {
  size_t i = 0;
  while (i < line.size() && is_space(line[i])) ++i;
  if (i < line.size() && line[i] == '@') {
    while (i < line.size() && !is_space(line[i])) ++i;
    while (i < line.size() && is_space(line[i])) ++i;
  }
  size_t end = i;
  while (end < line.size() && !is_space(line[end]) && line[end] != ';') ++end;
  return line.substr(i, end - i);
}

}  // namespace

std::map<std::string, int> count_ptx_instructions(std::string_view ptx) {
  std::map<std::string, int> counts;
  for (const auto& c : kCounted) counts[c.key] = 0;
  size_t pos = 0;
  while (pos < ptx.size()) {
    size_t end = ptx.find('\n', pos);
    if (end == std::string_view::npos) end = ptx.size();
    const std::string_view op = opcode_of(ptx.substr(pos, end - pos));
    pos = end + 1;
    const char* counted = nullptr;  // the key this line last counted for
    for (const auto& c : kCounted) {
      if (c.key != counted && op.starts_with(c.opcode_prefix)) {
        ++counts[c.key];
        counted = c.key;
      }
    }
  }
  return counts;
}

}  // namespace tilefuse::runtime
