// int8 kernels backed by XNNPACK's quantized operators (docs/int8.md): per-channel qc8
// convolution (fully connected runs as a 1x1 convolution to keep per-channel weights), qs8
// elementwise arithmetic and global average pooling, s8 max pooling and bilinear resize, x8 pad,
// and the f32 <-> qs8 conversions at the boundaries of float operators.
#include <xnnpack.h>

#include <array>
#include <limits>

#include "int8_dispatch.h"
#include "int8_params.h"
#include "xnnpack_operator.h"

namespace polyhead::kernels {
namespace {

using schema::OpKind;

constexpr const char* kInt8 = "int8 ";

class QKernel : public XnnKernel {
 public:
  explicit QKernel(const NodeDesc& d) : XnnKernel(d, kInt8) {}
};

// CONV_2D (any groups) and FULLY_CONNECTED, both as XNNPACK qc8 convolution.
class QConv2D final : public QKernel {
 public:
  using QKernel::QKernel;
  Status create(const NodeDesc& d, const QParams& in, const QParams& out) {
    const Shape& w = d.inputs[1].shape;
    const size_t out_channels = dim(w, 0);
    PH_ASSIGN_OR_RETURN(std::vector<float> scales, weight_scales(node_, d.inputs[1], out_channels));
    const int32_t* bias = nullptr;
    if (d.inputs.size() > 2 && d.inputs[2].present) {
      PH_RETURN_IF_ERROR(check_bias(node_, d.inputs[2], in.scale, scales));
      bias = static_cast<const int32_t*>(d.inputs[2].constant);
    }
    const Int8Bounds b = int8_bounds(fused_activation(node_), out);
    const auto* weights = static_cast<const int8_t*>(d.inputs[1].constant);
    packed_bytes_ = elements(w) + out_channels * sizeof(int32_t);
    const auto zin = static_cast<int8_t>(in.zero_point);
    const auto zout = static_cast<int8_t>(out.zero_point);
    if (node_.op() == OpKind::FULLY_CONNECTED) {
      fully_connected_ = true;
      const size_t ic = dim(w, 1);
      return created(xnn_create_convolution2d_nhwc_qc8(
          0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, ic, out_channels, ic, out_channels, zin, in.scale,
          scales.data(), weights, bias, zout, out.scale, b.min, b.max, 0, &op_));
    }
    const auto* o = node_.options_as_Conv2DOptions();
    const auto groups = static_cast<uint32_t>(o->groups());
    return created(xnn_create_convolution2d_nhwc_qc8(
        o->pad_top(), o->pad_right(), o->pad_bottom(), o->pad_left(), dim(w, 1), dim(w, 2),
        o->stride_h(), o->stride_w(), o->dilation_h(), o->dilation_w(), groups, dim(w, 3),
        out_channels / groups, dim(in_, 3), dim(out_, 3), zin, in.scale, scales.data(), weights,
        bias, zout, out.scale, b.min, b.max, 0, &op_));
  }
  Status setup(const void* const* in, void* const* out, pthreadpool_t pool) override {
    const auto* x = static_cast<const int8_t*>(in[0]);
    auto* y = static_cast<int8_t*>(out[0]);
    if (fully_connected_)  // every row of the input is a 1x1 image
      return set_up(
          xnn_setup_convolution2d_nhwc_qc8(op_, elements(in_) / last_dim(in_), 1, 1, x, y, pool));
    return set_up(
        xnn_setup_convolution2d_nhwc_qc8(op_, dim(in_, 0), dim(in_, 1), dim(in_, 2), x, y, pool));
  }

