#include "runtime/CacheEntry.h"
#include "runtime/PtxasLog.h"

#include <xxhash.h>

#include <cstring>
#include <limits>
#include <utility>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace tilefuse::runtime {
namespace {

using nlohmann::json;

void put_u32(std::string& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
void put_u64(std::string& out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
uint64_t get_uint(std::string_view bytes, size_t offset, int size) {
  uint64_t v = 0;
  for (int i = 0; i < size; ++i)
    v |= static_cast<uint64_t>(static_cast<unsigned char>(bytes[offset + i])) << (8 * i);
  return v;
}

json metadata_of(const Compiled& c) {
  json kernels = json::array();
  for (const auto& k : c.kernels)
    kernels.push_back({{"name", k.name},
                       {"registers", k.registers},
                       {"spill_bytes", k.spill_bytes},
                       {"shared_bytes", k.shared_bytes},
                       {"stack_bytes", k.stack_bytes}});
  json lowered = json::array();
  for (const auto& [expr, name] : c.lowered_names) lowered.push_back({expr, name});
  return {{"ptx_size", c.ptx.size()},
          {"cubin_size", c.cubin.size()},
          {"log", c.log},
          {"arch", c.arch},
          {"registers", c.registers},
          {"spill_bytes", c.spill_bytes},
          {"shared_bytes", c.shared_bytes},
          {"stack_bytes", c.stack_bytes},
          {"kernels", kernels},
          {"ptx_instructions", c.ptx_instructions},
          {"nvrtc_ms", c.nvrtc_ms},
          {"lowered_names", lowered}};
}

Error corrupt(std::string_view why) {
  return make_error(ErrorCode::IoError, fmt::format("corrupt cache entry: {}", why));
}

// Parses the header; returns the payload view on success.
Expected<std::string_view> checked_payload(std::string_view bytes) {
  if (bytes.size() < kCacheEntryHeaderSize)
    return corrupt(fmt::format("{} bytes is shorter than the {}-byte header", bytes.size(),
                               kCacheEntryHeaderSize));
  if (std::memcmp(bytes.data(), kCacheEntryMagic, 4) != 0)
    return corrupt("not a tilefuse kernel cache entry (bad magic)");
  const uint32_t version = static_cast<uint32_t>(get_uint(bytes, 4, 4));
  if (version != kCacheEntryVersion)
    return corrupt(fmt::format("format version {} (this tilefuse reads {})", version,
                               kCacheEntryVersion));
  const uint64_t payload_size = get_uint(bytes, 40, 8);
  if (payload_size != bytes.size() - kCacheEntryHeaderSize)
    return corrupt(fmt::format("header announces a {}-byte payload but {} bytes follow "
                               "(truncated or appended to)",
                               payload_size, bytes.size() - kCacheEntryHeaderSize));
  const std::string_view payload = bytes.substr(kCacheEntryHeaderSize);
  if (XXH64(payload.data(), payload.size(), 0) != get_uint(bytes, 48, 8))
    return corrupt("payload checksum mismatch (the file was modified or damaged)");
  return payload;
}

// The metadata's numbers are read only after their JSON type and range are
// checked: get<int>() of a float beyond int's range is undefined behaviour,
// and a negative or fractional size is no size.
Expected<int> int_at(const json& object, const char* name) {
  const auto it = object.find(name);
  if (it == object.end() || !it->is_number_integer() ||
      it->get<long long>() < std::numeric_limits<int>::min() ||
      it->get<long long>() > std::numeric_limits<int>::max())
    return corrupt(fmt::format("metadata field \"{}\" is missing or not an int", name));
  return it->get<int>();
}

Expected<uint64_t> size_at(const json& object, const char* name) {
  const auto it = object.find(name);
  if (it == object.end() || !it->is_number_unsigned())
    return corrupt(fmt::format("metadata field \"{}\" is missing or not a size", name));
  return it->get<uint64_t>();
}

}  // namespace

std::string encode_cache_entry(std::string_view key, const Compiled& compiled) {
  const std::string meta = metadata_of(compiled).dump();
  std::string payload;
  payload.reserve(8 + meta.size() + compiled.ptx.size() + compiled.cubin.size());
  put_u64(payload, meta.size());
  payload += meta;
  payload += compiled.ptx;
  payload += compiled.cubin;

  std::string out;
  out.reserve(kCacheEntryHeaderSize + payload.size());
  out.append(kCacheEntryMagic, 4);
  put_u32(out, kCacheEntryVersion);
  std::string padded_key(key.substr(0, kCacheKeySize));
  padded_key.resize(kCacheKeySize, '\0');
  out += padded_key;
  put_u64(out, payload.size());
  put_u64(out, XXH64(payload.data(), payload.size(), 0));
  out += payload;
  return out;
}

Expected<std::string> cache_entry_key(std::string_view bytes) {
  auto payload = checked_payload(bytes);
  if (!payload) return payload.take_error();
  std::string key(bytes.substr(8, kCacheKeySize));
  key.resize(std::strlen(key.c_str()));
  return key;
}

Expected<Compiled> decode_cache_entry(std::string_view bytes, std::string_view expected_key) {
  auto key = cache_entry_key(bytes);
  if (!key) return key.take_error();
  if (*key != expected_key)
    return corrupt(fmt::format("it holds key {} where {} was expected", *key, expected_key));
  const std::string_view payload = bytes.substr(kCacheEntryHeaderSize);
  if (payload.size() < 8) return corrupt("payload too short for its metadata size");
  const uint64_t meta_size = get_uint(payload, 0, 8);
  if (meta_size > payload.size() - 8) return corrupt("metadata size exceeds the payload");

  const json meta = json::parse(payload.substr(8, meta_size), nullptr, /*allow_exceptions=*/false);
  if (meta.is_discarded() || !meta.is_object()) return corrupt("metadata is not valid JSON");
  // The checksum already vouches for the bytes; a type mismatch here means a
  // writer with a different idea of the format, which is reported the same way.
  try {
    Compiled c;
    auto ptx_size = size_at(meta, "ptx_size");
    if (!ptx_size) return ptx_size.take_error();
    auto cubin_size = size_at(meta, "cubin_size");
    if (!cubin_size) return cubin_size.take_error();
    // Compared one at a time: a sum of sizes from the file could wrap around.
    const uint64_t blobs_size = payload.size() - 8 - meta_size;
    if (*ptx_size > blobs_size || *cubin_size != blobs_size - *ptx_size)
      return corrupt("PTX and cubin sizes do not add up to the payload size");
    c.ptx = std::string(payload.substr(8 + meta_size, *ptx_size));
    c.cubin = std::string(payload.substr(8 + meta_size + *ptx_size, *cubin_size));
    c.log = meta.at("log").get<std::string>();
    c.performance_warnings = parse_ptxas_performance_warnings(c.log);  // derived, not stored
    c.arch = meta.at("arch").get<std::string>();
    for (auto [name, field] : {std::pair{"registers", &c.registers}, {"spill_bytes", &c.spill_bytes},
                               {"shared_bytes", &c.shared_bytes}, {"stack_bytes", &c.stack_bytes}}) {
      auto value = int_at(meta, name);
      if (!value) return value.take_error();
      *field = *value;
    }
    for (const auto& k : meta.at("kernels")) {
      KernelResources kernel{k.at("name").get<std::string>()};
      for (auto [name, field] :
           {std::pair{"registers", &kernel.registers}, {"spill_bytes", &kernel.spill_bytes},
            {"shared_bytes", &kernel.shared_bytes}, {"stack_bytes", &kernel.stack_bytes}}) {
        auto value = int_at(k, name);
        if (!value) return value.take_error();
        *field = *value;
      }
      c.kernels.push_back(std::move(kernel));
    }
    const json& counts = meta.at("ptx_instructions");
    if (!counts.is_object()) return corrupt("metadata field \"ptx_instructions\" is not an object");
    for (const auto& [name, count] : counts.items()) {
      auto value = int_at(counts, name.c_str());
      if (!value) return value.take_error();
      c.ptx_instructions[name] = *value;
    }
    c.nvrtc_ms = meta.at("nvrtc_ms").get<double>();
    for (const auto& pair : meta.at("lowered_names"))
      c.lowered_names.emplace_back(pair.at(0).get<std::string>(), pair.at(1).get<std::string>());
    return c;
  } catch (const json::exception& e) {
    return corrupt(fmt::format("metadata does not match format version {}: {}",
                               kCacheEntryVersion, e.what()));
  }
}

}  // namespace tilefuse::runtime
