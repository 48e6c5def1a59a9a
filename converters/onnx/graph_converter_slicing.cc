// Slice, Split and Gather on activations, and ShuffleNet's channel shuffle: the operators that
// select part of a tensor (graph_converter_ops.cc has the others). Each becomes SLICE nodes in
// the layout the value already has: a slice of ONNX channels is a slice of the last NHWC
// dimension, so selecting channels never transposes.
#include <algorithm>

#include "converters/onnx/constant_folding.h"
#include "converters/onnx/graph_converter.h"
#include "onnx/onnx_pb.h"

namespace polyhead::onnx_import {
namespace {

// ONNX (NCHW) dimension of each NHWC dimension.
const std::vector<int> kNhwcToOnnx = {0, 2, 3, 1};

// A Gather of more index runs than this is a permutation, not a selection: refused rather than
// written as hundreds of one-element slices.
constexpr size_t kMaxGatherRuns = 64;

Status unsupported(const std::string& why) {
  return Status(ErrorCode::kUnsupported, why);
}
Status invalid(const std::string& why) {
  return Status(ErrorCode::kInvalidModel, why);
}

// Consecutive indices that step by one constant amount (+1 for a range, -1 reversed, 2 for every
// other channel) become one slice each.
struct Run {
  int64_t begin = 0, count = 0, step = 1;
};

std::vector<Run> index_runs(const std::vector<int64_t>& indices) {
  std::vector<Run> runs;
  for (size_t k = 0; k < indices.size();) {
    Run r{indices[k], 1, 1};
    if (k + 1 < indices.size() && indices[k + 1] != indices[k]) {
      r.step = indices[k + 1] - indices[k];
      while (k + r.count < indices.size() &&
             indices[k + r.count] - indices[k + r.count - 1] == r.step)
        ++r.count;
    }
    if (r.count == 1) r.step = 1;
    runs.push_back(r);
    k += static_cast<size_t>(r.count);
  }
  return runs;
}

}  // namespace

Status GraphConverter::slice_value(const std::string& name, const std::string& input,
                                   const SliceWindow& w, const std::string& output) {
  PH_ASSIGN_OR_RETURN(std::vector<int64_t> xs, shape_of(input));
  PH_ASSIGN_OR_RETURN(auto in, any_layout(input));
  // Held both ways: a graph output is read in NCHW, so slice the NCHW copy for one.
  PH_ASSIGN_OR_RETURN(const Value* v, value(input));
  if (in.second && v->plain >= 0)
    for (const auto& out : graph_.output())
      if (out.name() == output) in = {v->plain, false};
  bool whole = true;
  for (size_t d = 0; d < xs.size(); ++d) {
    if (w.count[d] < 1)
      return unsupported("the slice of " + dims_text(xs) + " is empty along axis " +
                         std::to_string(d) + " (begin " + std::to_string(w.begin[d]) +
                         "): Polyhead tensors have no empty dimensions");
    whole = whole && w.begin[d] == 0 && w.count[d] == xs[d] && w.step[d] == 1;
  }
  if (whole) {
    values_[output] = values_[input];
    return Status::ok();
  }
  // Dimensions are at most 2^24 and a step only matters when it stays inside one: all fit int.
  std::vector<int> begin, size, step;
  for (size_t k = 0; k < xs.size(); ++k) {
    const size_t d = in.second ? static_cast<size_t>(kNhwcToOnnx[k]) : k;
    begin.push_back(static_cast<int>(w.begin[d]));
    size.push_back(static_cast<int>(w.count[d]));
    step.push_back(static_cast<int>(w.step[d]));
  }
  PH_ASSIGN_OR_RETURN(int out, b_.slice(name, in.first, begin, size, step));
  count(OpKind::SLICE);
  return bind(output, out, in.second);
}

Status GraphConverter::convert_slice(const onnx::NodeProto& node, const NodeAttributes& a) {
  PH_RETURN_IF_ERROR(a.only({}));
  PH_ASSIGN_OR_RETURN(std::vector<int64_t> xs, shape_of(node.input(0)));
  PH_ASSIGN_OR_RETURN(const ConstTensor* starts, constant_input(node, 1, "starts"));
  PH_ASSIGN_OR_RETURN(const ConstTensor* ends, constant_input(node, 2, "ends"));
  const ConstTensor* axes = nullptr;
  const ConstTensor* steps = nullptr;
  if (node.input_size() > 3 && !node.input(3).empty()) {
    PH_ASSIGN_OR_RETURN(axes, constant_input(node, 3, "axes"));
  }
  if (node.input_size() > 4 && !node.input(4).empty()) {
    PH_ASSIGN_OR_RETURN(steps, constant_input(node, 4, "steps"));
  }
  PH_ASSIGN_OR_RETURN(SliceWindow w, resolve_slice(xs, *starts, *ends, axes, steps, a.where()));
  return slice_value(unique(node_name(node)), node.input(0), w, node.output(0));
}

Status GraphConverter::convert_split(const onnx::NodeProto& node, const NodeAttributes& a) {
  PH_RETURN_IF_ERROR(a.only({"axis", "split", "num_outputs"}));
  PH_ASSIGN_OR_RETURN(std::vector<int64_t> xs, shape_of(node.input(0)));
  const auto rank = static_cast<int64_t>(xs.size());
  PH_ASSIGN_OR_RETURN(int64_t axis, a.get_int("axis", 0));
  if (axis < -rank || axis >= rank)
    return invalid("axis " + std::to_string(axis) + " is out of range for rank " +
                   std::to_string(rank));
  if (axis < 0) axis += rank;
  // The sizes: an attribute before opset 13, an optional input from 13 on; else equal parts.
  std::vector<int64_t> given;
  bool has_split = false;
  if (opset_ >= 13 && node.input_size() > 1 && !node.input(1).empty()) {
    PH_ASSIGN_OR_RETURN(const ConstTensor* t, constant_input(node, 1, "split"));
    given = int_values(*t);
    has_split = true;
  } else if (opset_ < 13 && a.has("split")) {
    PH_ASSIGN_OR_RETURN(given, a.get_ints("split", {}));
    has_split = true;
  }
  const auto d = static_cast<size_t>(axis);
  PH_ASSIGN_OR_RETURN(std::vector<int64_t> sizes,
                      split_sizes(xs[d], static_cast<size_t>(node.output_size()),
                                  has_split ? &given : nullptr, a.where()));
  SliceWindow w;
  w.begin.assign(xs.size(), 0);
  w.count = xs;
  w.step.assign(xs.size(), 1);
  for (int k = 0; k < node.output_size(); ++k) {
    w.count[d] = sizes[static_cast<size_t>(k)];
    // Parts nobody reads are not computed (torch's chunk often keeps one half only).
    if (!node.output(k).empty() && consumers(node.output(k)) > 0)
      PH_RETURN_IF_ERROR(slice_value(unique(node_name(node) + "/" + std::to_string(k)),
                                     node.input(0), w, node.output(k)));
    w.begin[d] += w.count[d];
  }
  return Status::ok();
}

Status GraphConverter::convert_gather(const onnx::NodeProto& node, const NodeAttributes& a) {
  PH_RETURN_IF_ERROR(a.only({"axis"}));
  PH_ASSIGN_OR_RETURN(std::vector<int64_t> xs, shape_of(node.input(0)));
  PH_ASSIGN_OR_RETURN(const ConstTensor* idx, constant_input(node, 1, "indices"));
  const auto rank = static_cast<int64_t>(xs.size());
  PH_ASSIGN_OR_RETURN(int64_t axis, a.get_int("axis", 0));
  if (axis < -rank || axis >= rank)
    return invalid("axis " + std::to_string(axis) + " is out of range for rank " +
                   std::to_string(rank));
  if (axis < 0) axis += rank;
  if (idx->dims.size() > 1)
    return unsupported("indices of shape " + dims_text(idx->dims) +
                       ": only a scalar or a 1-D list of indices is supported");
  const auto d = static_cast<size_t>(axis);
  std::vector<int64_t> indices = int_values(*idx);
  if (indices.empty()) return unsupported("an empty list of indices selects nothing");
  for (int64_t& i : indices) {
    if (i < -xs[d] || i >= xs[d])
      return invalid("index " + std::to_string(i) + " is out of range for axis " +
                     std::to_string(axis) + " of size " + std::to_string(xs[d]) + " (shape " +
                     dims_text(xs) + ")");
    if (i < 0) i += xs[d];
  }
  const std::string name = unique(node_name(node));
  SliceWindow w;
  w.begin.assign(xs.size(), 0);
  w.count = xs;
  w.step.assign(xs.size(), 1);
  if (idx->dims.empty()) {
    // A scalar index removes the axis: a one-element slice, then a reshape without it.
    w.begin[d] = indices[0];
    w.count[d] = 1;
    const std::string picked = node.output(0) + "/slice";
    PH_RETURN_IF_ERROR(slice_value(name, node.input(0), w, picked));
    std::vector<int64_t> target = xs;
    target.erase(target.begin() + axis);
    return reshape_value(unique(node_name(node) + "/reshape"), picked, target, node.output(0));
  }
  const std::vector<Run> runs = index_runs(indices);
  if (runs.size() > kMaxGatherRuns)
    return unsupported("indices " + dims_text(indices) + " form " + std::to_string(runs.size()) +
                       " runs of evenly spaced values; at most " + std::to_string(kMaxGatherRuns) +
                       " are supported");
  if (runs.size() == 1) {
    w.begin[d] = runs[0].begin;
    w.count[d] = runs[0].count;
    w.step[d] = runs[0].step;
    return slice_value(name, node.input(0), w, node.output(0));
  }
  // Several runs: one slice each, concatenated along the axis.
  std::vector<std::string> parts;
  for (size_t k = 0; k < runs.size(); ++k) {
    w.begin[d] = runs[k].begin;
    w.count[d] = runs[k].count;
    w.step[d] = runs[k].step;
    parts.push_back(node.output(0) + "/part" + std::to_string(k));
    PH_RETURN_IF_ERROR(
        slice_value(unique(name + "/" + std::to_string(k)), node.input(0), w, parts.back()));
  }
  return concat_values(name, parts, axis, node.output(0));
}

Result<bool> GraphConverter::convert_channel_shuffle(const onnx::NodeProto& node,
                                                     const std::vector<int64_t>& xs,
                                                     const std::vector<int64_t>& target) {
  if (xs.size() != 4 || target.size() != 5) return false;
  const int64_t groups = target[1], per_group = target[2];
  if (target[0] != xs[0] || groups * per_group != xs[1] || target[3] != xs[2] ||
      target[4] != xs[3] || groups < 2 || per_group < 2)
    return false;
  // A value held in NCHW only keeps the general path: a shuffle would need it in NHWC first.
  PH_ASSIGN_OR_RETURN(const Value* v, value(node.input(0)));
  if (v->is_constant || v->nhwc < 0) return false;
  const onnx::NodeProto* t = sole_consumer(node.output(0));
  if (!t || t->op_type() != "Transpose" || t->input_size() != 1 || t->output_size() != 1 ||
      t->input(0) != node.output(0))
    return false;
  NodeAttributes ta(*t);
  Result<std::vector<int64_t>> perm = ta.get_ints("perm", {});
  if (!ta.only({"perm"}).is_ok() || !perm.is_ok() || *perm != std::vector<int64_t>{0, 2, 1, 3, 4})
    return false;
  const onnx::NodeProto* r = sole_consumer(t->output(0));
  if (!r || r->op_type() != "Reshape" || r->input_size() != 2 || r->output_size() != 1 ||
      r->input(0) != t->output(0))
    return false;
  const ConstTensor* shape = constant(r->input(1));
  NodeAttributes ra(*r);
  Result<int64_t> allow_zero = ra.get_int("allowzero", 0);
  if (!shape || !ra.only({"allowzero"}).is_ok() || !allow_zero.is_ok()) return false;
  Result<std::vector<int64_t>> back = resolve_reshape(
      {xs[0], per_group, groups, xs[2], xs[3]}, int_values(*shape), *allow_zero != 0, ra.where());
  if (!back.is_ok() || *back != xs) return false;
  PH_ASSIGN_OR_RETURN(int in, as_nhwc(node.input(0)));
  PH_ASSIGN_OR_RETURN(int out,
                      b_.channel_shuffle(unique(node_name(node)), in, static_cast<int>(groups)));
  count(OpKind::CHANNEL_SHUFFLE);
  consumed_.insert(t);
  consumed_.insert(r);
  ++folded_["Reshape, Transpose and Reshape into a channel shuffle"];
  PH_RETURN_IF_ERROR(bind(r->output(0), out, true));
  return true;
}

}  // namespace polyhead::onnx_import
