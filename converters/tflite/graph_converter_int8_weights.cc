// GraphConverter's loading of int8 weights and int32 biases, shared by CONV_2D,
// DEPTHWISE_CONV_2D and FULLY_CONNECTED (docs/tflite_import.md, "Quantized (int8) models").
#include <cmath>
#include <cstring>

#include "converters/tflite/graph_converter.h"
#include "converters/tflite/status_helpers.h"
#include "converters/tflite/tensor_data.h"

namespace polyhead::tflite {

Result<GraphConverter::WeightsAndBias> GraphConverter::int8_weights_and_bias(
    const char* op, int w_t, int b_t, const Shape& w_shape, int tf_axis, bool depthwise,
    const Quantization& input_q) {
  const TfTensor& wtensor = tf_tensor(w_t);
  PH_ASSIGN_OR_RETURN(Quantization wq, quantization(w_t, false));
  if (wq.per_channel() && wq.axis != tf_axis)
    return unsupported("weights '" + wtensor.name + "' are quantized along dimension " +
                       std::to_string(wq.axis) + "; " + op +
                       " weights are quantized per output channel, along dimension " +
                       std::to_string(tf_axis));
  if (wq.per_channel()) wq.axis = 0;
  PH_ASSIGN_OR_RETURN(std::vector<int8_t> w, constant_int8(m_, w_t, w_shape));
  Shape our_shape = w_shape;
  if (depthwise) {
    our_shape = Shape{w_shape[3], w_shape[1], w_shape[2], 1};
    w = depthwise_to_grouped(w, w_shape[1], w_shape[2], w_shape[3]);
  }
  for (size_t c = 0; c < wq.zero_point.size(); ++c)
    if (wq.zero_point[c] != 0)
      return unsupported(
          "weights '" + wtensor.name + "' have zero point " + std::to_string(wq.zero_point[c]) +
          (wq.zero_point.size() > 1 ? " at channel " + std::to_string(c) : std::string()) +
          " (int8 weights must be symmetric: zero point 0)");
  WeightsAndBias r;
  r.weights = b_.add_constant_i8(wtensor.name.empty() ? "weights" : wtensor.name, our_shape, w, wq);
  q8_[r.weights] = wq;
  if (b_t >= 0) {
    PH_ASSIGN_OR_RETURN(r.bias, int32_bias(b_t, input_q, wq, our_shape[0]));
  }
  return r;
}

Result<int> GraphConverter::int32_bias(int t, const Quantization& input_q,
                                       const Quantization& weights_q, int64_t channels) {
  const TfTensor& btensor = tf_tensor(t);
  if (btensor.type != kTfInt32)
    return unsupported("bias '" + btensor.name + "' of an int8 operator has type " +
                       tensor_type_name(btensor.type) + " (int32 expected)");
  if (!is_constant(t)) return unsupported("bias '" + btensor.name + "' must be a constant");
  PH_ASSIGN_OR_RETURN(Shape shape, tf_shape(t));
  if (shape.elements() != channels)
    return invalid("bias '" + btensor.name + "' has shape " + shape.to_string() + " for " +
                   std::to_string(channels) + " output channels");
  const TfBuffer buf = m_.constant(t);
  if (buf.size != static_cast<size_t>(channels) * 4)
    return invalid("bias '" + btensor.name + "' holds " + std::to_string(buf.size) +
                   " bytes, its shape " + shape.to_string() + " needs " +
                   std::to_string(channels * 4));
  PH_ASSIGN_OR_RETURN(Quantization bq, quantization(t, false));
  Quantization ours;
  ours.axis = weights_q.per_channel() ? 0 : -1;
  const size_t n = ours.axis == 0 ? static_cast<size_t>(channels) : 1;
  for (size_t c = 0; c < static_cast<size_t>(channels); ++c) {
    const double expected =
        static_cast<double>(input_q.scale[0]) * weights_q.scale[weights_q.per_channel() ? c : 0];
    const double found = bq.scale[bq.scale.size() == 1 ? 0 : c];
    if (std::fabs(found - expected) > 1e-4 * expected)
      return invalid("bias '" + btensor.name + "' has scale " + number_text(found) +
                     (channels > 1 ? " at channel " + std::to_string(c) : std::string()) +
                     ", but input scale x weight scale is " + number_text(expected) +
                     " (TFLite requires them equal, to 1e-4 relative)");
    if (c < n) {
      ours.scale.push_back(static_cast<float>(expected));
      ours.zero_point.push_back(0);
    }
  }
  std::vector<int32_t> values(static_cast<size_t>(channels));
  std::memcpy(values.data(), buf.data, buf.size);
  return b_.add_constant_i32(btensor.name.empty() ? "bias" : btensor.name, Shape{channels}, values,
                             ours);
}

}  // namespace polyhead::tflite
