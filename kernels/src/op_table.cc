#include "polyhead/kernels/op_table.h"

#include "shape_rules.h"

namespace polyhead::kernels {
namespace {

using schema::OpKind;
using schema::OpOptions;
using I8 = Int8Support;
namespace rule = shape_rules;

// Entry k describes OpKind k (checked below at compile time). The int8 column follows the
// kernels: kInputQuantization where the int8 kernel refuses an output whose scale or zero point
// differ from its input's (require_same), kFloatOnly where create_int8_kernel refuses the node.
constexpr OpInfo kOps[] = {
    // kind, name, options, optional, shapes, MACs, int8, since 1.x
    {OpKind::CONV_2D, "CONV_2D", OpOptions::Conv2DOptions, false, rule::conv2d, rule::conv2d_macs,
     I8::kOwnQuantization, 0},
    {OpKind::DEPTHWISE_CONV_2D, "DEPTHWISE_CONV_2D", OpOptions::Conv2DOptions, false, rule::conv2d,
     rule::conv2d_macs, I8::kOwnQuantization, 0},
    {OpKind::FULLY_CONNECTED, "FULLY_CONNECTED", OpOptions::FullyConnectedOptions, true,
     rule::fully_connected, rule::fully_connected_macs, I8::kOwnQuantization, 0},
    {OpKind::ADD, "ADD", OpOptions::BinaryOptions, true, rule::binary, rule::per_output_element,
     I8::kOwnQuantization, 0},
    {OpKind::SUB, "SUB", OpOptions::BinaryOptions, true, rule::binary, rule::per_output_element,
     I8::kOwnQuantization, 0},
    {OpKind::MUL, "MUL", OpOptions::BinaryOptions, true, rule::binary, rule::per_output_element,
     I8::kOwnQuantization, 0},
    {OpKind::DIV, "DIV", OpOptions::BinaryOptions, true, rule::binary, rule::per_output_element,
     I8::kFloatOnly, 0},
    {OpKind::MAX_POOL_2D, "MAX_POOL_2D", OpOptions::Pool2DOptions, false, rule::pool2d,
     rule::pool2d_macs, I8::kInputQuantization, 0},
    {OpKind::AVERAGE_POOL_2D, "AVERAGE_POOL_2D", OpOptions::Pool2DOptions, false, rule::pool2d,
     rule::pool2d_macs, I8::kOwnQuantization, 0},
    {OpKind::MEAN, "MEAN", OpOptions::MeanOptions, true, rule::mean, rule::mean_macs,
     I8::kOwnQuantization, 0},
    {OpKind::PAD, "PAD", OpOptions::PadOptions, false, rule::pad, rule::per_output_element,
     I8::kInputQuantization, 0},
    {OpKind::RESIZE, "RESIZE", OpOptions::ResizeOptions, false, rule::resize,
     rule::per_output_element, I8::kInputQuantization, 0},
    {OpKind::SOFTMAX, "SOFTMAX", OpOptions::SoftmaxOptions, true, rule::softmax,
     rule::per_output_element, I8::kFloatOnly, 0},
    {OpKind::CLAMP, "CLAMP", OpOptions::ClampOptions, true, rule::clamp, rule::per_output_element,
     I8::kOwnQuantization, 0},
    {OpKind::HARD_SWISH, "HARD_SWISH", OpOptions::NONE, false, rule::elementwise,
     rule::per_output_element, I8::kOwnQuantization, 0},
    {OpKind::SIGMOID, "SIGMOID", OpOptions::NONE, false, rule::elementwise,
     rule::per_output_element, I8::kOwnQuantization, 0},
    {OpKind::TANH, "TANH", OpOptions::NONE, false, rule::elementwise, rule::per_output_element,
     I8::kOwnQuantization, 0},
    {OpKind::LEAKY_RELU, "LEAKY_RELU", OpOptions::LeakyReluOptions, true, rule::leaky_relu,
     rule::per_output_element, I8::kOwnQuantization, 0},
    {OpKind::PRELU, "PRELU", OpOptions::NONE, false, rule::prelu, rule::per_output_element,
     I8::kFloatOnly, 0},
    {OpKind::TRANSPOSE_CONV_2D, "TRANSPOSE_CONV_2D", OpOptions::TransposeConv2DOptions, false,
     rule::transpose_conv2d, rule::transpose_conv2d_macs, I8::kOwnQuantization, 0},
    {OpKind::DEPTH_TO_SPACE, "DEPTH_TO_SPACE", OpOptions::DepthToSpaceOptions, false,
     rule::depth_to_space, rule::per_output_element, I8::kInputQuantization, 0},
    {OpKind::RESHAPE, "RESHAPE", OpOptions::ReshapeOptions, false, rule::reshape,
     rule::per_output_element, I8::kInputQuantization, 0},
    // Requantizes each input to the output's parameters, so the output has its own.
    {OpKind::CONCATENATION, "CONCATENATION", OpOptions::ConcatenationOptions, false,
     rule::concatenation, rule::per_output_element, I8::kOwnQuantization, 0},
    {OpKind::TRANSPOSE, "TRANSPOSE", OpOptions::TransposeOptions, false, rule::transpose,
     rule::per_output_element, I8::kInputQuantization, 0},
    {OpKind::QUANTIZE, "QUANTIZE", OpOptions::NONE, false, rule::elementwise,
     rule::per_output_element, I8::kConversion, 2},
    {OpKind::DEQUANTIZE, "DEQUANTIZE", OpOptions::NONE, false, rule::elementwise,
     rule::per_output_element, I8::kConversion, 2},
    {OpKind::ABS, "ABS", OpOptions::NONE, false, rule::elementwise, rule::per_output_element,
     I8::kOwnQuantization, 3},
    {OpKind::SILU, "SILU", OpOptions::NONE, false, rule::elementwise, rule::per_output_element,
     I8::kOwnQuantization, 4},
    {OpKind::SLICE, "SLICE", OpOptions::SliceOptions, false, rule::slice, rule::per_output_element,
     I8::kInputQuantization, 5},
    {OpKind::CHANNEL_SHUFFLE, "CHANNEL_SHUFFLE", OpOptions::ChannelShuffleOptions, false,
     rule::channel_shuffle, rule::per_output_element, I8::kInputQuantization, 5},
};

constexpr size_t kOpCount = sizeof(kOps) / sizeof(kOps[0]);

static_assert(static_cast<size_t>(OpKind::MIN) == 0, "the table is indexed by OpKind value");
static_assert(kOpCount == static_cast<size_t>(OpKind::MAX) + 1,
              "one entry per OpKind: a new operator in schema/phm.fbs needs its entry here");

constexpr bool in_kind_order() {
  for (size_t i = 0; i < kOpCount; ++i)
    if (static_cast<size_t>(kOps[i].kind) != i) return false;
  return true;
}
static_assert(in_kind_order(), "entry k must describe OpKind k");

}  // namespace

Result<const OpInfo*> op_info(schema::OpKind kind) {
  if (kind < OpKind::MIN || kind > OpKind::MAX)
    return Status(ErrorCode::kUnsupported, "unknown operator kind " + op_kind_name(kind));
  return &kOps[static_cast<size_t>(kind)];
}

Result<const OpInfo*> op_info(std::string_view name) {
  for (const OpInfo& op : kOps)
    if (name == op.name) return &op;
  return Status(ErrorCode::kNotFound, "no operator is named '" + std::string(name) + "'");
}

std::string op_kind_name(schema::OpKind kind) {
  if (kind < OpKind::MIN || kind > OpKind::MAX)
    return "UNKNOWN(" + std::to_string(static_cast<int>(kind)) + ")";
  return kOps[static_cast<size_t>(kind)].name;
}

}  // namespace polyhead::kernels
