// Quantization arithmetic shared by the int8 kernels (docs/int8.md): reading an operand's
// parameters with clear errors, fused activations in the quantized domain, tabulating unary
// functions.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "polyhead/kernels/kernel.h"
#include "polyhead/kernels/reference.h"
#include "polyhead/kernels/shape_inference.h"

namespace polyhead::kernels {

// Per-tensor parameters of an I8 activation.
struct QParams {
  float scale = 1.f;
  int32_t zero_point = 0;
  bool operator==(const QParams& o) const { return scale == o.scale && zero_point == o.zero_point; }
  bool operator!=(const QParams& o) const { return !(*this == o); }
};

// "CONV_2D node 'name'" for messages.
std::string node_label(const schema::Node& node);

// The per-tensor parameters of operand `op` (`role` names it in errors: "input 0", "output").
// Fails unless the operand is I8 with per-tensor quantization.
Result<QParams> activation_params(const schema::Node& node, const OperandDesc& op,
                                  const std::string& role);

// Fails unless `a` and `b` have equal parameters (operators that move bytes without
// requantizing: pooling maximum, resize, reshape, pad, transpose).
Status require_same(const schema::Node& node, const QParams& in, const QParams& out);

// Per-output-channel weight scales of I8 convolution weights (a per-tensor scale is repeated),
// checking zero points are 0 and the channel axis is 0.
Result<std::vector<float>> weight_scales(const schema::Node& node, const OperandDesc& weights,
                                         size_t output_channels);

// Checks an I32 bias: `output_channels` values, scale input_scale * weight_scale[c] (1e-4
// relative), zero point 0.
Status check_bias(const schema::Node& node, const OperandDesc& bias, float input_scale,
                  const std::vector<float>& weight_scales);

// round(v / scale) + zero_point clamped to int8.
int8_t quantize_s8(float v, const QParams& q);
float dequantize_s8(int8_t v, const QParams& q);

// The node's fused activation as int8 bounds of the output.
struct Int8Bounds {
  int8_t min = -128;
  int8_t max = 127;
};
Int8Bounds int8_bounds(const ActivationRange& a, const QParams& out);

// multiplier = in.scale / out.scale; fails when it lies outside (0, 2^14] (the exactness range
// of the SIMD requantization, reference.h).
Result<reference::Requantization> requantization(const schema::Node& node, const QParams& in,
                                                 const QParams& out, Int8Bounds bounds = {});

}  // namespace polyhead::kernels
