#include "xnnpack_f16_kernels.h"

#include <xnnpack.h>

#include <array>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "polyhead/kernels/shape_inference.h"
#include "xnnpack_operator.h"

namespace polyhead::kernels {
namespace {

using schema::OpKind;
using Half = uint16_t;  // IEEE binary16 bits, as XNNPACK's f16 operators read them

Status check(xnn_status s, const schema::Node& node, const char* stage) {
  if (s == xnn_status_success) return Status::ok();
  return Status(s == xnn_status_out_of_memory ? ErrorCode::kOutOfMemory : ErrorCode::kUnsupported,
                std::string("XNNPACK f16 ") + stage + " of " + op_kind_name(node.op()) + " node '" +
                    node.name()->str() + "' failed (status " + std::to_string(s) + ")");
}

// Converts constants once, at create time (allocation is fine here).
xnn_status to_half(const float* in, size_t count, Half* out) {
  xnn_operator_t op = nullptr;
  xnn_status s = xnn_create_convert_nc_f32_f16(1, 1, 1, 0, &op);
  if (s == xnn_status_success) s = xnn_setup_convert_nc_f32_f16(op, count, in, out, nullptr);
  if (s == xnn_status_success) s = xnn_run_operator(op, nullptr);
  if (op) xnn_delete_operator(op);
  return s;
}

// One XNNPACK f16 operator between float32 tensors: activation inputs are converted to half
// precision before it runs and its output back to float32 after, through buffers the kernel
// owns (sized at create, so run() does not allocate). Constant inputs are converted once.
class F16Kernel : public Kernel {
 public:
  explicit F16Kernel(const NodeDesc& d)
      : node_(*d.node), in_(d.inputs[0].shape), out_(d.outputs[0].shape) {}
  ~F16Kernel() override {
    for (Staged& s : inputs_)
      if (s.convert) xnn_delete_operator(s.convert);
    if (out_convert_) xnn_delete_operator(out_convert_);
    if (op_) xnn_delete_operator(op_);
  }
  const char* backend() const override { return "xnnpack-f16"; }
  size_t packed_weight_bytes() const override { return packed_bytes_; }

  // Stages inputs and output, then creates the operator.
  Status create(const NodeDesc& d) {
    inputs_.resize(d.inputs.size());
    for (size_t i = 0; i < d.inputs.size(); ++i) {
      const OperandDesc& op = d.inputs[i];
      if (!op.present) continue;
      Staged& s = inputs_[i];
      s.rows = elements(op.shape) / last_dim(op.shape);
      s.half.resize(elements(op.shape));
      if (op.constant) {
        PH_RETURN_IF_ERROR(
            check(to_half(static_cast<const float*>(op.constant), s.half.size(), s.half.data()),
                  node_, "constant conversion"));
        packed_bytes_ += s.half.size() * sizeof(Half);
      } else {
        const size_t c = last_dim(op.shape);
        PH_RETURN_IF_ERROR(
            check(xnn_create_convert_nc_f32_f16(c, c, c, 0, &s.convert), node_, "create"));
      }
    }
    out_half_.resize(elements(out_));
    const size_t c = last_dim(out_);
    PH_RETURN_IF_ERROR(
        check(xnn_create_convert_nc_f16_f32(c, c, c, 0, &out_convert_), node_, "create"));
    return check(create_op(d), node_, "create");
  }

  Status setup(const void* const* in, void* const* out, pthreadpool_t pool) override {
    for (size_t i = 0; i < inputs_.size(); ++i)
      if (inputs_[i].convert)
        PH_RETURN_IF_ERROR(
            check(xnn_setup_convert_nc_f32_f16(inputs_[i].convert, inputs_[i].rows,
                                               static_cast<const float*>(in[i]), half(i), pool),
                  node_, "setup"));
    PH_RETURN_IF_ERROR(check(setup_op(pool), node_, "setup"));
    return check(xnn_setup_convert_nc_f16_f32(out_convert_, elements(out_) / last_dim(out_),
                                              out_half_.data(), static_cast<float*>(out[0]), pool),
                 node_, "setup");
  }

