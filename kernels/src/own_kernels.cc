#include "own_kernels.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "polyhead/kernels/kernel_variant.h"
#include "polyhead/kernels/parallelize.h"
#include "polyhead/kernels/reference.h"
#include "polyhead/kernels/shape_inference.h"

namespace polyhead::kernels {
namespace {

using schema::OpKind;

// Every kernel runs the functions of the instruction-set variant chosen when it was created, and
// reads its first input and writes its one output (kernels with more inputs bind them too).
class OwnKernel : public Kernel {
 public:
  explicit OwnKernel(const KernelVariant& v) : v_(v) {}
  Status setup(const void* const* in, void* const* out, pthreadpool_t) override {
    in_ = static_cast<const float*>(in[0]);
    out_ = static_cast<float*>(out[0]);
    return Status::ok();
  }

 protected:
  const KernelVariant& v_;
  const float* in_ = nullptr;
  float* out_ = nullptr;
};

// Elementwise work is split into blocks of this many values across the thread pool.
constexpr size_t kBlock = 4096;

// A unary function of the variant table (TANH, SILU), split into blocks across the pool.
class Unary final : public OwnKernel {
 public:
  using Function = void (*)(const float* input, size_t count, float* output);
  Unary(const NodeDesc& d, const KernelVariant& v, Function f)
      : OwnKernel(v), f_(f), count_(static_cast<size_t>(d.inputs[0].shape.elements())) {}
  Status run(pthreadpool_t pool) override {
    parallelize_1d_tile_1d(
        pool,
        [](void* ctx, size_t start, size_t tile) {
          auto* self = static_cast<Unary*>(ctx);
          self->f_(self->in_ + start, tile, self->out_ + start);
        },
        this, count_, kBlock, 0);
    return Status::ok();
  }

 private:
  Function f_;
  size_t count_;
};

class Copy final : public OwnKernel {
 public:
  Copy(const NodeDesc& d, const KernelVariant& v)
      : OwnKernel(v), bytes_(static_cast<size_t>(d.inputs[0].shape.elements()) * sizeof(float)) {}
  Status run(pthreadpool_t) override {
    v_.copy(in_, bytes_, out_);
    return Status::ok();
  }

 private:
  size_t bytes_;
};

class Concatenation final : public OwnKernel {
 public:
  Concatenation(const NodeDesc& d, const KernelVariant& v)
      : OwnKernel(v), act_(fused_activation(*d.node)) {
    const int rank = static_cast<int>(d.outputs[0].shape.rank());
    const int axis = d.node->options_as_ConcatenationOptions()->axis();
    axis_ = static_cast<size_t>(axis < 0 ? axis + rank : axis);
    for (const auto& in : d.inputs) shapes_.push_back(in.shape);
    inputs_.resize(d.inputs.size());
    out_elements_ = static_cast<size_t>(d.outputs[0].shape.elements());
  }
  Status setup(const void* const* in, void* const* out, pthreadpool_t pool) override {
    for (size_t i = 0; i < inputs_.size(); ++i) inputs_[i] = static_cast<const float*>(in[i]);
    return OwnKernel::setup(in, out, pool);
  }
  Status run(pthreadpool_t) override {
    v_.concatenation(inputs_.size(), inputs_.data(), shapes_.data(), axis_, out_);
    if (std::isfinite(act_.min) || std::isfinite(act_.max))
      for (size_t i = 0; i < out_elements_; ++i)
        out_[i] = std::min(std::max(out_[i], act_.min), act_.max);
    return Status::ok();
  }

 private:
  ActivationRange act_;
  size_t axis_ = 0;
  std::vector<Shape> shapes_;
  std::vector<const float*> inputs_;  // sized at create; setup only writes into it
  size_t out_elements_ = 0;
};

// Constant padding (PAD): whole rows copied and filled; XNNPACK's 2022 pad moved a 3-channel
// 256x256 image at 1 % of memory bandwidth (pose landmarks' input, docs/performance.md).
class Pad final : public OwnKernel {
 public:
  Pad(const NodeDesc& d, const KernelVariant& v)
      : OwnKernel(v), in_shape_(d.inputs[0].shape), out_shape_(d.outputs[0].shape) {
    const auto* o = d.node->options_as_PadOptions();
    for (size_t i = 0; i < in_shape_.rank(); ++i) before_[i] = o->before()->Get(i);
    value_ = o->value();
  }
  Status run(pthreadpool_t) override {
    v_.pad(in_, in_shape_, before_, out_shape_, value_, out_);
    return Status::ok();
  }

