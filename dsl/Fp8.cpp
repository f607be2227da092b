// See Fp8.h. Decoding builds the float's bit fields from the fp8 ones;
// encoding scales |x| by the quantum (ulp) of its binade, rounds that to an
// integer with nearbyint (the default floating-point environment rounds to
// nearest even) and reads the code back from the rounded value. Scaling by a
// power of two is exact in double, so the only rounding is the one intended.
#include "dsl/Fp8.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>

namespace tilefuse::dsl {
namespace {

struct Fp8Layout {
  int mantissa_bits;
  int bias;
  std::uint8_t max_finite_code;  ///< magnitude bits of the largest finite value
  std::uint8_t overflow_code;    ///< without saturation: inf (E5M2) or NaN (E4M3)
};

constexpr Fp8Layout layout_of(Fp8Format format) {
  return format == Fp8Format::E4M3 ? Fp8Layout{3, 7, 0x7E, 0x7F} : Fp8Layout{2, 15, 0x7B, 0x7C};
}

constexpr std::uint8_t kCanonicalNaN = 0x7F;  // NaN in both formats (cuda_fp8.hpp's float path)

bool is_nan_code(std::uint8_t magnitude, Fp8Format format) {
  return format == Fp8Format::E4M3 ? magnitude == 0x7F : magnitude > 0x7C;
}

}  // namespace

double fp8_max_finite(Fp8Format format) { return format == Fp8Format::E4M3 ? 448.0 : 57344.0; }

float fp8_to_float(std::uint8_t bits, Fp8Format format) {
  const Fp8Layout layout = layout_of(format);
  const std::uint32_t sign = static_cast<std::uint32_t>(bits & 0x80u) << 24;
  const std::uint8_t magnitude = bits & 0x7Fu;
  if (is_nan_code(magnitude, format)) return std::copysign(std::numeric_limits<float>::quiet_NaN(), bits & 0x80u ? -1.0f : 1.0f);
  if (format == Fp8Format::E5M2 && magnitude == 0x7C) return std::bit_cast<float>(sign | 0x7F800000u);

  const std::uint32_t mantissa = magnitude & ((1u << layout.mantissa_bits) - 1u);
  const int exponent_field = magnitude >> layout.mantissa_bits;
  const int float_mantissa_shift = 23 - layout.mantissa_bits;
  if (exponent_field != 0) {
    const std::uint32_t float_exponent = static_cast<std::uint32_t>(exponent_field - layout.bias + 127);
    return std::bit_cast<float>(sign | float_exponent << 23 | mantissa << float_mantissa_shift);
  }
  if (mantissa == 0) return std::bit_cast<float>(sign);
  // Subnormal mantissa · 2^(1 - bias - mantissa_bits): normalize so that the
  // leading 1 becomes the float's implicit bit (every fp8 subnormal is a
  // normal float).
  const int leading_bit = std::bit_width(mantissa) - 1;
  const int unbiased = 1 - layout.bias - layout.mantissa_bits + leading_bit;
  const std::uint32_t fraction = (mantissa << (23 - leading_bit)) & 0x7FFFFFu;
  return std::bit_cast<float>(sign | static_cast<std::uint32_t>(unbiased + 127) << 23 | fraction);
}

double fp8_to_double(std::uint8_t bits, Fp8Format format) { return fp8_to_float(bits, format); }

std::uint8_t double_to_fp8(double value, Fp8Format format, Fp8Saturation saturation) {
  const Fp8Layout layout = layout_of(format);
  if (std::isnan(value)) return kCanonicalNaN;
  const std::uint8_t sign = std::signbit(value) ? 0x80 : 0x00;
  const std::uint8_t overflow = saturation == Fp8Saturation::SatFinite ? layout.max_finite_code : layout.overflow_code;
  const double magnitude = std::fabs(value);
  if (std::isinf(magnitude)) return sign | overflow;
  if (magnitude == 0.0) return sign;

  // The quantum of |x|'s binade; below the smallest normal, the subnormal spacing.
  const int min_normal_exponent = 1 - layout.bias;
  const int exponent = std::max(std::ilogb(magnitude), min_normal_exponent);
  const double quantum = std::ldexp(1.0, exponent - layout.mantissa_bits);
  const double steps = std::nearbyint(magnitude / quantum);  // ties to even
  const double rounded = steps * quantum;
  if (rounded > fp8_max_finite(format)) return sign | overflow;
  if (rounded == 0.0) return sign;

  // Read the code back from the rounded value (rounding may have carried into
  // the next binade: 1.96875 → 2 in E4M3).
  const int rounded_exponent = std::ilogb(rounded);
  if (rounded_exponent < min_normal_exponent) return sign | static_cast<std::uint8_t>(steps);
  const auto significand = static_cast<unsigned>(std::ldexp(rounded, layout.mantissa_bits - rounded_exponent));
  const unsigned mantissa = significand - (1u << layout.mantissa_bits);
  const unsigned exponent_field = static_cast<unsigned>(rounded_exponent + layout.bias);
  return sign | static_cast<std::uint8_t>(exponent_field << layout.mantissa_bits | mantissa);
}

std::uint8_t float_to_fp8(float value, Fp8Format format, Fp8Saturation saturation) {
  // float → double is exact, so this rounds once, from the f32 value.
  return double_to_fp8(static_cast<double>(value), format, saturation);
}

}  // namespace tilefuse::dsl
