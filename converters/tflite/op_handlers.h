// The handlers of the TFLite operators the converter maps, one per operator, dispatched from
// op_handler_table.cc. Each reads its operator's inputs and options (tflite_options.h) and adds
// the nodes it becomes; GraphConverter does the rest (int8 or float, binding the output).
#pragma once

#include "converters/tflite/op_context.h"

namespace polyhead::tflite {

// op_handlers_conv.cc: operators with weights.
Result<Converted> convert_conv_2d(OpContext& c);
Result<Converted> convert_depthwise_conv_2d(OpContext& c);
Result<Converted> convert_transpose_conv(OpContext& c);
Result<Converted> convert_transpose_conv_bias(OpContext& c);  // MediaPipe's custom operator
Result<Converted> convert_fully_connected(OpContext& c);

// op_handlers_pool.cc: windows and reductions.
Result<Converted> convert_max_pool_2d(OpContext& c);
Result<Converted> convert_average_pool_2d(OpContext& c);
Result<Converted> convert_mean(OpContext& c);

// op_handlers_elementwise.cc: arithmetic and activations.
Result<Converted> convert_add(OpContext& c);
Result<Converted> convert_sub(OpContext& c);
Result<Converted> convert_mul(OpContext& c);
Result<Converted> convert_div(OpContext& c);
Result<Converted> convert_relu(OpContext& c);
Result<Converted> convert_relu6(OpContext& c);
Result<Converted> convert_relu_n1_to_1(OpContext& c);
Result<Converted> convert_logistic(OpContext& c);
Result<Converted> convert_tanh(OpContext& c);
Result<Converted> convert_abs(OpContext& c);
Result<Converted> convert_hard_swish(OpContext& c);
Result<Converted> convert_leaky_relu(OpContext& c);
Result<Converted> convert_prelu(OpContext& c);
Result<Converted> convert_softmax(OpContext& c);

// op_handlers_shape.cc: layout and size.
Result<Converted> convert_pad(OpContext& c);
Result<Converted> convert_reshape(OpContext& c);
Result<Converted> convert_concatenation(OpContext& c);
Result<Converted> convert_resize_bilinear(OpContext& c);
Result<Converted> convert_resize_nearest_neighbor(OpContext& c);
Result<Converted> convert_depth_to_space(OpContext& c);

// op_handlers_quantize.cc: between float and int8.
Result<Converted> convert_quantize(OpContext& c);
Result<Converted> convert_dequantize(OpContext& c);

// op_handlers_sparse.cc: sparse weights.
Result<Converted> convert_densify(OpContext& c);

}  // namespace polyhead::tflite
