#include "offline/quantize/weight_quantizer.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>

#include "polyhead/internal/half_scales.h"

namespace polyhead::quantize {

namespace {

constexpr float kZeroChannelScale = 1e-6f;
constexpr float kSmallestNormalHalf = 1.f / 16384.f;  // 2^-14
constexpr double kInt32Max = 2147483647.0;

int8_t to_int8(double v, int lo) {
  return static_cast<int8_t>(std::min(127.0, std::max(static_cast<double>(lo), std::round(v))));
}

}  // namespace

QuantizedWeights quantize_weights(const float* w, size_t channels, size_t per_channel,
                                  const float* bias, float input_scale, bool per_tensor,
                                  bool half_scales) {
  QuantizedWeights q;
  q.values.resize(channels * per_channel);
  std::vector<float> max_abs(channels, 0.f);
  for (size_t c = 0; c < channels; ++c)
    for (size_t k = 0; k < per_channel; ++k)
      max_abs[c] = std::max(max_abs[c], std::fabs(w[c * per_channel + k]));
  if (per_tensor) {
    const float all = channels ? *std::max_element(max_abs.begin(), max_abs.end()) : 0.f;
    std::fill(max_abs.begin(), max_abs.end(), all);
  }
  // Smallest weight scale at which |bias| / (input_scale × scale) fits int32.
  auto bias_floor = [&](size_t c) -> float {
    if (!bias || !(input_scale > 0)) return 0.f;
    double need = std::fabs(static_cast<double>(bias[c])) / (input_scale * kInt32Max);
    return static_cast<float>(need * 2);  // headroom against rounding
  };
  q.scales.resize(per_tensor ? 1 : channels);
  for (size_t c = 0; c < channels; ++c) {
    float scale = max_abs[c] / 127.f;
    if (!(scale > 0.f)) scale = kZeroChannelScale;
    if (max_abs[c] == 0.f) {
      scale = std::max(scale, bias_floor(c));
      if (per_tensor)  // one scale for all channels: every bias must fit
        for (size_t j = 0; j < channels; ++j) scale = std::max(scale, bias_floor(j));
    }
    if (per_tensor) {
      q.scales[0] = scale;
    } else {
      q.scales[c] = scale;
    }
  }
  if (half_scales && !per_tensor) {
    // A channel of zeros may take any scale: the smallest normal half, unless its bias needs more.
    std::vector<float> halves;
    for (size_t c = 0; c < channels; ++c) {
      const float s = max_abs[c] == 0.f ? std::max(q.scales[c], kSmallestNormalHalf) : q.scales[c];
      if (const std::optional<float> h = internal::round_to_half(s)) halves.push_back(*h);
    }
    if (halves.size() == q.scales.size()) q.scales = std::move(halves);
  }
  for (size_t c = 0; c < channels; ++c) {
    const double scale = q.scales[per_tensor ? 0 : c];
    for (size_t k = 0; k < per_channel; ++k)
      q.values[c * per_channel + k] = to_int8(w[c * per_channel + k] / scale, -127);
  }
  if (bias) {
    q.bias.resize(channels);
    q.bias_scales.resize(channels);
    for (size_t c = 0; c < channels; ++c) {
      const float s = input_scale * q.scales[per_tensor ? 0 : c];
      q.bias_scales[c] = s;
      double v = std::round(static_cast<double>(bias[c]) / s);
      if (v > kInt32Max || v < -kInt32Max) {
        ++q.saturated_bias;
        v = std::min(kInt32Max, std::max(-kInt32Max, v));
      }
      q.bias[c] = static_cast<int32_t>(v);
    }
  }
  return q;
}

QuantizedConstant quantize_constant(const float* values, size_t count) {
  Range r;
  for (size_t i = 0; i < count; ++i) {
    r.min = std::min(r.min, values[i]);
    r.max = std::max(r.max, values[i]);
  }
  QuantizedConstant q;
  q.params = affine_params(r);
  q.values.resize(count);
  for (size_t i = 0; i < count; ++i)
    q.values[i] =
        to_int8(static_cast<double>(values[i]) / q.params.scale + q.params.zero_point, -128);
  return q;
}

}  // namespace polyhead::quantize
