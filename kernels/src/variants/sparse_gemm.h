// The block-sparse float GEMM (kernel_variant.h, SparseGemmF32) written once over register
// operations, instantiated by each variant file with its own register types. Templates only, for
// the reason vector_math.h gives (no function compiled with wider instructions may be picked by
// the linker for baseline code).
//
// Two paths (docs/sparse.md, "Sparse kernels"). The direct path: the output is NHWC, so an
// output pixel's channels are contiguous and a block of block_rows output channels x 1 input
// channel is one short vector: each stored block is loaded once per tile of MR pixels and
// multiplied by each pixel's input value, broadcast. A block row of any height is covered by
// passes of decreasing width: two registers of the widest type while rows remain for two, then
// one, then the narrower types, down to one lane (so every height is correct, and 4, 8 and 16
// are one or two passes). The grouped path, for blocks shorter than the widest register, is
// described further down.
//
// Every path computes each output as the reference does: from its bias, one fused multiply-add
// per stored block in increasing column order, then the clamp; so all agree bit for bit.
//
// V provides: Reg, kLanes, load, store, set1, fma(a, b, c) = a * b + c fused, and the clamp's
// max(lo, x) = x < lo ? lo : x and min(hi, x) = hi < x ? hi : x (so a NaN or a -0 stays as the
// reference's std::max / std::min leave it).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

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

// The grouped path, for blocks shorter than a register (block_rows = kLanes / G for G > 1): a
// register holds G pixels x block_rows output channels, lane l being pixel l % G and channel
// l / G. Broadcasting one input value per pixel would load as often as it multiplies (the direct
// path's bound: two broadcasts a cycle fill two registers of block_rows lanes), so the tile's
// inputs are first transposed into `xt` [k][MR], where one load of G consecutive values,
// repeated across the register, serves a whole register; a column's values for the whole tile
// share one or two cache lines.
//
// V also provides, for the G it instantiates: load_group<G>(p) (p[0 .. G) repeated across the
// register), expand<G>(w) (w[0 .. kLanes / G) each repeated G times) and store_group<G>(v, out,
// stride) (pixel i's kLanes / G channels, lanes ch * G + i, to out + i * stride); and
// kTransposeRows (T, dividing every tile height) with transpose_block(src, q, dst, dst_stride),
// which writes columns [q, q + T) of the T rows src[0 .. T) to dst + i * dst_stride, i < T.

// Transposes rows [0, rows) of a into xt [k][MR] (rows past `rows` repeat the last one).
template <class V, size_t MR>
void sparse_transpose(size_t rows, const float* a, size_t a_stride, size_t k, float* xt) {
  constexpr size_t T = V::kTransposeRows;
  static_assert(MR % T == 0, "whole blocks of rows");
  const float* src[MR];
  for (size_t p = 0; p < MR; ++p) src[p] = a + (p < rows ? p : rows - 1) * a_stride;
  size_t q = 0;
  for (; q + T <= k; q += T)
    for (size_t p = 0; p < MR; p += T) V::transpose_block(src + p, q, xt + q * MR + p, MR);
  for (; q < k; ++q)
    for (size_t p = 0; p < MR; ++p) xt[q * MR + p] = src[p][q];
}

