// The operator converters of GraphConverter (graph_converter.cc has the values, layouts and the
// node loop).
#include <algorithm>
#include <cmath>
#include <limits>

#include "converters/onnx/constant_folding.h"
#include "converters/onnx/graph_converter.h"
#include "onnx/onnx_pb.h"

namespace polyhead::onnx_import {
namespace {

constexpr int kToNhwcAxis[4] = {0, 3, 1, 2};
const std::vector<int> kOihwToOhwi = {0, 2, 3, 1};

Shape to_shape(const std::vector<int64_t>& dims) {
  Shape s;
  for (int64_t d : dims) s.push_back(d);
  return s;
}

Status unsupported(const std::string& why) {
  return Status(ErrorCode::kUnsupported, why);
}
Status invalid(const std::string& why) {
  return Status(ErrorCode::kInvalidModel, why);
}

// Spatial attributes shared by Conv, ConvTranspose and the pools.
struct Window {
  std::vector<int64_t> kernel, strides{1, 1}, dilations{1, 1}, pads{0, 0, 0, 0};  // t,l,b,r
  std::string auto_pad = "NOTSET";
};

Result<Window> read_window(const NodeAttributes& a, const std::vector<int64_t>& kernel) {
  Window w;
  PH_ASSIGN_OR_RETURN(w.kernel, a.get_ints("kernel_shape", kernel));
  PH_ASSIGN_OR_RETURN(w.strides, a.get_ints("strides", w.strides));
  PH_ASSIGN_OR_RETURN(w.dilations, a.get_ints("dilations", w.dilations));
  PH_ASSIGN_OR_RETURN(w.auto_pad, a.get_string("auto_pad", "NOTSET"));
  std::vector<int64_t> onnx_pads;  // [y_begin, x_begin, y_end, x_end]
  PH_ASSIGN_OR_RETURN(onnx_pads, a.get_ints("pads", {0, 0, 0, 0}));
  if (w.kernel.size() != 2 || w.strides.size() != 2 || w.dilations.size() != 2 ||
      onnx_pads.size() != 4)
    return unsupported(a.where() + ": only 2-D windows are supported (kernel_shape " +
                       dims_text(w.kernel) + ")");
  for (int64_t v : w.kernel)
    if (v < 1) return invalid(a.where() + ": bad kernel_shape " + dims_text(w.kernel));
  for (size_t k = 0; k < 2; ++k)
    if (w.strides[k] < 1 || w.dilations[k] < 1)
      return invalid(a.where() + ": strides and dilations must be >= 1");
  for (int64_t p : onnx_pads)
    if (p < 0) return unsupported(a.where() + ": negative pads " + dims_text(onnx_pads));
  w.pads = {onnx_pads[0], onnx_pads[1], onnx_pads[2], onnx_pads[3]};
  if (w.auto_pad != "NOTSET" && w.auto_pad != "VALID" && w.auto_pad != "SAME_UPPER" &&
      w.auto_pad != "SAME_LOWER")
    return invalid(a.where() + ": auto_pad '" + w.auto_pad + "' is not an ONNX value");
  return w;
}

// Resolves auto_pad against input size `in` (H, W) for a forward window.
void apply_auto_pad(Window* w, const int64_t in[2]) {
  if (w->auto_pad == "NOTSET") return;
  for (size_t k = 0; k < 2; ++k) {
    int64_t total = 0;
    if (w->auto_pad != "VALID") {
      const int64_t out = (in[k] + w->strides[k] - 1) / w->strides[k];
      const int64_t eff = (w->kernel[k] - 1) * w->dilations[k] + 1;
      total = std::max<int64_t>(0, (out - 1) * w->strides[k] + eff - in[k]);
    }
    const int64_t small = total / 2, large = total - small;
    w->pads[k] = w->auto_pad == "SAME_LOWER" ? large : small;
    w->pads[k + 2] = w->auto_pad == "SAME_LOWER" ? small : large;
  }
}

bool fits_int(int64_t v) {
  return v >= 0 && v <= std::numeric_limits<int>::max();
}

// The ONNX Resize nearest source index for output `d` (float arithmetic, as runtimes do).
int64_t onnx_nearest(int64_t d, int64_t in, int64_t out, float scale, const std::string& coords,
                     const std::string& rounding) {
  const float x = static_cast<float>(d);
  float c = 0.f;
  if (coords == "half_pixel")
    c = (x + 0.5f) / scale - 0.5f;
  else if (coords == "pytorch_half_pixel")
    c = out > 1 ? (x + 0.5f) / scale - 0.5f : 0.f;
  else if (coords == "align_corners")
    c = out > 1 ? x * static_cast<float>(in - 1) / static_cast<float>(out - 1) : 0.f;
  else if (coords == "asymmetric")
    c = x / scale;
  else  // tf_half_pixel_for_nearest
    c = (x + 0.5f) / scale;
  float r;
  if (rounding == "floor")
    r = std::floor(c);
  else if (rounding == "ceil")
    r = std::ceil(c);
  else if (c == std::floor(c) + 0.5f)
    r = rounding == "round_prefer_ceil" ? std::ceil(c) : std::floor(c);
  else
    r = std::round(c);
  return std::clamp<int64_t>(static_cast<int64_t>(r), 0, in - 1);
}

// Polyhead's RESIZE nearest source index (docs/format.md).
int64_t our_nearest(int64_t d, int64_t in, int64_t out, ResizeCoordinates mode) {
  const float x = static_cast<float>(d), fi = static_cast<float>(in), fo = static_cast<float>(out);
  float c = 0.f;
  if (mode == ResizeCoordinates::kHalfPixel) c = (x + 0.5f) * fi / fo - 0.5f;
  if (mode == ResizeCoordinates::kAlignCorners)
    c = out > 1 ? x * static_cast<float>(in - 1) / static_cast<float>(out - 1) : 0.f;
  if (mode == ResizeCoordinates::kAsymmetric) c = x * fi / fo;
  return std::clamp<int64_t>(static_cast<int64_t>(std::floor(c + 0.5f)), 0, in - 1);
}

}  // namespace

// Folds an affine epilogue into weights laid out one row per output channel, and their bias.
void GraphConverter::scale_rows(const Epilogue& e, std::vector<float>* weights,
                                std::vector<float>* bias) {
  const size_t rows = bias->size(), per_row = rows ? weights->size() / rows : 0;
  for (size_t o = 0; o < rows; ++o) {
    for (size_t k = 0; k < per_row; ++k) (*weights)[o * per_row + k] *= e.scale[o];
    (*bias)[o] = (*bias)[o] * e.scale[o] + e.shift[o];
  }
}

Status GraphConverter::convert_conv(const onnx::NodeProto& node, const NodeAttributes& a) {
  PH_RETURN_IF_ERROR(a.only({"auto_pad", "dilations", "group", "kernel_shape", "pads", "strides"}));
  std::string src = node.input(0);
  std::vector<int64_t> extra = {0, 0, 0, 0};
  auto folded = pad_sources_.find(src);
  if (folded != pad_sources_.end()) {
    extra = pending_pads_[src];
    src = folded->second;
  }
  PH_ASSIGN_OR_RETURN(std::vector<int64_t> xs, shape_of(src));
  if (xs.size() != 4) return unsupported("only 2-D convolutions (4-D inputs) are supported");
  PH_ASSIGN_OR_RETURN(const ConstTensor* w, constant_input(node, 1, "weights"));
  if (w->dims.size() != 4 || !w->is_float)
    return invalid("weights " + dims_text(w->dims) + " are not 4-D float");
  const int64_t out_c = w->dims[0];
  PH_ASSIGN_OR_RETURN(Window win, read_window(a, {w->dims[2], w->dims[3]}));
  PH_ASSIGN_OR_RETURN(int64_t group, a.get_int("group", 1));
  if (win.kernel[0] != w->dims[2] || win.kernel[1] != w->dims[3])
    return invalid("kernel_shape " + dims_text(win.kernel) + " differs from the weights " +
                   dims_text(w->dims));
  const int64_t in_hw[2] = {xs[2] + extra[0] + extra[2], xs[3] + extra[1] + extra[3]};
  apply_auto_pad(&win, in_hw);
  if (group < 1 || xs[1] != w->dims[1] * group || out_c % group != 0)
    return invalid("input channels " + std::to_string(xs[1]) + ", weights " + dims_text(w->dims) +
                   " and group " + std::to_string(group) + " disagree");
  std::vector<float> bias(static_cast<size_t>(out_c), 0.f);
  if (node.input_size() > 2 && !node.input(2).empty()) {
    PH_ASSIGN_OR_RETURN(const ConstTensor* b, constant_input(node, 2, "bias"));
    if (b->size() != static_cast<size_t>(out_c) || !b->is_float)
      return invalid("bias " + dims_text(b->dims) + " does not match " + std::to_string(out_c) +
                     " output channels");
    bias = b->f;
  }
  Epilogue e;
  PH_RETURN_IF_ERROR(plan_epilogue(node.output(0), out_c, 4, true, &e));
  ConstTensor weights = transpose_tensor(*w, kOihwToOhwi);
  if (e.affine) scale_rows(e, &weights.f, &bias);
  Conv2DParams p;
  p.stride_h = static_cast<int>(win.strides[0]);
  p.stride_w = static_cast<int>(win.strides[1]);
  p.dilation_h = static_cast<int>(win.dilations[0]);
  p.dilation_w = static_cast<int>(win.dilations[1]);
  p.pad_top = static_cast<int>(win.pads[0] + extra[0]);
  p.pad_left = static_cast<int>(win.pads[1] + extra[1]);
  p.pad_bottom = static_cast<int>(win.pads[2] + extra[2]);
  p.pad_right = static_cast<int>(win.pads[3] + extra[3]);
  p.groups = static_cast<int>(group);
  p.activation = e.activation;
  PH_ASSIGN_OR_RETURN(int in, as_nhwc(src));
  const std::string name = unique(node_name(node));
  const int wt = b_.add_constant(name + "/weights", to_shape(weights.dims), weights.f);
  const int bt = b_.add_constant(name + "/bias", Shape{out_c}, bias);
  PH_ASSIGN_OR_RETURN(int out, b_.conv2d(name, in, wt, bt, p));
  count(OpKind::CONV_2D);
  return bind(e.output, out, true);
}

Status GraphConverter::convert_conv_transpose(const onnx::NodeProto& node,
                                              const NodeAttributes& a) {
  PH_RETURN_IF_ERROR(a.only({"auto_pad", "dilations", "group", "kernel_shape", "output_padding",
                             "output_shape", "pads", "strides"}));
  PH_ASSIGN_OR_RETURN(std::vector<int64_t> xs, shape_of(node.input(0)));
  if (xs.size() != 4) return unsupported("only 2-D transposed convolutions are supported");
  PH_ASSIGN_OR_RETURN(const ConstTensor* w, constant_input(node, 1, "weights"));
  if (w->dims.size() != 4 || !w->is_float || w->dims[0] != xs[1])
    return invalid("weights " + dims_text(w->dims) + " do not match input " + dims_text(xs));
  PH_ASSIGN_OR_RETURN(int64_t group, a.get_int("group", 1));
  if (group != 1) return a.unsupported("group", std::to_string(group), "only group 1");
  PH_ASSIGN_OR_RETURN(Window win, read_window(a, {w->dims[2], w->dims[3]}));
  if (win.dilations[0] != 1 || win.dilations[1] != 1)
    return a.unsupported("dilations", dims_text(win.dilations), "only 1");
  PH_ASSIGN_OR_RETURN(std::vector<int64_t> adj, a.get_ints("output_padding", {0, 0}));
  PH_ASSIGN_OR_RETURN(std::vector<int64_t> out_shape, a.get_ints("output_shape", {}));
  if (adj.size() != 2) return invalid("output_padding needs 2 values");
  const int64_t out_c = w->dims[1];
  if (!out_shape.empty() || win.auto_pad == "SAME_UPPER" || win.auto_pad == "SAME_LOWER") {
    for (size_t k = 0; k < 2; ++k) {
      const int64_t full = win.strides[k] * (xs[2 + k] - 1) + adj[k] + win.kernel[k];
      const int64_t want =
          out_shape.empty() ? xs[2 + k] * win.strides[k] : out_shape[out_shape.size() - 2 + k];
      const int64_t total = full - want;
      if (total < 0) return invalid("output_shape " + dims_text(out_shape) + " is too large");
      const bool upper = win.auto_pad != "SAME_LOWER";
      win.pads[k] = upper ? total / 2 : total - total / 2;
      win.pads[k + 2] = total - win.pads[k];
    }
  }
  for (size_t k = 0; k < 2; ++k)
    if (adj[k] < 0 || adj[k] >= win.strides[k])
      return a.unsupported("output_padding", dims_text(adj), "must be below the stride");
  std::vector<float> bias(static_cast<size_t>(out_c), 0.f);
  if (node.input_size() > 2 && !node.input(2).empty()) {
    PH_ASSIGN_OR_RETURN(const ConstTensor* b, constant_input(node, 2, "bias"));
    if (b->size() != static_cast<size_t>(out_c)) return invalid("bias size mismatch");
    bias = b->f;
  }
  Epilogue e;
  PH_RETURN_IF_ERROR(plan_epilogue(node.output(0), out_c, 4, true, &e));
  // ONNX [C_in, C_out, KH, KW] -> ours [C_out, KH, KW, C_in].
  ConstTensor weights = transpose_tensor(*w, {1, 2, 3, 0});
  if (e.affine) scale_rows(e, &weights.f, &bias);
  TransposeConv2DParams p;
  p.stride_h = static_cast<int>(win.strides[0]);
  p.stride_w = static_cast<int>(win.strides[1]);
  p.pad_top = static_cast<int>(win.pads[0]);
  p.pad_left = static_cast<int>(win.pads[1]);
  p.pad_bottom = static_cast<int>(win.pads[2]);
  p.pad_right = static_cast<int>(win.pads[3]);
  p.adjustment_h = static_cast<int>(adj[0]);
  p.adjustment_w = static_cast<int>(adj[1]);
  p.activation = e.activation;
  PH_ASSIGN_OR_RETURN(int in, as_nhwc(node.input(0)));
  const std::string name = unique(node_name(node));
  const int wt = b_.add_constant(name + "/weights", to_shape(weights.dims), weights.f);
  const int bt = b_.add_constant(name + "/bias", Shape{out_c}, bias);
  PH_ASSIGN_OR_RETURN(int out, b_.transpose_conv2d(name, in, wt, bt, p));
  count(OpKind::TRANSPOSE_CONV_2D);
  return bind(e.output, out, true);
}

Status GraphConverter::convert_gemm(const onnx::NodeProto& node, const NodeAttributes& a) {
  const bool gemm = node.op_type() == "Gemm";
  if (gemm)
    PH_RETURN_IF_ERROR(a.only({"alpha", "beta", "transA", "transB"}));
  else
    PH_RETURN_IF_ERROR(a.only({}));
  PH_ASSIGN_OR_RETURN(std::vector<int64_t> xs, shape_of(node.input(0)));
  if (node.input_size() < 2 || !constant(node.input(1)))
    return unsupported(
        "the second input must be a constant (weights): a product of two "
        "activations is not supported");
  const ConstTensor* w = constant(node.input(1));
  PH_ASSIGN_OR_RETURN(float alpha, a.get_float("alpha", 1.f));
  PH_ASSIGN_OR_RETURN(float beta, a.get_float("beta", 1.f));
  PH_ASSIGN_OR_RETURN(int64_t trans_a, a.get_int("transA", 0));
  PH_ASSIGN_OR_RETURN(int64_t trans_b, a.get_int("transB", 0));
  if (trans_a != 0) return a.unsupported("transA", std::to_string(trans_a), "only 0");
  if (w->dims.size() != 2 || !w->is_float)
    return unsupported("weights " + dims_text(w->dims) + " must be a 2-D float matrix");
  if ((gemm && xs.size() != 2) || xs.size() < 2)
    return invalid("input " + dims_text(xs) + " has the wrong rank");
  // Ours is [out, in]: Gemm with transB already is; MatMul's [in, out] is transposed.
  ConstTensor weights = trans_b ? *w : transpose_tensor(*w, {1, 0});
  const int64_t out_n = weights.dims[0], in_k = weights.dims[1];
  if (xs.back() != in_k)
    return invalid("input " + dims_text(xs) + " does not match weights " + dims_text(w->dims));
  for (float& v : weights.f) v *= alpha;
  std::vector<float> bias(static_cast<size_t>(out_n), 0.f);
  if (gemm && node.input_size() > 2 && !node.input(2).empty()) {
    PH_ASSIGN_OR_RETURN(const ConstTensor* c, constant_input(node, 2, "bias C"));
    if (c->size() != 1 && c->size() != static_cast<size_t>(out_n))
      return unsupported("bias C " + dims_text(c->dims) + " must have 1 or " +
                         std::to_string(out_n) + " values");
    for (size_t k = 0; k < bias.size(); ++k)
      bias[k] = beta * static_cast<float>(c->at(c->size() == 1 ? 0 : k));
  }
  Epilogue e;
  // The affine epilogue reads channels as dimension 1: only true of 2-D outputs here.
  PH_RETURN_IF_ERROR(plan_epilogue(node.output(0), out_n, xs.size(), xs.size() == 2, &e));
  if (!gemm && xs.size() > 2) {
    // MatMul + Add(bias over the last axis) is a fully connected layer too.
    const onnx::NodeProto* next = sole_consumer(e.output);
    std::vector<float> v;
    const ConstTensor* k = next && next->op_type() == "Add" && next->input_size() == 2
                               ? constant(next->input(next->input(0) == e.output ? 1 : 0))
                               : nullptr;
    if (k && k->is_float && k->size() == static_cast<size_t>(out_n) &&
        k->dims.size() <= xs.size() && k->dims.back() == out_n) {
      for (size_t c = 0; c < bias.size(); ++c) bias[c] += k->f[c];
      consumed_.insert(next);
      e.output = next->output(0);
      ++folded_["Add into MatMul"];
      PH_RETURN_IF_ERROR(plan_epilogue(e.output, out_n, xs.size(), false, &e));
    }
  }
  if (e.affine) scale_rows(e, &weights.f, &bias);
  PH_ASSIGN_OR_RETURN(int in, as_plain(node.input(0)));
  const std::string name = unique(node_name(node));
  const int wt = b_.add_constant(name + "/weights", to_shape(weights.dims), weights.f);
  const int bt = b_.add_constant(name + "/bias", Shape{out_n}, bias);
  PH_ASSIGN_OR_RETURN(int out, b_.fully_connected(name, in, wt, bt, e.activation));
  count(OpKind::FULLY_CONNECTED);
  return bind(e.output, out, false);
}

Status GraphConverter::convert_pool(const onnx::NodeProto& node, const NodeAttributes& a) {
  const bool average = node.op_type() == "AveragePool";
  if (average)
    PH_RETURN_IF_ERROR(a.only({"auto_pad", "ceil_mode", "count_include_pad", "kernel_shape", "pads",
                               "strides", "dilations"}));
  else
    PH_RETURN_IF_ERROR(a.only({"auto_pad", "ceil_mode", "dilations", "kernel_shape", "pads",
                               "storage_order", "strides"}));
  if (node.output_size() > 1 && !node.output(1).empty())
    return unsupported("MaxPool's indices output is not supported");
  PH_ASSIGN_OR_RETURN(std::vector<int64_t> xs, shape_of(node.input(0)));
  if (xs.size() != 4) return unsupported("only 2-D pooling (4-D inputs) is supported");
  if (!a.has("kernel_shape")) return invalid("kernel_shape is required");
  PH_ASSIGN_OR_RETURN(Window win, read_window(a, {}));
  if (win.dilations[0] != 1 || win.dilations[1] != 1)
    return a.unsupported("dilations", dims_text(win.dilations), "only 1");
  PH_ASSIGN_OR_RETURN(int64_t storage, a.get_int("storage_order", 0));
  if (storage != 0) return a.unsupported("storage_order", std::to_string(storage), "only 0");
  PH_ASSIGN_OR_RETURN(int64_t ceil_mode, a.get_int("ceil_mode", 0));
  PH_ASSIGN_OR_RETURN(int64_t include_pad, a.get_int("count_include_pad", 0));
  const int64_t in_hw[2] = {xs[2], xs[3]};
  apply_auto_pad(&win, in_hw);
  PH_ASSIGN_OR_RETURN(int in, as_nhwc(node.input(0)));
  const std::string name = unique(node_name(node));
  // count_include_pad: the zeros are real pixels, so pad explicitly and pool without padding.
  if (average && include_pad && (win.pads[0] || win.pads[1] || win.pads[2] || win.pads[3])) {
    PH_ASSIGN_OR_RETURN(
        in, b_.pad(name + "/pad", in,
                   {0, static_cast<int>(win.pads[0]), static_cast<int>(win.pads[1]), 0},
                   {0, static_cast<int>(win.pads[2]), static_cast<int>(win.pads[3]), 0}));
    count(OpKind::PAD);
    xs[2] += win.pads[0] + win.pads[2];
    xs[3] += win.pads[1] + win.pads[3];
    win.pads = {0, 0, 0, 0};
  }
  // ceil_mode: extra bottom/right padding that windows may read but never count or win.
  for (size_t k = 0; k < 2 && ceil_mode; ++k) {
    const int64_t span = xs[2 + k] + win.pads[k] + win.pads[k + 2] - win.kernel[k];
    int64_t out = (span + win.strides[k] - 1) / win.strides[k] + 1;
    // The last window must start inside the input or its leading padding.
    if ((out - 1) * win.strides[k] >= xs[2 + k] + win.pads[k]) --out;
    const int64_t extra = (out - 1) * win.strides[k] + win.kernel[k] - (span + win.kernel[k]);
    if (extra > 0) win.pads[k + 2] += extra;
    if (win.pads[k + 2] >= win.kernel[k])
      return a.unsupported("ceil_mode", "1", "its padding would exceed the window");
  }
  Epilogue e;
  PH_RETURN_IF_ERROR(plan_epilogue(node.output(0), xs[1], 4, false, &e));
  Pool2DParams p;
  p.filter_h = static_cast<int>(win.kernel[0]);
  p.filter_w = static_cast<int>(win.kernel[1]);
  p.stride_h = static_cast<int>(win.strides[0]);
  p.stride_w = static_cast<int>(win.strides[1]);
  p.pad_top = static_cast<int>(win.pads[0]);
  p.pad_left = static_cast<int>(win.pads[1]);
  p.pad_bottom = static_cast<int>(win.pads[2]);
  p.pad_right = static_cast<int>(win.pads[3]);
  p.activation = e.activation;
  PH_ASSIGN_OR_RETURN(int out, b_.pool2d(name, average ? PoolOp::kAverage : PoolOp::kMax, in, p));
  count(average ? OpKind::AVERAGE_POOL_2D : OpKind::MAX_POOL_2D);
  return bind(e.output, out, true);
}

Status GraphConverter::convert_mean(const onnx::NodeProto& node, const NodeAttributes& a) {
  PH_ASSIGN_OR_RETURN(std::vector<int64_t> xs, shape_of(node.input(0)));
  bool keep = true;
  if (node.op_type() == "ReduceMean") {
    PH_RETURN_IF_ERROR(a.only({"axes", "keepdims"}));
    PH_ASSIGN_OR_RETURN(std::vector<int64_t> axes, a.get_ints("axes", {}));
    PH_ASSIGN_OR_RETURN(int64_t keepdims, a.get_int("keepdims", 1));
    keep = keepdims != 0;
    for (int64_t& ax : axes)
      if (ax < 0) ax += static_cast<int64_t>(xs.size());
    std::sort(axes.begin(), axes.end());
    if (xs.size() != 4 || axes != std::vector<int64_t>{2, 3})
      return unsupported("ReduceMean over axes " + dims_text(axes) + " of a rank-" +
                         std::to_string(xs.size()) + " tensor (only over H and W of NCHW)");
  } else {
    PH_RETURN_IF_ERROR(a.only({}));
    if (xs.size() != 4) return unsupported("only 4-D inputs are supported");
  }
  PH_ASSIGN_OR_RETURN(int in, as_nhwc(node.input(0)));
  PH_ASSIGN_OR_RETURN(int out, b_.mean(unique(node_name(node)), in, keep));
  count(OpKind::MEAN);
  // [N,1,1,C] is NHWC; without kept dimensions [N,C] is the same in both layouts.
  return bind(node.output(0), out, keep);
}

Status GraphConverter::convert_resize(const onnx::NodeProto& node, const NodeAttributes& a) {
  const bool upsample = node.op_type() == "Upsample";
  if (upsample)
    PH_RETURN_IF_ERROR(a.only({"mode"}));
  else
    PH_RETURN_IF_ERROR(a.only({"mode", "coordinate_transformation_mode", "nearest_mode",
                               "cubic_coeff_a", "exclude_outside", "extrapolation_value"}));
  PH_ASSIGN_OR_RETURN(std::vector<int64_t> xs, shape_of(node.input(0)));
  if (xs.size() != 4) return unsupported("only 4-D (NCHW) resizing is supported");
  PH_ASSIGN_OR_RETURN(std::string mode, a.get_string("mode", "nearest"));
  PH_ASSIGN_OR_RETURN(std::string coords, a.get_string("coordinate_transformation_mode",
                                                       upsample ? "asymmetric" : "half_pixel"));
  PH_ASSIGN_OR_RETURN(std::string rounding,
                      a.get_string("nearest_mode", upsample ? "floor" : "round_prefer_floor"));
  PH_ASSIGN_OR_RETURN(int64_t exclude, a.get_int("exclude_outside", 0));
  if (exclude != 0) return a.unsupported("exclude_outside", std::to_string(exclude), "only 0");
  // Output size from `sizes` or from `scales` (Upsample: input 1; Resize: 2 and 3).
  std::vector<int64_t> out_dims;
  std::vector<float> scales(4, 1.f);
  const int scales_index = upsample ? 1 : 2;
  const ConstTensor* sizes = !upsample && node.input_size() > 3 && !node.input(3).empty()
                                 ? constant(node.input(3))
                                 : nullptr;
  if (sizes && sizes->size() == 4) {
    out_dims = sizes->i;
    for (size_t k = 0; k < 4; ++k)
      scales[k] = static_cast<float>(out_dims[k]) / static_cast<float>(xs[k]);
  } else {
    if (node.input_size() <= scales_index || node.input(scales_index).empty())
      return invalid("neither sizes nor scales are given");
    PH_ASSIGN_OR_RETURN(const ConstTensor* s, constant_input(node, scales_index, "scales"));
    if (s->size() != 4) return unsupported("scales " + dims_text(s->dims) + " must have 4 values");
    for (size_t k = 0; k < 4; ++k) {
      scales[k] = static_cast<float>(s->at(k));
      const double size = std::floor(static_cast<double>(xs[k]) * scales[k]);
      // Before the conversion: a NaN, infinite or huge size has no int64_t value (UB).
      if (!(size >= 0 && size <= 1e15))
        return invalid("scale " + std::to_string(scales[k]) + " of dimension " + std::to_string(k) +
                       " of " + dims_text(xs) + " gives an output size out of range");
      out_dims.push_back(static_cast<int64_t>(size));
    }
  }
  if (out_dims.size() != 4 || out_dims[0] != xs[0] || out_dims[1] != xs[1])
    return unsupported("resizing batch or channels (" + dims_text(xs) + " -> " +
                       dims_text(out_dims) + ")");
  if (out_dims[2] < 1 || out_dims[3] < 1 || out_dims[2] > 65536 || out_dims[3] > 65536)
    return invalid("output size " + dims_text(out_dims) + " is out of range");
  ResizeMode our_mode = ResizeMode::kBilinear;
  ResizeCoordinates our_coords = ResizeCoordinates::kHalfPixel;
  if (mode == "linear" || mode == "bilinear") {
    // Our coordinates use in/out: exact only when the given scale is out/in.
    for (size_t k = 2; k < 4; ++k)
      if (scales[k] != static_cast<float>(out_dims[k]) / static_cast<float>(xs[k]) &&
          coords != "align_corners")
        return unsupported("linear resizing with scale " + std::to_string(scales[k]) +
                           " that is not output/input size");
    if (coords == "half_pixel" ||
        (coords == "pytorch_half_pixel" && out_dims[2] > 1 && out_dims[3] > 1))
      our_coords = ResizeCoordinates::kHalfPixel;
    else if (coords == "align_corners")
      our_coords = ResizeCoordinates::kAlignCorners;
    else if (coords == "asymmetric")
      our_coords = ResizeCoordinates::kAsymmetric;
    else
      return a.unsupported("coordinate_transformation_mode", coords,
                           "linear supports half_pixel, pytorch_half_pixel, align_corners, "
                           "asymmetric");
  } else if (mode == "nearest") {
    if (coords != "half_pixel" && coords != "pytorch_half_pixel" && coords != "align_corners" &&
        coords != "asymmetric" && coords != "tf_half_pixel_for_nearest")
      return a.unsupported("coordinate_transformation_mode", coords, "not for nearest");
    if (rounding != "round_prefer_floor" && rounding != "round_prefer_ceil" &&
        rounding != "floor" && rounding != "ceil")
      return a.unsupported("nearest_mode", rounding, "not an ONNX value");
    // Our nearest rounds one way; pick the coordinate mode whose source pixels are exactly the
    // ONNX ones on both axes (whole-number upscaling always has one).
    our_mode = ResizeMode::kNearest;
    bool found = false;
    for (ResizeCoordinates m : {ResizeCoordinates::kHalfPixel, ResizeCoordinates::kAsymmetric,
                                ResizeCoordinates::kAlignCorners}) {
      bool same = true;
      for (size_t k = 2; k < 4 && same; ++k)
        for (int64_t d = 0; d < out_dims[k] && same; ++d)
          same = onnx_nearest(d, xs[k], out_dims[k], scales[k], coords, rounding) ==
                 our_nearest(d, xs[k], out_dims[k], m);
      if (same) {
        our_coords = m;
        found = true;
        break;
      }
    }
    if (!found)
      return unsupported("nearest resizing " + dims_text(xs) + " -> " + dims_text(out_dims) +
                         " with " + coords + "/" + rounding +
                         " picks source pixels no Polyhead mode reproduces");
  } else {
    return a.unsupported("mode", mode, "only nearest and linear");
  }
  PH_ASSIGN_OR_RETURN(int in, as_nhwc(node.input(0)));
  PH_ASSIGN_OR_RETURN(int out, b_.resize(unique(node_name(node)), in, static_cast<int>(out_dims[2]),
                                         static_cast<int>(out_dims[3]), our_mode, our_coords));
  count(OpKind::RESIZE);
  return bind(node.output(0), out, true);
}

Status GraphConverter::convert_binary(const onnx::NodeProto& node, const NodeAttributes& a) {
  PH_RETURN_IF_ERROR(a.only({}));
  if (node.input_size() != 2) return invalid("needs two inputs");
  const std::string& op = node.op_type();
  const BinaryOp kind = op == "Add"   ? BinaryOp::kAdd
                        : op == "Sub" ? BinaryOp::kSub
                        : op == "Mul" ? BinaryOp::kMul
                                      : BinaryOp::kDiv;
  PH_ASSIGN_OR_RETURN(const Value* x, value(node.input(0)));
  PH_ASSIGN_OR_RETURN(const Value* y, value(node.input(1)));
  // NHWC when a 4-D activation takes part and every other operand can follow it.
  bool nhwc = false;
  for (const Value* v : {x, y})
    if (!v->is_constant && v->shape.size() == 4 && v->nhwc >= 0) nhwc = true;
  for (const Value* v : {x, y}) {
    if (v->is_constant && v->constant.dims.size() > 4) nhwc = false;
    if (!v->is_constant && v->shape.size() != 4) nhwc = false;
  }
  PH_ASSIGN_OR_RETURN(std::vector<int64_t> xs, shape_of(node.input(0)));
  PH_ASSIGN_OR_RETURN(std::vector<int64_t> ys, shape_of(node.input(1)));
  PH_ASSIGN_OR_RETURN(std::vector<int64_t> out_dims, broadcast_dims(xs, ys, node_name(node)));
  if (nhwc && out_dims.size() != 4) nhwc = false;
  const std::string name = unique(node_name(node));
  int operands[2];
  for (int k = 0; k < 2; ++k) {
    const std::string& in = node.input(k);
    if (const ConstTensor* c = constant(in)) {
      operands[k] = add_constant(name + "/" + (k ? "b" : "a"), *c, nhwc);
    } else {
      PH_ASSIGN_OR_RETURN(operands[k], nhwc ? as_nhwc(in) : as_plain(in));
    }
  }
  Epilogue e;
  PH_RETURN_IF_ERROR(plan_epilogue(node.output(0), 0, out_dims.size(), false, &e));
  PH_ASSIGN_OR_RETURN(int out, b_.binary(name, kind, operands[0], operands[1], e.activation));
  count(op == "Add"   ? OpKind::ADD
        : op == "Sub" ? OpKind::SUB
        : op == "Mul" ? OpKind::MUL
                      : OpKind::DIV);
  return bind(e.output, out, nhwc);
}

Status GraphConverter::convert_unary(const onnx::NodeProto& node, const NodeAttributes& a) {
  const std::string& op = node.op_type();
  PH_ASSIGN_OR_RETURN(auto in, any_layout(node.input(0)));
  PH_ASSIGN_OR_RETURN(std::vector<int64_t> xs, shape_of(node.input(0)));
  const std::string name = unique(node_name(node));
  int out = -1;
  if (op == "Relu" || op == "Clip") {
    float lo = 0.f, hi = std::numeric_limits<float>::infinity();
    if (op == "Clip") {
      PH_RETURN_IF_ERROR(a.only({"min", "max"}));
      PH_ASSIGN_OR_RETURN(lo, a.get_float("min", -std::numeric_limits<float>::infinity()));
      PH_ASSIGN_OR_RETURN(hi, a.get_float("max", std::numeric_limits<float>::infinity()));
      for (int k = 1; k <= 2; ++k) {
        if (node.input_size() <= k || node.input(k).empty()) continue;
        PH_ASSIGN_OR_RETURN(const ConstTensor* c, constant_input(node, k, k == 1 ? "min" : "max"));
        if (c->size() != 1) return invalid("min/max must be scalars");
        (k == 1 ? lo : hi) = static_cast<float>(c->at(0));
      }
    } else {
      PH_RETURN_IF_ERROR(a.only({}));
    }
    PH_ASSIGN_OR_RETURN(out, b_.clamp(name, in.first, lo, hi));
    count(OpKind::CLAMP);
  } else if (op == "LeakyRelu") {
    PH_RETURN_IF_ERROR(a.only({"alpha"}));
    PH_ASSIGN_OR_RETURN(float alpha, a.get_float("alpha", 0.01f));
    PH_ASSIGN_OR_RETURN(out, b_.leaky_relu(name, in.first, alpha));
    count(OpKind::LEAKY_RELU);
  } else if (op == "PRelu") {
    PH_RETURN_IF_ERROR(a.only({}));
    PH_ASSIGN_OR_RETURN(const ConstTensor* slope, constant_input(node, 1, "slope"));
    // Ours has one slope per last-dimension entry: channels of NHWC, or the last ONNX axis.
    if (xs.size() == 4) {
      PH_ASSIGN_OR_RETURN(in.first, as_nhwc(node.input(0)));
      in.second = true;
    }
    const int64_t channels = in.second ? xs[1] : xs.back();
    std::vector<float> v;
    const bool ok = in.second ? per_channel(*slope, channels, 4, &v)
                              : (slope->size() == 1 ||
                                 (slope->dims.size() >= 1 && slope->dims.back() == channels &&
                                  slope->size() == static_cast<size_t>(channels)));
    if (!ok)
      return unsupported("slope " + dims_text(slope->dims) + " is not one value per channel");
    if (!in.second) {
      v.resize(static_cast<size_t>(channels));
      for (size_t c = 0; c < v.size(); ++c)
        v[c] = static_cast<float>(slope->at(slope->size() == 1 ? 0 : c));
    }
    const int s = b_.add_constant(name + "/slope", Shape{channels}, v);
    PH_ASSIGN_OR_RETURN(out, b_.prelu(name, in.first, s));
    count(OpKind::PRELU);
  } else if (op == "HardSigmoid") {
    // max(0, min(1, alpha*x + beta)) as a multiply and an add with a fused [0, 1] clamp.
    PH_RETURN_IF_ERROR(a.only({"alpha", "beta"}));
    PH_ASSIGN_OR_RETURN(float alpha, a.get_float("alpha", 0.2f));
    PH_ASSIGN_OR_RETURN(float beta, a.get_float("beta", 0.5f));
    const int ka = b_.add_constant(name + "/alpha", Shape{1}, {alpha});
    const int kb = b_.add_constant(name + "/beta", Shape{1}, {beta});
    PH_ASSIGN_OR_RETURN(int scaled, b_.binary(name + "/scale", BinaryOp::kMul, in.first, ka));
    PH_ASSIGN_OR_RETURN(out, b_.binary(name, BinaryOp::kAdd, scaled, kb, Activation{0.f, 1.f}));
    count(OpKind::MUL);
    count(OpKind::ADD);
  } else if (op == "Abs") {
    PH_RETURN_IF_ERROR(a.only({}));
    PH_ASSIGN_OR_RETURN(out, b_.abs(name, in.first));
    count(OpKind::ABS);
  } else if (const onnx::NodeProto* mul = op == "Sigmoid" ? silu_multiply(node) : nullptr) {
    // x * Sigmoid(x) (SiLU, swish: EfficientNet, YOLO) is one SILU node: one pass over the
    // tensor instead of two, and no sigmoid tensor in the arena. The Mul's output is the result.
    PH_RETURN_IF_ERROR(a.only({}));
    PH_ASSIGN_OR_RETURN(out, b_.silu(unique(node_name(*mul)), in.first));
    count(OpKind::SILU);
    consumed_.insert(mul);
    ++folded_["Sigmoid and Mul into SiLU"];
    return bind(mul->output(0), out, in.second);
  } else {
    PH_RETURN_IF_ERROR(a.only({}));
    const UnaryOp u = op == "Sigmoid" ? UnaryOp::kSigmoid
                      : op == "Tanh"  ? UnaryOp::kTanh
                                      : UnaryOp::kHardSwish;
    PH_ASSIGN_OR_RETURN(out, b_.unary(name, u, in.first));
    count(op == "Sigmoid" ? OpKind::SIGMOID : op == "Tanh" ? OpKind::TANH : OpKind::HARD_SWISH);
  }
  return bind(node.output(0), out, in.second);
}

Status GraphConverter::convert_batch_norm(const onnx::NodeProto& node, const NodeAttributes& a) {
  PH_RETURN_IF_ERROR(a.only({"epsilon", "momentum", "training_mode", "spatial"}));
  PH_ASSIGN_OR_RETURN(int64_t training, a.get_int("training_mode", 0));
  if (training) return a.unsupported("training_mode", "1", "inference only");
  PH_ASSIGN_OR_RETURN(float eps, a.get_float("epsilon", 1e-5f));
  PH_ASSIGN_OR_RETURN(std::vector<int64_t> xs, shape_of(node.input(0)));
  if (xs.size() != 4 && xs.size() != 2)
    return unsupported("BatchNormalization of a rank-" + std::to_string(xs.size()) + " tensor");
  const int64_t c = xs[1];
  const ConstTensor* p[4];
  const char* what[4] = {"scale", "B", "mean", "var"};
  for (int k = 0; k < 4; ++k) {
    PH_ASSIGN_OR_RETURN(p[k], constant_input(node, k + 1, what[k]));
    if (p[k]->size() != static_cast<size_t>(c))
      return invalid(std::string(what[k]) + " " + dims_text(p[k]->dims) + " does not match " +
                     std::to_string(c) + " channels");
  }
  std::vector<float> scale(static_cast<size_t>(c)), shift(static_cast<size_t>(c));
  for (size_t k = 0; k < scale.size(); ++k) {
    const double s = p[0]->at(k) / std::sqrt(p[3]->at(k) + eps);
    scale[k] = static_cast<float>(s);
    shift[k] = static_cast<float>(p[1]->at(k) - p[2]->at(k) * s);
  }
  int in = -1;
  if (xs.size() == 4) {
    PH_ASSIGN_OR_RETURN(in, as_nhwc(node.input(0)));
  } else {
    PH_ASSIGN_OR_RETURN(in, as_plain(node.input(0)));
  }
  const std::string name = unique(node_name(node));
  Epilogue e;
  PH_RETURN_IF_ERROR(plan_epilogue(node.output(0), c, xs.size(), false, &e));
  const int ks = b_.add_constant(name + "/scale", Shape{c}, scale);
  const int kb = b_.add_constant(name + "/shift", Shape{c}, shift);
  PH_ASSIGN_OR_RETURN(int scaled, b_.binary(name + "/scale", BinaryOp::kMul, in, ks));
  PH_ASSIGN_OR_RETURN(int out, b_.binary(name, BinaryOp::kAdd, scaled, kb, e.activation));
  count(OpKind::MUL);
  count(OpKind::ADD);
  return bind(e.output, out, xs.size() == 4);
}

Status GraphConverter::convert_pad(const onnx::NodeProto& node, const NodeAttributes& a) {
  PH_RETURN_IF_ERROR(a.only({"mode", "pads", "value"}));
  PH_ASSIGN_OR_RETURN(std::string mode, a.get_string("mode", "constant"));
  if (mode != "constant") return a.unsupported("mode", mode, "only constant padding");
  PH_ASSIGN_OR_RETURN(std::vector<int64_t> xs, shape_of(node.input(0)));
  PH_ASSIGN_OR_RETURN(std::vector<int64_t> pads, a.get_ints("pads", {}));
  PH_ASSIGN_OR_RETURN(float fill, a.get_float("value", 0.f));
  if (node.input_size() > 1 && !node.input(1).empty()) {
    PH_ASSIGN_OR_RETURN(const ConstTensor* p, constant_input(node, 1, "pads"));
    pads = p->i;
  }
  if (node.input_size() > 2 && !node.input(2).empty()) {
    PH_ASSIGN_OR_RETURN(const ConstTensor* v, constant_input(node, 2, "constant_value"));
    if (v->size() != 1) return invalid("constant_value must be a scalar");
    fill = static_cast<float>(v->at(0));
  }
  if (node.input_size() > 3 && !node.input(3).empty()) return unsupported("the axes input");
  const size_t rank = xs.size();
  if (pads.size() != 2 * rank)
    return invalid("pads " + dims_text(pads) + " does not have 2 x rank values");
  for (int64_t p : pads)
    if (!fits_int(p) || p > (1 << 20)) return unsupported("pads " + dims_text(pads));
  // Zero padding of H and W right before a convolution becomes the convolution's own padding.
  const onnx::NodeProto* next = sole_consumer(node.output(0));
  if (rank == 4 && fill == 0.f && pads[0] == 0 && pads[1] == 0 && pads[4] == 0 && pads[5] == 0 &&
      next && next->op_type() == "Conv" && next->input(0) == node.output(0)) {
    pending_pads_[node.output(0)] = {pads[2], pads[3], pads[6], pads[7]};
    pad_sources_[node.output(0)] = node.input(0);
    ++folded_["Pad into Conv"];
    return Status::ok();
  }
  PH_ASSIGN_OR_RETURN(auto in, any_layout(node.input(0)));
  std::vector<int> before, after;
  for (size_t d = 0; d < rank; ++d) {
    const size_t src = in.second ? static_cast<size_t>(std::vector<int>{0, 2, 3, 1}[d]) : d;
    before.push_back(static_cast<int>(pads[src]));
    after.push_back(static_cast<int>(pads[src + rank]));
  }
  PH_ASSIGN_OR_RETURN(int out, b_.pad(unique(node_name(node)), in.first, before, after, fill));
  count(OpKind::PAD);
  return bind(node.output(0), out, in.second);
}

Status GraphConverter::convert_concat(const onnx::NodeProto& node, const NodeAttributes& a) {
  PH_RETURN_IF_ERROR(a.only({"axis"}));
  PH_ASSIGN_OR_RETURN(int64_t axis, a.get_int("axis", 0));
  PH_ASSIGN_OR_RETURN(std::vector<int64_t> first, shape_of(node.input(0)));
  const auto rank = static_cast<int64_t>(first.size());
  if (axis < -rank || axis >= rank)
    return invalid("axis " + std::to_string(axis) + " out of range");
  if (axis < 0) axis += rank;
  return concat_values(unique(node_name(node)),
                       std::vector<std::string>(node.input().begin(), node.input().end()), axis,
                       node.output(0));
}

Status GraphConverter::concat_values(const std::string& name,
                                     const std::vector<std::string>& inputs, int64_t axis,
                                     const std::string& output) {
  PH_ASSIGN_OR_RETURN(std::vector<int64_t> first, shape_of(inputs[0]));
  bool nhwc = first.size() == 4;
  bool any_nhwc = false;
  for (const auto& in : inputs) {
    PH_ASSIGN_OR_RETURN(const Value* v, value(in));
    if (!v->is_constant && v->nhwc >= 0) any_nhwc = true;
  }
  nhwc = nhwc && any_nhwc;
  std::vector<int> tensors;
  for (size_t k = 0; k < inputs.size(); ++k) {
    const std::string& in = inputs[k];
    if (const ConstTensor* c = constant(in)) {
      tensors.push_back(add_constant(name + "/" + std::to_string(k), *c, nhwc));
    } else {
      PH_ASSIGN_OR_RETURN(int t, nhwc ? as_nhwc(in) : as_plain(in));
      tensors.push_back(t);
    }
  }
  const int our_axis = nhwc ? kToNhwcAxis[axis] : static_cast<int>(axis);
  PH_ASSIGN_OR_RETURN(int out, b_.concatenation(name, tensors, our_axis));
  count(OpKind::CONCATENATION);
  return bind(output, out, nhwc);
}

Status GraphConverter::convert_softmax(const onnx::NodeProto& node, const NodeAttributes& a) {
  PH_RETURN_IF_ERROR(a.only({"axis"}));
  PH_ASSIGN_OR_RETURN(std::vector<int64_t> xs, shape_of(node.input(0)));
  const auto rank = static_cast<int64_t>(xs.size());
  PH_ASSIGN_OR_RETURN(int64_t axis, a.get_int("axis", opset_ >= 13 ? -1 : 1));
  if (axis < -rank || axis >= rank)
    return invalid("axis " + std::to_string(axis) + " out of range");
  if (axis < 0) axis += rank;
  // Before opset 13 the softmax runs over all dimensions from `axis` on: the same thing when
  // those after `axis` are 1.
  if (opset_ < 13)
    for (int64_t d = axis + 1; d < rank; ++d)
      if (xs[static_cast<size_t>(d)] != 1)
        return unsupported("softmax over the flattened dimensions " + std::to_string(axis) +
                           ".. of " + dims_text(xs));
  int in = -1;
  bool nhwc = false;
  if (rank == 4 && axis == 1) {
    PH_ASSIGN_OR_RETURN(in, as_nhwc(node.input(0)));
    nhwc = true;
  } else if (axis == rank - 1 || [&] {
               for (int64_t d = axis + 1; d < rank; ++d)
                 if (xs[static_cast<size_t>(d)] != 1) return false;
               return true;
             }()) {
    PH_ASSIGN_OR_RETURN(in, as_plain(node.input(0)));
  } else {
    return unsupported("softmax over axis " + std::to_string(axis) + " of " + dims_text(xs));
  }
  if (!nhwc && axis != rank - 1) {
    // Trailing ones: softmax over `axis` is softmax over the last non-one dimension.
    std::vector<int64_t> flat(xs.begin(), xs.begin() + axis + 1);
    PH_ASSIGN_OR_RETURN(in, b_.reshape(unique(node_name(node) + "/flat"), in, to_shape(flat)));
    count(OpKind::RESHAPE);
    PH_ASSIGN_OR_RETURN(int s, b_.softmax(unique(node_name(node) + "/softmax"), in));
    PH_ASSIGN_OR_RETURN(int out, b_.reshape(unique(node_name(node)), s, to_shape(xs)));
    count(OpKind::SOFTMAX);
    count(OpKind::RESHAPE);
    return bind(node.output(0), out, false);
  }
  PH_ASSIGN_OR_RETURN(int out, b_.softmax(unique(node_name(node)), in));
  count(OpKind::SOFTMAX);
  return bind(node.output(0), out, nhwc);
}

Status GraphConverter::convert_reshape(const onnx::NodeProto& node, const NodeAttributes& a) {
  const std::string& op = node.op_type();
  PH_ASSIGN_OR_RETURN(std::vector<int64_t> xs, shape_of(node.input(0)));
  // The target shape: fold() on a data-less tensor computes only dimensions.
  ConstTensor shape_only;
  shape_only.dims = xs;
  shape_only.is_float = false;
  std::vector<const ConstTensor*> inputs = {&shape_only};
  for (int k = 1; k < node.input_size(); ++k) {
    if (node.input(k).empty()) {
      inputs.push_back(nullptr);
      continue;
    }
    PH_ASSIGN_OR_RETURN(const ConstTensor* c, constant_input(node, k, "shape/axes"));
    inputs.push_back(c);
  }
  if (op == "Reshape") PH_RETURN_IF_ERROR(a.only({"allowzero"}));
  if (op == "Flatten") PH_RETURN_IF_ERROR(a.only({"axis"}));
  if (op == "Squeeze" || op == "Unsqueeze") PH_RETURN_IF_ERROR(a.only({"axes"}));
  PH_ASSIGN_OR_RETURN(std::vector<ConstTensor> outs, fold(op, a, inputs, opset_));
  const std::vector<int64_t> target = outs[0].dims;
  if (target.empty() || target.size() > Shape::kMaxDims)
    return unsupported("reshaping to rank " + std::to_string(target.size()));
  if (op == "Reshape") {
    PH_ASSIGN_OR_RETURN(bool shuffled, convert_channel_shuffle(node, xs, target));
    if (shuffled) return Status::ok();
  }
  if (target == xs) {
    values_[node.output(0)] = values_[node.input(0)];
    return Status::ok();
  }
  return reshape_value(unique(node_name(node)), node.input(0), target, node.output(0));
}

Status GraphConverter::reshape_value(const std::string& name, const std::string& input,
                                     const std::vector<int64_t>& target,
                                     const std::string& output) {
  PH_ASSIGN_OR_RETURN(std::vector<int64_t> xs, shape_of(input));
  if (target == xs) {
    values_[output] = values_[input];
    return Status::ok();
  }
  PH_ASSIGN_OR_RETURN(const Value* v, value(input));
  int in = -1;
  // NHWC and NCHW hold the same bytes when there is one channel or one pixel.
  if (v->nhwc >= 0 && v->plain < 0 && (xs[1] == 1 || xs[2] * xs[3] == 1)) {
    in = v->nhwc;
  } else {
    PH_ASSIGN_OR_RETURN(in, as_plain(input));
  }
  PH_ASSIGN_OR_RETURN(int out, b_.reshape(name, in, to_shape(target)));
  count(OpKind::RESHAPE);
  return bind(output, out, false);
}

Status GraphConverter::convert_transpose(const onnx::NodeProto& node, const NodeAttributes& a) {
  PH_RETURN_IF_ERROR(a.only({"perm"}));
  PH_ASSIGN_OR_RETURN(std::vector<int64_t> xs, shape_of(node.input(0)));
  std::vector<int64_t> def;
  for (size_t d = xs.size(); d-- > 0;) def.push_back(static_cast<int64_t>(d));
  PH_ASSIGN_OR_RETURN(std::vector<int64_t> perm64, a.get_ints("perm", def));
  std::vector<int> perm(perm64.begin(), perm64.end());
  std::vector<int> check = perm;
  std::sort(check.begin(), check.end());
  for (size_t d = 0; d < check.size(); ++d)
    if (check.size() != xs.size() || check[d] != static_cast<int>(d))
      return invalid("perm " + dims_text(perm64) + " is not a permutation of rank " +
                     std::to_string(xs.size()));
  PH_ASSIGN_OR_RETURN(const Value* v, value(node.input(0)));
  const std::string name = unique(node_name(node));
  if (v->nhwc >= 0 && v->plain < 0) {
    // Permute the NHWC copy directly: ONNX dim d is stored dim kToNhwcAxis[d].
    std::vector<int> stored;
    bool identity = true;
    for (size_t d = 0; d < perm.size(); ++d) {
      stored.push_back(kToNhwcAxis[perm[d]]);
      identity = identity && stored.back() == static_cast<int>(d);
    }
    if (identity) {
      // e.g. NCHW -> NHWC before a detection head's reshape: already stored that way.
      PH_RETURN_IF_ERROR(bind(node.output(0), v->nhwc, false));
      ++folded_["Transpose to NHWC"];
      return Status::ok();
    }
    PH_ASSIGN_OR_RETURN(int out, b_.transpose(name, v->nhwc, stored));
    count(OpKind::TRANSPOSE);
    return bind(node.output(0), out, false);
  }
  PH_ASSIGN_OR_RETURN(int in, as_plain(node.input(0)));
  PH_ASSIGN_OR_RETURN(int out, b_.transpose(name, in, perm));
  count(OpKind::TRANSPOSE);
  return bind(node.output(0), out, false);
}

}  // namespace polyhead::onnx_import
