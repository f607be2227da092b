// The entry format: round trip, and every truncation, every single-bit flip
// and foreign data are rejected.
#include <gtest/gtest.h>
#include <xxhash.h>

#include <cstdint>
#include <functional>
#include <limits>

#include <nlohmann/json.hpp>

#include "runtime/CacheEntry.h"

namespace tilefuse::runtime {
namespace {

const std::string kKey = "0123456789abcdef0123456789abcdef";

Compiled sample_compiled() {
  Compiled c;
  c.ptx = ".version 9.0\n.target sm_80\n.entry k() { ret; }\n";
  c.cubin = std::string("\x7f" "ELF\0\1\2\3binary\0data", 18);
  c.log =
      "ptxas info    : (C7520) Potential Performance Loss: wgmma.mma_async instructions are serialized\n"
      "ptxas info    : Used 8 registers\n";
  c.performance_warnings = {"(C7520) Potential Performance Loss: wgmma.mma_async instructions are serialized"};
  c.registers = 8;
  c.spill_bytes = 4;
  c.shared_bytes = 1024;
  c.stack_bytes = 16;
  c.kernels = {KernelResources{"k", 8, 4, 1024, 16}};
  c.ptx_instructions = {{"mma_sync", 3}, {"ld_local", 1}};
  c.nvrtc_ms = 12.5;
  c.lowered_names = {{"k<1>", "_Z1kILi1EEvv"}};
  c.arch = "sm_80";
  return c;
}

void expect_same(const Compiled& a, const Compiled& b) {
  EXPECT_EQ(a.ptx, b.ptx);
  EXPECT_EQ(a.cubin, b.cubin);
  EXPECT_EQ(a.log, b.log);
  EXPECT_EQ(a.registers, b.registers);
  EXPECT_EQ(a.spill_bytes, b.spill_bytes);
  EXPECT_EQ(a.shared_bytes, b.shared_bytes);
  EXPECT_EQ(a.stack_bytes, b.stack_bytes);
  EXPECT_EQ(a.kernels, b.kernels);
  EXPECT_EQ(a.performance_warnings, b.performance_warnings);  // re-read from the log
  EXPECT_EQ(a.ptx_instructions, b.ptx_instructions);
  EXPECT_EQ(a.nvrtc_ms, b.nvrtc_ms);
  EXPECT_EQ(a.lowered_names, b.lowered_names);
  EXPECT_EQ(a.arch, b.arch);
}

TEST(CacheEntry, RoundTrips) {
  const std::string bytes = encode_cache_entry(kKey, sample_compiled());
  EXPECT_EQ(bytes.substr(0, 4), "TFKC");
  auto decoded = decode_cache_entry(bytes, kKey);
  ASSERT_TRUE(decoded) << decoded.error().message;
  expect_same(*decoded, sample_compiled());
  auto key = cache_entry_key(bytes);
  ASSERT_TRUE(key);
  EXPECT_EQ(*key, kKey);
}

TEST(CacheEntry, EveryTruncationIsRejected) {
  const std::string bytes = encode_cache_entry(kKey, sample_compiled());
  for (size_t n = 0; n < bytes.size(); ++n) {
    auto decoded = decode_cache_entry(std::string_view(bytes).substr(0, n), kKey);
    ASSERT_FALSE(decoded) << "accepted a prefix of " << n << " bytes";
    EXPECT_EQ(decoded.error().code, ErrorCode::IoError);
  }
}

TEST(CacheEntry, EverySingleBitFlipIsRejected) {
  const std::string bytes = encode_cache_entry(kKey, sample_compiled());
  for (size_t i = 0; i < bytes.size(); ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      std::string flipped = bytes;
      flipped[i] = static_cast<char>(flipped[i] ^ (1 << bit));
      ASSERT_FALSE(decode_cache_entry(flipped, kKey)) << "byte " << i << " bit " << bit;
    }
  }
}

TEST(CacheEntry, ForeignDataAndOtherKeysAreRejected) {
  auto garbage = decode_cache_entry(std::string(4096, 'x'), kKey);
  ASSERT_FALSE(garbage);
  EXPECT_NE(garbage.error().message.find("magic"), std::string::npos) << garbage.error().message;

  const std::string bytes = encode_cache_entry(kKey, sample_compiled());
  auto other = decode_cache_entry(bytes, "ffffffffffffffffffffffffffffffff");
  ASSERT_FALSE(other);
  EXPECT_NE(other.error().message.find("key"), std::string::npos);

  auto appended = decode_cache_entry(bytes + "tail", kKey);
  ASSERT_FALSE(appended);
  EXPECT_NE(appended.error().message.find("truncated or appended"), std::string::npos);
}

TEST(CacheEntry, OtherFormatVersionIsRejected) {
  std::string bytes = encode_cache_entry(kKey, sample_compiled());
  bytes[4] = static_cast<char>(kCacheEntryVersion + 1);
  auto decoded = decode_cache_entry(bytes, kKey);
  ASSERT_FALSE(decoded);
  EXPECT_NE(decoded.error().message.find("format version"), std::string::npos);
}

/// A well-formed entry for kKey (magic, version, sizes, correct checksum)
/// whose metadata JSON is `meta` and whose PTX + cubin bytes are `blobs`:
/// what a writer with its own idea of the format, or an attacker who can
/// compute XXH64, could leave in the cache directory.
std::string entry_with_metadata(const nlohmann::json& meta, const std::string& blobs) {
  const std::string text = meta.dump();
  std::string payload;
  for (int i = 0; i < 8; ++i) payload.push_back(static_cast<char>((text.size() >> (8 * i)) & 0xff));
  payload += text + blobs;
  std::string entry(kCacheEntryMagic, 4);
  for (int i = 0; i < 4; ++i) entry.push_back(static_cast<char>((kCacheEntryVersion >> (8 * i)) & 0xff));
  entry += kKey;
  const uint64_t size = payload.size(), sum = XXH64(payload.data(), payload.size(), 0);
  for (int i = 0; i < 8; ++i) entry.push_back(static_cast<char>((size >> (8 * i)) & 0xff));
  for (int i = 0; i < 8; ++i) entry.push_back(static_cast<char>((sum >> (8 * i)) & 0xff));
  return entry + payload;
}

/// The metadata encode_cache_entry writes for sample_compiled().
nlohmann::json sample_metadata() {
  const std::string bytes = encode_cache_entry(kKey, sample_compiled());
  uint64_t meta_size = 0;
  for (int i = 0; i < 8; ++i)
    meta_size |= uint64_t{static_cast<unsigned char>(bytes[kCacheEntryHeaderSize + i])} << (8 * i);
  return nlohmann::json::parse(bytes.substr(kCacheEntryHeaderSize + 8, meta_size));
}

TEST(CacheEntry, WellFormedEntryBuiltByTheTestDecodes) {  // the helper above is right
  const Compiled c = sample_compiled();
  auto decoded = decode_cache_entry(entry_with_metadata(sample_metadata(), c.ptx + c.cubin), kKey);
  ASSERT_TRUE(decoded) << decoded.error().message;
  expect_same(*decoded, c);
}

// Found by review while writing tests/fuzz/cache_entry_fuzzer (the fuzzer did
// not reach them: both need a metadata edit behind a matching checksum):
// PTX and cubin sizes whose sum wraps around 2^64 passed the size check and
// made std::string_view::substr throw std::out_of_range out of the decoder,
// and numbers of the wrong JSON type were read into ints (undefined
// behaviour for a float beyond int's range). Each must be a corrupt entry.
TEST(CacheEntry, MetadataWithWrappingSizesOrOutOfRangeNumbersIsRejected) {
  const Compiled c = sample_compiled();
  const std::string blobs = c.ptx + c.cubin;
  const std::pair<std::string, std::function<void(nlohmann::json&)>> cases[] = {
      {"sizes that wrap around 2^64",
       [&](nlohmann::json& m) {
         // ptx_size points past the payload; cubin_size brings the sum back
         // to the payload size modulo 2^64 (iterated: the digits change meta_size).
         for (int i = 0; i < 4; ++i) {
           const uint64_t meta_size = m.dump().size();
           const uint64_t payload = 8 + meta_size + blobs.size();
           m["ptx_size"] = payload;
           m["cubin_size"] = uint64_t{0} - (8 + meta_size);
         }
       }},
      {"a float register count beyond int", [](nlohmann::json& m) { m["registers"] = 1e10; }},
      {"a float PTX size", [](nlohmann::json& m) { m["ptx_size"] = 1e30; }},
      {"a negative cubin size", [](nlohmann::json& m) { m["cubin_size"] = -1; }},
      {"a kernel's registers as a string",
       [](nlohmann::json& m) { m["kernels"][0]["registers"] = "8"; }},
      {"an instruction count beyond int",
       [](nlohmann::json& m) { m["ptx_instructions"]["mma_sync"] = 1e12; }},
  };
  for (const auto& [what, damage] : cases) {
    nlohmann::json meta = sample_metadata();
    damage(meta);
    Expected<Compiled> decoded = make_error(ErrorCode::Internal, "not decoded");
    EXPECT_NO_THROW(decoded = decode_cache_entry(entry_with_metadata(meta, blobs), kKey)) << what;
    ASSERT_FALSE(decoded) << what << " was accepted";
    EXPECT_EQ(decoded.error().code, ErrorCode::IoError) << what;
    EXPECT_NE(decoded.error().message.find("corrupt cache entry"), std::string::npos)
        << what << ": " << decoded.error().message;
  }
}

}  // namespace
}  // namespace tilefuse::runtime