// Block rows [r0, r0 + R) of the weights over a transposed tile of MR rows (`rows` of them
// real): R rows interleaved, so that R * MR / G accumulators are independent (a fused
// multiply-add waits for the previous one of its chain), for the blocks they all have, then each
// row's remaining blocks alone. Single-row blocks (G = kLanes, a register is G pixels of one
// channel) go to yt [channel - r0][MR] when it is given, for the caller to transpose.
template <class V, size_t G, size_t MR, size_t R>
void sparse_group_rows(size_t rows, const float* xt, const SparseMatrix& w, const float* bias,
                       float min, float max, float* out, size_t out_stride, size_t r0, float* yt) {
  using Reg = typename V::Reg;
  constexpr size_t L = V::kLanes, BR = L / G, C = MR / G;
  const uint32_t* columns[R];
  const float* values[R];
  size_t blocks[R];
  size_t common = ~size_t{0};
  Reg acc[R][C];
  for (size_t j = 0; j < R; ++j) {
    const uint32_t first = w.row_starts[r0 + j];
    columns[j] = w.block_columns + first;
    values[j] = w.values + static_cast<size_t>(first) * BR;
    blocks[j] = w.row_starts[r0 + j + 1] - first;
    common = blocks[j] < common ? blocks[j] : common;
    const Reg b = bias ? V::template expand<G>(bias + (r0 + j) * BR) : V::set1(0.f);
    for (size_t c = 0; c < C; ++c) acc[j][c] = b;
  }
  for (size_t i = 0; i < common; ++i)
    for (size_t j = 0; j < R; ++j) {
      const float* x = xt + static_cast<size_t>(columns[j][i]) * MR;
      const Reg wv = V::template expand<G>(values[j] + i * BR);
      for (size_t c = 0; c < C; ++c)
        acc[j][c] = V::fma(V::template load_group<G>(x + c * G), wv, acc[j][c]);
    }
  for (size_t j = 0; j < R; ++j)
    for (size_t i = common; i < blocks[j]; ++i) {
      const float* x = xt + static_cast<size_t>(columns[j][i]) * MR;
      const Reg wv = V::template expand<G>(values[j] + i * BR);
      for (size_t c = 0; c < C; ++c)
        acc[j][c] = V::fma(V::template load_group<G>(x + c * G), wv, acc[j][c]);
    }
  const Reg lo = V::set1(min), hi = V::set1(max);
  for (size_t j = 0; j < R; ++j)
    for (size_t c = 0; c < C; ++c) {
      const Reg y = V::min(hi, V::max(lo, acc[j][c]));
      float* o = out + c * G * out_stride + (r0 + j) * BR;
      if (yt) {
        V::store(yt + j * MR + c * G, y);
      } else if (c * G + G <= rows) {
        V::template store_group<G>(y, o, out_stride);
      } else {  // the tile's last group, part repeats: only its real pixels are written
        float pixels[L];
        V::template store_group<G>(y, pixels, BR);
        for (size_t i = 0; c * G + i < rows; ++i)
          for (size_t ch = 0; ch < BR; ++ch) o[i * out_stride + ch] = pixels[i * BR + ch];
      }
    }
}

// One tile of MR rows of a (`rows` of them real) through the grouped path.
template <class V, size_t G, size_t MR>
void sparse_grouped_tile(size_t rows, const float* a, size_t a_stride, const SparseMatrix& w,
                         const float* bias, float min, float max, float* out, size_t out_stride,
                         float* xt) {
  // About eight independent accumulators.
  constexpr size_t R = MR / G >= 8 ? 1 : 8 / (MR / G);
  constexpr size_t T = V::kTransposeRows;
  sparse_transpose<V, MR>(rows, a, a_stride, w.cols, xt);
  const size_t block_rows = w.rows / w.block_rows;
  if constexpr (G == V::kLanes) {
    // One channel per register: results for T channels at a time go to a transposed block, and
    // from it to the output in T x T transposes, not one float at a time.
    constexpr size_t RT = R < T ? R : T;  // interleaved rows: whole groups in a chunk
    static_assert(T % RT == 0, "whole interleaved groups in a chunk");
    float yt[T * MR];
    const float* src[T];
    for (size_t i = 0; i < T; ++i) src[i] = yt + i * MR;
    size_t r = 0;
    for (; r + T <= block_rows; r += T) {
      for (size_t j = 0; j < T; j += RT)
        sparse_group_rows<V, G, MR, RT>(rows, xt, w, bias, min, max, out, out_stride, r + j,
                                        yt + j * MR);
      const size_t whole = rows / T;  // blocks of T real pixels
      for (size_t b = 0; b < whole && b < MR / T; ++b)
        V::transpose_block(src, b * T, out + b * T * out_stride + r, out_stride);
      const size_t p = whole * T;
      if (p < rows) {  // the last few real pixels: a whole block transposed, part written
        float block[T * T];
        V::transpose_block(src, p, block, T);
        for (size_t q = 0; p + q < rows; ++q)
          for (size_t i = 0; i < T; ++i) out[(p + q) * out_stride + r + i] = block[q * T + i];
      }
    }
    for (; r < block_rows; ++r)
      sparse_group_rows<V, G, MR, 1>(rows, xt, w, bias, min, max, out, out_stride, r, nullptr);
  } else {
    size_t r = 0;
    for (; r + R <= block_rows; r += R)
      sparse_group_rows<V, G, MR, R>(rows, xt, w, bias, min, max, out, out_stride, r, nullptr);
    for (; r < block_rows; ++r)
      sparse_group_rows<V, G, MR, 1>(rows, xt, w, bias, min, max, out, out_stride, r, nullptr);
  }
}

