#include "converters/tflite/op_handler_table.h"

#include <algorithm>
#include <cstring>
#include <utility>
#include <vector>

#include "converters/tflite/op_handlers.h"
#include "converters/tflite/status_helpers.h"
#include "converters/tflite/tflite_ops.h"
#include "polyhead/kernels/op_table.h"

namespace polyhead::tflite {
namespace {

using schema::OpKind;

struct BuiltinHandler {
  int code;  // BuiltinOperator
  OpHandlerEntry entry;
};

struct CustomHandler {
  const char* custom_code;
  OpHandlerEntry entry;
};

// Names come from builtin_name() (tflite_ops.cc), which knows every code for messages.
const BuiltinHandler kBuiltinHandlers[] = {
    // code                   {handler, becomes, data input, converts quantization, no node}
    {kConv2D, {convert_conv_2d, OpKind::CONV_2D}},
    {kDepthwiseConv2D, {convert_depthwise_conv_2d, OpKind::CONV_2D}},
    // TRANSPOSE_CONV's inputs are output_shape, weights, input[, bias].
    {kTransposeConv, {convert_transpose_conv, OpKind::TRANSPOSE_CONV_2D, 2}},
    {kFullyConnected, {convert_fully_connected, OpKind::FULLY_CONNECTED}},
    {kMaxPool2D, {convert_max_pool_2d, OpKind::MAX_POOL_2D}},
    {kAveragePool2D, {convert_average_pool_2d, OpKind::AVERAGE_POOL_2D}},
    {kMean, {convert_mean, OpKind::MEAN}},
    {kAdd, {convert_add, OpKind::ADD}},
    {kSub, {convert_sub, OpKind::SUB}},
    {kMul, {convert_mul, OpKind::MUL}},
    {kDiv, {convert_div, OpKind::DIV}},
    {kRelu, {convert_relu, OpKind::CLAMP}},
    {kRelu6, {convert_relu6, OpKind::CLAMP}},
    {kReluN1To1, {convert_relu_n1_to_1, OpKind::CLAMP}},
    {kLogistic, {convert_logistic, OpKind::SIGMOID}},
    {kTanh, {convert_tanh, OpKind::TANH}},
    {kAbs, {convert_abs, OpKind::ABS}},
    {kHardSwish, {convert_hard_swish, OpKind::HARD_SWISH}},
    {kLeakyRelu, {convert_leaky_relu, OpKind::LEAKY_RELU}},
    {kPrelu, {convert_prelu, OpKind::PRELU}},
    {kSoftmax, {convert_softmax, OpKind::SOFTMAX}},
    {kPad, {convert_pad, OpKind::PAD}},
    {kReshape, {convert_reshape, OpKind::RESHAPE}},
    {kConcatenation, {convert_concatenation, OpKind::CONCATENATION}},
    {kResizeBilinear, {convert_resize_bilinear, OpKind::RESIZE}},
    {kResizeNearestNeighbor, {convert_resize_nearest_neighbor, OpKind::RESIZE}},
    {kQuantize, {convert_quantize, OpKind::QUANTIZE, 0, true}},
    {kDequantize, {convert_dequantize, OpKind::DEQUANTIZE, 0, true}},
    {kDepthToSpace, {convert_depth_to_space, OpKind::DEPTH_TO_SPACE}},
    // No node: `becomes` is not read for an operator that writes none.
    {kDensify, {convert_densify, OpKind::RESHAPE, 0, false, true}},
};

const CustomHandler kCustomHandlers[] = {
    // MediaPipe's transposed convolution with bias (inputs: input, weights, bias).
    {"Convolution2DTransposeBias", {convert_transpose_conv_bias, OpKind::TRANSPOSE_CONV_2D}},
};

}  // namespace

const OpHandlerEntry* find_handler(const TfOperatorCode& code) {
  if (code.builtin == kCustom) {
    for (const CustomHandler& h : kCustomHandlers)
      if (code.custom == h.custom_code) return &h.entry;
    return nullptr;
  }
  for (const BuiltinHandler& h : kBuiltinHandlers)
    if (h.code == code.builtin) return &h.entry;
  return nullptr;
}

bool float_only(schema::OpKind kind) {
  // The operator table knows every kind the table above names.
  const auto info = kernels::op_info(kind);
  // TRANSPOSE_CONV_2D has an int8 kernel, but the handlers do not map TFLite's
  // int8 transposed convolution weights and bias yet: it stays float inside int8 files.
  return info.is_ok() && ((*info)->float_only() || kind == schema::OpKind::TRANSPOSE_CONV_2D);
}

std::string operator_name(const TfModel& model, const TfOperator& op) {
  const TfOperatorCode& code = model.operator_codes[op.opcode_index];
  if (code.builtin == kCustom) return "CUSTOM(" + code.custom + ")";
  return builtin_name(code.builtin);
}

Status check_supported_operators(const TfModel& model) {
  std::vector<std::pair<std::string, int>> missing;  // in first-seen order
  for (const TfOperator& op : model.operators) {
    if (find_handler(model.operator_codes[op.opcode_index])) continue;
    const std::string name = operator_name(model, op);
    auto it = std::find_if(missing.begin(), missing.end(),
                           [&](const auto& p) { return p.first == name; });
    if (it == missing.end())
      missing.emplace_back(name, 1);
    else
      ++it->second;
  }
  if (missing.empty()) return Status::ok();
  std::string message = "unsupported operators: ";
  for (size_t i = 0; i < missing.size(); ++i) {
    if (i) message += ", ";
    message += missing[i].first + " x" + std::to_string(missing[i].second);
  }
  return unsupported(message);
}

}  // namespace polyhead::tflite
