// Reads the resource usage ptxas prints with --ptxas-options=-v.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "runtime/Nvrtc.h"

namespace tilefuse::runtime {

/// One record per function ptxas reports on, in log order: every entry
/// function ("Compiling entry function 'k'") and every non-inlined device
/// function that has its own "Function properties" block, since a spill
/// there is as real as one in the kernel. Lines it does not know are skipped.
std::vector<KernelResources> parse_ptxas_log(std::string_view log);

/// ptxas' "Potential Performance Loss" lines (e.g. C7520: wgmma.mma_async
/// serialized), each without its "ptxas info    : " prefix. A kernel with one
/// compiles and runs correctly but leaves speed behind, so the compile tests
/// and `tilefuse compile --json` surface them.
std::vector<std::string> parse_ptxas_performance_warnings(std::string_view log);

}  // namespace tilefuse::runtime