  Status run(pthreadpool_t pool) override {
    for (const Staged& s : inputs_)
      if (s.convert) PH_RETURN_IF_ERROR(check(xnn_run_operator(s.convert, pool), node_, "run"));
    PH_RETURN_IF_ERROR(check(xnn_run_operator(op_, pool), node_, "run"));
    return check(xnn_run_operator(out_convert_, pool), node_, "run");
  }

 protected:
  virtual xnn_status create_op(const NodeDesc& d) = 0;
  virtual xnn_status setup_op(pthreadpool_t pool) = 0;

  Half* half(size_t input) { return inputs_[input].half.data(); }
  const Half* half_or_null(size_t input) {
    return input < inputs_.size() && !inputs_[input].half.empty() ? half(input) : nullptr;
  }
  Half* out() { return out_half_.data(); }

  const schema::Node& node_;
  Shape in_, out_;
  xnn_operator_t op_ = nullptr;

 private:
  struct Staged {
    std::vector<Half> half;
    size_t rows = 0;
    xnn_operator_t convert = nullptr;  // null for constants (converted at create)
  };
  std::vector<Staged> inputs_;
  std::vector<Half> out_half_;
  xnn_operator_t out_convert_ = nullptr;
  size_t packed_bytes_ = 0;
};

// A fused activation range that collapses in half precision makes XNNPACK reject the operator;
// create_kernel then runs the node in float32.
ActivationRange activation(const schema::Node& node) {
  return fused_activation(node);
}

class Conv2D final : public F16Kernel {
 public:
  using F16Kernel::F16Kernel;
  xnn_status create_op(const NodeDesc& d) override {
    const auto* o = d.node->options_as_Conv2DOptions();
    const ActivationRange act = activation(*d.node);
    const Shape& w = d.inputs[1].shape;
    const auto groups = static_cast<uint32_t>(o->groups());
    return xnn_create_convolution2d_nhwc_f16(
        o->pad_top(), o->pad_right(), o->pad_bottom(), o->pad_left(), dim(w, 1), dim(w, 2),
        o->stride_h(), o->stride_w(), o->dilation_h(), o->dilation_w(), groups, dim(w, 3),
        dim(w, 0) / groups, dim(in_, 3), dim(out_, 3), half(1), half_or_null(2), act.min, act.max,
        0, &op_);
  }
  xnn_status setup_op(pthreadpool_t pool) override {
    return xnn_setup_convolution2d_nhwc_f16(op_, dim(in_, 0), dim(in_, 1), dim(in_, 2), half(0),
                                            out(), pool);
  }
};

class TransposeConv2D final : public F16Kernel {
 public:
  using F16Kernel::F16Kernel;
  xnn_status create_op(const NodeDesc& d) override {
    o_ = d.node->options_as_TransposeConv2DOptions();
    const ActivationRange act = activation(*d.node);
    const Shape& w = d.inputs[1].shape;
    return xnn_create_deconvolution2d_nhwc_f16(
        o_->pad_top(), o_->pad_right(), o_->pad_bottom(), o_->pad_left(), dim(w, 1), dim(w, 2),
        o_->stride_h(), o_->stride_w(), 1, 1, 1, dim(w, 3), dim(w, 0), dim(in_, 3), dim(out_, 3),
        half(1), half_or_null(2), act.min, act.max, 0, &op_);
  }
  xnn_status setup_op(pthreadpool_t pool) override {
    return xnn_setup_deconvolution2d_nhwc_f16(op_, dim(in_, 0), dim(in_, 1), dim(in_, 2),
                                              o_->adjustment_h(), o_->adjustment_w(), half(0),
                                              out(), pool);
  }

