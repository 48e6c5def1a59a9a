// Half-precision kernels (Precision::kF16): the operators of xnnpack_float_operators.h on
// XNNPACK's f16 functions, between float32 tensors converted on the way in and out.
#include <xnnpack.h>

#include "xnnpack_float_kernels.h"
#include "xnnpack_float_operators.h"

namespace polyhead::kernels {
namespace {

using schema::OpKind;

// XNNPACK's f16 functions for xnnpack_float_operators.h.
struct F16 {
  static constexpr bool kHalf = true;
  using Data = void;  // binary16 values, which XNNPACK's f16 functions take untyped
  // Taken as it is: a range that collapses in half precision makes XNNPACK reject the operator,
  // and the node then runs in float32.
  static ActivationRange range(ActivationRange r) { return r; }
  static constexpr auto create_convolution = xnn_create_convolution2d_nhwc_f16;
  static constexpr auto setup_convolution = xnn_setup_convolution2d_nhwc_f16;
  static constexpr auto create_deconvolution = xnn_create_deconvolution2d_nhwc_f16;
  static constexpr auto setup_deconvolution = xnn_setup_deconvolution2d_nhwc_f16;
  static constexpr auto create_fully_connected = xnn_create_fully_connected_nc_f16;
  static constexpr auto setup_fully_connected = xnn_setup_fully_connected_nc_f16;
  static constexpr auto create_max_pooling = xnn_create_max_pooling2d_nhwc_f16;
  static constexpr auto setup_max_pooling = xnn_setup_max_pooling2d_nhwc_f16;
  static constexpr auto create_global_average_pooling = xnn_create_global_average_pooling_nwc_f16;
  static constexpr auto setup_global_average_pooling = xnn_setup_global_average_pooling_nwc_f16;
  static constexpr auto create_resize_bilinear = xnn_create_resize_bilinear2d_nhwc_f16;
  static constexpr auto setup_resize_bilinear = xnn_setup_resize_bilinear2d_nhwc_f16;
  static constexpr auto create_clamp = xnn_create_clamp_nc_f16;
  static constexpr auto setup_clamp = xnn_setup_clamp_nc_f16;
  static constexpr auto create_leaky_relu = xnn_create_leaky_relu_nc_f16;
  static constexpr auto setup_leaky_relu = xnn_setup_leaky_relu_nc_f16;
  static constexpr auto create_prelu = xnn_create_prelu_nc_f16;
  static constexpr auto setup_prelu = xnn_setup_prelu_nc_f16;
};

KernelResult create(const NodeDesc& d) {
  // Weights and slopes are converted once at create, so they must be constants.
  const bool constant_second = d.inputs.size() > 1 && d.inputs[1].constant;
  switch (d.node->op()) {
    case OpKind::CONV_2D:
    case OpKind::DEPTHWISE_CONV_2D:
      if (!constant_second) return not_handled();
      return make_float<Conv2D<F16>>(d);
    case OpKind::TRANSPOSE_CONV_2D:
      if (!constant_second) return not_handled();
      return make_float<TransposeConv2D<F16>>(d);
    case OpKind::FULLY_CONNECTED:
      if (!constant_second) return not_handled();
      return make_float<FullyConnected<F16>>(d);
    case OpKind::ADD:
      return make_float<Binary<F16>>(
          d, BinaryFunctions<F16>{xnn_create_add_nd_f16, xnn_setup_add_nd_f16});
    case OpKind::MUL:
      return make_float<Binary<F16>>(
          d, BinaryFunctions<F16>{xnn_create_multiply_nd_f16, xnn_setup_multiply_nd_f16});
    case OpKind::MAX_POOL_2D:
      return make_float<MaxPool2D<F16>>(d);
    case OpKind::MEAN:
      return make_float<Mean<F16>>(d);
    case OpKind::RESIZE:  // bilinear (Polyhead's own kernel takes nearest)
      return make_float<ResizeBilinear<F16>>(d);
    case OpKind::CLAMP:
      return make_float<Clamp<F16>>(d);
    case OpKind::HARD_SWISH:
      return make_float<Elementwise<F16>>(
          d, ElementwiseFunctions<F16>{xnn_create_hardswish_nc_f16, xnn_setup_hardswish_nc_f16});
    case OpKind::LEAKY_RELU:
      return make_float<LeakyRelu<F16>>(d);
    case OpKind::PRELU:
      if (!constant_second) return not_handled();
      return make_float<PRelu<F16>>(d);
    // No f16 operator in this XNNPACK: the node runs in float32.
    case OpKind::SUB:
    case OpKind::DIV:
    case OpKind::AVERAGE_POOL_2D:
    case OpKind::SOFTMAX:
    case OpKind::SIGMOID:
    case OpKind::ABS:
    case OpKind::DEPTH_TO_SPACE:
    case OpKind::CHANNEL_SHUFFLE:
      return not_handled();
    // Polyhead's own kernels, and the int8 ones.
    case OpKind::PAD:
    case OpKind::TANH:
    case OpKind::SILU:
    case OpKind::RESHAPE:
    case OpKind::CONCATENATION:
    case OpKind::TRANSPOSE:
    case OpKind::SLICE:
    case OpKind::QUANTIZE:
    case OpKind::DEQUANTIZE:
      return not_handled();
  }
  return unlisted_operator(d, "XNNPACK f16");
}

}  // namespace

KernelResult create_xnnpack_f16_kernel(const NodeDesc& d) {
  // XNNPACK rejecting the node in half precision (a fused range that collapses there, a CPU
  // without f16 support) leaves it to float32 as well.
  return unsupported_as_not_handled(create(d));
}

}  // namespace polyhead::kernels
