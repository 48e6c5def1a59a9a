#include "xnnpack_kernels.h"

#include <xnnpack.h>

#include <array>
#include <cmath>
#include <limits>
#include <string>

#include "polyhead/kernels/shape_inference.h"
#include "xnnpack_operator.h"

namespace polyhead::kernels {
namespace {

const char* xnn_status_name(xnn_status s) {
  switch (s) {
    case xnn_status_success:
      return "success";
    case xnn_status_uninitialized:
      return "uninitialized";
    case xnn_status_invalid_parameter:
      return "invalid parameter";
    case xnn_status_invalid_state:
      return "invalid state";
    case xnn_status_unsupported_parameter:
      return "unsupported parameter";
    case xnn_status_unsupported_hardware:
      return "unsupported hardware";
    case xnn_status_out_of_memory:
      return "out of memory";
  }
  return "unknown status";
}

}  // namespace

Status xnn_check(xnn_status s, const schema::Node& node, const char* stage, const char* variant) {
  if (s == xnn_status_success) return Status::ok();
  const ErrorCode code =
      s == xnn_status_out_of_memory ? ErrorCode::kOutOfMemory
      : s == xnn_status_invalid_parameter || s == xnn_status_unsupported_parameter
          ? ErrorCode::kUnsupported
          : ErrorCode::kInternal;
  return Status(code, std::string("XNNPACK ") + variant + stage + " of " + op_kind_name(node.op()) +
                          " node '" + node.name()->str() + "' failed: " + xnn_status_name(s));
}

namespace {

using schema::OpKind;

// XNNPACK rejects an output range with min == max, which the format allows (a constant output):
// widen it by one ulp, the nearest range XNNPACK accepts.
ActivationRange xnn_range(float lo, float hi) {
  if (lo == hi && std::isfinite(hi))
    hi = std::nextafter(hi, std::numeric_limits<float>::infinity());
  return {lo, hi};
}

ActivationRange xnn_activation(const schema::Node& node) {
  const ActivationRange a = fused_activation(node);
  return xnn_range(a.min, a.max);
}

size_t constant_bytes(const NodeDesc& d, size_t first) {
  size_t bytes = 0;
  for (size_t i = first; i < d.inputs.size(); ++i)
    if (d.inputs[i].present && d.inputs[i].constant)
      bytes += elements(d.inputs[i].shape) * sizeof(float);
  return bytes;
}

class Conv2D final : public XnnKernel {
 public:
  using XnnKernel::XnnKernel;
  Status create(const NodeDesc& d) {
    const auto* o = d.node->options_as_Conv2DOptions();
    const ActivationRange act = xnn_activation(*d.node);
    const Shape& w = d.inputs[1].shape;
    const auto groups = static_cast<uint32_t>(o->groups());
    const float* bias = d.inputs.size() > 2 && d.inputs[2].present
                            ? static_cast<const float*>(d.inputs[2].constant)
                            : nullptr;
    packed_bytes_ = constant_bytes(d, 1);
    return created(xnn_create_convolution2d_nhwc_f32(
        o->pad_top(), o->pad_right(), o->pad_bottom(), o->pad_left(), dim(w, 1), dim(w, 2),
        o->stride_h(), o->stride_w(), o->dilation_h(), o->dilation_w(), groups, dim(w, 3),
        dim(w, 0) / groups, dim(in_, 3), dim(out_, 3),
        static_cast<const float*>(d.inputs[1].constant), bias, act.min, act.max, 0, &op_));
  }
  Status setup(const void* const* in, void* const* out, pthreadpool_t pool) override {
    return set_up(xnn_setup_convolution2d_nhwc_f32(op_, dim(in_, 0), dim(in_, 1), dim(in_, 2),
                                                   static_cast<const float*>(in[0]),
                                                   static_cast<float*>(out[0]), pool));
  }
};

class TransposeConv2D final : public XnnKernel {
 public:
  using XnnKernel::XnnKernel;
  Status create(const NodeDesc& d) {
    o_ = d.node->options_as_TransposeConv2DOptions();
    const ActivationRange act = xnn_activation(*d.node);
    const Shape& w = d.inputs[1].shape;
    const float* bias = d.inputs.size() > 2 && d.inputs[2].present
                            ? static_cast<const float*>(d.inputs[2].constant)
                            : nullptr;
    packed_bytes_ = constant_bytes(d, 1);
    return created(xnn_create_deconvolution2d_nhwc_f32(
        o_->pad_top(), o_->pad_right(), o_->pad_bottom(), o_->pad_left(), dim(w, 1), dim(w, 2),
        o_->stride_h(), o_->stride_w(), 1, 1, 1, dim(w, 3), dim(w, 0), dim(in_, 3), dim(out_, 3),
        static_cast<const float*>(d.inputs[1].constant), bias, act.min, act.max, 0, &op_));
  }
  Status setup(const void* const* in, void* const* out, pthreadpool_t pool) override {
    return set_up(xnn_setup_deconvolution2d_nhwc_f32(
        op_, dim(in_, 0), dim(in_, 1), dim(in_, 2), o_->adjustment_h(), o_->adjustment_w(),
        static_cast<const float*>(in[0]), static_cast<float*>(out[0]), pool));
  }

