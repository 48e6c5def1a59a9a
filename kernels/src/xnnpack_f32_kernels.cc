// Float kernels on XNNPACK's fp32 operators: the operators of xnnpack_float_operators.h in
// float32, and those XNNPACK has in float32 only.
#include <xnnpack.h>

#include <cmath>
#include <limits>

#include "polyhead/kernels/shape_inference.h"
#include "xnnpack_float_kernels.h"
#include "xnnpack_float_operators.h"

namespace polyhead::kernels {
namespace {

using schema::OpKind;

// XNNPACK's fp32 functions for xnnpack_float_operators.h.
struct F32 {
  static constexpr bool kHalf = false;
  using Data = float;
  // XNNPACK rejects an output range with min == max, which the format allows (a constant
  // output): widen it by one ulp, the nearest range XNNPACK accepts.
  static ActivationRange range(ActivationRange r) {
    if (r.min == r.max && std::isfinite(r.max))
      r.max = std::nextafter(r.max, std::numeric_limits<float>::infinity());
    return r;
  }
  static constexpr auto create_convolution = xnn_create_convolution2d_nhwc_f32;
  static constexpr auto setup_convolution = xnn_setup_convolution2d_nhwc_f32;
  static constexpr auto create_deconvolution = xnn_create_deconvolution2d_nhwc_f32;
  static constexpr auto setup_deconvolution = xnn_setup_deconvolution2d_nhwc_f32;
  static constexpr auto create_fully_connected = xnn_create_fully_connected_nc_f32;
  static constexpr auto setup_fully_connected = xnn_setup_fully_connected_nc_f32;
  static constexpr auto create_max_pooling = xnn_create_max_pooling2d_nhwc_f32;
  static constexpr auto setup_max_pooling = xnn_setup_max_pooling2d_nhwc_f32;
  static constexpr auto create_average_pooling = xnn_create_average_pooling2d_nhwc_f32;
  static constexpr auto setup_average_pooling = xnn_setup_average_pooling2d_nhwc_f32;
  static constexpr auto create_global_average_pooling = xnn_create_global_average_pooling_nwc_f32;
  static constexpr auto setup_global_average_pooling = xnn_setup_global_average_pooling_nwc_f32;
  static constexpr auto create_resize_bilinear = xnn_create_resize_bilinear2d_nhwc_f32;
  static constexpr auto setup_resize_bilinear = xnn_setup_resize_bilinear2d_nhwc_f32;
  static constexpr auto create_clamp = xnn_create_clamp_nc_f32;
  static constexpr auto setup_clamp = xnn_setup_clamp_nc_f32;
  static constexpr auto create_leaky_relu = xnn_create_leaky_relu_nc_f32;
  static constexpr auto setup_leaky_relu = xnn_setup_leaky_relu_nc_f32;
  static constexpr auto create_prelu = xnn_create_prelu_nc_f32;
  static constexpr auto setup_prelu = xnn_setup_prelu_nc_f32;
};

// DEPTH_TO_SPACE moves 32-bit words (XNNPACK's x32 operator): float32 only.
class DepthToSpace final : public XnnFloatKernel {
 public:
  explicit DepthToSpace(const NodeDesc& d) : XnnFloatKernel(d, F32::kHalf) {}

 private:
  xnn_status create_op(const NodeDesc& d) override {
    const auto block =
        static_cast<uint32_t>(d.node->options_as_DepthToSpaceOptions()->block_size());
    return xnn_create_depth_to_space_nhwc_x32(dim(out_, 3), dim(in_, 3), dim(out_, 3), block, 0,
                                              &op_);
  }
  xnn_status setup_op(const void* const* in, void* out, pthreadpool_t pool) override {
    return xnn_setup_depth_to_space_nhwc_x32(op_, dim(in_, 0), dim(in_, 1), dim(in_, 2), in[0], out,
                                             pool);
  }
};

// CHANNEL_SHUFFLE moves 32-bit words too (XNNPACK's x32 operator): every position of the leading
// dimensions is one row of groups x (C / groups) channels.
class ChannelShuffle final : public XnnFloatKernel {
 public:
  explicit ChannelShuffle(const NodeDesc& d) : XnnFloatKernel(d, F32::kHalf) {}