 private:
  bool fully_connected_ = false;
};

// ADD, SUB, MUL: XNNPACK's qs8 functions share one signature.
struct QBinaryFunctions {
  xnn_status (*create)(int8_t a_zero_point, float a_scale, int8_t b_zero_point, float b_scale,
                       int8_t out_zero_point, float out_scale, int8_t out_min, int8_t out_max,
                       uint32_t flags, xnn_operator_t* op);
  xnn_status (*setup)(xnn_operator_t op, size_t rank_a, const size_t* shape_a, size_t rank_b,
                      const size_t* shape_b, const int8_t* a, const int8_t* b, int8_t* out,
                      pthreadpool_t pool);
};

class QBinary final : public QKernel {
 public:
  QBinary(const NodeDesc& d, QBinaryFunctions f) : QKernel(d), f_(f) {}
  Status create(const NodeDesc& d, const QParams& a, const QParams& out) {
    PH_ASSIGN_OR_RETURN(const QParams b, activation_params(node_, d.inputs[1], "input 1"));
    for (size_t i = 0; i < 2; ++i) {
      rank_[i] = d.inputs[i].shape.rank();
      for (size_t k = 0; k < rank_[i]; ++k) shape_[i][k] = dim(d.inputs[i].shape, k);
    }
    const Int8Bounds r = int8_bounds(fused_activation(node_), out);
    return created(
        f_.create(static_cast<int8_t>(a.zero_point), a.scale, static_cast<int8_t>(b.zero_point),
                  b.scale, static_cast<int8_t>(out.zero_point), out.scale, r.min, r.max, 0, &op_));
  }
  Status setup(const void* const* in, void* const* out, pthreadpool_t pool) override {
    return set_up(f_.setup(op_, rank_[0], shape_[0].data(), rank_[1], shape_[1].data(),
                           static_cast<const int8_t*>(in[0]), static_cast<const int8_t*>(in[1]),
                           static_cast<int8_t*>(out[0]), pool));
  }

 private:
  QBinaryFunctions f_;
  std::array<std::array<size_t, Shape::kMaxDims>, 2> shape_{};
  std::array<size_t, 2> rank_{};
};

// MEAN over H and W, and AVERAGE_POOL_2D whose window is the whole unpadded input.
class QGlobalAverage final : public QKernel {
 public:
  using QKernel::QKernel;
  Status create(const NodeDesc&, const QParams& in, const QParams& out) {
    const size_t c = dim(in_, 3);
    const Int8Bounds b = int8_bounds(fused_activation(node_), out);
    return created(xnn_create_global_average_pooling_nwc_qs8(
        c, c, c, static_cast<int8_t>(in.zero_point), in.scale, static_cast<int8_t>(out.zero_point),
        out.scale, b.min, b.max, 0, &op_));
  }
  Status setup(const void* const* in, void* const* out, pthreadpool_t pool) override {
    return set_up(xnn_setup_global_average_pooling_nwc_qs8(
        op_, dim(in_, 0), dim(in_, 1) * dim(in_, 2), static_cast<const int8_t*>(in[0]),
        static_cast<int8_t*>(out[0]), pool));
  }
};

class QMaxPool final : public QKernel {
 public:
  using QKernel::QKernel;
  Status create(const NodeDesc&, const QParams& in, const QParams& out) {
    PH_RETURN_IF_ERROR(require_same(node_, in, out));
    const auto* o = node_.options_as_Pool2DOptions();
    const Int8Bounds b = int8_bounds(fused_activation(node_), out);
    const size_t c = dim(in_, 3);
    return created(xnn_create_max_pooling2d_nhwc_s8(
        o->pad_top(), o->pad_right(), o->pad_bottom(), o->pad_left(), o->filter_h(), o->filter_w(),
        o->stride_h(), o->stride_w(), 1, 1, c, c, c, b.min, b.max, 0, &op_));
  }
  Status setup(const void* const* in, void* const* out, pthreadpool_t pool) override {
    return set_up(xnn_setup_max_pooling2d_nhwc_s8(op_, dim(in_, 0), dim(in_, 1), dim(in_, 2),
                                                  static_cast<const int8_t*>(in[0]),
                                                  static_cast<int8_t*>(out[0]), pool));
  }
};

class QResizeBilinear final : public QKernel {
 public:
  using QKernel::QKernel;
  Status create(const NodeDesc&, const QParams& in, const QParams& out) {
    PH_RETURN_IF_ERROR(require_same(node_, in, out));
    const auto* o = node_.options_as_ResizeOptions();
    const size_t c = dim(in_, 3);
    return created(
        xnn_create_resize_bilinear2d_nhwc_s8(c, c, c, xnn_resize_flags(o->coordinates()), &op_));
  }
  Status setup(const void* const* in, void* const* out, pthreadpool_t pool) override {
    return set_up(xnn_setup_resize_bilinear2d_nhwc_s8(
        op_, dim(in_, 0), dim(in_, 1), dim(in_, 2), dim(out_, 1), dim(out_, 2),
        static_cast<const int8_t*>(in[0]), static_cast<int8_t*>(out[0]), pool));
  }
};

// CLAMP whose output has its input's parameters (the quantizer arranges it for ReLU and ReLU6):
// a clamp of the int8 values, no table needed.
class QClamp final : public QKernel {
 public:
  using QKernel::QKernel;
  Status create(const NodeDesc&, const QParams&, const QParams& out) {
    const auto* o = node_.options_as_ClampOptions();
    const Int8Bounds b = o ? int8_bounds({o->min(), o->max()}, out) : Int8Bounds{};
    const size_t c = last_dim(in_);
    return created(xnn_create_clamp_nc_s8(c, c, c, b.min, b.max, 0, &op_));
  }
  Status setup(const void* const* in, void* const* out, pthreadpool_t pool) override {
    return set_up(xnn_setup_clamp_nc_s8(op_, elements(in_) / last_dim(in_),
                                        static_cast<const int8_t*>(in[0]),
                                        static_cast<int8_t*>(out[0]), pool));
  }
};

class QPad final : public QKernel {
 public:
  using QKernel::QKernel;
  Status create(const NodeDesc&, const QParams& in, const QParams& out) {
    PH_RETURN_IF_ERROR(require_same(node_, in, out));
    const auto* o = node_.options_as_PadOptions();
    for (size_t i = 0; i < in_.rank(); ++i) {
      shape_[i] = dim(in_, i);
      before_[i] = static_cast<size_t>(o->before()->Get(static_cast<flatbuffers::uoffset_t>(i)));
      after_[i] = static_cast<size_t>(o->after()->Get(static_cast<flatbuffers::uoffset_t>(i)));
    }
    value_ = static_cast<uint32_t>(static_cast<uint8_t>(quantize_s8(o->value(), out)));
    return created(xnn_create_constant_pad_nd_x8(&value_, 0, &op_));
  }
  Status setup(const void* const* in, void* const* out, pthreadpool_t pool) override {
    return set_up(xnn_setup_constant_pad_nd_x8(op_, in_.rank(), shape_.data(), before_.data(),
                                               after_.data(), in[0], out[0], pool));
  }

