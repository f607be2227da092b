// tilefuse/grouped.cuh — the tiles of a grouped (mixture-of-experts) GEMM,
// found on the device from the group sizes, shared by gemm_sm80.cuh and
// gemm_sm90.cuh. Included only when the generated source defines
// TF_GEMM_GROUPED (1: contiguous layout, 2: masked layout; see GroupLayout
// in include/tilefuse/tilefuse.hpp).
//
// A grouped GEMM is a batched GEMM whose batch index is the group (expert)
// and whose row range per batch is read from device memory:
//   contiguous: group e owns rows [offsets[e], offsets[e+1]) of the one
//       [T, K] A / [T, N] D (the host sets their batch strides to 0);
//   masked:     group e owns rows [0, counts[e]) of its [M_max, K] slab
//       (batch strides as for a batched GEMM).
// B, bias and column inputs always step by group. The tiles of all groups
// are numbered group after group (inside a group in the GROUP_M raster of
// the dense kernels), so that no tile is empty and a persistent loop can
// walk them in order with a cursor instead of a search per tile.
//
// Rows of a tile past its group's end still flow through the mainloop (A is
// read inside the [T, K] or [M_max, K] bounds: another group's rows or the
// slab's unused rows, which only feed rows that are then not stored: a GEMM
// row depends on its own A row only); the epilogue stores rows < row_end.
#pragma once

#if !defined(TF_GEMM_GROUPED) || (TF_GEMM_GROUPED != 1 && TF_GEMM_GROUPED != 2)
#error "tilefuse/grouped.cuh needs TF_GEMM_GROUPED = 1 (contiguous) or 2 (masked)"
#endif

namespace tf::grouped {

constexpr bool kContiguous = TF_GEMM_GROUPED == 1;

/// One output tile of a grouped GEMM.
struct GroupTile {
  long long m0, n0;  // first row (in the group's batch) and column
  long long row_end; // rows >= row_end belong to no result of this tile
  int group;         // the batch index for every pointer
};

/// Rows [begin, end) of group `g`. Masked counts are clamped to [0, M_max]
/// (the host cannot check device data; a larger count must not write past
/// the slab). Contiguous offsets are clamped to [0, T] and a decreasing pair
/// reads as an empty group, for the same reason.
__device__ __forceinline__ void group_row_range(const TfGemmParams& p, int g, long long& begin, long long& end) {
  if constexpr (kContiguous) {
    long long b = p.grouped.rows[g], e = p.grouped.rows[g + 1];
    b = b < 0 ? 0 : (b > p.m ? p.m : b);
    e = e < b ? b : (e > p.m ? p.m : e);
    begin = b, end = e;
  } else {
    long long e = p.grouped.rows[g];
    begin = 0, end = e < 0 ? 0 : (e > p.m ? p.m : e);
  }
}

/// Walks the tiles of all groups in increasing order (each caller's tile
/// indices must not decrease between seeks: the cursor only moves forward,
/// so a persistent block reads each group's size once).
template <int kBlockM, int kBlockN, int kGroupM>
struct TileCursor {
  int group = 0;              // the group the cursor is in (groups: past the last)
  unsigned first = 0;         // index of that group's first tile
  unsigned count = 0;         // that group's tiles (m tiles x tiles_n)
  unsigned tiles_m = 0;
  long long begin = 0, end = 0;
  bool loaded = false;

  /// Moves to the group holding tile `t`; false when `t` is past every tile.
  __device__ __forceinline__ bool seek(const TfGemmParams& p, unsigned tiles_n, unsigned t) {
#pragma unroll 1
    while (group < p.grouped.groups) {
      if (!loaded) {
        // Contiguous: a group starts no earlier than the previous one ends,
        // so that offsets that are not monotone (the host cannot check device
        // data) still give at most T rows in all, the tile count stays under
        // the host's grid bound and nothing is stored twice.
        const long long previous_end = end;
        group_row_range(p, group, begin, end);
        if constexpr (kContiguous) {
          begin = begin < previous_end ? previous_end : begin;
          end = end < begin ? begin : end;
        }
        tiles_m = static_cast<unsigned>((end - begin + kBlockM - 1) / kBlockM);
        count = tiles_m * tiles_n;
        loaded = true;
      }
      if (t < first + count) return true;
      first += count;
      ++group;
      loaded = false;
    }
    return false;
  }

  /// Tile `t` after a successful seek(t): the group's tiles in the GROUP_M
  /// raster (kGroupM tile rows sweep N together, as the dense kernels).
  __device__ __forceinline__ GroupTile tile(unsigned tiles_n, unsigned t) const {
    const unsigned pid = t - first;
    const unsigned per_group = kGroupM * tiles_n;
    const unsigned first_m = (pid / per_group) * kGroupM;
    const unsigned group_rows = tiles_m - first_m < kGroupM ? tiles_m - first_m : kGroupM;
    GroupTile g;
    g.m0 = begin + static_cast<long long>(first_m + (pid % per_group) % group_rows) * kBlockM;
    g.n0 = static_cast<long long>((pid % per_group) / group_rows) * kBlockN;
    g.row_end = end;
    g.group = group;
    return g;
  }
};

}  // namespace tf::grouped
