// Constants of int8 nodes: convolution and fully connected weights as symmetric int8 per output
// channel (axis 0) or per tensor, their bias as int32 at scale input_scale × weight_scale[c], and
// other constant operands (an ADD/SUB/MUL operand) as asymmetric int8 per tensor (docs/int8.md).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "offline/quantize/activation_ranges.h"

namespace polyhead::quantize {

struct QuantizedWeights {
  std::vector<int8_t> values;      // same layout as the float weights
  std::vector<float> scales;       // one per output channel (axis 0), or one for --per-tensor
  std::vector<int32_t> bias;       // empty when there is no bias
  std::vector<float> bias_scales;  // input_scale × scales[c] per output channel
  size_t saturated_bias = 0;       // bias values clamped to the int32 range
};

// `weights` holds `channels` rows of `per_channel` values (axis 0 outermost). scale_c =
// max|w_c| / 127, q = round(w / scale_c) in [-127, 127], zero point 0. A channel of zeros gets a
// tiny positive scale (raised when needed so that its bias still fits int32). `bias` (may be null)
// has `channels` values and is quantized with zero point 0 at input_scale × scale_c.
// `half_scales`: per-channel scales are rounded to the nearest half float (half_scales.h), which
// the file then stores in 2 bytes each; a scale moves by at most 2^-11 of itself, and a weight
// that lands past 127 by as much is clamped to 127. When any channel's scale lies outside the
// normal half range, all stay floats.
QuantizedWeights quantize_weights(const float* weights, size_t channels, size_t per_channel,
                                  const float* bias, float input_scale, bool per_tensor,
                                  bool half_scales = false);

struct QuantizedConstant {
  std::vector<int8_t> values;
  AffineParams params;
};

// Asymmetric per-tensor int8 over the values' [min, max] (widened to include 0).
QuantizedConstant quantize_constant(const float* values, size_t count);

}  // namespace polyhead::quantize
