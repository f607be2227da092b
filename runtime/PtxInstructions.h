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
///   mma_sync_fp8          mma.sync.aligned.m16n8k32.row.col.f32.e4m3.* (also in mma_sync)
///   cvt_e4m3              cvt.rn.satfinite.e4m3x2.f32 (the FP8 output conversion)
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