 private:
  const schema::TransposeConv2DOptions* o_ = nullptr;
};

class FullyConnected final : public XnnKernel {
 public:
  using XnnKernel::XnnKernel;
  Status create(const NodeDesc& d) {
    const ActivationRange act = xnn_activation(*d.node);
    const Shape& w = d.inputs[1].shape;
    const float* bias = d.inputs.size() > 2 && d.inputs[2].present
                            ? static_cast<const float*>(d.inputs[2].constant)
                            : nullptr;
    packed_bytes_ = constant_bytes(d, 1);
    return created(xnn_create_fully_connected_nc_f32(
        dim(w, 1), dim(w, 0), dim(w, 1), dim(w, 0), static_cast<const float*>(d.inputs[1].constant),
        bias, act.min, act.max, 0, &op_));
  }
  Status setup(const void* const* in, void* const* out, pthreadpool_t pool) override {
    return set_up(xnn_setup_fully_connected_nc_f32(op_, elements(in_) / last_dim(in_),
                                                   static_cast<const float*>(in[0]),
                                                   static_cast<float*>(out[0]), pool));
  }
};

class Binary final : public XnnKernel {
 public:
  using XnnKernel::XnnKernel;
  using Setup = xnn_status (*)(xnn_operator_t, size_t, const size_t*, size_t, const size_t*,
                               const float*, const float*, float*, pthreadpool_t);
  Status create(const NodeDesc& d) {
    const ActivationRange act = xnn_activation(*d.node);
    for (size_t i = 0; i < 2; ++i) {
      rank_[i] = d.inputs[i].shape.rank();
      for (size_t k = 0; k < rank_[i]; ++k) shape_[i][k] = dim(d.inputs[i].shape, k);
    }
    switch (d.node->op()) {
      case OpKind::ADD:
        setup_fn_ = xnn_setup_add_nd_f32;
        return created(xnn_create_add_nd_f32(act.min, act.max, 0, &op_));
      case OpKind::SUB:
        setup_fn_ = xnn_setup_subtract_nd_f32;
        return created(xnn_create_subtract_nd_f32(act.min, act.max, 0, &op_));
      case OpKind::MUL:
        setup_fn_ = xnn_setup_multiply_nd_f32;
        return created(xnn_create_multiply_nd_f32(act.min, act.max, 0, &op_));
      default:
        setup_fn_ = xnn_setup_divide_nd_f32;
        return created(xnn_create_divide_nd_f32(act.min, act.max, 0, &op_));
    }
  }
  Status setup(const void* const* in, void* const* out, pthreadpool_t pool) override {
    return set_up(setup_fn_(op_, rank_[0], shape_[0].data(), rank_[1], shape_[1].data(),
                            static_cast<const float*>(in[0]), static_cast<const float*>(in[1]),
                            static_cast<float*>(out[0]), pool));
  }

