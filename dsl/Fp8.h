// tilefuse — FP8 numbers on the host: exact decoding and round-to-nearest-even
// encoding of the two OCP 8-bit formats (OCP "8-bit Floating Point
// Specification (OFP8)", rev. 1.0, 2023), as the sm_89 / sm_90 conversions do.
//
//   E4M3 (OCP E4M3FN): 1 sign, 4 exponent (bias 7), 3 mantissa bits. No
//     infinities; S.1111.111 (0x7F / 0xFF) is NaN, so the largest finite value
//     is S.1111.110 = 1.75 · 2^8 = 448. Subnormals: 2^-9 spacing (smallest
//     0x01 = 2^-9), smallest normal 2^-6.
//   E5M2: 1 sign, 5 exponent (bias 15), 2 mantissa bits, IEEE-754-like:
//     exponent 31 with mantissa 0 is ±inf, otherwise NaN. Largest finite
//     S.11110.11 = 1.75 · 2^15 = 57344; subnormals 2^-16 spacing.
//
// Encoding rounds to nearest, ties to the even code (the mantissa's last bit
// 0), as PTX `cvt.rn`. What happens to magnitudes beyond the largest finite
// value is the saturation mode:
//   SatFinite — PTX ISA, cvt: ".satfinite: ... if the input value is NaN, then
//     the result is NaN in the specified destination format. If the absolute
//     value of input (ignoring sign) is greater than MAX_NORM of the specified
//     destination format, then the result is sign-preserved MAX_NORM". So ±inf
//     and every finite overflow give ±448 (E4M3) / ±57344 (E5M2). PTX has only
//     this mode for fp8 destinations: `cvt.rn.satfinite.{e4m3x2,e5m2x2}.f32`
//     (".satfinite" is not optional in the syntax).
//   NoSaturation — the CUDA host library's __NV_NOSAT (cuda_fp8.hpp) and the
//     IEEE rule: a value that rounds past the largest finite value becomes
//     ±inf in E5M2 and NaN in E4M3 (which has no inf). For the host only
//     (e.g. to model a framework's unsaturated cast); no PTX instruction does it.
// The overflow boundary is the largest finite value plus half its ulp and is
// itself a tie: E4M3 448 + 16 = 464 lies between 448 (mantissa 110, even) and
// the would-be 480 (mantissa 111, the NaN code), so it rounds to 448 in both
// modes, and only magnitudes above 464 overflow. E5M2 57344 + 4096 = 61440 lies
// between 57344 (mantissa 11, odd) and 2^16 (even, inf), so it overflows:
// +inf without saturation, 57344 with.
//
// A NaN input always encodes as 0x7F (NaN in both formats, sign dropped), the
// canonical NaN of cuda_fp8.hpp's float path; PTX only promises "NaN".
//
// Double rounding: the device converts from f32 (the instruction's source
// type). float_to_fp8 is therefore the device's conversion. double_to_fp8
// rounds a double once, directly to fp8 (as cuda_fp8.hpp's
// __nv_cvt_double_to_fp8); it can differ from float_to_fp8(float(x)) when the
// float rounding lands x exactly on an fp8 midpoint, e.g. E4M3
// x = 1.0625 + 2^-40: directly 1.125 (0x39), through float 1.0625 then ties to
// even 1.0 (0x38). A reference that models a kernel's fp8 store must round to
// float first, because the kernel does.
#pragma once

#include <cstdint>

namespace tilefuse::dsl {

enum class Fp8Format { E4M3, E5M2 };
enum class Fp8Saturation { SatFinite, NoSaturation };

/// The largest finite magnitude: 448 (E4M3), 57344 (E5M2).
double fp8_max_finite(Fp8Format format);

/// The exact value of an fp8 code (every fp8 value is a float, so both are exact).
double fp8_to_double(std::uint8_t bits, Fp8Format format);
float fp8_to_float(std::uint8_t bits, Fp8Format format);

/// Round to nearest even from f32, as `cvt.rn.satfinite.{e4m3x2,e5m2x2}.f32`
/// does with SatFinite (see above for the modes and NaN).
std::uint8_t float_to_fp8(float value, Fp8Format format, Fp8Saturation saturation = Fp8Saturation::SatFinite);
/// Round to nearest even from f64 in one step (no rounding to float first).
std::uint8_t double_to_fp8(double value, Fp8Format format, Fp8Saturation saturation = Fp8Saturation::SatFinite);

}  // namespace tilefuse::dsl
