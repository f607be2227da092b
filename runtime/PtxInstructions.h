// Counts the PTX instructions that tell whether a kernel uses the hardware
// paths it was meant to (tensor cores, async copies) and whether it spills
// to local memory.
#pragma once

#include <map>
#include <string>
#include <string_view>

namespace tilefuse::runtime {

/// Keys (always all present, 0 when absent):
///   mma_sync              mma.sync.*
///   wgmma                 wgmma.mma_async.*
///   ldmatrix              ldmatrix.*
///   cp_async              cp.async.ca.* / cp.async.cg.* (the copies; not
///                         commit/wait groups, not cp.async.bulk)
///   cp_async_bulk_tensor  cp.async.bulk.tensor.*
///   ld_local / st_local   ld.local.* / st.local.*
///   setmaxnreg            setmaxnreg.*
/// Counted per instruction in the PTX text (not per dynamic execution).
std::map<std::string, int> count_ptx_instructions(std::string_view ptx);

}  // namespace tilefuse::runtime
