// An integer reference of the int8 operators (docs/int8.md), the ground truth of
// tests/kernels/test_int8_kernels.cc. Written from the operator semantics with plain loops, sharing
// no code with the kernels (only reference::resize_source_coordinate, the float kernels' definition
// of where an output pixel samples the input, so that int8 and float resize agree by construction).
//
// Convolution and fully connected accumulate (x - input zero point) * w + bias in int32, then
// requantize with the double multiplier input_scale * weight_scale[c] / output_scale. Every other
// requantizing operator computes its real result in double. Either way the reference returns the
// value before rounding (in output units, zero point included) so that tests can tell a rounding
// tie from an error; rounded() rounds half to even (std::nearbyint, the rounding of Polyhead's own
// kernels and of XNNPACK's fp32 requantization) and clamps to the fused activation's bounds.
#pragma once

#include <cstdint>
#include <vector>

#include "polyhead/kernels/reference.h"
#include "polyhead/model_builder.h"
#include "polyhead/tensor.h"

namespace polyhead::testing::int8 {

// Per-tensor parameters: real = scale * (q - zero_point).
struct QParams {
  float scale = 1.f;
  int32_t zero_point = 0;
};

// An int8 tensor with its parameters.
struct QTensor {
  Shape shape;
  std::vector<int8_t> values;
  QParams q;
};

// Requantized results before rounding: value[i] = real[i] / out.scale + out.zero_point, and the
// bounds [min, max] of the fused activation in the quantized domain.
struct Requantized {
  Shape shape;
  std::vector<double> value;
  int32_t min = -128;
  int32_t max = 127;
  QParams q;
  // nearbyint (half to even), clamped to [min, max].
  std::vector<int8_t> rounded() const;
};

// round-half-to-even, clamped.
int8_t round_clamp(double v, int32_t min, int32_t max);

// The fused activation [min, max] (real values) as int8 bounds of `out`:
// [max(-128, round(min / scale) + zp), min(127, round(max / scale) + zp)].
void activation_bounds(const Activation& a, const QParams& out, int32_t* min, int32_t* max);

// q -> real, and real -> round(real / scale) + zp clamped to int8 (QUANTIZE).
float dequantize(int8_t q, const QParams& p);
std::vector<float> dequantize(const QTensor& x);
Requantized quantize(const std::vector<float>& x, const Shape& shape, const QParams& out);

// Symmetric per-channel weights: scale[c] = max|w_c| / 127 along axis 0, q = round(w / scale).
struct QWeights {
  Shape shape;
  std::vector<int8_t> values;
  std::vector<float> scales;  // one per output channel
};
QWeights quantize_weights(const std::vector<float>& w, const Shape& shape, bool per_channel);

// CONV_2D on NHWC int8 input with weights [O, kh, kw, I/groups]; `bias` empty for none.
Requantized conv2d(const QTensor& x, const QWeights& w, const std::vector<int32_t>& bias,
                   const Conv2DParams& p, const QParams& out);
// FULLY_CONNECTED: rows of the last dimension times weights [O, I].
Requantized fully_connected(const QTensor& x, const QWeights& w, const std::vector<int32_t>& bias,
                            const Activation& a, const QParams& out);

// ADD / SUB / MUL with numpy broadcasting: dequantize to double, compute, requantize.
enum class Binary { kAdd, kSub, kMul };
Requantized binary(Binary op, const QTensor& a, const QTensor& b, const Activation& act,
                   const QParams& out);

// MEAN over H and W of NHWC (kept as [N, 1, 1, C]).
Requantized mean_hw(const QTensor& x, const QParams& out);
// AVERAGE_POOL_2D: the mean of the window's in-bounds values (padding excluded from the count).
Requantized average_pool(const QTensor& x, const Pool2DParams& p, const QParams& out);
// MAX_POOL_2D over in-bounds values, clamped to the fused activation (same quantization).
QTensor max_pool(const QTensor& x, const Pool2DParams& p);

// Bilinear resize of the int8 values (same quantization in and out), computed in double from the
// float kernels' source coordinates (clamped to the input, as reference::resize_bilinear).
Requantized resize_bilinear(const QTensor& x, int64_t out_h, int64_t out_w,
                            kernels::reference::Coordinates mode);

// Byte moves.
QTensor resize_nearest(const QTensor& x, int64_t out_h, int64_t out_w,
                       kernels::reference::Coordinates mode);
QTensor transpose(const QTensor& x, const std::vector<int>& perm);
// DCR order: output (y*b+i, x*b+j, c) is input channel (i*b+j)*C_out + c.
QTensor depth_to_space(const QTensor& x, int block);
QTensor reshape(const QTensor& x, const Shape& shape);
// Output index i of dimension d is input index begin[d] + i * step[d] (step empty: all 1).
QTensor slice(const QTensor& x, const std::vector<int>& begin, const std::vector<int>& size,
              const std::vector<int>& step);
// Output channel j * groups + g of each row is input channel g * (C / groups) + j.
QTensor channel_shuffle(const QTensor& x, int groups);
// Pads with round(value / scale) + zp.
QTensor pad(const QTensor& x, const std::vector<int>& before, const std::vector<int>& after,
            float value);

// Each input requantized to `out` (real value preserved), then concatenated along `axis`.
Requantized concatenation(const std::vector<QTensor>& inputs, int axis, const Activation& act,
                          const QParams& out);

// Elementwise functions of the dequantized input, in double, requantized to `out`.
enum class Unary { kClamp, kHardSwish, kSigmoid, kTanh, kLeakyRelu, kAbs, kSilu };
// `a` and `b`: clamp bounds, or the leaky ReLU's negative slope in `a`.
Requantized unary(Unary op, const QTensor& x, const QParams& out, double a = 0.0, double b = 0.0);

// HARD_SWISH as TFLite's int8 kernel defines it, step by step in 16-bit fixed point (what
// Polyhead's table follows, docs/int8.md "Rounding"), written apart from the kernel's code.
// Only for input scale / output scale < 128, where the definition applies.
std::vector<int8_t> hard_swish_fixed_point(const QTensor& x, const QParams& out);

}  // namespace polyhead::testing::int8
