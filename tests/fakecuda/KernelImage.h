// What the fake driver reads from a module image: the target architecture and,
// per kernel, the parameter layout, launch bound and static shared memory —
// the facts the real driver uses to accept or refuse a load and a launch.
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <vector>

namespace tilefuse::fakecuda {

struct KernelParam {
  unsigned offset = 0, size = 0;
};

struct KernelInfo {
  std::vector<KernelParam> params;  ///< by ordinal
  unsigned param_bytes = 0;         ///< parameter space used
  int max_threads = 1024;           ///< __launch_bounds__ / .maxntid (product), else 1024
  int static_shared_bytes = 0;
};

struct KernelImage {
  bool is_ptx = false;
  int sm = 0;                   ///< 80, 86, 90, ...
  bool arch_specific = false;   ///< PTX "sm_90a" (a cubin's "a" is not in its flags)
  int ptx_version = 0;          ///< PTX ISA major*10+minor (PTX images)
  int cuda_api_version = 0;     ///< cubins: the toolkit that built it, e.g. 130 for CUDA 13.0
  std::map<std::string, KernelInfo> kernels;
};

/// Parses an ELF cubin (64-bit, EM_CUDA) or NUL-terminated PTX text. On
/// failure returns false with `error` saying what is wrong with the image.
bool parse_kernel_image(const void* image, KernelImage& out, std::string& error);

/// Whether a device of compute capability major.minor runs `image`, as the
/// driver decides it: a cubin needs the same major and a minor no newer
/// than the device's (sm_90: exactly 9.0); PTX needs a target no newer than
/// the device (an "a" target: exactly that device).
bool image_runs_on(const KernelImage& image, int major, int minor);

}  // namespace tilefuse::fakecuda
