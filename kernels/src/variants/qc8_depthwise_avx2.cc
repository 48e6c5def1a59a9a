// The int8 depthwise convolution with AVX2 (qc8_depthwise.h), also the avx512 table's: AVX-512 F
// alone has no 16-bit multiply on 512-bit registers. Eight channels per register: the input
// bytes sign-extended to 32 bits (VPMOVSXBD), times the packed (w, 0) pairs with VPMADDWD, added
// with VPADDD; four output pixels at a time share each weight load.
#include <immintrin.h>

#include <algorithm>
#include <cstring>

#include "qc8_depthwise.h"

namespace polyhead::kernels::variants {
namespace {

constexpr size_t kLanes = 8;

// Eight input bytes widened to int32, or the first n (< 8) of them (the rest zero) without
// reading past them.
inline __m256i load_input(const int8_t* x, size_t n) {
  if (n == kLanes)
    return _mm256_cvtepi8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(x)));
  int64_t bytes = 0;
  std::memcpy(&bytes, x, n);
  return _mm256_cvtepi8_epi32(_mm_cvtsi64_si128(bytes));
}

inline void store_output(__m256i acc, __m256 scale, __m256 lo, __m256 hi, __m256i zero, size_t n,
                         int8_t* out) {
  __m256 v = _mm256_mul_ps(_mm256_cvtepi32_ps(acc), scale);
  v = _mm256_min_ps(_mm256_max_ps(v, lo), hi);
  const __m256i q = _mm256_add_epi32(_mm256_cvtps_epi32(v), zero);  // rounds half to even
  const __m128i q16 = _mm_packs_epi32(_mm256_castsi256_si128(q), _mm256_extracti128_si256(q, 1));
  const __m128i q8 = _mm_packs_epi16(q16, q16);
  if (n == kLanes) {
    _mm_storel_epi64(reinterpret_cast<__m128i*>(out), q8);
  } else {
    const auto bytes = static_cast<int64_t>(_mm_cvtsi128_si64(q8));
    std::memcpy(out, &bytes, n);
  }
}

// Pixels [first, first + P) of the call.
template <size_t P>
void run_tile(size_t first, size_t channels, size_t taps, const int8_t* const* indirection,
              size_t input_step, const uint8_t* packed, __m256 lo, __m256 hi, __m256i zero,
              int8_t* out) {
  const size_t block_bytes = depthwise_block_bytes(taps);
  for (size_t c = 0; c < channels; c += kLanes) {
    const size_t n = std::min(kLanes, channels - c);
    const size_t half = c % kDepthwiseBlock;  // 0 or 8: which half of the block
    const uint8_t* block = packed + c / kDepthwiseBlock * block_bytes;
    const auto* w = reinterpret_cast<const __m256i*>(block + 2 * kDepthwiseBlock * 4) + half / 8;
    __m256i acc[P];
    const __m256i bias = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(block) + half / 8);
    for (size_t i = 0; i < P; ++i) acc[i] = bias;
    for (size_t t = 0; t < taps; ++t) {
      const __m256i wt = _mm256_loadu_si256(w + 2 * t);
      const int8_t* x = indirection[t] + first * input_step + c;
      for (size_t i = 0; i < P; ++i)
        acc[i] = _mm256_add_epi32(acc[i], _mm256_madd_epi16(load_input(x + i * input_step, n), wt));
    }
    const __m256 scale =
        _mm256_loadu_ps(reinterpret_cast<const float*>(block + kDepthwiseBlock * 4) + half);
    for (size_t i = 0; i < P; ++i)
      store_output(acc[i], scale, lo, hi, zero, n, out + (first + i) * channels + c);
  }
}

void run(size_t pixels, size_t channels, size_t taps, const int8_t* const* indirection,
         size_t input_step, const void* packed, int32_t c_zero_point, int32_t c_min, int32_t c_max,
         int8_t* out) {
  const __m256 lo = _mm256_set1_ps(static_cast<float>(c_min - c_zero_point));
  const __m256 hi = _mm256_set1_ps(static_cast<float>(c_max - c_zero_point));
  const __m256i zero = _mm256_set1_epi32(c_zero_point);
  const auto* w = static_cast<const uint8_t*>(packed);
  size_t p = 0;
  for (; p + 4 <= pixels; p += 4)
    run_tile<4>(p, channels, taps, indirection, input_step, w, lo, hi, zero, out);
  for (; p < pixels; ++p)
    run_tile<1>(p, channels, taps, indirection, input_step, w, lo, hi, zero, out);
}

}  // namespace

const Qc8Depthwise kAvx2Qc8Depthwise = {qc8_depthwise_packed_bytes, qc8_depthwise_pack, run};

}  // namespace polyhead::kernels::variants
