// The float32 requantization of reference::qc8_gemm on 16 int32 lanes, shared by the AVX-512
// int8 kernels (GEMM epilogues, pixel convolution, depthwise): one rounding of acc * scale,
// clamped to [min - zero, max - zero], rounded half to even (the default MXCSR mode, as
// std::nearbyint), plus the zero point. Include only from files built with AVX-512 flags.
#pragma once

#include <immintrin.h>

namespace polyhead::kernels::variants {

// `lo` and `hi` are min - zero and max - zero as floats; the result is int32 within [min, max].
inline __m512i requantize_lanes(__m512i acc, __m512 scale, __m512 lo, __m512 hi, __m512i zero) {
  __m512 v = _mm512_mul_ps(_mm512_cvtepi32_ps(acc), scale);
  v = _mm512_min_ps(_mm512_max_ps(v, lo), hi);
  return _mm512_add_epi32(_mm512_cvtps_epi32(v), zero);
}

// The same requantization split for results that leave as bytes, four registers at a time (the
// GEMM epilogues): the float part clamps only from above, and the lower clamp happens once per
// 64 bytes after saturating packs. Exact: max - zero is an integer, so rounding commutes with
// the upper clamp; a value far below min saturates to -32768 (VCVTPS2DQ gives INT32_MIN, the
// packs saturate), stays far below min after the saturating zero-point add, and the final
// VPMAXSB lifts it to min as the float clamp would have.
inline __m512i requantize_upper(__m512i acc, __m512 scale, __m512 hi) {
  return _mm512_cvtps_epi32(_mm512_min_ps(_mm512_mul_ps(_mm512_cvtepi32_ps(acc), scale), hi));
}
inline __m256i requantize_upper(__m256i acc, __m256 scale, __m256 hi) {
  return _mm256_cvtps_epi32(_mm256_min_ps(_mm256_mul_ps(_mm256_cvtepi32_ps(acc), scale), hi));
}

// Four registers of requantize_upper() results to bytes, zero point (16 copies of it as int16)
// added and `min` (64 copies as int8) applied. Byte 4p + j of 128-bit lane L is lane 4L + j of
// register p: a VPERMB puts them in the order the caller stores.
inline __m512i pack_four(__m512i q0, __m512i q1, __m512i q2, __m512i q3, __m512i zero16,
                         __m512i min8) {
  const __m512i q01 = _mm512_adds_epi16(_mm512_packs_epi32(q0, q1), zero16);
  const __m512i q23 = _mm512_adds_epi16(_mm512_packs_epi32(q2, q3), zero16);
  return _mm512_max_epi8(_mm512_packs_epi16(q01, q23), min8);
}

// For sums whose scaled values stay within +-2^30 (reference::qc8_sums_in_range): no float
// clamp at all, both ends applied after the saturating packs (which only saturate values past
// int8 range anyway), one operation per 64 bytes.
inline __m512i requantize_unclamped(__m512i acc, __m512 scale) {
  return _mm512_cvtps_epi32(_mm512_mul_ps(_mm512_cvtepi32_ps(acc), scale));
}
inline __m512i pack_four_clamped(__m512i q0, __m512i q1, __m512i q2, __m512i q3, __m512i zero16,
                                 __m512i min8, __m512i max8) {
  return _mm512_min_epi8(pack_four(q0, q1, q2, q3, zero16, min8), max8);
}

}  // namespace polyhead::kernels::variants
