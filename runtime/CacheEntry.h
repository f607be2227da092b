// The on-disk format of one kernel cache entry, independent of files:
//
//   offset size  field
//   0      4     magic "TFKC"
//   4      4     format version (little-endian u32, kCacheEntryVersion)
//   8      32    key (32 lowercase hex digits, see cache_key)
//   40     8     payload size in bytes (u64)
//   48     8     XXH64 of the payload (u64, seed 0)
//   56     ...   payload: u64 metadata size, metadata (JSON: every Compiled
//                field but ptx/cubin, plus their sizes), PTX bytes, cubin bytes
//
// Every field is checked on decode, so a truncated, bit-flipped or foreign
// file is rejected with the reason, never turned into a Compiled.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "runtime/Nvrtc.h"
#include "tilefuse/error.hpp"

namespace tilefuse::runtime {

inline constexpr char kCacheEntryMagic[4] = {'T', 'F', 'K', 'C'};
inline constexpr uint32_t kCacheEntryVersion = 1;
inline constexpr size_t kCacheEntryHeaderSize = 56;
inline constexpr size_t kCacheKeySize = 32;

std::string encode_cache_entry(std::string_view key, const Compiled& compiled);

/// The Compiled stored in `bytes`, or an IoError whose message says what is
/// wrong with the entry (bad magic, other version, other key, truncated,
/// checksum mismatch, malformed metadata).
Expected<Compiled> decode_cache_entry(std::string_view bytes, std::string_view expected_key);

/// The key recorded in an entry's header, or an IoError when `bytes` does not
/// start with a valid header (for listing a directory without a key in hand).
Expected<std::string> cache_entry_key(std::string_view bytes);

}  // namespace tilefuse::runtime
