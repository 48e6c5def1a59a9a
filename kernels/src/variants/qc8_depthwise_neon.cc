// The int8 depthwise convolution with NEON (qc8_depthwise.h), for aarch64 and armv7 alike (only
// intrinsics both have): eight channels per step, the input bytes widened to 16 bits (VMOVL),
// the packed (w, 0) pairs narrowed to their 16-bit weights (VMOVN), and VMLAL multiplying and
// adding into two int32x4 accumulators; four output pixels at a time share the weights.
// ARMv7 has no round-to-nearest conversion: it adds 1.5 * 2^23, which leaves the integer,
// rounded half to even, in the low mantissa bits (exact here: the value is clamped to +-255).
#ifdef POLYHEAD_HAVE_NEON
#include <arm_neon.h>

#include <algorithm>
#include <cstring>

#include "qc8_depthwise.h"

namespace polyhead::kernels::variants {
namespace {

constexpr size_t kLanes = 8;

inline int16x8_t load_input(const int8_t* x, size_t n) {
  if (n == kLanes) return vmovl_s8(vld1_s8(x));
  int8_t bytes[kLanes] = {};
  std::memcpy(bytes, x, n);
  return vmovl_s8(vld1_s8(bytes));
}

inline int32x4_t round_to_int(float32x4_t v) {
#if defined(__aarch64__)
  return vcvtnq_s32_f32(v);
#else
  const float32x4_t magic = vdupq_n_f32(12582912.f);  // 1.5 * 2^23
  return vsubq_s32(vreinterpretq_s32_f32(vaddq_f32(v, magic)), vreinterpretq_s32_f32(magic));
#endif
}

inline int32x4_t requantize(int32x4_t acc, float32x4_t scale, float32x4_t lo, float32x4_t hi,
                            int32x4_t zero) {
  float32x4_t v = vmulq_f32(vcvtq_f32_s32(acc), scale);
  v = vminq_f32(vmaxq_f32(v, lo), hi);
  return vaddq_s32(round_to_int(v), zero);
}

template <size_t P>
void run_tile(size_t first, size_t channels, size_t taps, const int8_t* const* indirection,
              size_t input_step, const uint8_t* packed, float32x4_t lo, float32x4_t hi,
              int32x4_t zero, int8_t* out) {
  const size_t block_bytes = depthwise_block_bytes(taps);
  for (size_t c = 0; c < channels; c += kLanes) {
    const size_t n = std::min(kLanes, channels - c);
    const size_t half = c % kDepthwiseBlock;  // 0 or 8: which half of the block
    const uint8_t* block = packed + c / kDepthwiseBlock * block_bytes;
    const auto* biases = reinterpret_cast<const int32_t*>(block) + half;
    const auto* w = reinterpret_cast<const int32_t*>(block + 2 * kDepthwiseBlock * 4) + half;
    int32x4_t acc_lo[P], acc_hi[P];
    for (size_t i = 0; i < P; ++i) {
      acc_lo[i] = vld1q_s32(biases);
      acc_hi[i] = vld1q_s32(biases + 4);
    }
    for (size_t t = 0; t < taps; ++t) {
      const int16x4_t w_lo = vmovn_s32(vld1q_s32(w + t * kDepthwiseBlock));
      const int16x4_t w_hi = vmovn_s32(vld1q_s32(w + t * kDepthwiseBlock + 4));
      const int8_t* x = indirection[t] + first * input_step + c;
      for (size_t i = 0; i < P; ++i) {
        const int16x8_t xi = load_input(x + i * input_step, n);
        acc_lo[i] = vmlal_s16(acc_lo[i], vget_low_s16(xi), w_lo);
        acc_hi[i] = vmlal_s16(acc_hi[i], vget_high_s16(xi), w_hi);
      }
    }
    const auto* scales = reinterpret_cast<const float*>(block + kDepthwiseBlock * 4) + half;
    const float32x4_t scale_lo = vld1q_f32(scales), scale_hi = vld1q_f32(scales + 4);
    for (size_t i = 0; i < P; ++i) {
      const int16x8_t q16 = vcombine_s16(vqmovn_s32(requantize(acc_lo[i], scale_lo, lo, hi, zero)),
                                         vqmovn_s32(requantize(acc_hi[i], scale_hi, lo, hi, zero)));
      const int8x8_t q8 = vqmovn_s16(q16);
      int8_t* o = out + (first + i) * channels + c;
      if (n == kLanes) {
        vst1_s8(o, q8);
      } else {
        int8_t bytes[kLanes];
        vst1_s8(bytes, q8);
        std::memcpy(o, bytes, n);
      }
    }
  }
}

void run(size_t pixels, size_t channels, size_t taps, const int8_t* const* indirection,
         size_t input_step, const void* packed, int32_t c_zero_point, int32_t c_min, int32_t c_max,
         int8_t* out) {
  const float32x4_t lo = vdupq_n_f32(static_cast<float>(c_min - c_zero_point));
  const float32x4_t hi = vdupq_n_f32(static_cast<float>(c_max - c_zero_point));
  const int32x4_t zero = vdupq_n_s32(c_zero_point);
  const auto* w = static_cast<const uint8_t*>(packed);
  size_t p = 0;
  for (; p + 4 <= pixels; p += 4)
    run_tile<4>(p, channels, taps, indirection, input_step, w, lo, hi, zero, out);
  for (; p < pixels; ++p)
    run_tile<1>(p, channels, taps, indirection, input_step, w, lo, hi, zero, out);
}

}  // namespace

const Qc8Depthwise kNeonQc8Depthwise = {qc8_depthwise_packed_bytes, qc8_depthwise_pack, run};

}  // namespace polyhead::kernels::variants
#endif  // POLYHEAD_HAVE_NEON
