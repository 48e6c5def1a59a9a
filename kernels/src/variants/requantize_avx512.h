// The float32 requantization of reference::qc8_gemm on 16 int32 lanes, shared by the AVX-512
// int8 kernels (GEMM epilogues, pixel convolution, depthwise): one rounding of acc * scale,
// clamped to [min - zero, max - zero], rounded half to even (the default MXCSR mode, as
// std::nearbyint), plus the zero point. Include only from files built with AVX-512 flags.
#pragma once

#include <immintrin.h>

#include <cstddef>
#include <cstdint>

namespace polyhead::kernels::variants {

// `lo` and `hi` are min - zero and max - zero as floats; the result is int32 within [min, max].
inline __m512i requantize_lanes(__m512i acc, __m512 scale, __m512 lo, __m512 hi, __m512i zero) {
  __m512 v = _mm512_mul_ps(_mm512_cvtepi32_ps(acc), scale);
  v = _mm512_min_ps(_mm512_max_ps(v, lo), hi);
  return _mm512_add_epi32(_mm512_cvtps_epi32(v), zero);
}

// The same requantization for results that leave as bytes, four registers (64 results) at a
// time: the float part clamps only from above, and the lower clamp happens once per 64 bytes after
// saturating packs. Exact: max - zero is an integer, so rounding commutes with the upper clamp; a
// value far below min saturates to -32768 (VCVTPS2DQ gives INT32_MIN, the packs saturate), stays
// far below min after the saturating zero-point add, and VPMAXSB lifts it to min as the float
// clamp would have. Where reference::qc8_sums_in_range holds (no scaled sum past +-2^30) there is
// no float clamp at all: both ends are applied on the bytes.
struct FourRequantization {
  __m512 hi;       // max - zero
  __m512i zero16;  // the zero point, as int16
  __m512i min8, max8;
  bool in_range;  // reference::qc8_sums_in_range holds
};
inline FourRequantization four_requantization(int32_t zero, int32_t min, int32_t max,
                                              bool in_range) {
  return {_mm512_set1_ps(static_cast<float>(max - zero)),
          _mm512_set1_epi16(static_cast<int16_t>(zero)), _mm512_set1_epi8(static_cast<char>(min)),
          _mm512_set1_epi8(static_cast<char>(max)), in_range};
}

// Four registers of sums, register p with scale sp, to bytes: byte 4p + j of 128-bit lane L is
// lane 4L + j of register p (kFourRowsOrder or another VPERMB puts them in the caller's order).
inline __m512i requantize_four(const FourRequantization& q, __m512i a0, __m512i a1, __m512i a2,
                               __m512i a3, __m512 s0, __m512 s1, __m512 s2, __m512 s3) {
  auto rounded = [&](__m512i acc, __m512 scale) {
    const __m512 v = _mm512_mul_ps(_mm512_cvtepi32_ps(acc), scale);
    return _mm512_cvtps_epi32(q.in_range ? v : _mm512_min_ps(v, q.hi));
  };
  const __m512i q01 =
      _mm512_adds_epi16(_mm512_packs_epi32(rounded(a0, s0), rounded(a1, s1)), q.zero16);
  const __m512i q23 =
      _mm512_adds_epi16(_mm512_packs_epi32(rounded(a2, s2), rounded(a3, s3)), q.zero16);
  const __m512i bytes = _mm512_max_epi8(_mm512_packs_epi16(q01, q23), q.min8);
  return q.in_range ? _mm512_min_epi8(bytes, q.max8) : bytes;
}
inline __m512i requantize_four(const FourRequantization& q, __m512i a0, __m512i a1, __m512i a2,
                               __m512i a3, __m512 scale) {
  return requantize_four(q, a0, a1, a2, a3, scale, scale, scale, scale);
}

// requantize_four's bytes of four rows of 16 channels (register p = row p) to row p's channels at
// bytes 16p..16p+15.
struct FourRowsOrder {
  uint8_t idx[64];
};
constexpr FourRowsOrder make_four_rows_order() {
  FourRowsOrder t{};
  for (size_t i = 0; i < 64; ++i) {
    const size_t row = i / 16, ch = i % 16;
    t.idx[i] = static_cast<uint8_t>(16 * (ch / 4) + 4 * row + ch % 4);
  }
  return t;
}
alignas(64) inline constexpr FourRowsOrder kFourRowsOrder = make_four_rows_order();

}  // namespace polyhead::kernels::variants
