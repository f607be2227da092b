// See ImageChoice.h.
#include "runtime/ImageChoice.h"

#include <fmt/format.h>

namespace tilefuse::runtime {

Expected<TargetArch> parse_target_arch(std::string_view arch) {
  const bool digits = arch.size() >= 5 && arch.substr(0, 3) == "sm_" && arch[3] >= '0' && arch[3] <= '9' &&
                      arch[4] >= '0' && arch[4] <= '9';
  const bool suffix_ok = arch.size() == 5 || (arch.size() == 6 && arch[5] == 'a');
  if (!digits || !suffix_ok)
    return make_error(ErrorCode::InvalidInput,
                      fmt::format("'{}' is not an NVRTC architecture of the form sm_XY or sm_XYa", arch));
  TargetArch out;
  out.cc = {arch[3] - '0', arch[4] - '0'};
  out.arch_specific = arch.size() == 6;
  return out;
}

LoadableImage loadable_image(const TargetArch& target, ComputeCapability device) {
  if (target.arch_specific) return device == target.cc ? LoadableImage::Cubin : LoadableImage::None;
  if (device.major == target.cc.major && device.minor >= target.cc.minor) return LoadableImage::Cubin;
  const bool newer = device.major > target.cc.major ||
                     (device.major == target.cc.major && device.minor >= target.cc.minor);
  return newer ? LoadableImage::Ptx : LoadableImage::None;
}

std::string unloadable_explanation(std::string_view arch, ComputeCapability device, int ordinal) {
  auto target = parse_target_arch(arch);
  const std::string needs =
      !target ? "an architecture tilefuse does not know"
      : target->arch_specific
          ? fmt::format("exactly compute capability {}.{} (an arch-specific \"a\" target)", target->cc.major,
                        target->cc.minor)
          : fmt::format("compute capability {}.{} or later", target->cc.major, target->cc.minor);
  return fmt::format("a kernel compiled for {} cannot run on device {} (compute capability {}.{}): it needs {}. "
                     "Leave the architecture unset (the device's own is used), or choose one this device "
                     "runs: sm_{}{}{}",
                     arch, ordinal, device.major, device.minor, needs, device.major, device.minor,
                     device.major == 9 && device.minor == 0 ? " (mma.sync kernel) or sm_90a (wgmma kernel)"
                                                             : " or an older one of the same major");
}

}  // namespace tilefuse::runtime
