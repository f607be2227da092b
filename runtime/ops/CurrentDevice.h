// The device a launch runs on: the calling thread's current CUDA context
// (the device's primary context, which the CUDA runtime API also uses; device
// 0's when none is current), and what the fused GEMM needs to know about it.
#pragma once

#include <cuda.h>

#include "compiler/Types.h"
#include "tilefuse/error.hpp"

namespace tilefuse::ops {

struct CurrentDevice {
  CUcontext context = nullptr;
  int ordinal = 0;
  compiler::Arch arch = compiler::Arch::Sm80;
  int max_shared_bytes = 0;  ///< dynamic shared memory per block with the opt-in
  int sm_count = 0;          ///< multiprocessors (the persistent sm_90a grid's size)
};

/// NoDevice without a driver or GPU; Unsupported for a GPU older than sm_80
/// or a current context that is not its device's primary context (modules
/// are loaded into the primary context). Cached per context after the first
/// call: later calls cost one cuCtxGetCurrent and allocate nothing.
Expected<CurrentDevice> current_device();

}  // namespace tilefuse::ops
