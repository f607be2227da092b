// See WarpInstructions.h.
#include "emulator/WarpInstructions.h"

#include "dsl/Fp8.h"

#include "emulator/HalfFloat.h"

namespace emu {
namespace {

unsigned pack(std::uint16_t low, std::uint16_t high) { return low | (static_cast<unsigned>(high) << 16); }
std::uint16_t low_half(unsigned reg) { return static_cast<std::uint16_t>(reg & 0xffffu); }
std::uint16_t high_half(unsigned reg) { return static_cast<std::uint16_t>(reg >> 16); }

}  // namespace

void ldmatrix_x4(const Matrix8x8 (&matrices)[4], bool transpose, unsigned (&out)[kWarpSize][4]) {
  for (int lane = 0; lane < kWarpSize; ++lane) {
    const int g = lane / 4, t = lane % 4;
    for (int j = 0; j < 4; ++j) {
      const Matrix8x8& m = matrices[j];
      out[lane][j] = transpose ? pack(m[2 * t][g], m[2 * t + 1][g]) : pack(m[g][2 * t], m[g][2 * t + 1]);
    }
  }
}

void mma_m16n8k16(const unsigned (&a)[kWarpSize][4], const unsigned (&b)[kWarpSize][2],
                  const float (&c)[kWarpSize][4], bool bf16, float (&d)[kWarpSize][4]) {
  auto widen = [bf16](std::uint16_t bits) -> double { return bf16 ? bf16_to_float(bits) : f16_to_float(bits); };
  double A[16][16], B[16][8], C[16][8];
  for (int lane = 0; lane < kWarpSize; ++lane) {
    const int g = lane / 4, t = lane % 4;
    const int a_rows[4] = {g, g + 8, g, g + 8};
    const int a_cols[4] = {2 * t, 2 * t, 2 * t + 8, 2 * t + 8};
    for (int r = 0; r < 4; ++r) {
      A[a_rows[r]][a_cols[r]] = widen(low_half(a[lane][r]));
      A[a_rows[r]][a_cols[r] + 1] = widen(high_half(a[lane][r]));
    }
    for (int r = 0; r < 2; ++r) {
      B[2 * t + 8 * r][g] = widen(low_half(b[lane][r]));
      B[2 * t + 8 * r + 1][g] = widen(high_half(b[lane][r]));
    }
    C[g][2 * t] = c[lane][0];
    C[g][2 * t + 1] = c[lane][1];
    C[g + 8][2 * t] = c[lane][2];
    C[g + 8][2 * t + 1] = c[lane][3];
  }
  double D[16][8];
  for (int i = 0; i < 16; ++i)
    for (int j = 0; j < 8; ++j) {
      double sum = C[i][j];
      for (int k = 0; k < 16; ++k) sum += A[i][k] * B[k][j];
      D[i][j] = sum;
    }
  for (int lane = 0; lane < kWarpSize; ++lane) {
    const int g = lane / 4, t = lane % 4;
    d[lane][0] = static_cast<float>(D[g][2 * t]);
    d[lane][1] = static_cast<float>(D[g][2 * t + 1]);
    d[lane][2] = static_cast<float>(D[g + 8][2 * t]);
    d[lane][3] = static_cast<float>(D[g + 8][2 * t + 1]);
  }
}

void mma_m16n8k32_fp8(const unsigned (&a)[kWarpSize][4], const unsigned (&b)[kWarpSize][2],
                      const float (&c)[kWarpSize][4], bool b_e5m2, float (&d)[kWarpSize][4]) {
  using tilefuse::dsl::Fp8Format;
  auto byte = [](unsigned reg, int i) { return static_cast<std::uint8_t>(reg >> (8 * i)); };
  const Fp8Format b_format = b_e5m2 ? Fp8Format::E5M2 : Fp8Format::E4M3;
  double A[16][32], B[32][8], C[16][8];
  for (int lane = 0; lane < kWarpSize; ++lane) {
    const int g = lane / 4, t = lane % 4;
    const int a_rows[4] = {g, g + 8, g, g + 8};
    const int a_cols[4] = {4 * t, 4 * t, 4 * t + 16, 4 * t + 16};
    for (int r = 0; r < 4; ++r)
      for (int i = 0; i < 4; ++i)
        A[a_rows[r]][a_cols[r] + i] = tilefuse::dsl::fp8_to_double(byte(a[lane][r], i), Fp8Format::E4M3);
    for (int r = 0; r < 2; ++r)
      for (int i = 0; i < 4; ++i)
        B[4 * t + 16 * r + i][g] = tilefuse::dsl::fp8_to_double(byte(b[lane][r], i), b_format);
    C[g][2 * t] = c[lane][0];
    C[g][2 * t + 1] = c[lane][1];
    C[g + 8][2 * t] = c[lane][2];
    C[g + 8][2 * t + 1] = c[lane][3];
  }
  for (int lane = 0; lane < kWarpSize; ++lane) {
    const int g = lane / 4, t = lane % 4;
    const int rows[4] = {g, g, g + 8, g + 8}, cols[4] = {2 * t, 2 * t + 1, 2 * t, 2 * t + 1};
    for (int r = 0; r < 4; ++r) {
      double sum = C[rows[r]][cols[r]];
      for (int k = 0; k < 32; ++k) sum += A[rows[r]][k] * B[k][cols[r]];
      d[lane][r] = static_cast<float>(sum);
    }
  }
}

}  // namespace emu
