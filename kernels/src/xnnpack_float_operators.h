// The float operators on XNNPACK, written once for both precisions. A precision `P`
// (xnnpack_f32_kernels.cc, xnnpack_f16_kernels.cc) supplies:
//   kHalf      whether the operator works on half-precision copies of the float32 tensors
//   Data       the element type XNNPACK's functions of that precision point to
//   range()    the fused output range as XNNPACK of that precision takes it
//   create_* / setup_*   XNNPACK's functions of that precision (xnn_*_f32 or xnn_*_f16)
// Operators whose XNNPACK functions come in families of one signature (Binary, Elementwise) take
// the pair from the factory, which names the operator kind. Each precision's factory instantiates
// the operators XNNPACK has in it.
#pragma once

#include <xnnpack.h>

#include <array>
#include <limits>
#include <memory>

#include "polyhead/kernels/shape_inference.h"
#include "xnnpack_operator.h"

namespace polyhead::kernels {

class HalfStaging;

// Base of the float operators of both precisions: the subclass creates its XNNPACK operator from
// the node and sets it up on buffers of its precision; this class hands it the node's float32
// buffers themselves, or half-precision copies of them (HalfStaging).
class XnnFloatKernel : public XnnKernel {
 public:
  XnnFloatKernel(const NodeDesc& d, bool half);
  ~XnnFloatKernel() override;

  Status create(const NodeDesc& d);
  Status setup(const void* const* in, void* const* out, pthreadpool_t pool) override;
  Status run(pthreadpool_t pool) override;

 protected:
  virtual xnn_status create_op(const NodeDesc& d) = 0;
  // `in`: one buffer per node input (null for absent ones); `out`: the output's buffer.
  virtual xnn_status setup_op(const void* const* in, void* out, pthreadpool_t pool) = 0;

  // Constant input `i` in the operator's precision, or null when the node has no input `i`.
  const void* constant(const NodeDesc& d, size_t i) const;
  // XNNPACK packs the constant inputs from `first` on (weights, bias, slopes) into memory of its
  // own: counted as packed weights. In half precision the converted copies count instead.
  void packs_constants_from(const NodeDesc& d, size_t first);
  // Rows of the last dimension, for the operators XNNPACK runs as rows x channels.
  size_t rows() const { return elements(in_) / last_dim(in_); }

 private:
  std::unique_ptr<HalfStaging> half_;  // null in float32: XNNPACK reads the tensors in place
};

// A buffer as the pointer type of P's XNNPACK functions.
template <class P>
const typename P::Data* typed(const void* p) {
  return static_cast<const typename P::Data*>(p);
}
template <class P>
typename P::Data* typed(void* p) {
  return static_cast<typename P::Data*>(p);
}

// CONV_2D with any groups (depthwise included).
template <class P>
class Conv2D final : public XnnFloatKernel {
 public:
  explicit Conv2D(const NodeDesc& d) : XnnFloatKernel(d, P::kHalf) {}

 private:
  xnn_status create_op(const NodeDesc& d) override {
    const auto* o = d.node->options_as_Conv2DOptions();
    const ActivationRange act = P::range(fused_activation(*d.node));
    const Shape& w = d.inputs[1].shape;
    const auto groups = static_cast<uint32_t>(o->groups());
    packs_constants_from(d, 1);
    return P::create_convolution(
        o->pad_top(), o->pad_right(), o->pad_bottom(), o->pad_left(), dim(w, 1), dim(w, 2),
        o->stride_h(), o->stride_w(), o->dilation_h(), o->dilation_w(), groups, dim(w, 3),
        dim(w, 0) / groups, dim(in_, 3), dim(out_, 3), typed<P>(constant(d, 1)),
        typed<P>(constant(d, 2)), act.min, act.max, 0, &op_);
  }
  xnn_status setup_op(const void* const* in, void* out, pthreadpool_t pool) override {
    return P::setup_convolution(op_, dim(in_, 0), dim(in_, 1), dim(in_, 2), typed<P>(in[0]),
                                typed<P>(out), pool);
  }
};

template <class P>
class TransposeConv2D final : public XnnFloatKernel {
 public:
  explicit TransposeConv2D(const NodeDesc& d) : XnnFloatKernel(d, P::kHalf) {}

 private:
  xnn_status create_op(const NodeDesc& d) override {
    o_ = d.node->options_as_TransposeConv2DOptions();
    const ActivationRange act = P::range(fused_activation(*d.node));
    const Shape& w = d.inputs[1].shape;
    packs_constants_from(d, 1);
    return P::create_deconvolution(
        o_->pad_top(), o_->pad_right(), o_->pad_bottom(), o_->pad_left(), dim(w, 1), dim(w, 2),
        o_->stride_h(), o_->stride_w(), 1, 1, 1, dim(w, 3), dim(w, 0), dim(in_, 3), dim(out_, 3),
        typed<P>(constant(d, 1)), typed<P>(constant(d, 2)), act.min, act.max, 0, &op_);
  }
  xnn_status setup_op(const void* const* in, void* out, pthreadpool_t pool) override {
    return P::setup_deconvolution(op_, dim(in_, 0), dim(in_, 1), dim(in_, 2), o_->adjustment_h(),
                                  o_->adjustment_w(), typed<P>(in[0]), typed<P>(out), pool);
  }