// Of the last `rows` < 2 * MR rows: a tile of MR if they fill one, then the rest in halving
// tiles, the last of at least G rows, part of them repeats. Rows that would fill less than half
// of the smallest tile are left to the direct path (returns how many rows it computed), except
// for single-row blocks, where the direct path is scalar.
template <class V, size_t G, size_t MR>
size_t sparse_grouped_tail(size_t rows, const float* a, size_t a_stride, const SparseMatrix& w,
                           const float* bias, float min, float max, float* out, size_t out_stride,
                           float* xt) {
  size_t done = 0;
  if (rows >= MR) {
    sparse_grouped_tile<V, G, MR>(MR, a, a_stride, w, bias, min, max, out, out_stride, xt);
    done = MR;
  }
  const size_t rest = rows - done;
  if (rest == 0) return done;
  if constexpr (MR / 2 >= G && MR / 2 >= V::kTransposeRows) {
    return done + sparse_grouped_tail<V, G, MR / 2>(rest, a + done * a_stride, a_stride, w, bias,
                                                    min, max, out + done * out_stride, out_stride,
                                                    xt);
  } else {
    if (2 * rest < MR && G < V::kLanes) return done;
    sparse_grouped_tile<V, G, MR>(rest, a + done * a_stride, a_stride, w, bias, min, max,
                                  out + done * out_stride, out_stride, xt);
    return rows;
  }
}

// Rows of a through the grouped path: tiles of GMR rows, then the tail; returns how many.
template <class V, size_t G, size_t GMR>
size_t sparse_grouped(size_t m, const float* a, size_t a_stride, const SparseMatrix& w,
                      const float* bias, float min, float max, float* out, size_t out_stride,
                      float* xt) {
  static_assert(GMR >= G, "a tile holds whole groups");
  size_t p = 0;
  for (; p + GMR <= m; p += GMR)
    sparse_grouped_tile<V, G, GMR>(GMR, a + p * a_stride, a_stride, w, bias, min, max,
                                   out + p * out_stride, out_stride, xt);
  // The tail takes fewer than GMR rows: halving tiles from GMR / 2 where that is a tile.
  constexpr size_t TM = GMR / 2 >= G && GMR / 2 >= V::kTransposeRows ? GMR / 2 : GMR;
  if (p < m)
    p += sparse_grouped_tail<V, G, TM>(m - p, a + p * a_stride, a_stride, w, bias, min, max,
                                       out + p * out_stride, out_stride, xt);
  return p;
}

// The grouped path's tile height for groups of G: GMR, or 4 * G where that is more, so a tile
// has at least four registers of inputs per weight (G = kLanes: single-row blocks, where each
// weight broadcast and each column index would otherwise be loaded for one or two multiplies).
constexpr size_t sparse_group_tile(size_t gmr, size_t g) {
  return gmr > 4 * g ? gmr : 4 * g;
}

// G for the grouped path of `w` on V (kLanes / block_rows), or 0 where it does not apply.
template <class V>
size_t sparse_group_size(const SparseMatrix& w) {
  const size_t br = w.block_rows;
  if (w.block_cols != 1 || br == 0 || br >= V::kLanes || V::kLanes % br != 0) return 0;
  return V::kLanes / br;
}

