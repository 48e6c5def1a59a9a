// The int8 depthwise convolution of the avx512vnni table (qc8_depthwise.h): sixteen channels per
// register, the input bytes sign-extended to 32 bits (VPMOVSXBD) and multiplied by the packed
// (w, 0) pairs with VPDPWSSD, which adds into the accumulator in the same instruction. Channel
// counts that are not a multiple of 16 load and store their last block through a byte mask
// (AVX-512 BW), so nothing past the channels is read or written; a last block of 8 channels or
// fewer takes two output pixels per register. Four output pixels (or pairs) at a time share each
// weight load and hide VPDPWSSD's latency.
#include <immintrin.h>

#include <algorithm>
#include <cstdint>

#include "qc8_depthwise.h"
#include "requantize_avx512.h"

namespace polyhead::kernels::variants {
namespace {

inline __m512i load_input(const int8_t* x, __mmask16 mask) {
  return _mm512_cvtepi8_epi32(_mm_maskz_loadu_epi8(mask, x));
}

inline void store_output(__m512i acc, __m512 scale, __m512 lo, __m512 hi, __m512i zero,
                         __mmask16 mask, int8_t* out) {
  _mm_mask_storeu_epi8(out, mask,
                       _mm512_cvtsepi32_epi8(requantize_lanes(acc, scale, lo, hi, zero)));
}

// Channel blocks [c_begin, c_end) of output pixels [first, first + P).
template <size_t P>
void run_tile(size_t first, size_t c_begin, size_t c_end, size_t channels, size_t taps,
              const int8_t* const* indirection, size_t input_step, const uint8_t* packed, __m512 lo,
              __m512 hi, __m512i zero, int8_t* out) {
  const size_t block_bytes = depthwise_block_bytes(taps);
  packed += c_begin / kDepthwiseBlock * block_bytes;
  for (size_t c = c_begin; c < c_end; c += kDepthwiseBlock, packed += block_bytes) {
    const size_t n = std::min(kDepthwiseBlock, c_end - c);
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

// A register's first eight dwords, in both halves.
inline __m512i duplicate_low_half(__m512i v) {
  return _mm512_shuffle_i64x2(v, v, 0x44);
}

// The last block of a channel count whose remainder n is 8 or less, two output pixels per
// register: lanes 0-7 pixel p, lanes 8-15 pixel p + 1, each half with the block's first eight
// weights (the remainder alone would leave half the lanes idle or more). Each pixel's n channels
// are loaded and stored through a byte mask, so nothing past them is touched; kAdjacent (eight
// channels at stride 1) loads and stores both pixels as one 16-byte piece. Output pixels
// [first, first + 2P), channels [c, c + n).
template <size_t P, bool kAdjacent>
void run_pairs(size_t first, size_t c, size_t n, size_t channels, size_t taps,
               const int8_t* const* indirection, size_t input_step, const uint8_t* packed,
               __m512 lo, __m512 hi, __m512i zero, int8_t* out) {
  packed += c / kDepthwiseBlock * depthwise_block_bytes(taps);
  const auto low = static_cast<__mmask16>((1u << n) - 1);
  const auto* w = reinterpret_cast<const __m512i*>(packed) + 2;
  __m512i acc[P];
  const __m512i bias = duplicate_low_half(_mm512_loadu_si512(packed));
  for (size_t i = 0; i < P; ++i) acc[i] = bias;
  for (size_t t = 0; t < taps; ++t) {
    const __m512i wt = duplicate_low_half(_mm512_loadu_si512(w + t));
    const int8_t* x = indirection[t] + first * input_step + c;
    for (size_t i = 0; i < P; ++i) {
      const int8_t* a = x + 2 * i * input_step;
      const __m128i pair = kAdjacent
                               ? _mm_loadu_si128(reinterpret_cast<const __m128i*>(a))
                               : _mm_unpacklo_epi64(_mm_maskz_loadu_epi8(low, a),
                                                    _mm_maskz_loadu_epi8(low, a + input_step));
      acc[i] = _mm512_dpwssd_epi32(acc[i], _mm512_cvtepi8_epi32(pair), wt);
    }
  }
  const __m512 scale = _mm512_castsi512_ps(
      duplicate_low_half(_mm512_castps_si512(_mm512_loadu_ps(packed + kDepthwiseBlock * 4))));
  for (size_t i = 0; i < P; ++i) {
    const __m128i q = _mm512_cvtsepi32_epi8(requantize_lanes(acc[i], scale, lo, hi, zero));
    int8_t* o = out + (first + 2 * i) * channels + c;
    if (kAdjacent) {
      _mm_storeu_si128(reinterpret_cast<__m128i*>(o), q);
    } else {
      _mm_mask_storeu_epi8(o, low, q);
      _mm_mask_storeu_epi8(o + channels, low, _mm_unpackhi_epi64(q, q));
    }
  }
}

void run(size_t pixels, size_t channels, size_t taps, const int8_t* const* indirection,
         size_t input_step, const void* packed, int32_t c_zero_point, int32_t c_min, int32_t c_max,
         int8_t* out) {
  const __m512 lo = _mm512_set1_ps(static_cast<float>(c_min - c_zero_point));
  const __m512 hi = _mm512_set1_ps(static_cast<float>(c_max - c_zero_point));
  const __m512i zero = _mm512_set1_epi32(c_zero_point);
  const auto* w = static_cast<const uint8_t*>(packed);
  // A remainder of 8 channels or fewer goes two pixels per register (run_pairs) when there are
  // two pixels to pair.
  const size_t rest = channels % kDepthwiseBlock;
  const size_t body = rest != 0 && rest <= 8 && pixels >= 2 ? channels - rest : channels;
  size_t p = 0;
  for (; p + 4 <= pixels; p += 4)
    run_tile<4>(p, 0, body, channels, taps, indirection, input_step, w, lo, hi, zero, out);
  for (; p < pixels; ++p)
    run_tile<1>(p, 0, body, channels, taps, indirection, input_step, w, lo, hi, zero, out);
  if (body == channels) return;
  const auto pairs = channels == 8 && input_step == 8 ? run_pairs<4, true> : run_pairs<4, false>;
  const auto pair = channels == 8 && input_step == 8 ? run_pairs<1, true> : run_pairs<1, false>;
  p = 0;
  for (; p + 8 <= pixels; p += 8)
    pairs(p, body, rest, channels, taps, indirection, input_step, w, lo, hi, zero, out);
  for (; p + 2 <= pixels; p += 2)
    pair(p, body, rest, channels, taps, indirection, input_step, w, lo, hi, zero, out);
  if (p < pixels)
    run_tile<1>(p, body, channels, channels, taps, indirection, input_step, w, lo, hi, zero, out);
}

}  // namespace

// Windows the row form takes (3 or 5 wide, stride 1 or 2) run on it; the per-tap form serves
// the rest and the engine's border pixels.
const Qc8Depthwise kVnniQc8Depthwise = {qc8_depthwise_packed_bytes,
                                        qc8_depthwise_pack,
                                        run,
                                        vnni_depthwise_row_supported,
                                        vnni_depthwise_rows_packed_bytes,
                                        vnni_depthwise_rows_pack,
                                        vnni_depthwise_run_row};

}  // namespace polyhead::kernels::variants
