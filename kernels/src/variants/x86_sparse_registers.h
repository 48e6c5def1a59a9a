// The register types the x86 variants' sparse GEMM (sparse_gemm.h) passes narrower blocks through:
// 8, 4 and 1 lanes with fused multiply-add. Included only by variant files compiled with AVX2 and
// FMA or wider; the types have internal linkage (an anonymous namespace), so no copy of their
// functions can be shared with code compiled for another instruction set.
#pragma once

#include <immintrin.h>

#include <cstddef>
#include <cstring>

namespace polyhead::kernels::variants {
namespace {

// Two floats as one double, for 64-bit broadcasts (memcpy: no aliasing of float memory).
inline double sparse_float_pair(const float* p) {
  double d;
  std::memcpy(&d, p, sizeof(d));
  return d;
}

// Columns [q, q + 8) of the rows src[0 .. 8) to dst + i * stride, i < 8: an 8 x 8 transpose in
// registers (unpack pairs, then quads, then swap the 128-bit halves).
inline void sparse_transpose8x8(const float* const* src, size_t q, float* dst, size_t stride) {
  __m256 r[8], t[8];
  for (size_t i = 0; i < 8; ++i) r[i] = _mm256_loadu_ps(src[i] + q);
  for (size_t i = 0; i < 8; i += 2) {
    t[i] = _mm256_unpacklo_ps(r[i], r[i + 1]);
    t[i + 1] = _mm256_unpackhi_ps(r[i], r[i + 1]);
  }
  for (size_t i = 0; i < 8; i += 4) {
    r[i] = _mm256_shuffle_ps(t[i], t[i + 2], 0x44);
    r[i + 1] = _mm256_shuffle_ps(t[i], t[i + 2], 0xEE);
    r[i + 2] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0x44);
    r[i + 3] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0xEE);
  }
  for (size_t i = 0; i < 4; ++i) {
    _mm256_storeu_ps(dst + i * stride, _mm256_permute2f128_ps(r[i], r[i + 4], 0x20));
    _mm256_storeu_ps(dst + (i + 4) * stride, _mm256_permute2f128_ps(r[i], r[i + 4], 0x31));
  }
}

// MAXPS / MINPS return their second operand when the two are equal or one is NaN, which makes
// max(lo, x) = x < lo ? lo : x and min(hi, x) = hi < x ? hi : x, as sparse_gemm.h asks.
struct SparseYmm {
  using Reg = __m256;
  static constexpr size_t kLanes = 8;
  static Reg load(const float* p) { return _mm256_loadu_ps(p); }
  static void store(float* p, Reg v) { _mm256_storeu_ps(p, v); }
  static Reg set1(float v) { return _mm256_set1_ps(v); }
  static Reg fma(Reg a, Reg b, Reg c) { return _mm256_fmadd_ps(a, b, c); }
  static Reg min(Reg a, Reg b) { return _mm256_min_ps(a, b); }
  static Reg max(Reg a, Reg b) { return _mm256_max_ps(a, b); }
  static constexpr size_t kTransposeRows = 8;
  static void transpose_block(const float* const* src, size_t q, float* dst, size_t stride) {
    sparse_transpose8x8(src, q, dst, stride);
  }
  // The grouped path (sparse_gemm.h): p[0 .. G) across the register; w[0 .. 8 / G) each G times.
  template <size_t G>
  static Reg load_group(const float* p) {
    if constexpr (G == 2) {
      return _mm256_castpd_ps(_mm256_set1_pd(sparse_float_pair(p)));
    } else if constexpr (G == 4) {
      const __m128 x = _mm_loadu_ps(p);
      return _mm256_set_m128(x, x);
    } else {
      static_assert(G == 8, "a group of 2, 4 or 8 pixels");
      return _mm256_loadu_ps(p);
    }
  }
  template <size_t G>
  static Reg expand(const float* w) {
    if constexpr (G == 2) {
      const __m128 x = _mm_loadu_ps(w);
      return _mm256_permutevar8x32_ps(_mm256_set_m128(x, x),
                                      _mm256_setr_epi32(0, 0, 1, 1, 2, 2, 3, 3));
    } else if constexpr (G == 4) {
      return _mm256_permutevar8x32_ps(_mm256_castpd_ps(_mm256_set1_pd(sparse_float_pair(w))),
                                      _mm256_setr_epi32(0, 0, 0, 0, 1, 1, 1, 1));
    } else {
      static_assert(G == 8, "a group of 2, 4 or 8 pixels");
      return _mm256_set1_ps(*w);
    }
  }
  template <size_t G>
  static void store_group(Reg v, float* out, size_t stride) {
    if constexpr (G == 2) {
      v = _mm256_permutevar8x32_ps(v, _mm256_setr_epi32(0, 2, 4, 6, 1, 3, 5, 7));
      _mm_storeu_ps(out, _mm256_castps256_ps128(v));
      _mm_storeu_ps(out + stride, _mm256_extractf128_ps(v, 1));
    } else if constexpr (G == 4) {
      v = _mm256_permutevar8x32_ps(v, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
      const __m128 lo = _mm256_castps256_ps128(v), hi = _mm256_extractf128_ps(v, 1);
      _mm_storel_pi(reinterpret_cast<__m64*>(out), lo);
      _mm_storeh_pi(reinterpret_cast<__m64*>(out + stride), lo);
      _mm_storel_pi(reinterpret_cast<__m64*>(out + 2 * stride), hi);
      _mm_storeh_pi(reinterpret_cast<__m64*>(out + 3 * stride), hi);
    } else {
      static_assert(G == 8, "a group of 2, 4 or 8 pixels");
      float lanes[8];
      _mm256_storeu_ps(lanes, v);
      for (size_t i = 0; i < 8; ++i) out[i * stride] = lanes[i];
    }
  }
};

struct SparseXmm {
  using Reg = __m128;
  static constexpr size_t kLanes = 4;
  static Reg load(const float* p) { return _mm_loadu_ps(p); }
  static void store(float* p, Reg v) { _mm_storeu_ps(p, v); }
  static Reg set1(float v) { return _mm_set1_ps(v); }
  static Reg fma(Reg a, Reg b, Reg c) { return _mm_fmadd_ps(a, b, c); }
  static Reg min(Reg a, Reg b) { return _mm_min_ps(a, b); }
  static Reg max(Reg a, Reg b) { return _mm_max_ps(a, b); }
};

// One lane: the low element of an SSE register (VFMADD231SS), not a call to std::fma.
struct SparseSs {
  using Reg = __m128;
  static constexpr size_t kLanes = 1;
  static Reg load(const float* p) { return _mm_load_ss(p); }
  static void store(float* p, Reg v) { _mm_store_ss(p, v); }
  static Reg set1(float v) { return _mm_set_ss(v); }
  static Reg fma(Reg a, Reg b, Reg c) { return _mm_fmadd_ss(a, b, c); }
  static Reg min(Reg a, Reg b) { return _mm_min_ss(a, b); }
  static Reg max(Reg a, Reg b) { return _mm_max_ss(a, b); }
};

}  // namespace
}  // namespace polyhead::kernels::variants
