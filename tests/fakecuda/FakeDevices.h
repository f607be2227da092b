// The devices the fake driver simulates: parsed from a spec such as
// "8.0,9.0:132" (compute capability[:SMs[:opt-in shared bytes per block]]),
// with the limits of a real part of that compute capability.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace tilefuse::fakecuda {

struct FakeDevice {
  int major = 8, minor = 0;
  std::string name;
  int sm_count = 0;
  int shared_per_block = 48 * 1024;
  int shared_per_block_optin = 0;
  int shared_per_sm = 0;
  int l2_bytes = 0;
};

/// A device of compute capability major.minor with the limits of the part
/// named in its name (A100 8.0, A10 8.6, L4 8.9, H100 9.0; other
/// capabilities get 8.0's limits).
FakeDevice preset_device(int major, int minor);

/// Parses a device list; nullopt (with `error`) for a malformed one.
std::optional<std::vector<FakeDevice>> parse_devices(const std::string& spec, std::string& error);

}  // namespace tilefuse::fakecuda
