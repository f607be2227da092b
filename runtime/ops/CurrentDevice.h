// The device a launch runs on: the calling thread's current CUDA context
// (the device's primary context, which the CUDA runtime API also uses; device
// 0's when none is current), and what the fused GEMM needs to know about it.
#pragma once

#include <cuda.h>

#include <optional>

#include "compiler/Types.h"
#include "tilefuse/error.hpp"

namespace tilefuse::ops {

struct CurrentDevice {
  CUcontext context = nullptr;
  /// cuCtxGetId of `context`: a primary-context reset (cudaDeviceReset) may
  /// keep the handle but not the id, so what is cached per context (loaded
  /// kernels) is keyed by both.
  unsigned long long context_id = 0;
  int ordinal = 0;
  compiler::Arch arch = compiler::Arch::Sm80;
  int max_shared_bytes = 0;  ///< dynamic shared memory per block with the opt-in
  int sm_count = 0;          ///< multiprocessors (the persistent sm_90a grid's size)
};

/// NoDevice without a driver or GPU; Unsupported for a GPU older than sm_80
/// or a current context that is not its device's primary context (modules
/// are loaded into the primary context). Cached per (context, id) after the
/// first call: later calls cost cuCtxGetCurrent + cuCtxGetId and allocate
/// nothing. A current primary context that was reset is made usable again
/// (retained, which reactivates it) and described anew.
///
/// The reset is detected through cuCtxGetId: it fails for the reset context
/// until it is retained again and then returns a new id (the CUDA 12 docs:
/// an id is unique for the life of the process). The fake driver models
/// that; the real driver's behaviour is still to be confirmed on a GPU
/// (tests/unit/fakedriver/context_test.cpp, AfterReset).
Expected<CurrentDevice> current_device();

/// The device a launch on this thread would use (the current context's,
/// else 0), found without retaining or making any context current; nullopt
/// without a driver or device. For work that only needs to know the device
/// (MatmulOp::compile's tuning records).
std::optional<int> launch_device_ordinal();

}  // namespace tilefuse::ops