 private:
  std::array<size_t, Shape::kMaxDims> shape_{}, before_{}, after_{};
  uint32_t value_ = 0;
};

// QUANTIZE (f32 -> i8) and DEQUANTIZE (i8 -> f32) over rows of the last dimension.
class Convert final : public QKernel {
 public:
  using QKernel::QKernel;
  Status create(const NodeDesc& d) {
    const size_t c = last_dim(in_);
    quantize_ = node_.op() == OpKind::QUANTIZE;
    if (quantize_) {
      if (d.inputs[0].type != ElementType::kF32)
        return Status(ErrorCode::kUnsupported, node_label(node_) + ": input is " +
                                                   element_type_name(d.inputs[0].type) +
                                                   " where QUANTIZE reads f32");
      PH_ASSIGN_OR_RETURN(const QParams q, activation_params(node_, d.outputs[0], "output"));
      return created(xnn_create_convert_nc_f32_qs8(
          c, c, c, q.scale, static_cast<int8_t>(q.zero_point), -128, 127, 0, &op_));
    }
    if (d.outputs[0].type != ElementType::kF32)
      return Status(ErrorCode::kUnsupported, node_label(node_) + ": output is " +
                                                 element_type_name(d.outputs[0].type) +
                                                 " where DEQUANTIZE writes f32");
    PH_ASSIGN_OR_RETURN(const QParams q, activation_params(node_, d.inputs[0], "input 0"));
    return created(xnn_create_convert_nc_qs8_f32(c, c, c, q.scale,
                                                 static_cast<int8_t>(q.zero_point), 0, &op_));
  }
  Status setup(const void* const* in, void* const* out, pthreadpool_t pool) override {
    const size_t rows = elements(in_) / last_dim(in_);
    if (quantize_)
      return set_up(xnn_setup_convert_nc_f32_qs8(op_, rows, static_cast<const float*>(in[0]),
                                                 static_cast<int8_t*>(out[0]), pool));
    return set_up(xnn_setup_convert_nc_qs8_f32(op_, rows, static_cast<const int8_t*>(in[0]),
                                               static_cast<float*>(out[0]), pool));
  }

