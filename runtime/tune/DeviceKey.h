// Which GPU a tuning database belongs to. Timings are only valid on the same
// part (name, SM count, compute capability), driver and tilefuse version, so
// all five are in the file name: a new driver starts a new database instead
// of silently reusing stale choices.
#pragma once

#include <filesystem>
#include <string>

#include <nlohmann/json_fwd.hpp>

#include "runtime/Driver.h"

namespace tilefuse::tune {

struct DeviceIdentity {
  std::string name;  ///< "NVIDIA H100 80GB HBM3"
  int sm_count = 0;
  int compute_major = 0, compute_minor = 0;
  int driver_version = 0;  ///< 13000 for CUDA 13.0
  std::string tilefuse_version;
  bool operator==(const DeviceIdentity&) const = default;
};

/// The identity of a queried device with this library's version.
DeviceIdentity device_identity(const runtime::DeviceInfo& info);

/// The identity the simulated timer reports: its records go to their own file.
DeviceIdentity simulated_device_identity();

/// File-name-safe key: "NVIDIA-H100-80GB-HBM3_sm132_cc90_drv13000_tf0.1.0".
std::string device_key(const DeviceIdentity& device);

/// <cache dir>/tuning/<device key>.json
std::filesystem::path tuning_db_path(const std::filesystem::path& cache_dir,
                                     const DeviceIdentity& device);

nlohmann::json to_json(const DeviceIdentity& device);
Expected<DeviceIdentity> device_identity_from_json(const nlohmann::json& json);

}  // namespace tilefuse::tune