// The rows of a the grouped path computes for `w` (none where it does not apply).
template <class V, size_t GMR>
size_t sparse_grouped_dispatch(size_t m, const float* a, size_t a_stride, const SparseMatrix& w,
                               const float* bias, float min, float max, float* out,
                               size_t out_stride, float* xt) {
  constexpr size_t L = V::kLanes;
  switch (sparse_group_size<V>(w)) {
    case 2:
      if constexpr (L >= 2)
        return sparse_grouped<V, 2, sparse_group_tile(GMR, 2)>(m, a, a_stride, w, bias, min, max,
                                                               out, out_stride, xt);
      break;
    case 4:
      if constexpr (L >= 4)
        return sparse_grouped<V, 4, sparse_group_tile(GMR, 4)>(m, a, a_stride, w, bias, min, max,
                                                               out, out_stride, xt);
      break;
    case 8:
      if constexpr (L >= 8)
        return sparse_grouped<V, 8, sparse_group_tile(GMR, 8)>(m, a, a_stride, w, bias, min, max,
                                                               out, out_stride, xt);
      break;
    case 16:
      if constexpr (L >= 16)
        return sparse_grouped<V, 16, sparse_group_tile(GMR, 16)>(m, a, a_stride, w, bias, min, max,
                                                                 out, out_stride, xt);
      break;
    default:
      break;
  }
  return 0;
}

// SparseGemmF32::scratch_bytes: the grouped path's tile of GMR rows (0 where it does not apply, or
// with GMR 0: variants without one).
template <size_t GMR, class V>
size_t sparse_scratch_bytes(const SparseMatrix& w) {
  const size_t g = sparse_group_size<V>(w);
  return GMR && g ? sparse_group_tile(GMR, g) * w.cols * sizeof(float) : 0;
}

// SparseGemmF32::run. With scratch, where the blocks are shorter than V's register (V: the first
// of Vs), rows of a go through the grouped path in tiles of GMR rows (a power of two), all but a
// short tail. The rest go through the direct path in tiles of MR rows (a power of two, at least
// 4), each over all the weights, which stream from cache while the tile's inputs stay in L1; the
// last rows in the shortest tile that holds them. Blocks wider than one column go to the
// reference.
template <size_t kAcc, size_t MR, size_t GMR, class V, class... Vs>
void sparse_gemm(size_t m, const float* a, size_t a_stride, const SparseMatrix& w,
                 const float* bias, float min, float max, float* out, size_t out_stride,
                 void* scratch) {
  static_assert(MR >= 4 && (MR & (MR - 1)) == 0, "MR: a power of two, at least 4");
  if (w.block_cols != 1) {
    reference::sparse_gemm_f32(m, a, a_stride, w, bias, min, max, out, out_stride);
    return;
  }
  size_t p = 0;
  if constexpr (GMR > 0) {
    if (scratch)
      p = sparse_grouped_dispatch<V, GMR>(m, a, a_stride, w, bias, min, max, out, out_stride,
                                          static_cast<float*>(scratch));
  }
  for (; p + MR <= m; p += MR)
    sparse_tile<kAcc, MR, V, Vs...>(MR, a + p * a_stride, a_stride, w, bias, min, max,
                                    out + p * out_stride, out_stride);
  const size_t tail = m - p;
  if (tail == 0) return;
  a += p * a_stride;
  out += p * out_stride;
  if (tail == 1)
    sparse_tile<kAcc, 1, V, Vs...>(tail, a, a_stride, w, bias, min, max, out, out_stride);
  else if (tail == 2)
    sparse_tile<kAcc, 2, V, Vs...>(tail, a, a_stride, w, bias, min, max, out, out_stride);
  else if (tail <= MR / 2)
    sparse_tile<kAcc, MR / 2, V, Vs...>(tail, a, a_stride, w, bias, min, max, out, out_stride);
  else
    sparse_tile<kAcc, MR, V, Vs...>(tail, a, a_stride, w, bias, min, max, out, out_stride);
}

}  // namespace polyhead::kernels::variants
