// The emulated FP8 conversion instructions (emulator/Fp8Convert.h): the pair
// order of the PTX ISA, and every result bit-exact with the CUDA toolkit's
// own host implementation of the same conversions (cuda_fp8.hpp, the code
// path its __nv_cvt_* functions take off the device), an independent
// implementation by NVIDIA. Its own binary: cuda_fp8.h brings the CUDA
// vector types, which emu_cuda.h redefines for the emulated kernels.
#include <gtest/gtest.h>

#include <cuda_fp8.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>

#include "dsl/Fp8.h"
#include "emulator/Fp8Convert.h"
#include "emulator/HalfFloat.h"

namespace emu {
namespace {

using tilefuse::dsl::Fp8Format;
using tilefuse::dsl::Fp8Saturation;

__nv_fp8_interpretation_t cuda_format(Fp8Format format) { return format == Fp8Format::E4M3 ? __NV_E4M3 : __NV_E5M2; }

std::uint16_t emulated_pair(float a, float b, Fp8Format format) {
  return format == Fp8Format::E4M3 ? cvt_rn_satfinite_e4m3x2_f32(a, b) : cvt_rn_satfinite_e5m2x2_f32(a, b);
}

std::uint32_t emulated_widen(std::uint16_t a, Fp8Format format) {
  return format == Fp8Format::E4M3 ? cvt_rn_f16x2_e4m3x2(a) : cvt_rn_f16x2_e5m2x2(a);
}

TEST(Fp8Convert, FirstOperandLandsInTheHighByte) {
  // e4m3: 1.0 = 0x38, 2.0 = 0x40; e5m2: 1.0 = 0x3C, 2.0 = 0x40.
  EXPECT_EQ(cvt_rn_satfinite_e4m3x2_f32(1.0f, 2.0f), 0x3840);
  EXPECT_EQ(cvt_rn_satfinite_e5m2x2_f32(1.0f, 2.0f), 0x3C40);
  // Widening keeps the order: f16 1.0 = 0x3C00, 2.0 = 0x4000.
  EXPECT_EQ(cvt_rn_f16x2_e4m3x2(0x3840), 0x3C004000u);
  EXPECT_EQ(cvt_rn_f16x2_e5m2x2(0x3C40), 0x3C004000u);
  // cuda_fp8.hpp packs float2 {x, y} as cvt d, y, x: x in the low byte.
  const float2 pair{1.0f, 2.0f};
  EXPECT_EQ(__nv_cvt_float2_to_fp8x2(pair, __NV_SATFINITE, __NV_E4M3), cvt_rn_satfinite_e4m3x2_f32(2.0f, 1.0f));
}

TEST(Fp8Convert, SaturatesPerElement) {
  EXPECT_EQ(cvt_rn_satfinite_e4m3x2_f32(INFINITY, -1e9f), 0x7EFE);  // ±448
  EXPECT_EQ(cvt_rn_satfinite_e5m2x2_f32(-INFINITY, 61440.0f), 0xFB7B);  // ±57344, never inf
  EXPECT_EQ(cvt_rn_satfinite_e4m3x2_f32(NAN, 0.0f), 0x7F00);
  EXPECT_EQ(cvt_rn_satfinite_e4m3x2_f32(464.0f, std::nextafter(464.0f, 1e9f)), 0x7E7E);
}

// Floats whose 11 leading mantissa bits take every value, over every
// exponent (fp8 codes and their midpoints have at most 4 significant bits),
// and the float neighbours of each: 3 · 2^20 inputs per format and mode.
template <typename Check>
void for_dense_floats(Check check) {
  for (std::uint32_t high = 0; high < (1u << 20); ++high) {
    const std::uint32_t bits = high << 12;
    for (std::uint32_t b : {bits, bits + 1, bits - 1}) check(std::bit_cast<float>(b));
  }
}

TEST(Fp8Convert, EncodeMatchesCudaHostConversionBitForBit) {
  for (Fp8Format format : {Fp8Format::E4M3, Fp8Format::E5M2}) {
    long long mismatches = 0, checked = 0;
    for_dense_floats([&](float x) {
      const std::uint16_t want_pair =
          static_cast<std::uint16_t>(__nv_cvt_float_to_fp8(x, __NV_SATFINITE, cuda_format(format)) << 8 |
                                     __nv_cvt_float_to_fp8(-x, __NV_SATFINITE, cuda_format(format)));
      const std::uint8_t want_nosat = __nv_cvt_float_to_fp8(x, __NV_NOSAT, cuda_format(format));
      const std::uint16_t got_pair = emulated_pair(x, -x, format);
      const std::uint8_t got_nosat = tilefuse::dsl::float_to_fp8(x, format, Fp8Saturation::NoSaturation);
      ++checked;
      if ((got_pair != want_pair || got_nosat != want_nosat) && ++mismatches <= 10)
        ADD_FAILURE() << std::hexfloat << x << ": satfinite pair 0x" << std::hex << got_pair << " vs cuda 0x" << want_pair
                      << ", nosat 0x" << int(got_nosat) << " vs cuda 0x" << int(want_nosat);
    });
    EXPECT_EQ(mismatches, 0) << (format == Fp8Format::E4M3 ? "e4m3" : "e5m2") << " over " << checked << " floats";
  }
}

TEST(Fp8Convert, DoubleEncodeMatchesCudaHostConversion) {
  // cuda_fp8.hpp's __nv_cvt_double_to_fp8 also rounds once from f64. Its NaN
  // keeps the sign and payload bits, so NaNs are compared as NaNs.
  for (Fp8Format format : {Fp8Format::E4M3, Fp8Format::E5M2}) {
    for (int code = 0; code + 1 < 256; ++code) {
      {  // code and code + 1 are neighbours (same sign) unless one is inf / NaN
        const double lo = tilefuse::dsl::fp8_to_double(static_cast<std::uint8_t>(code), format);
        const double hi = tilefuse::dsl::fp8_to_double(static_cast<std::uint8_t>(code + 1), format);
        if (!std::isfinite(lo) || !std::isfinite(hi) || std::signbit(lo) != std::signbit(hi)) continue;
        const double mid = (lo + hi) / 2;
        for (double x : {mid, std::nextafter(mid, -INFINITY), std::nextafter(mid, INFINITY), lo, hi * 1.0000001})
          for (auto [mode, cuda_mode] : {std::pair{Fp8Saturation::SatFinite, __NV_SATFINITE}, std::pair{Fp8Saturation::NoSaturation, __NV_NOSAT}}) {
            const std::uint8_t got = tilefuse::dsl::double_to_fp8(x, format, mode);
            const std::uint8_t want = __nv_cvt_double_to_fp8(x, cuda_mode, cuda_format(format));
            const bool got_nan = std::isnan(tilefuse::dsl::fp8_to_double(got, format));
            const bool want_nan = std::isnan(tilefuse::dsl::fp8_to_double(want, format));
            EXPECT_TRUE(got_nan || want_nan ? got_nan == want_nan : got == want) << std::hexfloat << x;
          }
      }
    }
  }
}

TEST(Fp8Convert, WidenMatchesCudaHostConversionForEveryPair) {
  for (Fp8Format format : {Fp8Format::E4M3, Fp8Format::E5M2}) {
    long long mismatches = 0;
    for (std::uint32_t a = 0; a < 0x10000; ++a) {
      const __half2_raw cuda = __nv_cvt_fp8x2_to_halfraw2(static_cast<__nv_fp8x2_storage_t>(a), cuda_format(format));
      const std::uint32_t want = static_cast<std::uint32_t>(cuda.y) << 16 | cuda.x;
      const std::uint32_t got = emulated_widen(static_cast<std::uint16_t>(a), format);
      if (got != want && ++mismatches <= 10)
        ADD_FAILURE() << "0x" << std::hex << a << " → 0x" << got << ", cuda 0x" << want;
      // And exact: each half holds the fp8 value itself.
      for (int half = 0; half < 2; ++half) {
        const auto code = static_cast<std::uint8_t>(a >> (8 * half));
        const float value = tilefuse::dsl::fp8_to_float(code, format);
        const float widened = f16_to_float(static_cast<std::uint16_t>(got >> (16 * half)));
        if (std::isnan(value) ? !std::isnan(widened) : widened != value || std::signbit(widened) != std::signbit(value))
          if (++mismatches <= 10) ADD_FAILURE() << "0x" << std::hex << a << " half " << half;
      }
    }
    EXPECT_EQ(mismatches, 0);
  }
}

}  // namespace
}  // namespace emu
