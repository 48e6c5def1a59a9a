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

}  // namespace polyhead::kernels::variants
