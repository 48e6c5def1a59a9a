#include "polyhead/internal/half_scales.h"

#include <cmath>

#include "polyhead/internal/float_bits.h"

namespace polyhead::internal {

namespace {

constexpr uint32_t kDroppedMantissaBits = 13;  // float has 23, half 10
constexpr int kHalfMinExponent = -14, kHalfMaxExponent = 15;

}  // namespace

float half_to_float(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h >> 15) << 31;
  const uint32_t exponent = (h >> 10) & 0x1f, mantissa = h & 0x3ffu;
  if (exponent == 0) {  // zero or subnormal: mantissa x 2^-24
    const float magnitude = std::ldexp(static_cast<float>(mantissa), -24);
    return sign ? -magnitude : magnitude;
  }
  if (exponent == 0x1f)
    return float_from_bits(sign | 0x7f800000u | (mantissa << kDroppedMantissaBits));
  return float_from_bits(sign | ((exponent - 15 + 127) << 23) | (mantissa << kDroppedMantissaBits));
}

std::optional<uint16_t> exact_half(float v) {
  const uint32_t u = float_bits(v);
  const int exponent = static_cast<int>((u >> 23) & 0xff) - 127;
  if (exponent < kHalfMinExponent || exponent > kHalfMaxExponent) return std::nullopt;
  if ((u & ((1u << kDroppedMantissaBits) - 1)) != 0) return std::nullopt;
  const uint32_t sign = u >> 31, mantissa = (u >> kDroppedMantissaBits) & 0x3ffu;
  return static_cast<uint16_t>((sign << 15) | (static_cast<uint32_t>(exponent + 15) << 10) |
                               mantissa);
}

std::optional<float> round_to_half(float v) {
  if (!(v > 0.f) || !std::isfinite(v)) return std::nullopt;
  const uint32_t step = 1u << kDroppedMantissaBits, low = step - 1, half_step = step / 2;
  const uint32_t u = float_bits(v);
  uint32_t rounded = u & ~low;
  const uint32_t dropped = u & low;
  // Past half a step, or exactly half with an odd kept bit: up (a carry into the exponent is
  // still right).
  if (dropped > half_step || (dropped == half_step && (rounded & step))) rounded += step;
  const float r = float_from_bits(rounded);
  if (!exact_half(r)) return std::nullopt;
  return r;
}

std::vector<float> quantization_scales(const schema::Quantization& q) {
  std::vector<float> out;
  if (q.scale()) {
    out.assign(q.scale()->begin(), q.scale()->end());
  } else if (q.scale_f16()) {
    out.reserve(q.scale_f16()->size());
    for (uint16_t h : *q.scale_f16()) out.push_back(half_to_float(h));
  }
  return out;
}

size_t quantization_scale_count(const schema::Quantization& q) {
  if (q.scale()) return q.scale()->size();
  return q.scale_f16() ? q.scale_f16()->size() : 0;
}

}  // namespace polyhead::internal
