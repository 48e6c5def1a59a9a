// The shape and cost rules of every operator (declared in shape_rules.h, reached through the
// operator table) and the entry points that look them up.
#include "polyhead/kernels/shape_inference.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "shape_rules.h"

namespace polyhead::kernels {
namespace {

Status fail(std::string message) {
  return Status(ErrorCode::kInvalidModel, std::move(message));
}

std::string str(int64_t v) {
  return std::to_string(v);
}

// Limits every shape this file accepts or produces, the same the loader applies to declared
// tensors, so that no shape arithmetic here or downstream (element counts, byte sizes, arena
// offsets) can overflow: dimensions in [1, 2^24], at most 2^34 elements.
constexpr int64_t kMaxDim = int64_t{1} << 24;
constexpr int64_t kMaxElements = int64_t{1} << 34;
// Windowed operators (convolution, pooling) sweep output_h * output_w positions of a
// window_h * window_w window; XNNPACK builds an indirection buffer of one pointer per visited
// input position, so the product is bounded to keep that buffer addressable and allocatable.
constexpr int64_t kMaxWindowPositions = int64_t{1} << 31;

// Checks that every dimension of `s` is in [1, kMaxDim] and its element count in
// [1, kMaxElements] without overflowing.
Status check_shape(const Shape& s, const std::string& what) {
  int64_t elements = 1;
  for (size_t i = 0; i < s.rank(); ++i) {
    if (s[i] < 1 || s[i] > kMaxDim)
      return fail(what + " dimension " + str(static_cast<int64_t>(i)) + " is " + str(s[i]) +
                  ", must be in [1, " + str(kMaxDim) + "] (shape " + s.to_string() + ")");
    elements *= s[i];  // <= 2^34 * 2^24 before the check below: no overflow
    if (elements > kMaxElements)
      return fail(what + " shape " + s.to_string() + " has more than 2^34 elements");
  }
  return Status::ok();
}

Status check_window_positions(int64_t out_h, int64_t out_w, int64_t window_h, int64_t window_w) {
  // Each factor is at most 2^31 and out_h * out_w <= 2^34 here; divide instead of multiplying.
  const int64_t positions = out_h * out_w;
  if (positions > kMaxWindowPositions || window_h > kMaxWindowPositions / positions ||
      window_w > kMaxWindowPositions / (positions * window_h))
    return fail("the " + str(window_h) + "x" + str(window_w) + " window over a " + str(out_h) +
                "x" + str(out_w) + " output visits more than 2^31 input positions");
  return Status::ok();
}

// Checks the input count: `min`..`max` inputs, of which the first `required` must be present.
Status check_arity(const std::vector<InputShape>& in, size_t min, size_t max, size_t required) {
  if (in.size() < min || in.size() > max) {
    return fail("expects " + (min == max ? str(min) : str(min) + ".." + str(max)) +
                " inputs, found " + str(in.size()));
  }
  for (size_t i = 0; i < required && i < in.size(); ++i)
    if (!in[i].present) return fail("input " + str(i) + " is required but absent (-1)");
  return Status::ok();
}

Status check_rank(const InputShape& in, size_t rank, const char* what) {
  if (in.shape.rank() != rank)
    return fail(std::string(what) + " must have rank " + str(rank) + ", found shape " +
                in.shape.to_string());
  return Status::ok();
}

Status check_constant(const InputShape& in, const char* what) {
  if (in.present && !in.constant) return fail(std::string(what) + " must be a constant tensor");
  return Status::ok();
}

Status check_bias(const std::vector<InputShape>& in, size_t index, int64_t channels) {
  if (in.size() <= index || !in[index].present) return Status::ok();
  PH_RETURN_IF_ERROR(check_constant(in[index], "bias"));
  if (in[index].shape.elements() != channels)
    return fail("bias must have " + str(channels) + " elements, found shape " +
                in[index].shape.to_string());
  return Status::ok();
}

// A clamp range [min, max] must be ordered and admit a finite value: min = +inf or max = -inf
// (or NaN) would clamp everything to infinity, which XNNPACK refuses at prepare.
bool valid_range(float min, float max) {
  return !std::isnan(min) && !std::isnan(max) && min <= max &&
         min < std::numeric_limits<float>::infinity() &&
         max > -std::numeric_limits<float>::infinity();
}

Status check_activation(const schema::Activation* act) {
  if (!act) return Status::ok();
  if (!valid_range(act->min(), act->max()))
    return fail("fused activation range [" + std::to_string(act->min()) + ", " +
                std::to_string(act->max()) + "] is empty, NaN or infinite");
  return Status::ok();
}

Status check_positive(int v, const char* what) {
  if (v <= 0) return fail(std::string(what) + " must be positive, found " + str(v));
  return Status::ok();
}

Status check_non_negative(int v, const char* what) {
  if (v < 0) return fail(std::string(what) + " must be non-negative, found " + str(v));
  return Status::ok();
}

// Output extent of a window sweep; errors when the window does not fit.
Result<int64_t> window_output(int64_t in, int pad_a, int pad_b, int64_t extent, int stride,
                              const char* axis) {
  const int64_t padded = in + pad_a + pad_b;
  if (padded < extent)
    return fail(std::string("window of ") + str(extent) + " does not fit the padded " + axis +
                " extent " + str(padded));
  return (padded - extent) / stride + 1;
}

template <typename T>
Result<const T*> options_of(const schema::Node& node, const T* opts, const char* type) {
  if (!opts)
    return fail(std::string("options must be ") + type + " for " + op_kind_name(node.op()));
  return opts;
}

// One input of rank >= 1; the output has its shape.
Result<std::vector<Shape>> same_shape(const std::vector<InputShape>& in) {
  PH_RETURN_IF_ERROR(check_arity(in, 1, 1, 1));
  if (in[0].shape.rank() == 0) return fail("input must have rank >= 1");
  return std::vector<Shape>{in[0].shape};
}

}  // namespace

namespace shape_rules {

Result<std::vector<Shape>> conv2d(const schema::Node& node, const std::vector<InputShape>& in) {
  PH_RETURN_IF_ERROR(check_arity(in, 2, 3, 2));
  PH_ASSIGN_OR_RETURN(auto* o, options_of(node, node.options_as_Conv2DOptions(), "Conv2DOptions"));
  PH_RETURN_IF_ERROR(check_rank(in[0], 4, "input"));
  PH_RETURN_IF_ERROR(check_rank(in[1], 4, "weights"));
  PH_RETURN_IF_ERROR(check_constant(in[1], "weights"));
  PH_RETURN_IF_ERROR(check_positive(o->stride_h(), "stride_h"));
  PH_RETURN_IF_ERROR(check_positive(o->stride_w(), "stride_w"));
  PH_RETURN_IF_ERROR(check_positive(o->dilation_h(), "dilation_h"));
  PH_RETURN_IF_ERROR(check_positive(o->dilation_w(), "dilation_w"));
  PH_RETURN_IF_ERROR(check_positive(o->groups(), "groups"));
  PH_RETURN_IF_ERROR(check_non_negative(o->pad_top(), "pad_top"));
  PH_RETURN_IF_ERROR(check_non_negative(o->pad_left(), "pad_left"));
  PH_RETURN_IF_ERROR(check_non_negative(o->pad_bottom(), "pad_bottom"));
  PH_RETURN_IF_ERROR(check_non_negative(o->pad_right(), "pad_right"));
  PH_RETURN_IF_ERROR(check_activation(o->activation()));
  const Shape& x = in[0].shape;
  const Shape& w = in[1].shape;
  const int64_t groups = o->groups();
  if (x[3] % groups != 0)
    return fail("input channels " + str(x[3]) + " are not divisible by groups " + str(groups));
  if (w[0] % groups != 0)
    return fail("output channels " + str(w[0]) + " are not divisible by groups " + str(groups));
  if (w[3] != x[3] / groups)
    return fail("weights " + w.to_string() + " expect " + str(w[3] * groups) +
                " input channels, input has " + str(x[3]) + " (groups " + str(groups) + ")");
  PH_RETURN_IF_ERROR(check_bias(in, 2, w[0]));
  const int64_t kh = (w[1] - 1) * o->dilation_h() + 1;
  const int64_t kw = (w[2] - 1) * o->dilation_w() + 1;
  PH_ASSIGN_OR_RETURN(
      int64_t oh, window_output(x[1], o->pad_top(), o->pad_bottom(), kh, o->stride_h(), "height"));
  PH_ASSIGN_OR_RETURN(
      int64_t ow, window_output(x[2], o->pad_left(), o->pad_right(), kw, o->stride_w(), "width"));
  PH_RETURN_IF_ERROR(check_shape(Shape{x[0], oh, ow, w[0]}, "output"));
  PH_RETURN_IF_ERROR(check_window_positions(oh, ow, w[1], w[2]));
  return std::vector<Shape>{Shape{x[0], oh, ow, w[0]}};
}

Result<std::vector<Shape>> transpose_conv2d(const schema::Node& node,
                                            const std::vector<InputShape>& in) {
  PH_RETURN_IF_ERROR(check_arity(in, 2, 3, 2));
  PH_ASSIGN_OR_RETURN(auto* o, options_of(node, node.options_as_TransposeConv2DOptions(),
                                          "TransposeConv2DOptions"));
  PH_RETURN_IF_ERROR(check_rank(in[0], 4, "input"));
  PH_RETURN_IF_ERROR(check_rank(in[1], 4, "weights"));
  PH_RETURN_IF_ERROR(check_constant(in[1], "weights"));
  PH_RETURN_IF_ERROR(check_positive(o->stride_h(), "stride_h"));
  PH_RETURN_IF_ERROR(check_positive(o->stride_w(), "stride_w"));
  PH_RETURN_IF_ERROR(check_non_negative(o->pad_top(), "pad_top"));
  PH_RETURN_IF_ERROR(check_non_negative(o->pad_left(), "pad_left"));
  PH_RETURN_IF_ERROR(check_non_negative(o->pad_bottom(), "pad_bottom"));
  PH_RETURN_IF_ERROR(check_non_negative(o->pad_right(), "pad_right"));
  PH_RETURN_IF_ERROR(check_non_negative(o->adjustment_h(), "adjustment_h"));
  PH_RETURN_IF_ERROR(check_non_negative(o->adjustment_w(), "adjustment_w"));
  PH_RETURN_IF_ERROR(check_activation(o->activation()));
  if (o->adjustment_h() >= o->stride_h() || o->adjustment_w() >= o->stride_w())
    return fail("adjustment must be smaller than the stride, found adjustment " +
                str(o->adjustment_h()) + "x" + str(o->adjustment_w()) + " for stride " +
                str(o->stride_h()) + "x" + str(o->stride_w()));
  const Shape& x = in[0].shape;
  const Shape& w = in[1].shape;
  if (w[3] != x[3])
    return fail("weights " + w.to_string() + " expect " + str(w[3]) +
                " input channels, input has " + str(x[3]));
  PH_RETURN_IF_ERROR(check_bias(in, 2, w[0]));
  const int64_t oh =
      o->stride_h() * (x[1] - 1) + w[1] + o->adjustment_h() - o->pad_top() - o->pad_bottom();
  const int64_t ow =
      o->stride_w() * (x[2] - 1) + w[2] + o->adjustment_w() - o->pad_left() - o->pad_right();
  if (oh <= 0 || ow <= 0)
    return fail("padding leaves an empty output (" + str(oh) + "x" + str(ow) + ")");
  PH_RETURN_IF_ERROR(check_shape(Shape{x[0], oh, ow, w[0]}, "output"));
  PH_RETURN_IF_ERROR(check_window_positions(oh, ow, w[1], w[2]));
  return std::vector<Shape>{Shape{x[0], oh, ow, w[0]}};
}

Result<std::vector<Shape>> fully_connected(const schema::Node& node,
                                           const std::vector<InputShape>& in) {
  PH_RETURN_IF_ERROR(check_arity(in, 2, 3, 2));
  if (auto* o = node.options_as_FullyConnectedOptions())
    PH_RETURN_IF_ERROR(check_activation(o->activation()));
  PH_RETURN_IF_ERROR(check_rank(in[1], 2, "weights"));
  PH_RETURN_IF_ERROR(check_constant(in[1], "weights"));
  const Shape& x = in[0].shape;
  const Shape& w = in[1].shape;
  if (x.rank() < 1) return fail("input must have rank >= 1, found a scalar");
  if (x[x.rank() - 1] != w[1])
    return fail("weights " + w.to_string() + " expect " + str(w[1]) + " input features, input " +
                x.to_string() + " has " + str(x[x.rank() - 1]));
  PH_RETURN_IF_ERROR(check_bias(in, 2, w[0]));
  Shape out = x;
  out[out.rank() - 1] = w[0];
  return std::vector<Shape>{out};
}

Result<std::vector<Shape>> binary(const schema::Node& node, const std::vector<InputShape>& in) {
  PH_RETURN_IF_ERROR(check_arity(in, 2, 2, 2));
  if (auto* o = node.options_as_BinaryOptions())
    PH_RETURN_IF_ERROR(check_activation(o->activation()));
  const Shape& a = in[0].shape;
  const Shape& b = in[1].shape;
  const size_t rank = std::max(a.rank(), b.rank());
  Shape out;
  for (size_t i = 0; i < rank; ++i) {
    // Align from the right, numpy style.
    const int64_t da = i + a.rank() >= rank ? a[i + a.rank() - rank] : 1;
    const int64_t db = i + b.rank() >= rank ? b[i + b.rank() - rank] : 1;
    if (da != db && da != 1 && db != 1)
      return fail("shapes " + a.to_string() + " and " + b.to_string() + " do not broadcast");
    out.push_back(da == 1 ? db : da);
  }
  return std::vector<Shape>{out};
}

Result<std::vector<Shape>> pool2d(const schema::Node& node, const std::vector<InputShape>& in) {
  PH_RETURN_IF_ERROR(check_arity(in, 1, 1, 1));
  PH_ASSIGN_OR_RETURN(auto* o, options_of(node, node.options_as_Pool2DOptions(), "Pool2DOptions"));
  PH_RETURN_IF_ERROR(check_rank(in[0], 4, "input"));
  PH_RETURN_IF_ERROR(check_positive(o->filter_h(), "filter_h"));
  PH_RETURN_IF_ERROR(check_positive(o->filter_w(), "filter_w"));
  PH_RETURN_IF_ERROR(check_positive(o->stride_h(), "stride_h"));
  PH_RETURN_IF_ERROR(check_positive(o->stride_w(), "stride_w"));
  PH_RETURN_IF_ERROR(check_non_negative(o->pad_top(), "pad_top"));
  PH_RETURN_IF_ERROR(check_non_negative(o->pad_left(), "pad_left"));
  PH_RETURN_IF_ERROR(check_non_negative(o->pad_bottom(), "pad_bottom"));
  PH_RETURN_IF_ERROR(check_non_negative(o->pad_right(), "pad_right"));
  PH_RETURN_IF_ERROR(check_activation(o->activation()));
  // A padding as wide as the window would make windows that see no input at all.
  if (o->pad_top() >= o->filter_h() || o->pad_bottom() >= o->filter_h() ||
      o->pad_left() >= o->filter_w() || o->pad_right() >= o->filter_w())
    return fail("padding must be smaller than the pooling window");
  const Shape& x = in[0].shape;
  PH_ASSIGN_OR_RETURN(int64_t oh, window_output(x[1], o->pad_top(), o->pad_bottom(), o->filter_h(),
                                                o->stride_h(), "height"));
  PH_ASSIGN_OR_RETURN(int64_t ow, window_output(x[2], o->pad_left(), o->pad_right(), o->filter_w(),
                                                o->stride_w(), "width"));
  PH_RETURN_IF_ERROR(check_shape(Shape{x[0], oh, ow, x[3]}, "output"));
  PH_RETURN_IF_ERROR(check_window_positions(oh, ow, o->filter_h(), o->filter_w()));
  return std::vector<Shape>{Shape{x[0], oh, ow, x[3]}};
}

Result<std::vector<Shape>> mean(const schema::Node& node, const std::vector<InputShape>& in) {
  PH_RETURN_IF_ERROR(check_arity(in, 1, 1, 1));
  PH_RETURN_IF_ERROR(check_rank(in[0], 4, "input"));
  const auto* o = node.options_as_MeanOptions();
  const bool keep = o ? o->keep_dims() : true;
  const Shape& x = in[0].shape;
  return std::vector<Shape>{keep ? Shape{x[0], 1, 1, x[3]} : Shape{x[0], x[3]}};
}

Result<std::vector<Shape>> pad(const schema::Node& node, const std::vector<InputShape>& in) {
  PH_RETURN_IF_ERROR(check_arity(in, 1, 1, 1));
  PH_ASSIGN_OR_RETURN(auto* o, options_of(node, node.options_as_PadOptions(), "PadOptions"));
  const Shape& x = in[0].shape;
  if (o->before()->size() != x.rank() || o->after()->size() != x.rank())
    return fail("padding has " + str(o->before()->size()) + "/" + str(o->after()->size()) +
                " entries for an input of rank " + str(x.rank()));
  if (std::isnan(o->value())) return fail("padding value is NaN");
  Shape out;
  for (size_t i = 0; i < x.rank(); ++i) {
    const int b = o->before()->Get(i), a = o->after()->Get(i);
    if (b < 0 || a < 0 || b > (1 << 20) || a > (1 << 20))
      return fail("padding of dimension " + str(i) + " must be in [0, 2^20], found " + str(b) +
                  "/" + str(a));
    out.push_back(x[i] + b + a);
  }
  return std::vector<Shape>{out};
}

Result<std::vector<Shape>> resize(const schema::Node& node, const std::vector<InputShape>& in) {
  PH_RETURN_IF_ERROR(check_arity(in, 1, 1, 1));
  PH_ASSIGN_OR_RETURN(auto* o, options_of(node, node.options_as_ResizeOptions(), "ResizeOptions"));
  PH_RETURN_IF_ERROR(check_rank(in[0], 4, "input"));
  PH_RETURN_IF_ERROR(check_positive(o->height(), "height"));
  PH_RETURN_IF_ERROR(check_positive(o->width(), "width"));
  if (o->height() > (1 << 16) || o->width() > (1 << 16))
    return fail("output size " + str(o->height()) + "x" + str(o->width()) + " exceeds 65536");
  if (o->mode() < schema::ResizeMode::MIN || o->mode() > schema::ResizeMode::MAX ||
      o->coordinates() < schema::CoordinateMode::MIN ||
      o->coordinates() > schema::CoordinateMode::MAX)
    return fail("unknown resize mode " + str(static_cast<int>(o->mode())) + " or coordinates " +
                str(static_cast<int>(o->coordinates())));
  const Shape& x = in[0].shape;
  return std::vector<Shape>{Shape{x[0], o->height(), o->width(), x[3]}};
}

Result<std::vector<Shape>> softmax(const schema::Node& node, const std::vector<InputShape>& in) {
  if (auto* o = node.options_as_SoftmaxOptions())
    if (!(o->beta() > 0) || !std::isfinite(o->beta()))
      return fail("beta must be positive and finite, found " + std::to_string(o->beta()));
  return same_shape(in);
}

Result<std::vector<Shape>> clamp(const schema::Node& node, const std::vector<InputShape>& in) {
  if (auto* o = node.options_as_ClampOptions())
    if (!valid_range(o->min(), o->max()))
      return fail("clamp range [" + std::to_string(o->min()) + ", " + std::to_string(o->max()) +
                  "] is empty, NaN or infinite");
  return same_shape(in);
}

Result<std::vector<Shape>> leaky_relu(const schema::Node& node, const std::vector<InputShape>& in) {
  if (auto* o = node.options_as_LeakyReluOptions())
    if (!std::isfinite(o->negative_slope()))
      return fail("negative_slope must be finite, found " + std::to_string(o->negative_slope()));
  return same_shape(in);
}

Result<std::vector<Shape>> elementwise(const schema::Node&, const std::vector<InputShape>& in) {
  return same_shape(in);
}

Result<std::vector<Shape>> prelu(const schema::Node&, const std::vector<InputShape>& in) {
  PH_RETURN_IF_ERROR(check_arity(in, 2, 2, 2));
  PH_RETURN_IF_ERROR(check_constant(in[1], "slope"));
  const Shape& x = in[0].shape;
  if (x.rank() == 0) return fail("input must have rank >= 1");
  const int64_t channels = x[x.rank() - 1];
  if (in[1].shape.elements() != channels)
    return fail("slope must have one value per channel (" + str(channels) + "), found shape " +
                in[1].shape.to_string());
  return std::vector<Shape>{x};
}

Result<std::vector<Shape>> depth_to_space(const schema::Node& node,
                                          const std::vector<InputShape>& in) {
  PH_RETURN_IF_ERROR(check_arity(in, 1, 1, 1));
  PH_ASSIGN_OR_RETURN(
      auto* o, options_of(node, node.options_as_DepthToSpaceOptions(), "DepthToSpaceOptions"));
  PH_RETURN_IF_ERROR(check_rank(in[0], 4, "input"));
  const int b = o->block_size();
  if (b < 2 || b > 64) return fail("block_size must be in [2, 64], found " + str(b));
  const Shape& x = in[0].shape;
  if (x[3] % (int64_t{b} * b) != 0)
    return fail("channels " + str(x[3]) + " are not divisible by block_size^2 = " + str(b * b));
  return std::vector<Shape>{Shape{x[0], x[1] * b, x[2] * b, x[3] / (b * b)}};
}

Result<std::vector<Shape>> reshape(const schema::Node& node, const std::vector<InputShape>& in) {
  PH_RETURN_IF_ERROR(check_arity(in, 1, 1, 1));
  PH_ASSIGN_OR_RETURN(auto* o,
                      options_of(node, node.options_as_ReshapeOptions(), "ReshapeOptions"));
  if (o->shape()->size() > Shape::kMaxDims)
    return fail("target rank " + str(o->shape()->size()) + " exceeds " + str(Shape::kMaxDims));
  Shape out;
  for (int d : *o->shape()) {
    if (d <= 0 || d > kMaxDim)
      return fail("target dimensions must be in [1, " + str(kMaxDim) + "], found " + str(d));
    out.push_back(d);
  }
  PH_RETURN_IF_ERROR(check_shape(out, "target"));
  if (out.elements() != in[0].shape.elements())
    return fail("cannot reshape " + in[0].shape.to_string() + " (" + str(in[0].shape.elements()) +
                " elements) to " + out.to_string() + " (" + str(out.elements()) + ")");
  return std::vector<Shape>{out};
}

Result<std::vector<Shape>> concatenation(const schema::Node& node,
                                         const std::vector<InputShape>& in) {
  if (in.empty()) return fail("expects at least 1 input, found 0");
  for (size_t i = 0; i < in.size(); ++i)
    if (!in[i].present) return fail("input " + str(i) + " is absent (-1)");
  PH_ASSIGN_OR_RETURN(
      auto* o, options_of(node, node.options_as_ConcatenationOptions(), "ConcatenationOptions"));
  PH_RETURN_IF_ERROR(check_activation(o->activation()));
  const size_t rank = in[0].shape.rank();
  const int axis = o->axis() < 0 ? o->axis() + static_cast<int>(rank) : o->axis();
  if (rank == 0 || axis < 0 || axis >= static_cast<int>(rank))
    return fail("axis " + str(o->axis()) + " is out of range for rank " + str(rank));
  Shape out = in[0].shape;
  for (size_t i = 1; i < in.size(); ++i) {
    const Shape& s = in[i].shape;
    bool ok = s.rank() == rank;
    for (size_t d = 0; ok && d < rank; ++d)
      if (static_cast<int>(d) != axis && s[d] != out[d]) ok = false;
    if (!ok)
      return fail("input " + str(i) + " shape " + s.to_string() + " does not match " +
                  in[0].shape.to_string() + " outside axis " + str(axis));
    out[axis] += s[axis];
  }
  return std::vector<Shape>{out};
}

Result<std::vector<Shape>> transpose(const schema::Node& node, const std::vector<InputShape>& in) {
  PH_RETURN_IF_ERROR(check_arity(in, 1, 1, 1));
  PH_ASSIGN_OR_RETURN(auto* o,
                      options_of(node, node.options_as_TransposeOptions(), "TransposeOptions"));
  const Shape& x = in[0].shape;
  if (o->perm()->size() != x.rank())
    return fail("perm has " + str(o->perm()->size()) + " entries for an input of rank " +
                str(x.rank()));
  bool seen[Shape::kMaxDims] = {};
  Shape out;
  for (int p : *o->perm()) {
    if (p < 0 || p >= static_cast<int>(x.rank()) || seen[p])
      return fail("perm is not a permutation of 0.." + str(x.rank() - 1) + " (found " + str(p) +
                  ")");
    seen[p] = true;
    out.push_back(x[p]);
  }
  return std::vector<Shape>{out};
}

Result<std::vector<Shape>> slice(const schema::Node& node, const std::vector<InputShape>& in) {
  PH_RETURN_IF_ERROR(check_arity(in, 1, 1, 1));
  PH_ASSIGN_OR_RETURN(auto* o, options_of(node, node.options_as_SliceOptions(), "SliceOptions"));
  const Shape& x = in[0].shape;
  if (x.rank() == 0) return fail("input must have rank >= 1");
  const size_t rank = x.rank();
  if (o->begin()->size() != rank || o->size()->size() != rank ||
      (o->step() && o->step()->size() != rank))
    return fail("begin/size/step have " + str(o->begin()->size()) + "/" + str(o->size()->size()) +
                "/" + str(o->step() ? o->step()->size() : rank) + " entries for an input of rank " +
                str(rank));
  Shape out;
  for (size_t d = 0; d < rank; ++d) {
    const auto k = static_cast<flatbuffers::uoffset_t>(d);
    const int64_t begin = o->begin()->Get(k), size = o->size()->Get(k);
    const int64_t step = o->step() ? o->step()->Get(k) : 1;
    // Every index read, begin + i * step for i < size, must lie in [0, x[d]).
    const int64_t last = begin + (size - 1) * step;  // |size|, |step| < 2^31: no overflow
    if (step == 0 || size < 1 || begin < 0 || begin >= x[d] || last < 0 || last >= x[d])
      return fail("dimension " + str(static_cast<int64_t>(d)) + " of " + x.to_string() +
                  ": begin " + str(begin) + ", size " + str(size) + ", step " + str(step) +
                  " reads outside [0, " + str(x[d]) + ") or nothing");
    out.push_back(size);
  }
  return std::vector<Shape>{out};
}

Result<std::vector<Shape>> channel_shuffle(const schema::Node& node,
                                           const std::vector<InputShape>& in) {
  PH_RETURN_IF_ERROR(check_arity(in, 1, 1, 1));
  PH_ASSIGN_OR_RETURN(
      auto* o, options_of(node, node.options_as_ChannelShuffleOptions(), "ChannelShuffleOptions"));
  const Shape& x = in[0].shape;
  if (x.rank() == 0) return fail("input must have rank >= 1");
  const int64_t channels = x[x.rank() - 1];
  if (o->groups() < 2 || channels % o->groups() != 0)
    return fail("groups must be at least 2 and divide the last dimension " + str(channels) +
                ", found " + str(o->groups()));
  return std::vector<Shape>{x};
}

uint64_t conv2d_macs(const schema::Node&, const std::vector<InputShape>& in,
                     const std::vector<Shape>& out) {
  const Shape& w = in[1].shape;
  return static_cast<uint64_t>(out[0].elements()) * static_cast<uint64_t>(w[1] * w[2] * w[3]);
}

uint64_t transpose_conv2d_macs(const schema::Node&, const std::vector<InputShape>& in,
                               const std::vector<Shape>&) {
  const Shape& w = in[1].shape;
  return static_cast<uint64_t>(in[0].shape.elements()) * static_cast<uint64_t>(w[0] * w[1] * w[2]);
}

uint64_t fully_connected_macs(const schema::Node&, const std::vector<InputShape>& in,
                              const std::vector<Shape>& out) {
  return static_cast<uint64_t>(out[0].elements()) * static_cast<uint64_t>(in[1].shape[1]);
}

uint64_t pool2d_macs(const schema::Node& node, const std::vector<InputShape>&,
                     const std::vector<Shape>& out) {
  const uint64_t out_elems = static_cast<uint64_t>(out[0].elements());
  const auto* o = node.options_as_Pool2DOptions();
  return o ? out_elems * static_cast<uint64_t>(o->filter_h()) * static_cast<uint64_t>(o->filter_w())
           : out_elems;
}

uint64_t mean_macs(const schema::Node&, const std::vector<InputShape>& in,
                   const std::vector<Shape>&) {
  return static_cast<uint64_t>(in[0].shape.elements());
}

uint64_t per_output_element(const schema::Node&, const std::vector<InputShape>&,
                            const std::vector<Shape>& out) {
  return static_cast<uint64_t>(out[0].elements());
}

}  // namespace shape_rules

Result<std::vector<Shape>> infer_output_shapes(const schema::Node& node,
                                               const std::vector<InputShape>& in) {
  // Inputs may come from an unvalidated builder: bound them first so the rules can do their
  // arithmetic in int64 without overflow.
  for (size_t i = 0; i < in.size(); ++i)
    if (in[i].present)
      PH_RETURN_IF_ERROR(check_shape(in[i].shape, "input " + str(static_cast<int64_t>(i))));
  PH_ASSIGN_OR_RETURN(const OpInfo* op, op_info(node.op()));
  PH_ASSIGN_OR_RETURN(std::vector<Shape> out, op->infer_shapes(node, in));
  for (const Shape& s : out) PH_RETURN_IF_ERROR(check_shape(s, "output"));
  return out;
}

Result<uint64_t> count_macs(const schema::Node& node, const std::vector<InputShape>& in,
                            const std::vector<Shape>& out) {
  PH_ASSIGN_OR_RETURN(const OpInfo* op, op_info(node.op()));
  if (out.empty()) return uint64_t{0};
  return op->count_macs(node, in, out);
}

ActivationRange fused_activation(const schema::Node& node) {
  const schema::Activation* act = nullptr;
  switch (node.options_type()) {
    case schema::OpOptions::Conv2DOptions:
      act = node.options_as_Conv2DOptions()->activation();
      break;
    case schema::OpOptions::TransposeConv2DOptions:
      act = node.options_as_TransposeConv2DOptions()->activation();
      break;
    case schema::OpOptions::FullyConnectedOptions:
      act = node.options_as_FullyConnectedOptions()->activation();
      break;
    case schema::OpOptions::BinaryOptions:
      act = node.options_as_BinaryOptions()->activation();
      break;
    case schema::OpOptions::Pool2DOptions:
      act = node.options_as_Pool2DOptions()->activation();
      break;
    case schema::OpOptions::ConcatenationOptions:
      act = node.options_as_ConcatenationOptions()->activation();
      break;
    default:  // the other options tables have no fused activation field
      break;
  }
  if (!act)
    return {-std::numeric_limits<float>::infinity(), std::numeric_limits<float>::infinity()};
  return {act->min(), act->max()};
}

}  // namespace polyhead::kernels