  const schema::TransposeConv2DOptions* o_ = nullptr;
};

template <class P>
class FullyConnected final : public XnnFloatKernel {
 public:
  explicit FullyConnected(const NodeDesc& d) : XnnFloatKernel(d, P::kHalf) {}

 private:
  xnn_status create_op(const NodeDesc& d) override {
    const ActivationRange act = P::range(fused_activation(*d.node));
    const Shape& w = d.inputs[1].shape;
    packs_constants_from(d, 1);
    return P::create_fully_connected(dim(w, 1), dim(w, 0), dim(w, 1), dim(w, 0),
                                     typed<P>(constant(d, 1)), typed<P>(constant(d, 2)), act.min,
                                     act.max, 0, &op_);
  }
  xnn_status setup_op(const void* const* in, void* out, pthreadpool_t pool) override {
    return P::setup_fully_connected(op_, rows(), typed<P>(in[0]), typed<P>(out), pool);
  }
};

// ADD, SUB, MUL, DIV with broadcasting: XNNPACK's functions share one signature per precision.
template <class P>
struct BinaryFunctions {
  xnn_status (*create)(float output_min, float output_max, uint32_t flags, xnn_operator_t* op);
  xnn_status (*setup)(xnn_operator_t op, size_t rank_a, const size_t* shape_a, size_t rank_b,
                      const size_t* shape_b, const typename P::Data* a, const typename P::Data* b,
                      typename P::Data* out, pthreadpool_t pool);
};

template <class P>
class Binary final : public XnnFloatKernel {
 public:
  Binary(const NodeDesc& d, BinaryFunctions<P> f) : XnnFloatKernel(d, P::kHalf), f_(f) {}

 private:
  xnn_status create_op(const NodeDesc& d) override {
    const ActivationRange act = P::range(fused_activation(*d.node));
    for (size_t i = 0; i < 2; ++i) {
      rank_[i] = d.inputs[i].shape.rank();
      for (size_t k = 0; k < rank_[i]; ++k) shape_[i][k] = dim(d.inputs[i].shape, k);
    }
    return f_.create(act.min, act.max, 0, &op_);
  }
  xnn_status setup_op(const void* const* in, void* out, pthreadpool_t pool) override {
    return f_.setup(op_, rank_[0], shape_[0].data(), rank_[1], shape_[1].data(), typed<P>(in[0]),
                    typed<P>(in[1]), typed<P>(out), pool);
  }

  BinaryFunctions<P> f_;
  std::array<std::array<size_t, Shape::kMaxDims>, 2> shape_{};
  std::array<size_t, 2> rank_{};
};

template <class P>
class MaxPool2D final : public XnnFloatKernel {
 public:
  explicit MaxPool2D(const NodeDesc& d) : XnnFloatKernel(d, P::kHalf) {}

 private:
  xnn_status create_op(const NodeDesc& d) override {
    const auto* o = d.node->options_as_Pool2DOptions();
    const ActivationRange act = P::range(fused_activation(*d.node));
    const size_t c = dim(in_, 3);
    return P::create_max_pooling(o->pad_top(), o->pad_right(), o->pad_bottom(), o->pad_left(),
                                 o->filter_h(), o->filter_w(), o->stride_h(), o->stride_w(), 1, 1,
                                 c, c, c, act.min, act.max, 0, &op_);
  }
  xnn_status setup_op(const void* const* in, void* out, pthreadpool_t pool) override {
    return P::setup_max_pooling(op_, dim(in_, 0), dim(in_, 1), dim(in_, 2), typed<P>(in[0]),
                                typed<P>(out), pool);
  }
};

template <class P>
class AveragePool2D final : public XnnFloatKernel {
 public:
  explicit AveragePool2D(const NodeDesc& d) : XnnFloatKernel(d, P::kHalf) {}

 private:
  xnn_status create_op(const NodeDesc& d) override {
    const auto* o = d.node->options_as_Pool2DOptions();
    const ActivationRange act = P::range(fused_activation(*d.node));
    const size_t c = dim(in_, 3);
    return P::create_average_pooling(o->pad_top(), o->pad_right(), o->pad_bottom(), o->pad_left(),
                                     o->filter_h(), o->filter_w(), o->stride_h(), o->stride_w(), c,
                                     c, c, act.min, act.max, 0, &op_);
  }
  xnn_status setup_op(const void* const* in, void* out, pthreadpool_t pool) override {
    return P::setup_average_pooling(op_, dim(in_, 0), dim(in_, 1), dim(in_, 2), typed<P>(in[0]),
                                    typed<P>(out), pool);
  }
};

// MEAN over H and W.
template <class P>
class Mean final : public XnnFloatKernel {
 public:
  explicit Mean(const NodeDesc& d) : XnnFloatKernel(d, P::kHalf) {}

