// libFuzzer target: the kernel cache's entry decoder (runtime/CacheEntry),
// which reads files any process — or a damaged disk — may have written.
// Any crash, sanitizer report or uncaught exception is a bug; an Error is fine.
//
// The first byte picks how the rest is used:
//   even: the rest is a whole file, header included (magic, version, sizes,
//         checksum: the checks a damaged file meets first);
//   odd:  the rest is a payload placed behind a valid header with its correct
//         checksum, so that mutations reach the metadata and size parsing
//         instead of dying at the checksum.
// An entry that decodes must survive a round trip: encoding what was decoded
// and decoding that again gives the same fields.
#include <xxhash.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "runtime/CacheEntry.h"

namespace {

using tilefuse::runtime::Compiled;

constexpr std::string_view kKey = "0123456789abcdef0123456789abcdef";

void put_le(std::string& out, uint64_t value, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>((value >> (8 * i)) & 0xff));
}

/// `payload` behind a well-formed header for kKey (see CacheEntry.h).
std::string with_valid_header(std::string_view payload) {
  std::string entry(tilefuse::runtime::kCacheEntryMagic, 4);
  put_le(entry, tilefuse::runtime::kCacheEntryVersion, 4);
  entry += kKey;
  put_le(entry, payload.size(), 8);
  put_le(entry, XXH64(payload.data(), payload.size(), 0), 8);
  entry += payload;
  return entry;
}

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "cache_entry_fuzzer: %s\n", what);
  std::abort();
}

void check_same(const Compiled& a, const Compiled& b) {
  if (a.ptx != b.ptx || a.cubin != b.cubin || a.log != b.log || a.arch != b.arch)
    fail("round trip changed ptx, cubin, log or arch");
  if (a.registers != b.registers || a.spill_bytes != b.spill_bytes ||
      a.shared_bytes != b.shared_bytes || a.stack_bytes != b.stack_bytes)
    fail("round trip changed the resource counts");
  if (a.kernels.size() != b.kernels.size()) fail("round trip changed the kernel list");
  for (std::size_t i = 0; i < a.kernels.size(); ++i)
    if (a.kernels[i].name != b.kernels[i].name || a.kernels[i].registers != b.kernels[i].registers ||
        a.kernels[i].spill_bytes != b.kernels[i].spill_bytes ||
        a.kernels[i].shared_bytes != b.kernels[i].shared_bytes ||
        a.kernels[i].stack_bytes != b.kernels[i].stack_bytes)
      fail("round trip changed a kernel's resources");
  if (a.ptx_instructions != b.ptx_instructions || a.lowered_names != b.lowered_names ||
      a.performance_warnings != b.performance_warnings)
    fail("round trip changed the instruction counts, lowered names or warnings");
  if (!(a.nvrtc_ms == b.nvrtc_ms)) fail("round trip changed nvrtc_ms");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  const std::string entry = (data[0] & 1) ? with_valid_header(rest) : std::string(rest);

  auto key = tilefuse::runtime::cache_entry_key(entry);
  // Decode against the key the header names (as a lookup that found it would)
  // and against another key (a misplaced file).
  (void)tilefuse::runtime::decode_cache_entry(entry, "ffffffffffffffffffffffffffffffff");
  if (!key) return 0;
  auto decoded = tilefuse::runtime::decode_cache_entry(entry, *key);
  if (!decoded) return 0;

  const std::string again = tilefuse::runtime::encode_cache_entry(*key, *decoded);
  auto back = tilefuse::runtime::decode_cache_entry(again, *key);
  if (!back) fail(("re-encoded entry does not decode: " + back.error().message).c_str());
  check_same(*decoded, *back);
  return 0;
}
