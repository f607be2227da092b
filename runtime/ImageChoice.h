// Which image of a compiled kernel a GPU can load. NVRTC's cubin for
// sm_XY runs only on compute capability X.Z with Z >= Y (same major: a cubin
// for sm_80 is rejected by cuModuleLoadData on a 9.0 device); its PTX
// (`.target sm_XY`) is JIT-compiled by the driver for any X.Y or later; the
// "a" targets (sm_90a) are neither forward nor backward compatible: cubin
// and PTX run only on exactly 9.0. Loaded::load and the launch path's
// up-front check (MatmulOp, Runtime::tune) decide with this one function.
#pragma once

#include <string>
#include <string_view>

#include "tilefuse/error.hpp"

namespace tilefuse::runtime {

struct ComputeCapability {
  int major = 0, minor = 0;
  bool operator==(const ComputeCapability&) const = default;
};

/// The compute capability an NVRTC architecture names ("sm_86" → 8.6,
/// "sm_90a" → 9.0), and whether it is an arch-specific ("a") target.
/// InvalidInput for anything but "sm_<digit><digit>[a]".
struct TargetArch {
  ComputeCapability cc;
  bool arch_specific = false;
};
Expected<TargetArch> parse_target_arch(std::string_view arch);

enum class LoadableImage {
  Cubin,  ///< the machine code runs as is
  Ptx,    ///< the driver JIT-compiles the PTX on first load (once per process)
  None,   ///< neither: compile for this device instead
};

/// What a device of compute capability `device` can load of a program
/// compiled for `target`.
LoadableImage loadable_image(const TargetArch& target, ComputeCapability device);

/// "the sm_89 kernel cannot run on device 0 (compute capability 8.6): ..."
/// with what to do instead; for an Unsupported error of the caller.
std::string unloadable_explanation(std::string_view arch, ComputeCapability device, int ordinal);

}  // namespace tilefuse::runtime