 private:
  Shape in_shape_, out_shape_;
  int64_t before_[Shape::kMaxDims] = {};
  float value_ = 0.f;
};

class Transpose final : public OwnKernel {
 public:
  Transpose(const NodeDesc& d, const KernelVariant& v) : OwnKernel(v), shape_(d.inputs[0].shape) {
    const auto* perm = d.node->options_as_TransposeOptions()->perm();
    for (size_t i = 0; i < perm->size(); ++i) perm_[i] = perm->Get(i);
  }
  Status run(pthreadpool_t) override {
    v_.transpose(in_, shape_, perm_, out_);
    return Status::ok();
  }

 private:
  Shape shape_;
  int32_t perm_[Shape::kMaxDims] = {};
};

// SLICE: a strided window, copied a contiguous run at a time where the variant can.
class Slice final : public OwnKernel {
 public:
  Slice(const NodeDesc& d, const KernelVariant& v)
      : OwnKernel(v), in_shape_(d.inputs[0].shape), out_shape_(d.outputs[0].shape) {
    const auto* o = d.node->options_as_SliceOptions();
    for (flatbuffers::uoffset_t i = 0; i < o->begin()->size(); ++i) {
      begin_[i] = o->begin()->Get(i);
      step_[i] = o->step() ? o->step()->Get(i) : 1;
    }
  }
  Status run(pthreadpool_t) override {
    v_.slice(in_, in_shape_, begin_, step_, out_shape_, out_);
    return Status::ok();
  }

 private:
  Shape in_shape_, out_shape_;
  int64_t begin_[Shape::kMaxDims] = {};
  int64_t step_[Shape::kMaxDims] = {};
};

class ResizeNearest final : public OwnKernel {
 public:
  ResizeNearest(const NodeDesc& d, const KernelVariant& v)
      : OwnKernel(v),
        shape_(d.inputs[0].shape),
        out_h_(d.outputs[0].shape[1]),
        out_w_(d.outputs[0].shape[2]),
        mode_(coordinates_of(d.node->options_as_ResizeOptions()->coordinates())) {}
  Status run(pthreadpool_t) override {
    v_.resize_nearest(in_, shape_, out_h_, out_w_, mode_, out_);
    return Status::ok();
  }

 private:
  Shape shape_;
  int64_t out_h_, out_w_;
  reference::Coordinates mode_;
};

class Softmax final : public OwnKernel {
 public:
  Softmax(const NodeDesc& d, const KernelVariant& v)
      : OwnKernel(v), beta_(d.node->options_as_SoftmaxOptions()->beta()) {
    const Shape& s = d.inputs[0].shape;
    channels_ = static_cast<size_t>(s[s.rank() - 1]);
    rows_ = static_cast<size_t>(s.elements()) / channels_;
  }
  Status run(pthreadpool_t pool) override {
    // Rows are independent: about kBlock values per task.
    parallelize_1d_tile_1d(
        pool,
        [](void* ctx, size_t start, size_t tile) {
          auto* self = static_cast<Softmax*>(ctx);
          const size_t offset = start * self->channels_;
          self->v_.softmax(self->in_ + offset, tile, self->channels_, self->beta_,
                           self->out_ + offset);
        },
        this, rows_, std::max<size_t>(1, kBlock / channels_), 0);
    return Status::ok();
  }

 private:
  float beta_;
  size_t rows_ = 0, channels_ = 0;
};

// A 1x1 pooling window is strided subsampling (TF-slim ResNet shortcuts use it); XNNPACK
// rejects single-element windows, and max and average both reduce to picking the pixel. Padding
// is zero here: the format requires it to be smaller than the window.
class Subsample final : public OwnKernel {
 public:
  Subsample(const NodeDesc& d, const KernelVariant& v)
      : OwnKernel(v),
        in_shape_(d.inputs[0].shape),
        out_shape_(d.outputs[0].shape),
        act_(fused_activation(*d.node)) {
    const auto* o = d.node->options_as_Pool2DOptions();
    stride_h_ = o->stride_h();
    stride_w_ = o->stride_w();
  }
  Status run(pthreadpool_t) override {
    v_.subsample(in_, in_shape_, out_shape_, stride_h_, stride_w_, act_.min, act_.max, out_);
    return Status::ok();
  }