 private:
  bool quantize_ = true;
};

template <typename K, typename... Args>
KernelResult make(const NodeDesc& d, const QParams& in, const QParams& out, Args... args) {
  auto k = std::make_unique<K>(d, args...);
  PH_RETURN_IF_ERROR(k->create(d, in, out));
  return std::unique_ptr<Kernel>(std::move(k));
}

bool is_global_average(const NodeDesc& d) {
  const auto* o = d.node->options_as_Pool2DOptions();
  const Shape& in = d.inputs[0].shape;
  return o->filter_h() == in[1] && o->filter_w() == in[2] && o->pad_top() == 0 &&
         o->pad_left() == 0 && o->pad_bottom() == 0 && o->pad_right() == 0 &&
         d.outputs[0].shape[1] == 1 && d.outputs[0].shape[2] == 1;
}

// XNNPACK's qs8 broadcasting path is slower than float and it refuses scale ratios outside its
// fixed-point range: those run in Polyhead's kernel instead. A [1,H,W,C] by [1,1,1,C] row (the
// squeeze-excite MUL) is the exception: XNNPACK measured 1.8x faster than Polyhead's portable
// kernel there (bench_int8_elementwise, mul/128x128x16_by_1x1x1x16).
bool is_channel_row(const Shape& row, const Shape& full) {
  if (row.rank() != full.rank() || row.rank() == 0 || row[row.rank() - 1] != full[full.rank() - 1])
    return false;
  for (size_t k = 0; k + 1 < row.rank(); ++k)
    if (row[k] != 1) return false;
  return true;
}

KernelResult binary(const NodeDesc& d, const QParams& in, const QParams& out, QBinaryFunctions f) {
  const Shape& a = d.inputs[0].shape;
  const Shape& b = d.inputs[1].shape;
  if (a != b && !(a == d.outputs[0].shape && is_channel_row(b, a)) &&
      !(b == d.outputs[0].shape && is_channel_row(a, b)))
    return not_handled();
  return unsupported_as_not_handled(make<QBinary>(d, in, out, f));
}

}  // namespace

KernelResult create_xnnpack_convert_kernel(const NodeDesc& d) {
  auto k = std::make_unique<Convert>(d);
  PH_RETURN_IF_ERROR(k->create(d));
  return std::unique_ptr<Kernel>(std::move(k));
}

KernelResult create_xnnpack_int8_kernel(const NodeDesc& d, const QParams& in, const QParams& out) {
  switch (d.node->op()) {
    case OpKind::CONV_2D:
    case OpKind::DEPTHWISE_CONV_2D:
    case OpKind::FULLY_CONNECTED:
      return make<QConv2D>(d, in, out);
    case OpKind::ADD:
      return binary(d, in, out, {xnn_create_add_nd_qs8, xnn_setup_add_nd_qs8});
    case OpKind::SUB:
      return binary(d, in, out, {xnn_create_subtract_nd_qs8, xnn_setup_subtract_nd_qs8});
    case OpKind::MUL:
      return binary(d, in, out, {xnn_create_multiply_nd_qs8, xnn_setup_multiply_nd_qs8});
    case OpKind::MEAN:
      return make<QGlobalAverage>(d, in, out);
    case OpKind::AVERAGE_POOL_2D:
      if (is_global_average(d)) return make<QGlobalAverage>(d, in, out);
      return not_handled();
    case OpKind::MAX_POOL_2D: {
      const auto* o = d.node->options_as_Pool2DOptions();
      if (o->filter_h() * o->filter_w() == 1) return not_handled();
      return make<QMaxPool>(d, in, out);
    }
    case OpKind::RESIZE:
      if (d.node->options_as_ResizeOptions()->mode() == schema::ResizeMode::BILINEAR)
        return make<QResizeBilinear>(d, in, out);
      return not_handled();
    case OpKind::PAD:
      return make<QPad>(d, in, out);
    case OpKind::CLAMP:
      if (in == out) return make<QClamp>(d, in, out);
      return not_handled();
    // Polyhead's own int8 kernels, float-only operators, and the conversions (their own factory).
    case OpKind::HARD_SWISH:
    case OpKind::SIGMOID:
    case OpKind::TANH:
    case OpKind::ABS:
    case OpKind::SILU:
    case OpKind::LEAKY_RELU:
    case OpKind::RESHAPE:
    case OpKind::CONCATENATION:
    case OpKind::TRANSPOSE:
    case OpKind::DEPTH_TO_SPACE:
    case OpKind::SLICE:
    case OpKind::CHANNEL_SHUFFLE:
    case OpKind::DIV:
    case OpKind::SOFTMAX:
    case OpKind::PRELU:
    case OpKind::TRANSPOSE_CONV_2D:
    case OpKind::QUANTIZE:
    case OpKind::DEQUANTIZE:
      return not_handled();
  }
  return unlisted_operator(d, "XNNPACK int8");
}

}  // namespace polyhead::kernels
