// See FakeDevices.h. Limits from NVIDIA's data sheets / CUDA C++ Programming
// Guide "Technical Specifications per Compute Capability".
#include "FakeDevices.h"

#include <sstream>

namespace tilefuse::fakecuda {

FakeDevice preset_device(int major, int minor) {
  FakeDevice d;
  d.major = major;
  d.minor = minor;
  const int cc = major * 10 + minor;
  if (cc == 90) {  // H100 SXM: 227 KiB opt-in, 228 KiB per SM
    d.name = "tilefuse fake H100 (9.0)";
    d.sm_count = 132;
    d.shared_per_block_optin = 227 * 1024;
    d.shared_per_sm = 228 * 1024;
    d.l2_bytes = 50 * 1024 * 1024;
  } else if (cc == 86 || cc == 89) {  // A10 / L4: 99 KiB opt-in, 100 KiB per SM
    d.name = cc == 86 ? "tilefuse fake A10 (8.6)" : "tilefuse fake L4 (8.9)";
    d.sm_count = cc == 86 ? 72 : 58;
    d.shared_per_block_optin = 99 * 1024;
    d.shared_per_sm = 100 * 1024;
    d.l2_bytes = cc == 86 ? 6 * 1024 * 1024 : 48 * 1024 * 1024;
  } else {  // A100: 163 KiB opt-in, 164 KiB per SM
    d.name = "tilefuse fake A100 (" + std::to_string(major) + "." + std::to_string(minor) + ")";
    d.sm_count = 108;
    d.shared_per_block_optin = 163 * 1024;
    d.shared_per_sm = 164 * 1024;
    d.l2_bytes = 40 * 1024 * 1024;
  }
  return d;
}

std::optional<std::vector<FakeDevice>> parse_devices(const std::string& spec, std::string& error) {
  std::vector<FakeDevice> devices;
  std::stringstream list(spec);
  std::string entry;
  while (std::getline(list, entry, ',')) {
    int major = 0, minor = 0, sms = 0, optin = 0;
    char dot = 0, colon = 0;
    std::stringstream in(entry);
    if (!(in >> major >> dot >> minor) || dot != '.') {
      error = "device '" + entry + "' is not MAJOR.MINOR[:SMS[:OPTIN_SHARED_BYTES]]";
      return std::nullopt;
    }
    FakeDevice d = preset_device(major, minor);
    if (in >> colon) {
      if (colon != ':' || !(in >> sms) || sms < 1) {
        error = "device '" + entry + "': the SM count after ':' must be a positive integer";
        return std::nullopt;
      }
      d.sm_count = sms;
      if (in >> colon) {
        if (colon != ':' || !(in >> optin) || optin < d.shared_per_block) {
          error = "device '" + entry + "': the opt-in shared bytes must be an integer >= 49152";
          return std::nullopt;
        }
        d.shared_per_block_optin = optin;
        d.shared_per_sm = optin + 1024;
      }
    }
    devices.push_back(d);
  }
  if (devices.empty()) {
    error = "no device in '" + spec + "'";
    return std::nullopt;
  }
  return devices;
}

}  // namespace tilefuse::fakecuda
