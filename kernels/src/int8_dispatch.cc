#include "int8_dispatch.h"

#include "polyhead/kernels/kernel_variant.h"
#include "polyhead/kernels/op_table.h"

namespace polyhead::kernels {
namespace {

using schema::OpKind;

// Inputs whose type the operator itself defines (weights and bias), checked by the kernel.
size_t activation_inputs(OpKind op, size_t inputs) {
  switch (op) {
    case OpKind::CONV_2D:
    case OpKind::DEPTHWISE_CONV_2D:
    case OpKind::FULLY_CONNECTED:
    case OpKind::TRANSPOSE_CONV_2D:
      return 1;
    case OpKind::ADD:
    case OpKind::SUB:
    case OpKind::MUL:
    case OpKind::DIV:
    case OpKind::MAX_POOL_2D:
    case OpKind::AVERAGE_POOL_2D:
    case OpKind::MEAN:
    case OpKind::PAD:
    case OpKind::RESIZE:
    case OpKind::SOFTMAX:
    case OpKind::CLAMP:
    case OpKind::HARD_SWISH:
    case OpKind::SIGMOID:
    case OpKind::TANH:
    case OpKind::ABS:
    case OpKind::SILU:
    case OpKind::LEAKY_RELU:
    case OpKind::PRELU:
    case OpKind::DEPTH_TO_SPACE:
    case OpKind::RESHAPE:
    case OpKind::CONCATENATION:
    case OpKind::TRANSPOSE:
    case OpKind::SLICE:
    case OpKind::CHANNEL_SHUFFLE:
    case OpKind::QUANTIZE:
    case OpKind::DEQUANTIZE:
      return inputs;
  }
  return inputs;  // an operator kind not listed: every input is checked as an activation
}

}  // namespace

bool is_int8_node(const NodeDesc& d) {
  const OpKind op = d.node->op();
  if (op == OpKind::QUANTIZE || op == OpKind::DEQUANTIZE) return true;
  for (const auto* list : {&d.inputs, &d.outputs})
    for (const OperandDesc& o : *list)
      if (o.present && o.type == ElementType::kI8) return true;
  return false;
}

Result<std::unique_ptr<Kernel>> create_int8_kernel(const NodeDesc& d) {
  const schema::Node& node = *d.node;
  const OpKind op = node.op();
  if (op == OpKind::QUANTIZE || op == OpKind::DEQUANTIZE) return create_xnnpack_convert_kernel(d);
  PH_ASSIGN_OR_RETURN(const OpInfo* info, op_info(op));
  if (info->float_only())
    return Status(ErrorCode::kUnsupported,
                  node_label(node) + " has an i8 tensor, but " + op_kind_name(op) +
                      " runs in float only: put DEQUANTIZE before it and QUANTIZE after it "
                      "(docs/int8.md)");
  PH_ASSIGN_OR_RETURN(const QParams in, activation_params(node, d.inputs[0], "input 0"));
  PH_ASSIGN_OR_RETURN(const QParams out, activation_params(node, d.outputs[0], "output"));
  for (size_t i = 1; i < activation_inputs(op, d.inputs.size()); ++i)
    if (d.inputs[i].present)
      PH_RETURN_IF_ERROR(
          activation_params(node, d.inputs[i], "input " + std::to_string(i)).status());
  std::unique_ptr<Kernel> k;
  // Small convolutions first where the variant vectorizes them over pixels.
  PH_ASSIGN_OR_RETURN(const Isa isa, selected_isa());
  const KernelVariant& variant = *kernel_variant(isa);
  if (variant.qs8_pixel_conv) {
    PH_ASSIGN_OR_RETURN(k, create_own_int8_pixel_conv(d, in, out, variant.qs8_pixel_conv,
                                                      variant.qs8_pixel_regroup));
    if (k) return k;
  }
  PH_ASSIGN_OR_RETURN(k, create_own_int8_gemm_kernel(d, in, out));
  if (k) return k;
  // int8 depthwise convolution: Polyhead's own before XNNPACK's.
  PH_ASSIGN_OR_RETURN(k, create_own_int8_depthwise_kernel(d, in, out));
  if (k) return k;
  // Own PAD, bilinear RESIZE, ADD/SUB/MUL: faster than XNNPACK's (docs/int8.md "Speed").
  for (auto* own : {create_own_int8_pad_kernel, create_own_int8_resize_kernel,
                    create_own_int8_elementwise_kernel}) {
    PH_ASSIGN_OR_RETURN(k, own(d, in, out));
    if (k) return k;
  }
  PH_ASSIGN_OR_RETURN(k, create_xnnpack_int8_kernel(d, in, out));
  if (k) return k;
  PH_ASSIGN_OR_RETURN(k, create_own_int8_kernel(d, in, out));
  if (k) return k;
  return Status(ErrorCode::kUnsupported,
                node_label(node) + ": " + op_kind_name(op) + " has no int8 kernel in this build");
}

}  // namespace polyhead::kernels