 private:
  Setup setup_fn_ = nullptr;
  std::array<std::array<size_t, Shape::kMaxDims>, 2> shape_{};
  std::array<size_t, 2> rank_{};
};

class Pool2D final : public XnnKernel {
 public:
  using XnnKernel::XnnKernel;
  Status create(const NodeDesc& d) {
    const auto* o = d.node->options_as_Pool2DOptions();
    const ActivationRange act = xnn_activation(*d.node);
    const size_t c = dim(in_, 3);
    max_ = d.node->op() == OpKind::MAX_POOL_2D;
    if (max_)
      return created(xnn_create_max_pooling2d_nhwc_f32(
          o->pad_top(), o->pad_right(), o->pad_bottom(), o->pad_left(), o->filter_h(),
          o->filter_w(), o->stride_h(), o->stride_w(), 1, 1, c, c, c, act.min, act.max, 0, &op_));
    return created(xnn_create_average_pooling2d_nhwc_f32(
        o->pad_top(), o->pad_right(), o->pad_bottom(), o->pad_left(), o->filter_h(), o->filter_w(),
        o->stride_h(), o->stride_w(), c, c, c, act.min, act.max, 0, &op_));
  }
  Status setup(const void* const* in, void* const* out, pthreadpool_t pool) override {
    const auto* x = static_cast<const float*>(in[0]);
    auto* y = static_cast<float*>(out[0]);
    if (max_)
      return set_up(
          xnn_setup_max_pooling2d_nhwc_f32(op_, dim(in_, 0), dim(in_, 1), dim(in_, 2), x, y, pool));
    return set_up(xnn_setup_average_pooling2d_nhwc_f32(op_, dim(in_, 0), dim(in_, 1), dim(in_, 2),
                                                       x, y, pool));
  }

 private:
  bool max_ = false;
};

class Mean final : public XnnKernel {
 public:
  using XnnKernel::XnnKernel;
  Status create(const NodeDesc&) {
    const size_t c = dim(in_, 3);
    return created(
        xnn_create_global_average_pooling_nwc_f32(c, c, c, -std::numeric_limits<float>::infinity(),
                                                  std::numeric_limits<float>::infinity(), 0, &op_));
  }
  Status setup(const void* const* in, void* const* out, pthreadpool_t pool) override {
    return set_up(xnn_setup_global_average_pooling_nwc_f32(
        op_, dim(in_, 0), dim(in_, 1) * dim(in_, 2), static_cast<const float*>(in[0]),
        static_cast<float*>(out[0]), pool));
  }
};

class Pad final : public XnnKernel {
 public:
  using XnnKernel::XnnKernel;
  Status create(const NodeDesc& d) {
    const auto* o = d.node->options_as_PadOptions();
    for (size_t i = 0; i < in_.rank(); ++i) {
      shape_[i] = dim(in_, i);
      before_[i] = static_cast<size_t>(o->before()->Get(i));
      after_[i] = static_cast<size_t>(o->after()->Get(i));
    }
    value_ = o->value();
    return created(xnn_create_constant_pad_nd_x32(&value_, 0, &op_));
  }
  Status setup(const void* const* in, void* const* out, pthreadpool_t pool) override {
    return set_up(xnn_setup_constant_pad_nd_x32(op_, in_.rank(), shape_.data(), before_.data(),
                                                after_.data(), in[0], out[0], pool));
  }

 private:
  std::array<size_t, Shape::kMaxDims> shape_{}, before_{}, after_{};
  float value_ = 0.f;
};

class ResizeBilinear final : public XnnKernel {
 public:
  using XnnKernel::XnnKernel;
  Status create(const NodeDesc& d) {
    const auto* o = d.node->options_as_ResizeOptions();
    const uint32_t flags =
        o->coordinates() == schema::CoordinateMode::ALIGN_CORNERS ? XNN_FLAG_ALIGN_CORNERS
        : o->coordinates() == schema::CoordinateMode::ASYMMETRIC  ? XNN_FLAG_TENSORFLOW_LEGACY_MODE
                                                                  : 0;
    const size_t c = dim(in_, 3);
    return created(xnn_create_resize_bilinear2d_nhwc_f32(c, c, c, flags, &op_));
  }
  Status setup(const void* const* in, void* const* out, pthreadpool_t pool) override {
    return set_up(xnn_setup_resize_bilinear2d_nhwc_f32(
        op_, dim(in_, 0), dim(in_, 1), dim(in_, 2), dim(out_, 1), dim(out_, 2),
        static_cast<const float*>(in[0]), static_cast<float*>(out[0]), pool));
  }
};

// Elementwise operators with XNNPACK's "nc" signature: rows x channels over the last dimension.
class Unary final : public XnnKernel {
 public:
  using XnnKernel::XnnKernel;
  using Setup = xnn_status (*)(xnn_operator_t, size_t, const float*, float*, pthreadpool_t);
  Status create(const NodeDesc& d) {
    const size_t c = last_dim(in_);
    switch (d.node->op()) {
      case OpKind::CLAMP: {
        const auto* o = d.node->options_as_ClampOptions();
        const ActivationRange r = xnn_range(o ? o->min() : -std::numeric_limits<float>::infinity(),
                                            o ? o->max() : std::numeric_limits<float>::infinity());
        setup_fn_ = xnn_setup_clamp_nc_f32;
        return created(xnn_create_clamp_nc_f32(c, c, c, r.min, r.max, 0, &op_));
      }
      case OpKind::HARD_SWISH:
        setup_fn_ = xnn_setup_hardswish_nc_f32;
        return created(xnn_create_hardswish_nc_f32(c, c, c, 0, &op_));
      case OpKind::SIGMOID:
        setup_fn_ = xnn_setup_sigmoid_nc_f32;
        return created(xnn_create_sigmoid_nc_f32(c, c, c, 0, &op_));
      case OpKind::ABS:
        setup_fn_ = xnn_setup_abs_nc_f32;
        return created(xnn_create_abs_nc_f32(c, c, c, 0, &op_));
      case OpKind::LEAKY_RELU: {
        const auto* o = d.node->options_as_LeakyReluOptions();
        setup_fn_ = xnn_setup_leaky_relu_nc_f32;
        return created(
            xnn_create_leaky_relu_nc_f32(c, c, c, o ? o->negative_slope() : 0.01f, 0, &op_));
      }
      case OpKind::PRELU:
        setup_fn_ = xnn_setup_prelu_nc_f32;
        packed_bytes_ = c * sizeof(float);
        return created(xnn_create_prelu_nc_f32(
            c, c, c, static_cast<const float*>(d.inputs[1].constant), 0, &op_));
      default:  // SOFTMAX with beta 1
        setup_fn_ = xnn_setup_softmax_nc_f32;
        return created(xnn_create_softmax_nc_f32(c, c, c, 0, &op_));
    }
  }
  Status setup(const void* const* in, void* const* out, pthreadpool_t pool) override {
    return set_up(setup_fn_(op_, elements(in_) / last_dim(in_), static_cast<const float*>(in[0]),
                            static_cast<float*>(out[0]), pool));
  }