 private:
  xnn_status create_op(const NodeDesc&) override {
    const size_t c = dim(in_, 3);
    return P::create_global_average_pooling(c, c, c, -std::numeric_limits<float>::infinity(),
                                            std::numeric_limits<float>::infinity(), 0, &op_);
  }
  xnn_status setup_op(const void* const* in, void* out, pthreadpool_t pool) override {
    return P::setup_global_average_pooling(op_, dim(in_, 0), dim(in_, 1) * dim(in_, 2),
                                           typed<P>(in[0]), typed<P>(out), pool);
  }
};

template <class P>
class ResizeBilinear final : public XnnFloatKernel {
 public:
  explicit ResizeBilinear(const NodeDesc& d) : XnnFloatKernel(d, P::kHalf) {}

 private:
  xnn_status create_op(const NodeDesc& d) override {
    const auto* o = d.node->options_as_ResizeOptions();
    const size_t c = dim(in_, 3);
    return P::create_resize_bilinear(c, c, c, xnn_resize_flags(o->coordinates()), &op_);
  }
  xnn_status setup_op(const void* const* in, void* out, pthreadpool_t pool) override {
    return P::setup_resize_bilinear(op_, dim(in_, 0), dim(in_, 1), dim(in_, 2), dim(out_, 1),
                                    dim(out_, 2), typed<P>(in[0]), typed<P>(out), pool);
  }
};

// The rows x channels operators (over the last dimension) that take no parameters, such as
// HARD_SWISH, SIGMOID and SOFTMAX with beta 1: XNNPACK's functions share one signature.
template <class P>
struct ElementwiseFunctions {
  xnn_status (*create)(size_t channels, size_t input_stride, size_t output_stride, uint32_t flags,
                       xnn_operator_t* op);
  xnn_status (*setup)(xnn_operator_t op, size_t rows, const typename P::Data* in,
                      typename P::Data* out, pthreadpool_t pool);
};

template <class P>
class Elementwise final : public XnnFloatKernel {
 public:
  Elementwise(const NodeDesc& d, ElementwiseFunctions<P> f) : XnnFloatKernel(d, P::kHalf), f_(f) {}

 private:
  xnn_status create_op(const NodeDesc&) override {
    const size_t c = last_dim(in_);
    return f_.create(c, c, c, 0, &op_);
  }
  xnn_status setup_op(const void* const* in, void* out, pthreadpool_t pool) override {
    return f_.setup(op_, rows(), typed<P>(in[0]), typed<P>(out), pool);
  }

  ElementwiseFunctions<P> f_;
};

template <class P>
class Clamp final : public XnnFloatKernel {
 public:
  explicit Clamp(const NodeDesc& d) : XnnFloatKernel(d, P::kHalf) {}

 private:
  xnn_status create_op(const NodeDesc& d) override {
    const auto* o = d.node->options_as_ClampOptions();
    const ActivationRange r = P::range({o ? o->min() : -std::numeric_limits<float>::infinity(),
                                        o ? o->max() : std::numeric_limits<float>::infinity()});
    const size_t c = last_dim(in_);
    return P::create_clamp(c, c, c, r.min, r.max, 0, &op_);
  }
  xnn_status setup_op(const void* const* in, void* out, pthreadpool_t pool) override {
    return P::setup_clamp(op_, rows(), typed<P>(in[0]), typed<P>(out), pool);
  }
};

template <class P>
class LeakyRelu final : public XnnFloatKernel {
 public:
  explicit LeakyRelu(const NodeDesc& d) : XnnFloatKernel(d, P::kHalf) {}

 private:
  xnn_status create_op(const NodeDesc& d) override {
    const auto* o = d.node->options_as_LeakyReluOptions();
    const size_t c = last_dim(in_);
    return P::create_leaky_relu(c, c, c, o ? o->negative_slope() : 0.01f, 0, &op_);
  }
  xnn_status setup_op(const void* const* in, void* out, pthreadpool_t pool) override {
    return P::setup_leaky_relu(op_, rows(), typed<P>(in[0]), typed<P>(out), pool);
  }
};

// PRELU with a constant slope per channel.
template <class P>
class PRelu final : public XnnFloatKernel {
 public:
  explicit PRelu(const NodeDesc& d) : XnnFloatKernel(d, P::kHalf) {}

 private:
  xnn_status create_op(const NodeDesc& d) override {
    const size_t c = last_dim(in_);
    packs_constants_from(d, 1);
    return P::create_prelu(c, c, c, typed<P>(constant(d, 1)), 0, &op_);
  }
  xnn_status setup_op(const void* const* in, void* out, pthreadpool_t pool) override {
    return P::setup_prelu(op_, rows(), typed<P>(in[0]), typed<P>(out), pool);
  }
};

// Creates float operator K of a node (extra arguments go to K's constructor).
template <typename K, typename... Args>
Result<std::unique_ptr<Kernel>> make_float(const NodeDesc& d, Args... args) {
  auto k = std::make_unique<K>(d, args...);
  PH_RETURN_IF_ERROR(k->create(d));
  return std::unique_ptr<Kernel>(std::move(k));
}

}  // namespace polyhead::kernels