 private:
  const schema::TransposeConv2DOptions* o_ = nullptr;
};

class FullyConnected final : public F16Kernel {
 public:
  using F16Kernel::F16Kernel;
  xnn_status create_op(const NodeDesc& d) override {
    const ActivationRange act = activation(*d.node);
    const Shape& w = d.inputs[1].shape;
    return xnn_create_fully_connected_nc_f16(dim(w, 1), dim(w, 0), dim(w, 1), dim(w, 0), half(1),
                                             half_or_null(2), act.min, act.max, 0, &op_);
  }
  xnn_status setup_op(pthreadpool_t pool) override {
    return xnn_setup_fully_connected_nc_f16(op_, elements(in_) / last_dim(in_), half(0), out(),
                                            pool);
  }
};

class Binary final : public F16Kernel {
 public:
  using F16Kernel::F16Kernel;
  xnn_status create_op(const NodeDesc& d) override {
    const ActivationRange act = activation(*d.node);
    for (size_t i = 0; i < 2; ++i) {
      rank_[i] = d.inputs[i].shape.rank();
      for (size_t k = 0; k < rank_[i]; ++k) shape_[i][k] = dim(d.inputs[i].shape, k);
    }
    add_ = d.node->op() == OpKind::ADD;
    return add_ ? xnn_create_add_nd_f16(act.min, act.max, 0, &op_)
                : xnn_create_multiply_nd_f16(act.min, act.max, 0, &op_);
  }
  xnn_status setup_op(pthreadpool_t pool) override {
    auto* setup = add_ ? xnn_setup_add_nd_f16 : xnn_setup_multiply_nd_f16;
    return setup(op_, rank_[0], shape_[0].data(), rank_[1], shape_[1].data(), half(0), half(1),
                 out(), pool);
  }

 private:
  bool add_ = true;
  std::array<std::array<size_t, Shape::kMaxDims>, 2> shape_{};
  std::array<size_t, 2> rank_{};
};

class MaxPool final : public F16Kernel {
 public:
  using F16Kernel::F16Kernel;
  xnn_status create_op(const NodeDesc& d) override {
    const auto* o = d.node->options_as_Pool2DOptions();
    const ActivationRange act = activation(*d.node);
    const size_t c = dim(in_, 3);
    return xnn_create_max_pooling2d_nhwc_f16(
        o->pad_top(), o->pad_right(), o->pad_bottom(), o->pad_left(), o->filter_h(), o->filter_w(),
        o->stride_h(), o->stride_w(), 1, 1, c, c, c, act.min, act.max, 0, &op_);
  }
  xnn_status setup_op(pthreadpool_t pool) override {
    return xnn_setup_max_pooling2d_nhwc_f16(op_, dim(in_, 0), dim(in_, 1), dim(in_, 2), half(0),
                                            out(), pool);
  }
};

class Mean final : public F16Kernel {
 public:
  using F16Kernel::F16Kernel;
  xnn_status create_op(const NodeDesc&) override {
    const size_t c = dim(in_, 3);
    return xnn_create_global_average_pooling_nwc_f16(
        c, c, c, -std::numeric_limits<float>::infinity(), std::numeric_limits<float>::infinity(), 0,
        &op_);
  }
  xnn_status setup_op(pthreadpool_t pool) override {
    return xnn_setup_global_average_pooling_nwc_f16(op_, dim(in_, 0), dim(in_, 1) * dim(in_, 2),
                                                    half(0), out(), pool);
  }
};

class ResizeBilinear final : public F16Kernel {
 public:
  using F16Kernel::F16Kernel;
  xnn_status create_op(const NodeDesc& d) override {
    const auto* o = d.node->options_as_ResizeOptions();
    const uint32_t flags =
        o->coordinates() == schema::CoordinateMode::ALIGN_CORNERS ? XNN_FLAG_ALIGN_CORNERS
        : o->coordinates() == schema::CoordinateMode::ASYMMETRIC  ? XNN_FLAG_TENSORFLOW_LEGACY_MODE
                                                                  : 0;
    const size_t c = dim(in_, 3);
    return xnn_create_resize_bilinear2d_nhwc_f16(c, c, c, flags, &op_);
  }
  xnn_status setup_op(pthreadpool_t pool) override {
    return xnn_setup_resize_bilinear2d_nhwc_f16(op_, dim(in_, 0), dim(in_, 1), dim(in_, 2),
                                                dim(out_, 1), dim(out_, 2), half(0), out(), pool);
  }
};

// Elementwise operators over rows x channels of the last dimension.
class Unary final : public F16Kernel {
 public:
  using F16Kernel::F16Kernel;
  xnn_status create_op(const NodeDesc& d) override {
    const size_t c = last_dim(in_);
    switch (d.node->op()) {
      case OpKind::CLAMP: {
        const auto* o = d.node->options_as_ClampOptions();
        kind_ = OpKind::CLAMP;
        return xnn_create_clamp_nc_f16(
            c, c, c, o ? o->min() : -std::numeric_limits<float>::infinity(),
            o ? o->max() : std::numeric_limits<float>::infinity(), 0, &op_);
      }
      case OpKind::HARD_SWISH:
        kind_ = OpKind::HARD_SWISH;
        return xnn_create_hardswish_nc_f16(c, c, c, 0, &op_);
      case OpKind::LEAKY_RELU: {
        const auto* o = d.node->options_as_LeakyReluOptions();
        kind_ = OpKind::LEAKY_RELU;
        return xnn_create_leaky_relu_nc_f16(c, c, c, o ? o->negative_slope() : 0.01f, 0, &op_);
      }
      default:  // PRELU, its slope a constant staged as f16
        kind_ = OpKind::PRELU;
        return xnn_create_prelu_nc_f16(c, c, c, half(1), 0, &op_);
    }
  }
  xnn_status setup_op(pthreadpool_t pool) override {
    const size_t rows = elements(in_) / last_dim(in_);
    switch (kind_) {
      case OpKind::CLAMP:
        return xnn_setup_clamp_nc_f16(op_, rows, half(0), out(), pool);
      case OpKind::HARD_SWISH:
        return xnn_setup_hardswish_nc_f16(op_, rows, half(0), out(), pool);
      case OpKind::LEAKY_RELU:
        return xnn_setup_leaky_relu_nc_f16(op_, rows, half(0), out(), pool);
      default:
        return xnn_setup_prelu_nc_f16(op_, rows, half(0), out(), pool);
    }
  }

