// FP8 host conversions (dsl/Fp8.h) against references written independently
// of them: each code's value from its bit fields by the OCP formula, and
// encoding against a brute-force search of all codes for the nearest value
// (ties to the even code) with the saturation rule as PTX states it.
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

#include "dsl/Fp8.h"

namespace tilefuse::dsl {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr Fp8Format kFormats[] = {Fp8Format::E4M3, Fp8Format::E5M2};
constexpr Fp8Saturation kModes[] = {Fp8Saturation::SatFinite, Fp8Saturation::NoSaturation};

const char* name(Fp8Format format) { return format == Fp8Format::E4M3 ? "e4m3" : "e5m2"; }
const char* name(Fp8Saturation mode) { return mode == Fp8Saturation::SatFinite ? "satfinite" : "nosat"; }

int mantissa_bits(Fp8Format format) { return format == Fp8Format::E4M3 ? 3 : 2; }
int bias(Fp8Format format) { return format == Fp8Format::E4M3 ? 7 : 15; }

/// OCP OFP8 rev 1.0: value = (-1)^S · 2^(E - bias) · (1 + M / 2^m) for E > 0,
/// (-1)^S · 2^(1 - bias) · (M / 2^m) for E = 0; E4M3 S.1111.111 is NaN,
/// E5M2 exponent 31 is inf (M = 0) or NaN.
double value_from_fields(int code, Fp8Format format) {
  const int m = mantissa_bits(format);
  const int e_bits = 7 - m;
  const int sign = code >> 7;
  const int exponent = (code >> m) & ((1 << e_bits) - 1);
  const int mantissa = code & ((1 << m) - 1);
  double magnitude;
  if (format == Fp8Format::E4M3 && exponent == 15 && mantissa == 7) {
    magnitude = std::numeric_limits<double>::quiet_NaN();
  } else if (format == Fp8Format::E5M2 && exponent == 31) {
    magnitude = mantissa == 0 ? kInf : std::numeric_limits<double>::quiet_NaN();
  } else if (exponent == 0) {
    magnitude = std::pow(2.0, 1 - bias(format)) * (mantissa / std::pow(2.0, m));
  } else {
    magnitude = std::pow(2.0, exponent - bias(format)) * (1.0 + mantissa / std::pow(2.0, m));
  }
  return sign ? -magnitude : magnitude;
}

struct Candidate {
  double value;
  int code;  ///< magnitude code; its last bit decides ties
};

/// The non-negative finite values of a format, in code order (which is value
/// order), and the value one step beyond the largest (E4M3 480 with the NaN
/// code 0x7F, E5M2 65536 with the inf code 0x7C): where an unbounded exponent
/// would round to, used for rounding without saturation.
const std::vector<Candidate>& finite_magnitudes(Fp8Format format) {
  auto build = [](Fp8Format f) {
    std::vector<Candidate> values;
    for (int code = 0; code < 0x80; ++code) {
      const double v = value_from_fields(code, f);
      if (std::isfinite(v)) values.push_back({v, code});
    }
    return values;
  };
  static const std::vector<Candidate> e4m3 = build(Fp8Format::E4M3), e5m2 = build(Fp8Format::E5M2);
  return format == Fp8Format::E4M3 ? e4m3 : e5m2;
}

/// Nearest by exhaustive search, ties to the even code; the saturation rule
/// of the PTX ISA (|x| > MAX_NORM → ±MAX_NORM, NaN → NaN) or, without it,
/// rounding as with an unbounded exponent and overflowing to inf / NaN.
std::uint8_t brute_force_encode(double x, Fp8Format format, Fp8Saturation mode) {
  if (std::isnan(x)) return 0x7F;
  const int sign = std::signbit(x) ? 0x80 : 0;
  const double a = std::fabs(x);
  const std::vector<Candidate>& finite = finite_magnitudes(format);
  const Candidate max = finite.back();
  if (mode == Fp8Saturation::SatFinite && a > max.value) return static_cast<std::uint8_t>(sign | max.code);
  Candidate best = finite.front();
  auto consider = [&](const Candidate& c) {
    const double d = std::fabs(a - c.value), best_d = std::fabs(a - best.value);
    if (d < best_d || (d == best_d && (c.code & 1) == 0 && (best.code & 1) == 1)) best = c;
  };
  for (const Candidate& c : finite) consider(c);
  if (mode == Fp8Saturation::NoSaturation) {
    const Candidate beyond = format == Fp8Format::E4M3 ? Candidate{480.0, 0x7F} : Candidate{65536.0, 0x7C};
    // At or past the first out-of-range value an unbounded exponent stays out
    // of range (and |a - v| would lose v for a near FLT_MAX or inf).
    if (a >= beyond.value) return static_cast<std::uint8_t>(sign | beyond.code);
    consider(beyond);
  }
  return static_cast<std::uint8_t>(sign | best.code);
}

/// Codes equal, or both NaN (a NaN's payload is not specified by PTX).
bool same_code(std::uint8_t got, std::uint8_t want, Fp8Format format) {
  const bool got_nan = std::isnan(fp8_to_double(got, format)), want_nan = std::isnan(fp8_to_double(want, format));
  return got_nan || want_nan ? got_nan == want_nan : got == want;
}

/// Every code, its float neighbours, the midpoints between neighbouring codes
/// and their float neighbours, both signs, up to the overflow region and
/// beyond, and the special values.
std::vector<float> sweep_points(Fp8Format format) {
  std::vector<double> grid;
  for (const Candidate& c : finite_magnitudes(format)) grid.push_back(c.value);
  const double beyond = format == Fp8Format::E4M3 ? 480.0 : 65536.0;
  grid.push_back(beyond);
  grid.push_back(2 * beyond);
  std::vector<float> points;
  auto add_with_neighbours = [&](float v) {
    for (float p : {v, std::nextafter(v, 0.0f), std::nextafter(v, INFINITY)}) {
      points.push_back(p);
      points.push_back(-p);
    }
  };
  for (std::size_t i = 0; i < grid.size(); ++i) {
    add_with_neighbours(static_cast<float>(grid[i]));
    if (i + 1 < grid.size()) add_with_neighbours(static_cast<float>((grid[i] + grid[i + 1]) / 2));  // exact
  }
  // E4M3's range ends at 448: its midpoints stop there, so cover [-1000, 1000] on a fine grid too.
  for (float v = 0.0f; v <= 1000.0f; v += 0.25f) add_with_neighbours(v);
  for (float v : {std::numeric_limits<float>::denorm_min(), std::numeric_limits<float>::min(),
                  std::numeric_limits<float>::max(), std::numeric_limits<float>::infinity(), 1e-30f, 1e30f})
    add_with_neighbours(v);
  points.push_back(std::numeric_limits<float>::quiet_NaN());
  points.push_back(-std::numeric_limits<float>::quiet_NaN());
  return points;
}

TEST(Fp8, EveryCodeDecodesToItsBitFieldValue) {
  for (Fp8Format format : kFormats) {
    for (int code = 0; code < 256; ++code) {
      const double want = value_from_fields(code, format);
      const double got = fp8_to_double(static_cast<std::uint8_t>(code), format);
      const float got_float = fp8_to_float(static_cast<std::uint8_t>(code), format);
      if (std::isnan(want)) {
        EXPECT_TRUE(std::isnan(got) && std::isnan(got_float)) << name(format) << " code " << code;
        continue;
      }
      EXPECT_EQ(got, want) << name(format) << " code " << code;
      EXPECT_EQ(static_cast<double>(got_float), want) << name(format) << " code " << code;
      EXPECT_EQ(std::signbit(got), code >= 0x80) << name(format) << " code " << code;
    }
  }
  // The facts the formats are known by, spelled out.
  EXPECT_EQ(fp8_to_double(0x7E, Fp8Format::E4M3), 448.0);
  EXPECT_EQ(fp8_to_double(0x01, Fp8Format::E4M3), std::ldexp(1.0, -9));
  EXPECT_EQ(fp8_to_double(0x08, Fp8Format::E4M3), std::ldexp(1.0, -6));
  EXPECT_TRUE(std::isnan(fp8_to_double(0x7F, Fp8Format::E4M3)));
  EXPECT_TRUE(std::isnan(fp8_to_double(0xFF, Fp8Format::E4M3)));
  EXPECT_EQ(fp8_to_double(0x78, Fp8Format::E4M3), 256.0);  // S.1111.000 is a number, not inf
  EXPECT_EQ(fp8_to_double(0x7B, Fp8Format::E5M2), 57344.0);
  EXPECT_EQ(fp8_to_double(0x7C, Fp8Format::E5M2), kInf);
  EXPECT_EQ(fp8_to_double(0xFC, Fp8Format::E5M2), -kInf);
  EXPECT_TRUE(std::isnan(fp8_to_double(0x7D, Fp8Format::E5M2)));
  EXPECT_EQ(fp8_to_double(0x01, Fp8Format::E5M2), std::ldexp(1.0, -16));
  EXPECT_EQ(fp8_max_finite(Fp8Format::E4M3), 448.0);
  EXPECT_EQ(fp8_max_finite(Fp8Format::E5M2), 57344.0);
}

TEST(Fp8, EveryNonNaNCodeRoundTrips) {
  for (Fp8Format format : kFormats) {
    for (Fp8Saturation mode : kModes) {
      int checked = 0;
      for (int code = 0; code < 256; ++code) {
        const auto bits = static_cast<std::uint8_t>(code);
        const double value = fp8_to_double(bits, format);
        if (std::isnan(value)) continue;
        // ±inf (E5M2) only survives without saturation; with it, it becomes ±max.
        const std::uint8_t want = std::isinf(value) && mode == Fp8Saturation::SatFinite ? (bits & 0x80) | 0x7B : bits;
        EXPECT_EQ(float_to_fp8(static_cast<float>(value), format, mode), want) << name(format) << " " << name(mode) << " code " << code;
        EXPECT_EQ(double_to_fp8(value, format, mode), want) << name(format) << " " << name(mode) << " code " << code;
        ++checked;
      }
      EXPECT_EQ(checked, format == Fp8Format::E4M3 ? 254 : 250);  // both zeros included
    }
  }
}

TEST(Fp8, EncodeAgreesWithBruteForceOnMidpointsNeighboursAndSpecials) {
  for (Fp8Format format : kFormats) {
    const std::vector<float> points = sweep_points(format);
    for (Fp8Saturation mode : kModes) {
      int mismatches = 0;
      for (float x : points) {
        const std::uint8_t got = float_to_fp8(x, format, mode);
        const std::uint8_t want = brute_force_encode(x, format, mode);
        if (!same_code(got, want, format) && ++mismatches <= 10)
          ADD_FAILURE() << name(format) << " " << name(mode) << ": " << std::hexfloat << x << std::defaultfloat << " (" << x
                        << ") → 0x" << std::hex << int(got) << ", brute force 0x" << int(want) << std::dec;
      }
      EXPECT_EQ(mismatches, 0) << name(format) << " " << name(mode) << " over " << points.size() << " points";
    }
  }
}

TEST(Fp8, EncodeAgreesWithBruteForceOnRandomFloats) {
  std::mt19937 rng(20261206);
  for (Fp8Format format : kFormats) {
    // Exponents from far below the smallest subnormal to beyond the overflow.
    std::uniform_int_distribution<int> exponent(format == Fp8Format::E4M3 ? -14 : -21, 18);
    std::uniform_int_distribution<std::uint32_t> mantissa(0, (1u << 23) - 1);
    for (Fp8Saturation mode : kModes) {
      int mismatches = 0;
      for (int i = 0; i < 50000; ++i) {
        const float unit = std::bit_cast<float>(0x3F800000u | mantissa(rng));  // [1, 2)
        const float x = std::ldexp(unit, exponent(rng)) * (i % 2 ? -1.0f : 1.0f);
        if (!same_code(float_to_fp8(x, format, mode), brute_force_encode(x, format, mode), format) && ++mismatches <= 10)
          ADD_FAILURE() << name(format) << " " << name(mode) << ": " << std::hexfloat << x;
      }
      EXPECT_EQ(mismatches, 0) << name(format) << " " << name(mode);
    }
  }
}

TEST(Fp8, DoubleEncodeRoundsOnceAndAgreesWithBruteForce) {
  for (Fp8Format format : kFormats) {
    const std::vector<Candidate>& grid = finite_magnitudes(format);
    for (Fp8Saturation mode : kModes) {
      for (std::size_t i = 0; i + 1 < grid.size(); ++i) {
        const double mid = (grid[i].value + grid[i + 1].value) / 2;
        for (double x : {mid, std::nextafter(mid, 0.0), std::nextafter(mid, kInf), -std::nextafter(mid, kInf)}) {
          EXPECT_TRUE(same_code(double_to_fp8(x, format, mode), brute_force_encode(x, format, mode), format))
              << name(format) << " " << name(mode) << " " << std::hexfloat << x;
        }
      }
    }
  }
  // The double-rounding case documented in Fp8.h: just above the midpoint
  // of 1.0 (0x38) and 1.125 (0x39) rounds up directly, but through float it
  // first becomes the midpoint itself and then ties to even, down.
  const double x = 1.0625 + std::ldexp(1.0, -40);
  EXPECT_EQ(double_to_fp8(x, Fp8Format::E4M3), 0x39);
  EXPECT_EQ(float_to_fp8(static_cast<float>(x), Fp8Format::E4M3), 0x38);
}

TEST(Fp8, TiesGoToTheEvenCode) {
  // E4M3 around 1: codes 0x38 = 1.0, 0x39 = 1.125, 0x3A = 1.25.
  EXPECT_EQ(float_to_fp8(1.0625f, Fp8Format::E4M3), 0x38);   // tie → even (down)
  EXPECT_EQ(float_to_fp8(1.1875f, Fp8Format::E4M3), 0x3A);   // tie → even (up)
  EXPECT_EQ(float_to_fp8(-1.0625f, Fp8Format::E4M3), 0xB8);
  EXPECT_EQ(float_to_fp8(std::nextafter(1.0625f, 2.0f), Fp8Format::E4M3), 0x39);
  // E5M2 around 1: 0x3C = 1.0, 0x3D = 1.25, 0x3E = 1.5.
  EXPECT_EQ(float_to_fp8(1.125f, Fp8Format::E5M2), 0x3C);
  EXPECT_EQ(float_to_fp8(1.375f, Fp8Format::E5M2), 0x3E);
  // Subnormal ties: half the smallest subnormal goes to (signed) zero, 1.5 of it to 2.
  EXPECT_EQ(float_to_fp8(std::ldexp(1.0f, -10), Fp8Format::E4M3), 0x00);
  EXPECT_EQ(float_to_fp8(-std::ldexp(1.0f, -10), Fp8Format::E4M3), 0x80);
  EXPECT_EQ(float_to_fp8(std::nextafter(std::ldexp(1.0f, -10), 1.0f), Fp8Format::E4M3), 0x01);
  EXPECT_EQ(float_to_fp8(std::ldexp(3.0f, -10), Fp8Format::E4M3), 0x02);
  EXPECT_EQ(float_to_fp8(std::ldexp(1.0f, -17), Fp8Format::E5M2), 0x00);
  EXPECT_EQ(float_to_fp8(std::ldexp(3.0f, -17), Fp8Format::E5M2), 0x02);
  // Rounding up out of a binade: 1.9375 is the tie of 1.875 (0x3F) and 2.0 (0x40).
  EXPECT_EQ(float_to_fp8(1.9375f, Fp8Format::E4M3), 0x40);
}

TEST(Fp8, SaturationAtAndBeyondTheLargestValue) {
  constexpr auto sat = Fp8Saturation::SatFinite;
  constexpr auto nosat = Fp8Saturation::NoSaturation;
  // E4M3: 464 = 448 + half an ulp is a tie between 448 (mantissa 110, even)
  // and the would-be 480 (111): 448 in both modes; above it, overflow.
  EXPECT_EQ(float_to_fp8(464.0f, Fp8Format::E4M3, sat), 0x7E);
  EXPECT_EQ(float_to_fp8(464.0f, Fp8Format::E4M3, nosat), 0x7E);
  EXPECT_EQ(float_to_fp8(std::nextafter(464.0f, 1e9f), Fp8Format::E4M3, sat), 0x7E);
  EXPECT_EQ(float_to_fp8(std::nextafter(464.0f, 1e9f), Fp8Format::E4M3, nosat), 0x7F);  // NaN: no inf in E4M3
  EXPECT_EQ(float_to_fp8(-1e6f, Fp8Format::E4M3, sat), 0xFE);
  EXPECT_EQ(float_to_fp8(INFINITY, Fp8Format::E4M3, sat), 0x7E);
  EXPECT_EQ(float_to_fp8(-INFINITY, Fp8Format::E4M3, sat), 0xFE);
  EXPECT_TRUE(std::isnan(fp8_to_double(float_to_fp8(INFINITY, Fp8Format::E4M3, nosat), Fp8Format::E4M3)));
  // E5M2: 61440 = 57344 + half an ulp is a tie between 57344 (11, odd) and 2^16 (inf).
  EXPECT_EQ(float_to_fp8(61440.0f, Fp8Format::E5M2, sat), 0x7B);
  EXPECT_EQ(float_to_fp8(61440.0f, Fp8Format::E5M2, nosat), 0x7C);
  EXPECT_EQ(float_to_fp8(std::nextafter(61440.0f, 0.0f), Fp8Format::E5M2, nosat), 0x7B);
  EXPECT_EQ(float_to_fp8(-INFINITY, Fp8Format::E5M2, sat), 0xFB);
  EXPECT_EQ(float_to_fp8(-INFINITY, Fp8Format::E5M2, nosat), 0xFC);
  // NaN stays NaN in every mode (0x7F: NaN in both formats).
  for (Fp8Format format : kFormats)
    for (Fp8Saturation mode : kModes) {
      EXPECT_EQ(float_to_fp8(NAN, format, mode), 0x7F);
      EXPECT_EQ(float_to_fp8(-NAN, format, mode), 0x7F);
    }
  EXPECT_EQ(float_to_fp8(0.0f, Fp8Format::E4M3), 0x00);
  EXPECT_EQ(float_to_fp8(-0.0f, Fp8Format::E4M3), 0x80);
  EXPECT_EQ(float_to_fp8(-0.0f, Fp8Format::E5M2), 0x80);
}

TEST(Fp8, WorkedExamplesOfTheDocs) {
  // docs/fp8.md: 300 lies in [256, 512), ulp 32: 300/32 = 9.375 → 9 → 288 = 0 1111 001.
  EXPECT_EQ(float_to_fp8(300.0f, Fp8Format::E4M3), 0x79);
  EXPECT_EQ(fp8_to_double(0x79, Fp8Format::E4M3), 288.0);
  // 0.1 lies in [2^-4, 2^-3), e4m3 ulp 2^-7: 12.8 → 13 → 0.1015625 = 0 0011 101.
  EXPECT_EQ(float_to_fp8(0.1f, Fp8Format::E4M3), 0x1D);
  EXPECT_EQ(fp8_to_double(0x1D, Fp8Format::E4M3), 0.1015625);
  // e5m2 ulp 2^-6: 6.4 → 6 → 0.09375 = 0 01011 10.
  EXPECT_EQ(float_to_fp8(0.1f, Fp8Format::E5M2), 0x2E);
  EXPECT_EQ(fp8_to_double(0x2E, Fp8Format::E5M2), 0.09375);
  // 300 in e5m2: [256, 512), ulp 64: 4.6875 → 5 → 320 = 0 10111 01.
  EXPECT_EQ(float_to_fp8(300.0f, Fp8Format::E5M2), 0x5D);
  EXPECT_EQ(fp8_to_double(0x5D, Fp8Format::E5M2), 320.0);
  // 500 > 464 overflows E4M3: 448 with saturation, NaN without.
  EXPECT_EQ(float_to_fp8(500.0f, Fp8Format::E4M3, Fp8Saturation::SatFinite), 0x7E);
  EXPECT_EQ(float_to_fp8(500.0f, Fp8Format::E4M3, Fp8Saturation::NoSaturation), 0x7F);
}

}  // namespace
}  // namespace tilefuse::dsl
