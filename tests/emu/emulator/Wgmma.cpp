// See Wgmma.h.
#include "emulator/Wgmma.h"

#include <cstring>

#include "dsl/Fp8.h"
#include "emulator/HalfFloat.h"

namespace emu {

MatrixDescriptor MatrixDescriptor::decode(std::uint64_t bits) {
  MatrixDescriptor d;
  d.start = static_cast<unsigned>(bits & 0x3fff) << 4;
  d.leading = static_cast<unsigned>((bits >> 16) & 0x3fff) << 4;
  d.stride = static_cast<unsigned>((bits >> 32) & 0x3fff) << 4;
  d.base_offset = static_cast<unsigned>((bits >> 49) & 0x7);
  d.swizzle_mode = static_cast<unsigned>(bits >> 62);
  return d;
}

unsigned operand_bytes(WgmmaOperand type) {
  return type == WgmmaOperand::E4M3 || type == WgmmaOperand::E5M2 ? 1 : 2;
}

const char* to_string(WgmmaOperand type) {
  switch (type) {
    case WgmmaOperand::BF16: return "bf16";
    case WgmmaOperand::F16: return "f16";
    case WgmmaOperand::E4M3: return "e4m3";
    case WgmmaOperand::E5M2: return "e5m2";
  }
  return "?";
}

unsigned operand_address(const MatrixDescriptor& d, bool mn_major, unsigned mn, unsigned k, unsigned element_bytes) {
  const unsigned kElement = element_bytes, kT = 16 / element_bytes;
  const unsigned w = d.swizzle_bytes();
  unsigned offset = 0;
  if (!mn_major) {
    if (w > 0) offset = (mn % 8) * w + (mn / 8) * d.stride + k * kElement;
    else offset = (mn % 8) * 16 + (mn / 8) * d.stride + (k % kT) * kElement + (k / kT) * d.leading;
  } else {
    if (w > 0) {
      const unsigned per_atom = w / kElement;  // MN elements in one swizzle row (16-bit only)
      offset = (mn % per_atom) * kElement + (mn / per_atom) * d.leading + (k % 8) * w + (k / 8) * d.stride;
    } else {
      offset = (mn % kT) * kElement + (mn / kT) * d.stride + (k % 8) * 16 + (k / 8) * d.leading;
    }
  }
  const unsigned address = d.start + offset;
  const unsigned bits = d.swizzle_mode == 1 ? 3 : d.swizzle_mode == 2 ? 2 : d.swizzle_mode == 3 ? 1 : 0;
  return address ^ (((address >> 7) & ((1u << bits) - 1)) << 4);
}

double operand_value(std::uint16_t bits, bool bf16) { return bf16 ? bf16_to_float(bits) : f16_to_float(bits); }

double operand_value(const std::uint8_t* bytes, WgmmaOperand type) {
  using tilefuse::dsl::Fp8Format;
  switch (type) {
    case WgmmaOperand::E4M3: return tilefuse::dsl::fp8_to_double(bytes[0], Fp8Format::E4M3);
    case WgmmaOperand::E5M2: return tilefuse::dsl::fp8_to_double(bytes[0], Fp8Format::E5M2);
    case WgmmaOperand::BF16:
    case WgmmaOperand::F16: break;
  }
  std::uint16_t bits;
  std::memcpy(&bits, bytes, 2);
  return operand_value(bits, type == WgmmaOperand::BF16);
}

}  // namespace emu
