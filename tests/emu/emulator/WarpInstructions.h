// The warp-wide semantics of the two collective sm_80 instructions the GEMM
// mainloop uses, as pure functions of all 32 lanes' operands (PTX ISA,
// "Warp-level matrix load instruction: ldmatrix" and "Matrix Fragments for
// mma.m16n8k16 with floating point type").
//
// Fragment notation: g = lane / 4 (groupID), t = lane % 4 (threadID_in_group).
// A 32-bit register holding two 16-bit elements keeps the lower-indexed
// element in its low half.
#pragma once

#include <array>
#include <cstdint>

namespace emu {

constexpr int kWarpSize = 32;

/// One 8x8 matrix of 16-bit elements as ldmatrix reads it: row r is the 16
/// bytes at the address lane (8 * matrix + r) supplied.
using Matrix8x8 = std::array<std::array<std::uint16_t, 8>, 8>;

/// ldmatrix.sync.aligned.m8n8.x4[.trans].b16: register j of lane L receives
/// elements (g, 2t) and (g, 2t + 1) of matrix j — of its transpose with .trans.
void ldmatrix_x4(const Matrix8x8 (&matrices)[4], bool transpose, unsigned (&out)[kWarpSize][4]);

/// mma.sync.aligned.m16n8k16.row.col.f32.{bf16,f16}: D = A(16x16) · B(16x8) + C
/// with fp32 accumulation. Per lane: a[0..3] = A(g, 2t..), A(g+8, 2t..),
/// A(g, 2t+8..), A(g+8, 2t+8..); b[0..1] = B(2t.., g), B(2t+8.., g);
/// c/d[0..3] = (g, 2t), (g, 2t+1), (g+8, 2t), (g+8, 2t+1).
/// Products are exact and summed in double, then rounded once to fp32 (the
/// hardware's internal rounding differs in the last bits; well inside the
/// tests' tolerance).
void mma_m16n8k16(const unsigned (&a)[kWarpSize][4], const unsigned (&b)[kWarpSize][2],
                  const float (&c)[kWarpSize][4], bool bf16, float (&d)[kWarpSize][4]);

}  // namespace emu
