// The block-sparse float GEMM (kernel_variant.h, SparseGemmF32) written once over register
// operations, instantiated by each variant file with its own register types. Templates only, for
// the reason vector_math.h gives (no function compiled with wider instructions may be picked by
// the linker for baseline code).
//
// The output is NHWC, so an output pixel's channels are contiguous and a block of block_rows
// output channels x 1 input channel is one short vector: each stored block is loaded once per
// tile of MR pixels and multiplied by each pixel's input value, broadcast. A block row of any
// height is covered by passes of decreasing width: two registers of the widest type while rows
// remain for two, then one, then the narrower types, down to one lane (so every height is
// correct, and 4, 8 and 16 are one or two passes).
//
// V provides: Reg, kLanes, load, store, set1, fma(a, b, c) = a * b + c fused, and the clamp's
// max(lo, x) = x < lo ? lo : x and min(hi, x) = hi < x ? hi : x (so a NaN or a -0 stays as the
// reference's std::max / std::min leave it).
#pragma once

#include <cstddef>
#include <cstdint>

#include "polyhead/kernels/reference.h"
#include "polyhead/kernels/sparse_matrix.h"

namespace polyhead::kernels::variants {

// One block row of the weights over a tile of `rows` rows of a.
struct SparseBlockRow {
  size_t rows = 0;  // of a and out, from a and out below
  const float* a = nullptr;
  size_t a_stride = 0;
  const uint32_t* columns = nullptr;  // of the block row's blocks
  const float* values = nullptr;      // its first block
  size_t blocks = 0;
  size_t block_rows = 0;
  const float* bias = nullptr;  // of the block row's first output channel, or null
  float min = 0.f, max = 0.f;
  float* out = nullptr;  // the block row's first output channel in the tile's first row
  size_t out_stride = 0;
};

// The largest power of two at most `limit` and at most `mr`.
constexpr size_t sparse_sub_tile(size_t mr, size_t limit) {
  size_t s = 1;
  while (s * 2 <= mr && s * 2 <= limit) s *= 2;
  return s;
}

// Output channels [offset, offset + NREG * kLanes) of the block row for rows [row0, row0 + rows)
// of the tile, rows <= S. Rows past `rows` repeat the last one: computed, never stored.
template <class V, size_t NREG, size_t S>
void sparse_pass(const SparseBlockRow& t, size_t row0, size_t rows, size_t offset) {
  using R = typename V::Reg;
  constexpr size_t L = V::kLanes;
  const float* x[S];
  for (size_t r = 0; r < S; ++r) x[r] = t.a + (row0 + (r < rows ? r : rows - 1)) * t.a_stride;
  R acc[S][NREG];
  for (size_t g = 0; g < NREG; ++g) {
    const R b = t.bias ? V::load(t.bias + offset + g * L) : V::set1(0.f);
    for (size_t r = 0; r < S; ++r) acc[r][g] = b;
  }
  const float* v = t.values + offset;
  for (size_t b = 0; b < t.blocks; ++b, v += t.block_rows) {
    const size_t q = t.columns[b];
    R w[NREG];
    for (size_t g = 0; g < NREG; ++g) w[g] = V::load(v + g * L);
    for (size_t r = 0; r < S; ++r) {
      const R xr = V::set1(x[r][q]);
      for (size_t g = 0; g < NREG; ++g) acc[r][g] = V::fma(xr, w[g], acc[r][g]);
    }
  }
  const R lo = V::set1(t.min), hi = V::set1(t.max);
  for (size_t r = 0; r < rows; ++r) {
    float* y = t.out + (row0 + r) * t.out_stride + offset;
    for (size_t g = 0; g < NREG; ++g) V::store(y + g * L, V::min(hi, V::max(lo, acc[r][g])));
  }
}

// One pass of NREG registers over the whole tile, in sub-tiles of as many rows as kAcc
// accumulator registers hold.
template <size_t kAcc, size_t MR, size_t NREG, class V>
void sparse_passes(const SparseBlockRow& t, size_t offset) {
  constexpr size_t S = sparse_sub_tile(MR, kAcc / NREG);
  for (size_t row0 = 0; row0 < t.rows; row0 += S)
    sparse_pass<V, NREG, S>(t, row0, t.rows - row0 < S ? t.rows - row0 : S, offset);
}

// Output channels [offset, block_rows) of the block row: the widest type first.
template <size_t kAcc, size_t MR, class V, class... Narrower>
void sparse_block_row(const SparseBlockRow& t, size_t offset) {
  constexpr size_t L = V::kLanes;
  for (; offset + 2 * L <= t.block_rows; offset += 2 * L) sparse_passes<kAcc, MR, 2, V>(t, offset);
  if (offset + L <= t.block_rows) {
    sparse_passes<kAcc, MR, 1, V>(t, offset);
    offset += L;
  }
  if constexpr (sizeof...(Narrower) > 0) {
    if (offset < t.block_rows) sparse_block_row<kAcc, MR, Narrower...>(t, offset);
  } else {
    static_assert(L == 1, "the narrowest register type must have one lane");
  }
}

// Every block row over one tile of `rows` <= MR rows of a.
template <size_t kAcc, size_t MR, class... Vs>
void sparse_tile(size_t rows, const float* a, size_t a_stride, const SparseMatrix& w,
                 const float* bias, float min, float max, float* out, size_t out_stride) {
  SparseBlockRow t;
  t.rows = rows;
  t.a = a;
  t.a_stride = a_stride;
  t.block_rows = w.block_rows;
  t.min = min;
  t.max = max;
  t.out_stride = out_stride;
  const size_t br = w.block_rows;
  for (size_t r = 0; r < w.rows / br; ++r) {
    const uint32_t first = w.row_starts[r];
    t.columns = w.block_columns + first;
    t.values = w.values + static_cast<size_t>(first) * br;
    t.blocks = w.row_starts[r + 1] - first;
    t.bias = bias ? bias + r * br : nullptr;
    t.out = out + r * br;
    sparse_block_row<kAcc, MR, Vs...>(t, 0);
  }
}

// SparseGemmF32::run: tiles of MR rows of a (MR a power of two, at least 4), each over all the
// weights, which stream from cache while the tile's inputs stay in L1; the last rows in the
// shortest tile that holds them. Blocks wider than one column go to the reference.
template <size_t kAcc, size_t MR, class... Vs>
void sparse_gemm(size_t m, const float* a, size_t a_stride, const SparseMatrix& w,
                 const float* bias, float min, float max, float* out, size_t out_stride) {
  static_assert(MR >= 4 && (MR & (MR - 1)) == 0, "MR: a power of two, at least 4");
  if (w.block_cols != 1) {
    reference::sparse_gemm_f32(m, a, a_stride, w, bias, min, max, out, out_stride);
    return;
  }
  size_t p = 0;
  for (; p + MR <= m; p += MR)
    sparse_tile<kAcc, MR, Vs...>(MR, a + p * a_stride, a_stride, w, bias, min, max,
                                 out + p * out_stride, out_stride);
  const size_t tail = m - p;
  if (tail == 0) return;
  a += p * a_stride;
  out += p * out_stride;
  if (tail == 1)
    sparse_tile<kAcc, 1, Vs...>(tail, a, a_stride, w, bias, min, max, out, out_stride);
  else if (tail == 2)
    sparse_tile<kAcc, 2, Vs...>(tail, a, a_stride, w, bias, min, max, out, out_stride);
  else if (tail <= MR / 2)
    sparse_tile<kAcc, MR / 2, Vs...>(tail, a, a_stride, w, bias, min, max, out, out_stride);
  else
    sparse_tile<kAcc, MR, Vs...>(tail, a, a_stride, w, bias, min, max, out, out_stride);
}

}  // namespace polyhead::kernels::variants
