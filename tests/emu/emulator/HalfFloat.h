// 16-bit float storage on the host, bit-exact with the sm_80 conversions the
// templates use: cvt.rn.{bf16,f16}.f32 (round to nearest even, NaN stays NaN)
// and the exact widening back to fp32.
#pragma once

#include <cstdint>

namespace emu {

float bf16_to_float(std::uint16_t bits);
float f16_to_float(std::uint16_t bits);
/// Round to nearest even; a NaN stays a (quiet) NaN with its sign.
std::uint16_t float_to_bf16(float value);
std::uint16_t float_to_f16(float value);

}  // namespace emu