 private:
  OpKind kind_ = OpKind::CLAMP;
};

template <typename K>
Result<std::unique_ptr<Kernel>> make(const NodeDesc& d) {
  auto k = std::make_unique<K>(d);
  PH_RETURN_IF_ERROR(k->create(d));
  return std::unique_ptr<Kernel>(std::move(k));
}

}  // namespace

Result<std::unique_ptr<Kernel>> create_xnnpack_f16_kernel(const NodeDesc& d) {
  // Weights and slopes are converted once at create, so they must be constants.
  const bool constant_second = d.inputs.size() > 1 && d.inputs[1].constant;
  switch (d.node->op()) {
    case OpKind::CONV_2D:
    case OpKind::DEPTHWISE_CONV_2D:
      if (!constant_second) return std::unique_ptr<Kernel>();
      return make<Conv2D>(d);
    case OpKind::TRANSPOSE_CONV_2D:
      if (!constant_second) return std::unique_ptr<Kernel>();
      return make<TransposeConv2D>(d);
    case OpKind::FULLY_CONNECTED:
      if (!constant_second) return std::unique_ptr<Kernel>();
      return make<FullyConnected>(d);
    case OpKind::ADD:
    case OpKind::MUL:
      return make<Binary>(d);
    case OpKind::MAX_POOL_2D:
      return make<MaxPool>(d);
    case OpKind::MEAN:
      return make<Mean>(d);
    case OpKind::RESIZE:
      return make<ResizeBilinear>(d);
    case OpKind::CLAMP:
    case OpKind::HARD_SWISH:
    case OpKind::LEAKY_RELU:
      return make<Unary>(d);
    case OpKind::PRELU:
      if (!constant_second) return std::unique_ptr<Kernel>();
      return make<Unary>(d);
    default:  // no f16 operator in this XNNPACK: the node runs in float32
      return std::unique_ptr<Kernel>();
  }
}

}  // namespace polyhead::kernels