 private:
  Setup setup_fn_ = nullptr;
};

class DepthToSpace final : public XnnKernel {
 public:
  using XnnKernel::XnnKernel;
  Status create(const NodeDesc& d) {
    const auto block =
        static_cast<uint32_t>(d.node->options_as_DepthToSpaceOptions()->block_size());
    return created(xnn_create_depth_to_space_nhwc_x32(dim(out_, 3), dim(in_, 3), dim(out_, 3),
                                                      block, 0, &op_));
  }
  Status setup(const void* const* in, void* const* out, pthreadpool_t pool) override {
    return set_up(xnn_setup_depth_to_space_nhwc_x32(op_, dim(in_, 0), dim(in_, 1), dim(in_, 2),
                                                    in[0], out[0], pool));
  }
};

template <typename K>
Result<std::unique_ptr<Kernel>> make(const NodeDesc& d) {
  auto k = std::make_unique<K>(d);
  PH_RETURN_IF_ERROR(k->create(d));
  return std::unique_ptr<Kernel>(std::move(k));
}

}  // namespace

Result<std::unique_ptr<Kernel>> create_xnnpack_kernel(const NodeDesc& d) {
  switch (d.node->op()) {
    case OpKind::CONV_2D:
    case OpKind::DEPTHWISE_CONV_2D:
      return make<Conv2D>(d);
    case OpKind::TRANSPOSE_CONV_2D:
      return make<TransposeConv2D>(d);
    case OpKind::FULLY_CONNECTED:
      return make<FullyConnected>(d);
    case OpKind::ADD:
    case OpKind::SUB:
    case OpKind::MUL:
    case OpKind::DIV:
      return make<Binary>(d);
    case OpKind::MAX_POOL_2D:
    case OpKind::AVERAGE_POOL_2D:
      return make<Pool2D>(d);
    case OpKind::MEAN:
      return make<Mean>(d);
    case OpKind::PAD:
      return make<Pad>(d);
    case OpKind::RESIZE:
      return make<ResizeBilinear>(d);
    case OpKind::CLAMP:
    case OpKind::HARD_SWISH:
    case OpKind::SIGMOID:
    case OpKind::ABS:
    case OpKind::LEAKY_RELU:
    case OpKind::PRELU:
    case OpKind::SOFTMAX:
      return make<Unary>(d);
    case OpKind::DEPTH_TO_SPACE:
      return make<DepthToSpace>(d);
    default:
      return Status(ErrorCode::kInternal, "no XNNPACK kernel for " + op_kind_name(d.node->op()));
  }
}

}  // namespace polyhead::kernels
