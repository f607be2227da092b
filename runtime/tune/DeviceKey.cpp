// See DeviceKey.h.
#include "runtime/tune/DeviceKey.h"

#include <cctype>
#include <cstdio>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "runtime/CacheKey.h"

namespace tilefuse::tune {

DeviceIdentity device_identity(const runtime::DeviceInfo& info) {
  return DeviceIdentity{info.name,           info.sm_count,       info.compute_major,
                        info.compute_minor,  info.driver_version, std::string(runtime::tilefuse_version())};
}

DeviceIdentity simulated_device_identity() {
  return DeviceIdentity{"simulated", 0, 0, 0, 0, std::string(runtime::tilefuse_version())};
}

std::string device_key(const DeviceIdentity& device) {
  std::string name;
  for (char c : device.name) {
    const bool safe = std::isalnum(static_cast<unsigned char>(c)) || c == '.';
    if (safe) name += c;
    else if (!name.empty() && name.back() != '-') name += '-';
  }
  while (!name.empty() && name.back() == '-') name.pop_back();
  if (name.empty()) name = "unnamed";
  return fmt::format("{}_sm{}_cc{}{}_drv{}_tf{}", name, device.sm_count, device.compute_major,
                     device.compute_minor, device.driver_version, device.tilefuse_version);
}

std::filesystem::path tuning_db_path(const std::filesystem::path& cache_dir,
                                     const DeviceIdentity& device) {
  return cache_dir / "tuning" / (device_key(device) + ".json");
}

nlohmann::json to_json(const DeviceIdentity& device) {
  return {{"name", device.name},
          {"sm_count", device.sm_count},
          {"compute_capability", fmt::format("{}.{}", device.compute_major, device.compute_minor)},
          {"driver_version", device.driver_version},
          {"tilefuse_version", device.tilefuse_version}};
}

Expected<DeviceIdentity> device_identity_from_json(const nlohmann::json& json) {
  const auto field_is = [&](const char* name, auto predicate) {
    return json.is_object() && json.contains(name) && predicate(json[name]);
  };
  const auto is_string = [](const nlohmann::json& j) { return j.is_string(); };
  const auto is_int = [](const nlohmann::json& j) { return j.is_number_integer(); };
  DeviceIdentity device;
  bool valid = field_is("name", is_string) && field_is("sm_count", is_int) &&
               field_is("driver_version", is_int) && field_is("tilefuse_version", is_string) &&
               field_is("compute_capability", is_string);
  if (valid) {
    const std::string cc = json["compute_capability"].get<std::string>();
    int consumed = 0;
    valid = std::sscanf(cc.c_str(), "%d.%d%n", &device.compute_major, &device.compute_minor,
                        &consumed) == 2 &&
            consumed == static_cast<int>(cc.size());
  }
  if (!valid)
    return make_error(ErrorCode::InvalidInput,
                      fmt::format("tuning database \"device\" {} needs name, sm_count, "
                                  "compute_capability (e.g. \"9.0\"), driver_version and "
                                  "tilefuse_version",
                                  json.dump()));
  device.name = json["name"].get<std::string>();
  device.sm_count = json["sm_count"].get<int>();
  device.driver_version = json["driver_version"].get<int>();
  device.tilefuse_version = json["tilefuse_version"].get<std::string>();
  return device;
}

}  // namespace tilefuse::tune