 private:
  xnn_status create_op(const NodeDesc& d) override {
    const auto groups = static_cast<size_t>(d.node->options_as_ChannelShuffleOptions()->groups());
    const size_t channels = last_dim(in_);
    return xnn_create_channel_shuffle_nc_x32(groups, channels / groups, channels, channels, 0,
                                             &op_);
  }
  xnn_status setup_op(const void* const* in, void* out, pthreadpool_t pool) override {
    return xnn_setup_channel_shuffle_nc_x32(op_, rows(), in[0], out, pool);
  }
};

}  // namespace

KernelResult create_xnnpack_f32_kernel(const NodeDesc& d) {
  const OpKind op = d.node->op();
  switch (op) {
    case OpKind::CONV_2D:
    case OpKind::DEPTHWISE_CONV_2D:
      return make_float<Conv2D<F32>>(d);
    case OpKind::TRANSPOSE_CONV_2D:
      return make_float<TransposeConv2D<F32>>(d);
    case OpKind::FULLY_CONNECTED:
      return make_float<FullyConnected<F32>>(d);
    case OpKind::ADD:
      return make_float<Binary<F32>>(
          d, BinaryFunctions<F32>{xnn_create_add_nd_f32, xnn_setup_add_nd_f32});
    case OpKind::SUB:
      return make_float<Binary<F32>>(
          d, BinaryFunctions<F32>{xnn_create_subtract_nd_f32, xnn_setup_subtract_nd_f32});
    case OpKind::MUL:
      return make_float<Binary<F32>>(
          d, BinaryFunctions<F32>{xnn_create_multiply_nd_f32, xnn_setup_multiply_nd_f32});
    case OpKind::DIV:
      return make_float<Binary<F32>>(
          d, BinaryFunctions<F32>{xnn_create_divide_nd_f32, xnn_setup_divide_nd_f32});
    case OpKind::MAX_POOL_2D:
      return make_float<MaxPool2D<F32>>(d);
    case OpKind::AVERAGE_POOL_2D:
      return make_float<AveragePool2D<F32>>(d);
    case OpKind::MEAN:
      return make_float<Mean<F32>>(d);
    case OpKind::RESIZE:  // bilinear (Polyhead's own kernel takes nearest)
      return make_float<ResizeBilinear<F32>>(d);
    case OpKind::SOFTMAX:  // beta 1 (Polyhead's own kernel takes other betas)
      return make_float<Elementwise<F32>>(
          d, ElementwiseFunctions<F32>{xnn_create_softmax_nc_f32, xnn_setup_softmax_nc_f32});
    case OpKind::CLAMP:
      return make_float<Clamp<F32>>(d);
    case OpKind::HARD_SWISH:
      return make_float<Elementwise<F32>>(
          d, ElementwiseFunctions<F32>{xnn_create_hardswish_nc_f32, xnn_setup_hardswish_nc_f32});
    case OpKind::SIGMOID:
      return make_float<Elementwise<F32>>(
          d, ElementwiseFunctions<F32>{xnn_create_sigmoid_nc_f32, xnn_setup_sigmoid_nc_f32});
    case OpKind::ABS:
      return make_float<Elementwise<F32>>(
          d, ElementwiseFunctions<F32>{xnn_create_abs_nc_f32, xnn_setup_abs_nc_f32});
    case OpKind::LEAKY_RELU:
      return make_float<LeakyRelu<F32>>(d);
    case OpKind::PRELU:
      return make_float<PRelu<F32>>(d);
    case OpKind::DEPTH_TO_SPACE:
      return make_float<DepthToSpace>(d);
    case OpKind::CHANNEL_SHUFFLE:
      return make_float<ChannelShuffle>(d);
    case OpKind::PAD:            // Polyhead's own kernels
    case OpKind::TANH:           // ...
    case OpKind::SILU:           // ...
    case OpKind::RESHAPE:        // ...
    case OpKind::CONCATENATION:  // ...
    case OpKind::TRANSPOSE:      // ...
    case OpKind::SLICE:          // ...
    case OpKind::QUANTIZE:       // int8 kernels
    case OpKind::DEQUANTIZE:     // ...
      return not_handled();
  }
  return unlisted_operator(d, "XNNPACK float32");
}

}  // namespace polyhead::kernels