 private:
  Shape in_shape_, out_shape_;
  ActivationRange act_;
  int64_t stride_h_ = 1, stride_w_ = 1;
};

}  // namespace

reference::Coordinates coordinates_of(schema::CoordinateMode m) {
  switch (m) {
    case schema::CoordinateMode::HALF_PIXEL:
      return reference::Coordinates::kHalfPixel;
    case schema::CoordinateMode::ALIGN_CORNERS:
      return reference::Coordinates::kAlignCorners;
    case schema::CoordinateMode::ASYMMETRIC:
      return reference::Coordinates::kAsymmetric;
  }
  return reference::Coordinates::kHalfPixel;  // unreachable: shape inference rejects other modes
}

KernelResult create_own_kernel(const NodeDesc& d) {
  PH_ASSIGN_OR_RETURN(const Isa isa, selected_isa());
  const KernelVariant& v = *kernel_variant(isa);
  switch (d.node->op()) {
    case OpKind::TANH:
      return std::unique_ptr<Kernel>(new Unary(d, v, v.tanh));
    case OpKind::SILU:
      return std::unique_ptr<Kernel>(new Unary(d, v, v.silu));
    case OpKind::RESHAPE:
      return std::unique_ptr<Kernel>(new Copy(d, v));
    case OpKind::CONCATENATION:
      return std::unique_ptr<Kernel>(new Concatenation(d, v));
    case OpKind::TRANSPOSE:
      return std::unique_ptr<Kernel>(new Transpose(d, v));
    case OpKind::PAD:
      return std::unique_ptr<Kernel>(new Pad(d, v));
    case OpKind::SLICE:
      return std::unique_ptr<Kernel>(new Slice(d, v));
    case OpKind::RESIZE:
      if (d.node->options_as_ResizeOptions()->mode() == schema::ResizeMode::NEAREST)
        return std::unique_ptr<Kernel>(new ResizeNearest(d, v));
      return not_handled();  // bilinear: XNNPACK
    case OpKind::SOFTMAX: {
      const auto* o = d.node->options_as_SoftmaxOptions();
      if (o && o->beta() != 1.f) return std::unique_ptr<Kernel>(new Softmax(d, v));
      return not_handled();  // beta 1: XNNPACK
    }
    case OpKind::MAX_POOL_2D:
    case OpKind::AVERAGE_POOL_2D: {
      const auto* o = d.node->options_as_Pool2DOptions();
      if (o->filter_h() == 1 && o->filter_w() == 1)
        return std::unique_ptr<Kernel>(new Subsample(d, v));
      return not_handled();  // a real window: XNNPACK
    }
    case OpKind::CONV_2D: {
      PH_ASSIGN_OR_RETURN(std::unique_ptr<Kernel> k, create_own_dense_conv(d, v));
      if (k) return k;
      return create_own_row_conv(d, v);
    }
    case OpKind::DEPTHWISE_CONV_2D:
      return create_own_row_conv(d, v);
    // XNNPACK's operators, and the int8 kernels.
    case OpKind::FULLY_CONNECTED:
    case OpKind::ADD:
    case OpKind::SUB:
    case OpKind::MUL:
    case OpKind::DIV:
    case OpKind::MEAN:
    case OpKind::CLAMP:
    case OpKind::HARD_SWISH:
    case OpKind::SIGMOID:
    case OpKind::LEAKY_RELU:
    case OpKind::ABS:
    case OpKind::PRELU:
    case OpKind::TRANSPOSE_CONV_2D:
    case OpKind::DEPTH_TO_SPACE:
    case OpKind::CHANNEL_SHUFFLE:
    case OpKind::QUANTIZE:
    case OpKind::DEQUANTIZE:
      return not_handled();
  }
  return unlisted_operator(d, "Polyhead's own float");
}

}  // namespace polyhead::kernels
