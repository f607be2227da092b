// See Fp8Convert.h.
#include "emulator/Fp8Convert.h"

#include <cmath>

#include "dsl/Fp8.h"
#include "emulator/HalfFloat.h"

namespace emu {
namespace {

using tilefuse::dsl::Fp8Format;

std::uint16_t pack_pair(float a, float b, Fp8Format format) {
  const std::uint8_t high = tilefuse::dsl::float_to_fp8(a, format, tilefuse::dsl::Fp8Saturation::SatFinite);
  const std::uint8_t low = tilefuse::dsl::float_to_fp8(b, format, tilefuse::dsl::Fp8Saturation::SatFinite);
  return static_cast<std::uint16_t>(high << 8 | low);
}

std::uint16_t to_f16(std::uint8_t bits, Fp8Format format) {
  const float value = tilefuse::dsl::fp8_to_float(bits, format);
  return std::isnan(value) ? std::uint16_t{0x7FFF} : float_to_f16(value);  // exact: f16 holds every fp8 value
}

std::uint32_t widen_pair(std::uint16_t a, Fp8Format format) {
  return static_cast<std::uint32_t>(to_f16(static_cast<std::uint8_t>(a >> 8), format)) << 16 |
         to_f16(static_cast<std::uint8_t>(a & 0xFF), format);
}

}  // namespace

std::uint16_t cvt_rn_satfinite_e4m3x2_f32(float a, float b) { return pack_pair(a, b, Fp8Format::E4M3); }
std::uint16_t cvt_rn_satfinite_e5m2x2_f32(float a, float b) { return pack_pair(a, b, Fp8Format::E5M2); }
std::uint32_t cvt_rn_f16x2_e4m3x2(std::uint16_t a) { return widen_pair(a, Fp8Format::E4M3); }
std::uint32_t cvt_rn_f16x2_e5m2x2(std::uint16_t a) { return widen_pair(a, Fp8Format::E5M2); }

}  // namespace emu
