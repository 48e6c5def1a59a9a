// TFLite's int8 HARD_SWISH works on 16-bit fixed-point values: the input, less its zero point,
// times 2^7 (the "hires" input), is multiplied once by a Q15 multiplier towards the output scale
// and once, with a power-of-two shift, into a "reluish" factor where +-3.0 maps to +-2^15
// (saturating), which becomes a Q15 fraction in [0, 1]; the product of the two, a final rounding
// shift and the output zero point give the code. The multipliers are rounded from float32
// ratios to 32 bits and then to 16. Each step below follows that definition, including how each
// one rounds, since that is what decides the last bit.
#include "int8_hard_swish.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace polyhead::kernels {
namespace {

constexpr int64_t kInt16Min = std::numeric_limits<int16_t>::min();
constexpr int64_t kInt16Max = std::numeric_limits<int16_t>::max();
constexpr int64_t kInt32Max = std::numeric_limits<int32_t>::max();

int16_t saturate_s16(int64_t v) {
  return static_cast<int16_t>(std::min(kInt16Max, std::max(kInt16Min, v)));
}

// A positive real multiplier as a Q31 mantissa in [2^30, 2^31) and a power-of-two exponent,
// the mantissa rounded half away from zero.
struct Multiplier {
  int64_t q31 = 0;
  int exponent = 0;
};
Multiplier q31_multiplier(double m) {
  Multiplier r;
  if (m == 0.0) return r;
  const double fraction = std::frexp(m, &r.exponent);  // in [0.5, 1)
  r.q31 = std::llround(fraction * 2147483648.0);
  if (r.q31 == int64_t{1} << 31) {  // rounded up to 1.0
    r.q31 /= 2;
    ++r.exponent;
  }
  if (r.exponent < -31) return Multiplier{};  // underflows to zero
  if (r.exponent > 30) return Multiplier{kInt32Max, 30};
  return r;
}

// The Q31 mantissa rounded (half up) to Q15, saturating at the top.
int16_t q15_of_q31(int64_t q31) {
  if (q31 >= kInt32Max - (1 << 15)) return static_cast<int16_t>(kInt16Max);
  return static_cast<int16_t>((q31 + (1 << 15)) >> 16);
}

// High half of 2ab, rounded to nearest with ties away from zero; -1 * -1 saturates.
int16_t rounding_doubling_high_mul(int16_t a, int16_t b) {
  if (a == kInt16Min && b == kInt16Min) return static_cast<int16_t>(kInt16Max);
  const int32_t ab = int32_t{a} * int32_t{b};
  const int32_t nudge = ab >= 0 ? (1 << 14) : 1 - (1 << 14);
  return static_cast<int16_t>((ab + nudge) / (1 << 15));  // division truncates towards zero
}

// High half of 2ab truncated towards zero: in the last product it offsets the upward bias of
// the rounded products before it.
int16_t truncating_doubling_high_mul(int16_t a, int16_t b) {
  if (a == kInt16Min && b == kInt16Min) return static_cast<int16_t>(kInt16Max);
  return static_cast<int16_t>((int32_t{a} * int32_t{b}) / (1 << 15));
}

// x / 2^shift rounded to nearest, ties away from zero.
int64_t rounding_shift_right(int64_t x, int shift) {
  const int64_t mask = (int64_t{1} << shift) - 1;
  const int64_t remainder = x & mask;
  const int64_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
  return (x >> shift) + (remainder > threshold ? 1 : 0);
}

int16_t saturating_shift_left(int16_t x, int shift) {
  return saturate_s16(int64_t{x} * (int64_t{1} << shift));
}

struct FixedPointHardSwish {
  int32_t input_zero_point = 0;
  int32_t output_zero_point = 0;
  int16_t output_q15 = 0;
  int output_exponent = 0;  // <= 0
  int16_t reluish_q15 = 0;
  int reluish_exponent = 0;

  int8_t operator()(int8_t q) const {
    // |q - zero point| <= 255, so times 2^7 fits int16.
    const auto hires = static_cast<int16_t>((int32_t{q} - input_zero_point) * (1 << 7));
    const int16_t on_output_scale = rounding_doubling_high_mul(hires, output_q15);
    // Scaled so that +-3.0 is +-2^15. A left shift saturates one bit early, so that the last
    // bit of it, after the multiply, decides any saturation.
    int16_t reluish = hires;
    if (reluish_exponent > 0) reluish = saturating_shift_left(reluish, reluish_exponent - 1);
    reluish = rounding_doubling_high_mul(reluish, reluish_q15);
    if (reluish_exponent > 0) reluish = saturating_shift_left(reluish, 1);
    if (reluish_exponent < 0)
      reluish = static_cast<int16_t>(rounding_shift_right(reluish, -reluish_exponent));
    // [-1, 1] -> [0, 1] in Q15.
    reluish = static_cast<int16_t>((int32_t{reluish} + (1 << 15)) >> 1);
    const int16_t product = truncating_doubling_high_mul(reluish, on_output_scale);
    const int64_t code = rounding_shift_right(product, -output_exponent) + output_zero_point;
    return static_cast<int8_t>(std::min<int64_t>(127, std::max<int64_t>(-128, code)));
  }
};

}  // namespace

std::array<int8_t, 256> hard_swish_table_s8(const QParams& in, const QParams& out) {
  std::array<int8_t, 256> table{};
  // The ratios are float32 divisions, as in TFLite, before the rounding to Q31.
  const float hires_input_scale = in.scale / 128.f;
  const Multiplier output = q31_multiplier(hires_input_scale / out.scale);
  const Multiplier reluish = q31_multiplier(hires_input_scale / (3.f / 32768.f));
  if (output.exponent > 0 || output.q31 == 0 || reluish.q31 == 0) {
    // Outside the definition (TFLite rejects such a node): the exact function.
    for (int q = -128; q <= 127; ++q) {
      const float x = dequantize_s8(static_cast<int8_t>(q), in);
      table[static_cast<uint8_t>(q)] =
          quantize_s8(x * std::min(std::max(x + 3.f, 0.f), 6.f) / 6.f, out);
    }
    return table;
  }
  FixedPointHardSwish f;
  f.input_zero_point = in.zero_point;
  f.output_zero_point = out.zero_point;
  f.output_q15 = q15_of_q31(output.q31);
  f.output_exponent = output.exponent;
  f.reluish_q15 = q15_of_q31(reluish.q31);
  f.reluish_exponent = reluish.exponent;
  for (int q = -128; q <= 127; ++q) table[static_cast<uint8_t>(q)] = f(static_cast<int8_t>(q));
  return table;
}

}  // namespace polyhead::kernels
