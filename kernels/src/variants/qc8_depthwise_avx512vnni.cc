// The int8 depthwise convolution of the avx512vnni table (qc8_depthwise.h): sixteen channels per
// register, the input bytes sign-extended to 32 bits (VPMOVSXBD) and multiplied by the packed
// (w, 0) pairs with VPDPWSSD, which adds into the accumulator in the same instruction. Channel
// counts that are not a multiple of 16 load and store their last block through a byte mask
// (AVX-512 BW), so nothing past the channels is read or written. Four output pixels at a time
// share each weight load and hide VPDPWSSD's latency.
#include <immintrin.h>

#include <algorithm>

#include "qc8_depthwise.h"

namespace polyhead::kernels::variants {
namespace {

inline __m512i load_input(const int8_t* x, __mmask16 mask) {
  return _mm512_cvtepi8_epi32(_mm_maskz_loadu_epi8(mask, x));
}

inline void store_output(__m512i acc, __m512 scale, __m512 lo, __m512 hi, __m512i zero,
                         __mmask16 mask, int8_t* out) {
  __m512 v = _mm512_mul_ps(_mm512_cvtepi32_ps(acc), scale);
  v = _mm512_min_ps(_mm512_max_ps(v, lo), hi);
  const __m512i q = _mm512_add_epi32(_mm512_cvtps_epi32(v), zero);  // rounds half to even
  _mm_mask_storeu_epi8(out, mask, _mm512_cvtsepi32_epi8(q));
}

template <size_t P>
void run_tile(size_t first, size_t channels, size_t taps, const int8_t* const* indirection,
              size_t input_step, const uint8_t* packed, __m512 lo, __m512 hi, __m512i zero,
              int8_t* out) {
  const size_t block_bytes = depthwise_block_bytes(taps);
  for (size_t c = 0; c < channels; c += kDepthwiseBlock, packed += block_bytes) {
    const size_t n = std::min(kDepthwiseBlock, channels - c);
    const auto mask = static_cast<__mmask16>((1u << n) - 1);
    const auto* w = reinterpret_cast<const __m512i*>(packed) + 2;
    __m512i acc[P];
    const __m512i bias = _mm512_loadu_si512(packed);
    for (size_t i = 0; i < P; ++i) acc[i] = bias;
    for (size_t t = 0; t < taps; ++t) {
      const __m512i wt = _mm512_loadu_si512(w + t);
      const int8_t* x = indirection[t] + first * input_step + c;
      for (size_t i = 0; i < P; ++i)
        acc[i] = _mm512_dpwssd_epi32(acc[i], load_input(x + i * input_step, mask), wt);
    }
    const __m512 scale = _mm512_loadu_ps(packed + kDepthwiseBlock * 4);
    for (size_t i = 0; i < P; ++i)
      store_output(acc[i], scale, lo, hi, zero, mask, out + (first + i) * channels + c);
  }
}

// Eight channels at stride 1: two neighbouring output pixels fill one register (their inputs,
// and their outputs, are 16 contiguous bytes), each half with the block's first eight weights,
// so no lane idles. Pixels [first, first + 2P).
template <size_t P>
void run_pairs(size_t first, size_t taps, const int8_t* const* indirection, const uint8_t* packed,
               __m512 lo, __m512 hi, __m512i zero, int8_t* out) {
  constexpr size_t kChannels = 8;
  const auto duplicate = [](__m512i v) { return _mm512_shuffle_i64x2(v, v, 0x44); };
  const auto* w = reinterpret_cast<const __m512i*>(packed) + 2;
  __m512i acc[P];
  const __m512i bias = duplicate(_mm512_loadu_si512(packed));
  for (size_t i = 0; i < P; ++i) acc[i] = bias;
  for (size_t t = 0; t < taps; ++t) {
    const __m512i wt = duplicate(_mm512_loadu_si512(w + t));
    const int8_t* x = indirection[t] + first * kChannels;
    for (size_t i = 0; i < P; ++i)
      acc[i] = _mm512_dpwssd_epi32(acc[i], load_input(x + i * 2 * kChannels, 0xffff), wt);
  }
  const __m512 scale = _mm512_castsi512_ps(
      duplicate(_mm512_castps_si512(_mm512_loadu_ps(packed + kDepthwiseBlock * 4))));
  for (size_t i = 0; i < P; ++i)
    store_output(acc[i], scale, lo, hi, zero, 0xffff, out + (first + 2 * i) * kChannels);
}

void run(size_t pixels, size_t channels, size_t taps, const int8_t* const* indirection,
         size_t input_step, const void* packed, int32_t c_zero_point, int32_t c_min, int32_t c_max,
         int8_t* out) {
  const __m512 lo = _mm512_set1_ps(static_cast<float>(c_min - c_zero_point));
  const __m512 hi = _mm512_set1_ps(static_cast<float>(c_max - c_zero_point));
  const __m512i zero = _mm512_set1_epi32(c_zero_point);
  const auto* w = static_cast<const uint8_t*>(packed);
  size_t p = 0;
  if (channels == 8 && input_step == 8) {
    for (; p + 8 <= pixels; p += 8) run_pairs<4>(p, taps, indirection, w, lo, hi, zero, out);
    for (; p + 2 <= pixels; p += 2) run_pairs<1>(p, taps, indirection, w, lo, hi, zero, out);
  }
  for (; p + 4 <= pixels; p += 4)
    run_tile<4>(p, channels, taps, indirection, input_step, w, lo, hi, zero, out);
  for (; p < pixels; ++p)
    run_tile<1>(p, channels, taps, indirection, input_step, w, lo, hi, zero, out);
}

}  // namespace

const Qc8Depthwise kVnniQc8Depthwise = {qc8_depthwise_packed_bytes, qc8_depthwise_pack, run};

}  // namespace polyhead::kernels::variants
