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

/// mma.sync.aligned.m16n8k32.row.col.f32.e4m3.{e4m3,e5m2}.f32 (PTX ISA,
/// "Matrix Fragments for mma.m16n8k32"): D = A(16x32) · B(32x8) + C. Each
/// register holds 4 FP8 values, the lowest-indexed in its low byte. Per lane:
/// a[0] = A(g, 4t..4t+3), a[1] = A(g+8, 4t..), a[2] = A(g, 4t+16..),
/// a[3] = A(g+8, 4t+16..); b[0] = B(4t..4t+3, g), b[1] = B(4t+16.., g); c/d as
/// m16n8k16. A is e4m3, B e4m3 or e5m2 (`b_e5m2`); decoded exactly
/// (dsl/Fp8.h), products exact, summed in double, rounded once to fp32.
void mma_m16n8k32_fp8(const unsigned (&a)[kWarpSize][4], const unsigned (&b)[kWarpSize][2],
                      const float (&c)[kWarpSize][4], bool b_e5m2, float (&d)[kWarpSize][4]);

}  // namespace emu
