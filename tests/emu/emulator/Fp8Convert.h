// The sm_89 / sm_90 FP8 conversion instructions on the host, bit-exact with
// PTX `cvt` for the packed fp8 pairs the FP8 kernels will use. The numbers
// themselves (formats, round to nearest even, .satfinite, NaN) are
// tilefuse::dsl's (dsl/Fp8.h), shared with the float64 reference; this file
// adds only the instructions' packing.
//
// Pair order (PTX ISA, cvt, Semantics: "d[15:8] = convert(a); d[7:0] =
// convert(b)"): the FIRST source operand lands in the HIGH byte. So for two
// consecutive elements x0 (lower address) and x1, a little-endian 16-bit
// store of `cvt.rn.satfinite.e4m3x2.f32 d, x1, x0` puts x0 first, as
// cuda_fp8.hpp's __nv_cvt_float2_to_fp8x2 does (it passes .y as a, .x as b).
// The widening `cvt.rn.f16x2.e4m3x2 d, a` keeps the order: a[15:8] →
// d[31:16], a[7:0] → d[15:0].
#pragma once

#include <cstdint>

namespace emu {

/// cvt.rn.satfinite.e4m3x2.f32 d, a, b: d = e4m3(a) << 8 | e4m3(b).
std::uint16_t cvt_rn_satfinite_e4m3x2_f32(float a, float b);
/// cvt.rn.satfinite.e5m2x2.f32 d, a, b: d = e5m2(a) << 8 | e5m2(b).
std::uint16_t cvt_rn_satfinite_e5m2x2_f32(float a, float b);

/// cvt.rn.f16x2.e4m3x2 d, a: d = f16(a[15:8]) << 16 | f16(a[7:0]). Exact
/// (every e4m3 value is an f16); a NaN becomes the f16 NaN 0x7FFF, as
/// cuda_fp8.hpp's host path (PTX only says NaN).
std::uint32_t cvt_rn_f16x2_e4m3x2(std::uint16_t a);
/// cvt.rn.f16x2.e5m2x2 d, a: as above for e5m2 (an e5m2 code is the top byte of an f16).
std::uint32_t cvt_rn_f16x2_e5m2x2(std::uint16_t a);

}  // namespace emu
