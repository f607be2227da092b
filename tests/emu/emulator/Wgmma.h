// wgmma.mma_async.m64nNk16 (bf16, f16) and m64nNk32 (e4m3, e5m2) with A and
// B in shared memory, as pure functions
// (PTX ISA, "Asynchronous Warpgroup Level Matrix Multiply-Accumulate":
// "Matrix Descriptor" and "Shared Memory Matrix Layout").
//
// Descriptor (64 bits): start address >> 4 in bits 0-13, leading dimension
// byte offset (LBO) >> 4 in bits 16-29, stride dimension byte offset (SBO)
// >> 4 in bits 32-45, matrix base offset in bits 49-51, swizzle mode in bits
// 62-63 (0 none, 1 128B, 2 64B, 3 32B).
//
// Canonical layouts, T = 8 16-bit elements per 16 bytes, W = swizzle span in
// bytes (32/64/128), as CuTe layouts (shape):(stride) in elements (FP8: the
// same layouts in bytes, T = 16 1-byte elements per 16 bytes; the PTX ISA
// allows FP8 operands K-major only):
//   K-major,  swizzled:  ((8,m),(T,2k)) : ((W/2, SBO), (1, T))   LBO unused
//   K-major,  none:      ((8,m),(T,2k)) : ((T, SBO), (1, LBO))
//   MN-major, swizzled:  ((T,W/16,m),(8,k)) : ((1, T, LBO), (W/2, SBO))
//   MN-major, none:      ((T,1,m),(8,k)) : ((1, T, SBO), (T, LBO))
// then the swizzle (Swizzle<3|2|1, 4, 3> on the byte address: the 16-byte
// chunk bits XORed with the 128-byte row bits), on the absolute address, so
// that advancing the start address within a swizzle atom (the K step) reads
// what TMA's swizzle wrote.
//
// Accumulator fragment of m64nN (fp32): warp w of the warpgroup holds rows
// 16w + g and 16w + g + 8 (g = lane / 4, t = lane % 4); d[4j + 0, 1] are
// (16w + g, 8j + 2t + 0, 1) and d[4j + 2, 3] are (16w + g + 8, 8j + 2t + 0, 1).
#pragma once

#include <cstdint>
#include <string>

namespace emu {

struct MatrixDescriptor {
  unsigned start = 0, leading = 0, stride = 0;  ///< bytes
  unsigned base_offset = 0;
  unsigned swizzle_mode = 0;                    ///< 0 none, 1 128B, 2 64B, 3 32B
  static MatrixDescriptor decode(std::uint64_t bits);
  unsigned swizzle_bytes() const { return swizzle_mode == 1 ? 128 : swizzle_mode == 2 ? 64 : swizzle_mode == 3 ? 32 : 0; }
};

/// Element type of a wgmma operand (.atype / .btype).
enum class WgmmaOperand : std::uint8_t { BF16, F16, E4M3, E5M2 };
/// Bytes of one element: 2 (bf16, f16) or 1 (e4m3, e5m2).
unsigned operand_bytes(WgmmaOperand type);
/// K of one instruction: 16 (16-bit operands) or 32 (FP8).
inline int wgmma_k(WgmmaOperand type) { return operand_bytes(type) == 1 ? 32 : 16; }
const char* to_string(WgmmaOperand type);

/// The wgmma wrapper the host generated for one launch (Sm90Host.cpp reads
/// it from the production kernel source; the emulated kernel executes it).
struct GeneratedWgmma {
  int n = 0;
  WgmmaOperand a_type = WgmmaOperand::BF16, b_type = WgmmaOperand::BF16;
  bool b_mn_major = false;
};

/// Shared-memory byte address of element (row, k) of a K-major operand, or
/// (k, mn) of an MN-major one: `mn` indexes M (A) or N (B). `element_bytes`:
/// 2, or 1 for FP8 (K-major only).
unsigned operand_address(const MatrixDescriptor& d, bool mn_major, unsigned mn, unsigned k,
                         unsigned element_bytes = 2);

/// 16-bit elements to double.
double operand_value(std::uint16_t bits, bool bf16);
/// The element of `type` at `bytes` (1 or 2 bytes, little-endian) to double
/// (FP8 decoded by dsl/Fp8.h: exact).
double operand_value(const std::uint8_t* bytes, WgmmaOperand type);

}  // namespace emu
