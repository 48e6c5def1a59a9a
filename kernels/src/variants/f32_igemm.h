// The float indirect GEMM (kernel_variant.h, F32Igemm) written once over an ISA's register
// operations `V` (vector_math.h's V: Reg, kLanes, load, store, set1, fma, min, max) and a tile of
// MR rows x 2 registers of output channels, instantiated by each SIMD variant file. Templates
// only, and no std:: algorithms, for the reason vector_math.h gives.
//
// Why a tile of 2 registers: the weights of a panel (2 * kLanes channels x k) stay in L2 while
// the caller walks every output row over them, so a layer whose weights exceed L2 (ResNet-50's
// layer4: 9.4 MB for one 3x3) reads each weight once from memory per pass instead of once per
// few rows; MR rows x 2 registers of accumulators leave room for the two weight registers.
#pragma once

#include <cstddef>

namespace polyhead::kernels::variants {

template <class V>
constexpr size_t igemm_nr() {
  return 2 * V::kLanes;
}

// The width of the panel that starts at output channel j0 of n: nr, or one register for a last
// panel of at most kLanes channels (a 16- or 24-channel layer would otherwise compute 32).
template <class V>
size_t igemm_panel_width(size_t j0, size_t n) {
  return n - j0 <= V::kLanes ? V::kLanes : igemm_nr<V>();
}

template <class V>
size_t igemm_packed_bytes(size_t n, size_t k) {
  size_t floats = 0;
  for (size_t j0 = 0; j0 < n; j0 += igemm_nr<V>()) floats += (k + 1) * igemm_panel_width<V>(j0, n);
  return floats * sizeof(float);
}

// Panel p, at float p * (k + 1) * nr: its width of bias values, then k rows of width weights;
// channels beyond n are zero.
template <class V>
void igemm_pack(const float* w, const float* bias, size_t n, size_t k, void* packed) {
  auto* out = static_cast<float*>(packed);
  for (size_t j0 = 0; j0 < n; j0 += igemm_nr<V>()) {
    const size_t width = igemm_panel_width<V>(j0, n);
    for (size_t j = 0; j < width; ++j) *out++ = (bias && j0 + j < n) ? bias[j0 + j] : 0.f;
    for (size_t q = 0; q < k; ++q)
      for (size_t j = 0; j < width; ++j) *out++ = j0 + j < n ? w[(j0 + j) * k + q] : 0.f;
  }
}

// Rows [0, m) of one panel of NREG registers' width, `cols` of them stored. `fetch` .. `fetch_end`
// are the cache lines to prefetch meanwhile, about the same share in every tile of MR rows.
template <class V, size_t MR, size_t NREG>
void igemm_panel(size_t m, size_t cols, size_t taps, size_t c, const float* const* indirection,
                 const float* panel, float min, float max, float* out, size_t out_stride,
                 const char* fetch, const char* fetch_end) {
  using R = typename V::Reg;
  constexpr size_t L = V::kLanes;
  constexpr size_t width = NREG * L;
  constexpr size_t kLine = 64;
  const R vmin = V::set1(min), vmax = V::set1(max);
  const size_t tiles = (m + MR - 1) / MR;
  const size_t lines = fetch ? static_cast<size_t>(fetch_end - fetch) / kLine : 0;
  const size_t lines_per_tile = (lines + tiles - 1) / tiles;
  const size_t k = taps * c;
  // `burst` lines every `spacing` steps of the K loop.
  const size_t burst = lines_per_tile > k ? (lines_per_tile + k - 1) / k : 1;
  const size_t spacing =
      lines_per_tile ? (k * burst / lines_per_tile > 0 ? k * burst / lines_per_tile : 1) : 0;
  for (size_t i0 = 0; i0 < m; i0 += MR) {
    const size_t rows = m - i0 < MR ? m - i0 : MR;
    size_t countdown = spacing;
    R acc[MR][NREG];
    for (size_t r = 0; r < MR; ++r)
      for (size_t g = 0; g < NREG; ++g) acc[r][g] = V::load(panel + g * L);
    const float* w = panel + width;
    for (size_t t = 0; t < taps; ++t) {
      // Rows past m repeat the last row: computed, never stored.
      const float* a[MR];
      for (size_t r = 0; r < MR; ++r)
        a[r] = indirection[(i0 + (r < rows ? r : rows - 1)) * taps + t];
      for (size_t q = 0; q < c; ++q, w += width) {
        R wv[NREG];
        for (size_t g = 0; g < NREG; ++g) wv[g] = V::load(w + g * L);
        for (size_t r = 0; r < MR; ++r) {
          const R x = V::set1(a[r][q]);
          for (size_t g = 0; g < NREG; ++g) acc[r][g] = V::fma(x, wv[g], acc[r][g]);
        }
        if (spacing && --countdown == 0) {
          countdown = spacing;
          for (size_t b = 0; b < burst && fetch < fetch_end; ++b, fetch += kLine)
            __builtin_prefetch(fetch, 0, 2);
        }
      }
    }
    for (size_t r = 0; r < rows; ++r) {
      float* y = out + (i0 + r) * out_stride;
      if (cols == width) {
        for (size_t g = 0; g < NREG; ++g)
          V::store(y + g * L, V::min(V::max(acc[r][g], vmin), vmax));
      } else {
        float buffer[width];
        for (size_t g = 0; g < NREG; ++g)
          V::store(buffer + g * L, V::min(V::max(acc[r][g], vmin), vmax));
        for (size_t j = 0; j < cols; ++j) y[j] = buffer[j];  // a few values: no library call
      }
    }
  }
}

// One panel: whole tiles of MR rows, then the rest in the shortest tile that holds it (a
// squeeze-excite layer has one row; it should not compute MR).
template <class V, size_t MR, size_t NREG>
void igemm_rows(size_t m, size_t cols, size_t taps, size_t c, const float* const* indirection,
                const float* panel, float min, float max, float* out, size_t out_stride,
                const char* fetch, const char* fetch_end) {
  const size_t full = m / MR * MR;
  if (full)
    igemm_panel<V, MR, NREG>(full, cols, taps, c, indirection, panel, min, max, out, out_stride,
                             fetch, fetch_end);
  const size_t tail = m - full;
  if (!tail) return;
  if (full) fetch = fetch_end = nullptr;
  indirection += full * taps;
  out += full * out_stride;
  if (tail == 1)
    igemm_panel<V, 1, NREG>(tail, cols, taps, c, indirection, panel, min, max, out, out_stride,
                            fetch, fetch_end);
  else if (tail <= 2 || MR <= 2)
    igemm_panel<V, 2, NREG>(tail, cols, taps, c, indirection, panel, min, max, out, out_stride,
                            fetch, fetch_end);
  else if (tail <= MR / 2)
    igemm_panel<V, MR / 2, NREG>(tail, cols, taps, c, indirection, panel, min, max, out, out_stride,
                                 fetch, fetch_end);
  else
    igemm_panel<V, MR, NREG>(tail, cols, taps, c, indirection, panel, min, max, out, out_stride,
                             fetch, fetch_end);
}

template <class V, size_t MR>
void igemm_run(size_t m, size_t n, size_t taps, size_t c, const float* const* indirection,
               const void* packed, float min, float max, float* out, size_t out_stride,
               const void* prefetch) {
  constexpr size_t nr = igemm_nr<V>();
  const size_t k = taps * c;
  const size_t panel_floats = (k + 1) * nr;
  const auto* panel = static_cast<const float*>(packed);
  for (size_t j0 = 0; j0 < n; j0 += nr, panel += panel_floats) {
    const size_t cols = n - j0 < nr ? n - j0 : nr;
    // The next panel of this call, else the caller's (a full panel's bytes: prefetching past
    // the end of a narrower last one is harmless).
    const auto* next = reinterpret_cast<const char*>(j0 + nr < n ? panel + panel_floats : prefetch);
    const char* next_end = next ? next + panel_floats * sizeof(float) : nullptr;
    if (igemm_panel_width<V>(j0, n) == nr)
      igemm_rows<V, MR, 2>(m, cols, taps, c, indirection, panel, min, max, out + j0, out_stride,
                           next, next_end);
    else
      igemm_rows<V, MR, 1>(m, cols, taps, c, indirection, panel, min, max, out + j0, out_stride,
                           next, next_end);
  }
}

}  // namespace polyhead::kernels::variants
