// See HalfFloat.h. f16 goes through clang's _Float16 (IEEE binary16, the
// conversion rounds to nearest even); bf16 is the upper half of an fp32.
#include "emulator/HalfFloat.h"

#include <bit>
#include <cmath>

namespace emu {

float bf16_to_float(std::uint16_t bits) { return std::bit_cast<float>(static_cast<std::uint32_t>(bits) << 16); }

float f16_to_float(std::uint16_t bits) { return static_cast<float>(std::bit_cast<_Float16>(bits)); }

std::uint16_t float_to_bf16(float value) {
  const std::uint32_t bits = std::bit_cast<std::uint32_t>(value);
  // Truncating a NaN could clear every mantissa bit left (→ inf); set the quiet bit.
  if (std::isnan(value)) return static_cast<std::uint16_t>((bits >> 16) | 0x0040u);
  const std::uint32_t round_to_even = 0x7fffu + ((bits >> 16) & 1u);
  return static_cast<std::uint16_t>((bits + round_to_even) >> 16);
}

std::uint16_t float_to_f16(float value) { return std::bit_cast<std::uint16_t>(static_cast<_Float16>(value)); }

}  // namespace emu
