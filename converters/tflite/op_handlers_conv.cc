// Handlers of the operators with weights: CONV_2D, DEPTHWISE_CONV_2D, TRANSPOSE_CONV, MediaPipe's
// Convolution2DTransposeBias and FULLY_CONNECTED.
#include <algorithm>
#include <string>
#include <vector>

#include "converters/tflite/graph_converter.h"
#include "converters/tflite/op_handlers.h"
#include "converters/tflite/status_helpers.h"
#include "converters/tflite/tensor_data.h"
#include "converters/tflite/tflite_options.h"

namespace polyhead::tflite {
namespace {

using WeightsAndBias = GraphConverter::WeightsAndBias;

// CONV_2D's and DEPTHWISE_CONV_2D's settings, from either options table.
struct ConvSettings {
  int padding, stride_w, stride_h, fused_activation, dilation_w, dilation_h;
};

template <typename Options>
ConvSettings conv_settings(const Options& o) {
  return {o.padding(),          o.stride_w(),   o.stride_h(),
          o.fused_activation(), o.dilation_w(), o.dilation_h()};
}

// The weights and bias of a convolution: int8 when it runs in int8, else float (int8 weights of a
// hybrid model, float activations, are dequantized). `ws` is TFLite's weights shape, `our_ws`
// ours. `pointwise`: a 1x1 convolution with one group, stride 1 and no padding, whose weights
// may be kept sparse.
Result<WeightsAndBias> conv_weights(OpContext& c, int x, const Shape& ws, const Shape& our_ws,
                                    bool depthwise, bool pointwise) {
  GraphConverter& g = c.g;
  const TfTensor& wtensor = g.tf_tensor(c.in(1));
  if (c.mode == OpMode::kInt8) {
    if (wtensor.type != kTfInt8)
      return unsupported("weights '" + wtensor.name + "' of an int8 convolution have type " +
                         tensor_type_name(wtensor.type) + " (int8 expected)");
    // TFLite quantizes CONV_2D weights along dimension 0, DEPTHWISE_CONV_2D weights
    // [1, KH, KW, C*m] along dimension 3.
    return g.int8_weights_and_bias(depthwise ? "DEPTHWISE_CONV_2D" : "CONV_2D", c.in(1), c.in(2),
                                   ws, depthwise ? 3 : 0, depthwise, g.q8(x));
  }
  WeightsAndBias r;
  PH_ASSIGN_OR_RETURN(std::vector<float> w, g.const_floats(c.in(1)));
  if (depthwise) w = depthwise_to_grouped(w, ws[1], ws[2], our_ws[0]);
  r.weights = g.builder().add_constant(wtensor.name, our_ws, w);
  if (pointwise && c.mode == OpMode::kFloat && g.from_sparse(c.in(1)))
    g.keep_sparse(r.weights, w, our_ws[0]);
  if (c.in(2) >= 0) {
    PH_ASSIGN_OR_RETURN(r.bias, g.float_value(c.in(2)));
  }
  return r;
}

// CONV_2D, and DEPTHWISE_CONV_2D as a CONV_2D with groups = channels.
Result<Converted> convolution(OpContext& c, const ConvSettings& s, bool depthwise) {
  GraphConverter& g = c.g;
  PH_RETURN_IF_ERROR(c.need_inputs(2, 3));
  PH_ASSIGN_OR_RETURN(int x, c.value(c.in(0)));
  const Shape xs = g.builder().shape(x);
  PH_ASSIGN_OR_RETURN(Shape ws, g.tf_shape(c.in(1)));
  if (xs.rank() != 4 || ws.rank() != 4) return invalid("input and weights must be 4-D");
  if (!g.is_constant(c.in(1)))
    return unsupported("weights '" + g.tf_tensor(c.in(1)).name + "' must be a constant");
  Conv2DParams p;
  p.stride_w = s.stride_w;
  p.stride_h = s.stride_h;
  p.dilation_w = s.dilation_w;
  p.dilation_h = s.dilation_h;
  if (!valid_stride(p.stride_w) || !valid_stride(p.stride_h) || !valid_stride(p.dilation_w) ||
      !valid_stride(p.dilation_h))
    return invalid("bad stride or dilation");
  PH_ASSIGN_OR_RETURN(p.activation, c.output_activation(s.fused_activation));
  const int64_t kh = ws[1], kw = ws[2];
  Shape our_ws = ws;
  if (depthwise) {
    // [1, KH, KW, C*m] -> [C*m, KH, KW, 1], groups = C.
    if (ws[0] != 1) return invalid("depthwise weights must have a leading 1");
    our_ws = Shape{ws[3], kh, kw, 1};
    p.groups = static_cast<int>(xs[3]);
  } else {
    if (ws[3] <= 0 || xs[3] % ws[3] != 0)
      return invalid("input channels " + std::to_string(xs[3]) +
                     " are not a multiple of the weights' " + std::to_string(ws[3]));
    p.groups = static_cast<int>(xs[3] / ws[3]);
  }
  if (s.padding == kPadSame) {
    same_pads(xs[1], kh, p.stride_h, p.dilation_h, &p.pad_top, &p.pad_bottom);
    same_pads(xs[2], kw, p.stride_w, p.dilation_w, &p.pad_left, &p.pad_right);
  }
  const bool pointwise = !depthwise && p.groups == 1 && kh == 1 && kw == 1 && p.stride_h == 1 &&
                         p.stride_w == 1 && p.pad_top == 0 && p.pad_bottom == 0 &&
                         p.pad_left == 0 && p.pad_right == 0;
  PH_ASSIGN_OR_RETURN(WeightsAndBias w, conv_weights(c, x, ws, our_ws, depthwise, pointwise));
  PH_ASSIGN_OR_RETURN(int result, g.builder().conv2d(c.name(), x, w.weights, w.bias, p));
  g.count("CONV_2D");
  PH_ASSIGN_OR_RETURN(result, c.finish_activation(result, s.fused_activation));
  return Converted{result};
}

// Which inputs of a transposed convolution are what, and its settings.
struct TransposeConvSettings {
  int x, weights, bias;  // TFLite tensors (bias -1: none)
  bool padding_same;
  int stride_w, stride_h, fused_activation;
  // The output size comes from the constant output_shape input (TRANSPOSE_CONV), else from the
  // declared output shape (MediaPipe's operator).
  bool size_from_input;
};

// Pads and adjustment giving output size `want` from `in_size` along one dimension: SAME pads
// the overshoot (the odd pixel after), the remainder below one stride is the adjustment.
Status transpose_conv_fit(int64_t in_size, int64_t k, int64_t s, int64_t want, bool same,
                          int* before, int* after, int* adjustment) {
  const int64_t full = (in_size - 1) * s + k;
  const int64_t total = same ? std::max<int64_t>(full - want, 0) : 0;
  *before = static_cast<int>(total / 2);
  *after = static_cast<int>(total - total / 2);
  const int64_t adj = want - (full - total);
  if (adj < 0 || adj >= s)
    return unsupported("output size " + std::to_string(want) + " cannot be reached from " +
                       std::to_string(in_size));
  *adjustment = static_cast<int>(adj);
  return Status::ok();
}

Result<Converted> transposed_convolution(OpContext& c, const TransposeConvSettings& t) {
  GraphConverter& g = c.g;
  if (!valid_stride(t.stride_w) || !valid_stride(t.stride_h)) return invalid("bad stride");
  PH_ASSIGN_OR_RETURN(int x, c.value(t.x));
  const Shape xs = g.builder().shape(x);
  PH_ASSIGN_OR_RETURN(Shape ws, g.tf_shape(t.weights));
  if (xs.rank() != 4 || ws.rank() != 4) return invalid("input and weights must be 4-D");
  int64_t oh = 0, ow = 0;
  if (t.size_from_input) {
    PH_ASSIGN_OR_RETURN(std::vector<int64_t> os, g.const_ints(c.in(0)));
    if (os.size() != 4) return invalid("output_shape must have 4 values");
    oh = os[1], ow = os[2];
  } else {
    PH_ASSIGN_OR_RETURN(Shape os, g.tf_shape(c.out()));
    if (os.rank() != 4) return invalid("output must be 4-D");
    oh = os[1], ow = os[2];
  }
  if (oh < 1 || ow < 1 || oh > kMaxDim || ow > kMaxDim) return invalid("bad output size");
  TransposeConv2DParams p;
  p.stride_h = t.stride_h, p.stride_w = t.stride_w;
  PH_ASSIGN_OR_RETURN(p.activation, c.output_activation(t.fused_activation));
  PH_RETURN_IF_ERROR(transpose_conv_fit(xs[1], ws[1], t.stride_h, oh, t.padding_same, &p.pad_top,
                                        &p.pad_bottom, &p.adjustment_h));
  PH_RETURN_IF_ERROR(transpose_conv_fit(xs[2], ws[2], t.stride_w, ow, t.padding_same, &p.pad_left,
                                        &p.pad_right, &p.adjustment_w));
  PH_ASSIGN_OR_RETURN(int weights, c.value(t.weights));
  int bias = -1;
  if (t.bias >= 0) {
    PH_ASSIGN_OR_RETURN(bias, c.value(t.bias));
  }
  PH_ASSIGN_OR_RETURN(int result, g.builder().transpose_conv2d(c.name(), x, weights, bias, p));
  g.count("TRANSPOSE_CONV_2D");
  PH_ASSIGN_OR_RETURN(result, c.finish_activation(result, t.fused_activation));
  return Converted{result};
}

}  // namespace

Result<Converted> convert_conv_2d(OpContext& c) {
  return convolution(c, conv_settings(Conv2DOptions(c.options())), false);
}

Result<Converted> convert_depthwise_conv_2d(OpContext& c) {
  return convolution(c, conv_settings(DepthwiseConv2DOptions(c.options())), true);
}

// Inputs: output_shape, weights [O, H, W, I], input[, bias].
Result<Converted> convert_transpose_conv(OpContext& c) {
  PH_RETURN_IF_ERROR(c.need_inputs(3, 4));
  const TransposeConvOptions o(c.options());
  return transposed_convolution(c, {c.in(2), c.in(1), c.in(3), o.padding() == kPadSame,
                                    o.stride_w(), o.stride_h(), o.fused_activation(), true});
}

// Inputs: input, weights [O, H, W, I], bias; settings in raw custom options.
Result<Converted> convert_transpose_conv_bias(OpContext& c) {
  PH_RETURN_IF_ERROR(c.need_inputs(3, 3));
  PH_ASSIGN_OR_RETURN(
      TransposeConvBiasOptions o,
      TransposeConvBiasOptions::parse(c.op.custom_options, c.op.custom_options_size));
  return transposed_convolution(
      c, {c.in(0), c.in(1), c.in(2), o.padding_same, o.stride_w, o.stride_h, kActNone, false});
}

Result<Converted> convert_fully_connected(OpContext& c) {
  GraphConverter& g = c.g;
  const FullyConnectedOptions o(c.options());
  PH_RETURN_IF_ERROR(c.need_inputs(2, 3));
  PH_ASSIGN_OR_RETURN(int x, c.value(c.in(0)));
  PH_ASSIGN_OR_RETURN(Shape ws, g.tf_shape(c.in(1)));
  if (ws.rank() != 2) return invalid("weights must be 2-D");
  const Shape xs = g.builder().shape(x);
  if (!o.keep_num_dims() && (xs.rank() != 2 || xs[1] != ws[1])) {
    // TFLite flattens the input to [elements / I, I].
    if (ws[1] <= 0 || xs.elements() % ws[1] != 0)
      return invalid("input " + xs.to_string() + " does not divide into rows of " +
                     std::to_string(ws[1]));
    PH_ASSIGN_OR_RETURN(
        x, g.reshape(g.unique_name(c.name() + "/flatten"), x, Shape{xs.elements() / ws[1], ws[1]}));
  }
  WeightsAndBias w;
  if (c.mode == OpMode::kInt8) {
    const TfTensor& wtensor = g.tf_tensor(c.in(1));
    if (wtensor.type != kTfInt8 || !g.is_constant(c.in(1)))
      return unsupported("weights '" + wtensor.name +
                         "' of an int8 FULLY_CONNECTED must be an int8 constant (found " +
                         tensor_type_name(wtensor.type) +
                         (g.is_constant(c.in(1)) ? ")" : ", not constant)"));
    // TFLite quantizes FULLY_CONNECTED weights [O, I] along dimension 0.
    PH_ASSIGN_OR_RETURN(
        w, g.int8_weights_and_bias("FULLY_CONNECTED", c.in(1), c.in(2), ws, 0, false, g.q8(x)));
  } else if (c.mode == OpMode::kFloat && g.from_sparse(c.in(1))) {
    // Weights of their own, which no other operator reads, to be kept sparse.
    PH_ASSIGN_OR_RETURN(std::vector<float> values, g.const_floats(c.in(1)));
    w.weights = g.builder().add_constant(g.tf_tensor(c.in(1)).name, ws, values);
    g.keep_sparse(w.weights, values, ws[0]);
    if (c.in(2) >= 0) {
      PH_ASSIGN_OR_RETURN(w.bias, g.float_value(c.in(2)));
    }
  } else {
    PH_ASSIGN_OR_RETURN(w.weights, g.float_value(c.in(1)));
    if (c.in(2) >= 0) {
      PH_ASSIGN_OR_RETURN(w.bias, g.float_value(c.in(2)));
    }
  }
  PH_ASSIGN_OR_RETURN(Activation a, c.output_activation(o.fused_activation()));
  PH_ASSIGN_OR_RETURN(int result, g.builder().fully_connected(c.name(), x, w.weights, w.bias, a));
  g.count("FULLY_CONNECTED");
  PH_ASSIGN_OR_RETURN(result, c.finish_activation(result, o.fused_activation()));
  return Converted{result};
}

}  // namespace polyhead::tflite
