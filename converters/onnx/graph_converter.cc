#include "converters/onnx/graph_converter.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "converters/onnx/constant_folding.h"
#include "onnx/onnx_pb.h"

namespace polyhead::onnx_import {
namespace {

// NCHW -> NHWC and back; axis `a` of an NCHW tensor is axis kToNhwcAxis[a] of its NHWC copy.
const std::vector<int> kToNhwc = {0, 2, 3, 1};
const std::vector<int> kToNchw = {0, 3, 1, 2};
constexpr int kToNhwcAxis[4] = {0, 3, 1, 2};

// Operators mapped onto Polyhead nodes (some also fold when their inputs are constants).
const char* const kMappedOps[] = {
    "Conv",       "ConvTranspose", "Gemm",        "MatMul",
    "Add",        "Sub",           "Mul",         "Div",
    "Relu",       "Clip",          "LeakyRelu",   "PRelu",
    "Sigmoid",    "Tanh",          "HardSigmoid", "HardSwish",
    "Softmax",    "MaxPool",       "AveragePool", "GlobalAveragePool",
    "ReduceMean", "Pad",           "Concat",      "Reshape",
    "Flatten",    "Transpose",     "Resize",      "Upsample",
    "Identity",   "Dropout",       "Constant",    "BatchNormalization",
    "Squeeze",    "Unsqueeze",     "Shape",       "Abs",
    "Slice",      "Split",         "Gather"};

Shape to_shape(const std::vector<int64_t>& dims) {
  Shape s;
  for (int64_t d : dims) s.push_back(d);
  return s;
}

std::vector<int64_t> from_shape(const Shape& s) {
  return std::vector<int64_t>(s.begin(), s.end());
}

std::vector<int64_t> permute(const std::vector<int64_t>& dims, const std::vector<int>& perm) {
  std::vector<int64_t> out;
  for (int p : perm) out.push_back(dims[static_cast<size_t>(p)]);
  return out;
}

}  // namespace

bool is_supported_op(const std::string& op) {
  for (const char* k : kMappedOps)
    if (op == k) return true;
  return is_foldable(op);
}

Status check_supported_operators(const onnx::GraphProto& graph) {
  std::map<std::string, std::pair<int, std::string>> missing;
  std::vector<std::string> order;
  for (const auto& node : graph.node()) {
    std::string op = node.op_type();
    if (!node.domain().empty() && node.domain() != "ai.onnx") op = node.domain() + "." + op;
    if (node.domain().empty() || node.domain() == "ai.onnx") {
      if (is_supported_op(op)) continue;
    }
    auto it = missing.find(op);
    if (it == missing.end()) {
      missing[op] = {1, node.name().empty() && node.output_size()
                            ? node.op_type() + ":" + node.output(0)
                            : node.name()};
      order.push_back(op);
    } else {
      ++it->second.first;
    }
  }
  if (missing.empty()) return Status::ok();
  std::string msg = "unsupported operators: ";
  for (size_t k = 0; k < order.size(); ++k) {
    const auto& m = missing[order[k]];
    msg += (k ? ", " : "") + order[k] + " x" + std::to_string(m.first) + " (first: '" + m.second +
           "')";
  }
  return Status(ErrorCode::kUnsupported, msg);
}

GraphConverter::GraphConverter(const onnx::GraphProto& graph, int opset, ModelBuilder& builder)
    : graph_(graph), opset_(opset), b_(builder) {
  for (const auto& node : graph_.node()) {
    ++source_ops_[node.op_type()];
    for (const auto& in : node.input()) {
      if (in.empty()) continue;
      ++uses_[in];
      consumer_[in] = &node;
    }
  }
  // A graph output counts as a use: its value must exist on its own.
  for (const auto& out : graph_.output()) ++uses_[out.name()];
}

std::string GraphConverter::unique(const std::string& base) {
  std::string name = base.empty() ? "node" : base;
  for (int i = 2; names_.count(name); ++i) name = base + "_" + std::to_string(i);
  names_.insert(name);
  return name;
}

std::string GraphConverter::node_name(const onnx::NodeProto& node) const {
  if (!node.name().empty()) return node.name();
  return node.op_type() + (node.output_size() ? ":" + node.output(0) : "");
}

// ---- values and layouts -----------------------------------------------------------------------

Result<const GraphConverter::Value*> GraphConverter::value(const std::string& name) const {
  auto it = values_.find(name);
  if (it == values_.end())
    return Status(ErrorCode::kInvalidModel,
                  "value '" + name +
                      "' is used before any node produces it (the graph is not "
                      "topologically sorted, or an input is missing)");
  return &it->second;
}

const ConstTensor* GraphConverter::constant(const std::string& name) const {
  auto it = values_.find(name);
  return it != values_.end() && it->second.is_constant ? &it->second.constant : nullptr;
}

Result<const ConstTensor*> GraphConverter::constant_input(const onnx::NodeProto& node, int index,
                                                          const char* what) const {
  if (index >= node.input_size() || node.input(index).empty())
    return Status(ErrorCode::kInvalidModel,
                  "node '" + node_name(node) + "' (" + node.op_type() + ") lacks its " + what);
  PH_ASSIGN_OR_RETURN(const Value* v, value(node.input(index)));
  if (!v->is_constant)
    return Status(ErrorCode::kUnsupported, "node '" + node_name(node) + "' (" + node.op_type() +
                                               "): its " + what + " '" + node.input(index) +
                                               "' must be a constant (an initializer)");
  return &v->constant;
}

Result<std::vector<int64_t>> GraphConverter::shape_of(const std::string& name) const {
  PH_ASSIGN_OR_RETURN(const Value* v, value(name));
  return v->is_constant ? v->constant.dims : v->shape;
}

Status GraphConverter::bind(const std::string& name, int tensor, bool nhwc) {
  Value v;
  const std::vector<int64_t> ours = from_shape(b_.shape(tensor));
  v.shape = nhwc ? permute(ours, kToNchw) : ours;
  (nhwc ? v.nhwc : v.plain) = tensor;
  values_[name] = std::move(v);
  return Status::ok();
}

void GraphConverter::bind_constant(const std::string& name, ConstTensor t) {
  Value v;
  v.is_constant = true;
  v.constant = std::move(t);
  values_[name] = std::move(v);
}

Result<int> GraphConverter::as_nhwc(const std::string& name) {
  auto it = values_.find(name);
  if (it == values_.end()) return value(name).status();
  Value& v = it->second;
  if (v.is_constant)
    return Status(ErrorCode::kUnsupported, "'" + name +
                                               "' is a constant where an activation is "
                                               "expected");
  if (v.shape.size() != 4)
    return Status(ErrorCode::kUnsupported, "'" + name + "' has shape " + dims_text(v.shape) +
                                               " where a 4-D NCHW tensor is expected");
  if (v.nhwc < 0) {
    const std::string n = unique(name + "/nhwc");
    // With one channel or a 1x1 image both layouts hold the same bytes: a reshape is cheaper.
    if (v.shape[1] == 1 || v.shape[2] * v.shape[3] == 1) {
      PH_ASSIGN_OR_RETURN(v.nhwc, b_.reshape(n, v.plain, to_shape(permute(v.shape, kToNhwc))));
      count(OpKind::RESHAPE);
    } else {
      PH_ASSIGN_OR_RETURN(v.nhwc, b_.transpose(n, v.plain, kToNhwc));
      count(OpKind::TRANSPOSE);
    }
  }
  return v.nhwc;
}

Result<std::pair<int, bool>> GraphConverter::any_layout(const std::string& name) {
  PH_ASSIGN_OR_RETURN(const Value* v, value(name));
  if (v->is_constant)
    return Status(ErrorCode::kUnsupported, "'" + name +
                                               "' is a constant where an activation is "
                                               "expected");
  if (v->nhwc >= 0) return std::make_pair(v->nhwc, true);
  return std::make_pair(v->plain, false);
}

Result<int> GraphConverter::as_plain(const std::string& name) {
  auto it = values_.find(name);
  if (it == values_.end()) return value(name).status();
  Value& v = it->second;
  if (v.is_constant)
    return Status(ErrorCode::kUnsupported, "'" + name +
                                               "' is a constant where an activation is "
                                               "expected");
  if (v.plain < 0) {
    const std::string n = unique(name + "/nchw");
    if (v.shape[1] == 1 || v.shape[2] * v.shape[3] == 1) {
      PH_ASSIGN_OR_RETURN(v.plain, b_.reshape(n, v.nhwc, to_shape(v.shape)));
      count(OpKind::RESHAPE);
    } else {
      PH_ASSIGN_OR_RETURN(v.plain, b_.transpose(n, v.nhwc, kToNchw));
      count(OpKind::TRANSPOSE);
    }
  }
  return v.plain;
}

int GraphConverter::add_constant(const std::string& base, const ConstTensor& t, bool nhwc) {
  std::vector<float> values(t.size());
  for (size_t k = 0; k < t.size(); ++k) values[k] = static_cast<float>(t.at(k));
  std::vector<int64_t> dims = t.dims;
  if (nhwc) {
    while (dims.size() < 4) dims.insert(dims.begin(), 1);
    ConstTensor aligned = float_tensor(dims, values);
    const ConstTensor moved = transpose_tensor(aligned, kToNhwc);
    return b_.add_constant(unique(base), to_shape(moved.dims), moved.f);
  }
  if (dims.empty()) dims = {1};
  return b_.add_constant(unique(base), to_shape(dims), values);
}

// ---- inputs and outputs -----------------------------------------------------------------------

Status GraphConverter::add_inputs(const Preprocess& image_preprocess,
                                  const std::map<std::string, std::vector<int64_t>>& shapes) {
  std::set<std::string> initializers;
  for (const auto& init : graph_.initializer()) {
    PH_ASSIGN_OR_RETURN(ConstTensor t, decode_tensor(init, "initializer '" + init.name() + "'"));
    bind_constant(init.name(), std::move(t));
    initializers.insert(init.name());
  }
  // A misspelt --input-shape name is reported as such, not as the symbolic dimension it missed.
  for (const auto& kv : shapes) {
    bool known = false;
    for (const auto& in : graph_.input())
      known = known || (in.name() == kv.first && !initializers.count(kv.first));
    if (!known)
      return Status(ErrorCode::kNotFound,
                    "--input-shape names '" + kv.first + "', which is not an input of the model");
  }
  int inputs = 0;
  for (const auto& in : graph_.input()) {
    if (initializers.count(in.name())) continue;
    ++inputs;
    if (!in.type().has_tensor_type() || in.type().tensor_type().elem_type() != 1)
      return Status(ErrorCode::kUnsupported,
                    "input '" + in.name() +
                        "' is not a float32 tensor (only float32 inputs are "
                        "supported)");
    std::vector<int64_t> dims;
    auto given = shapes.find(in.name());
    if (given != shapes.end()) {
      dims = given->second;
    } else {
      for (const auto& d : in.type().tensor_type().shape().dim()) {
        if (!d.has_dim_value() || d.dim_value() <= 0)
          return Status(ErrorCode::kUnsupported,
                        "input '" + in.name() + "' has a symbolic or unknown dimension '" +
                            d.dim_param() + "': give its shape with --input-shape " + in.name() +
                            "=1,3,224,224 (for example)");
        dims.push_back(d.dim_value());
      }
    }
    if (dims.empty() || dims.size() > Shape::kMaxDims)
      return Status(ErrorCode::kUnsupported, "input '" + in.name() + "' has rank " +
                                                 std::to_string(dims.size()) +
                                                 " (1 to 6 supported)");
    for (int64_t d : dims)
      if (d <= 0 || d > (1 << 24))
        return Status(ErrorCode::kInvalidArgument,
                      "input '" + in.name() + "' has a bad shape " + dims_text(dims));
    Preprocess p;
    p.color = ColorOrder::kNone;
    if (dims.size() == 4 && (dims[1] == 1 || dims[1] == 3 || dims[1] == 4)) {
      p = image_preprocess;
      p.layout = Layout::kNchw;
      p.height = static_cast<int>(dims[2]);
      p.width = static_cast<int>(dims[3]);
      if (dims[1] == 1) p.color = ColorOrder::kGray;
    }
    const int t = b_.add_input(in.name(), to_shape(dims), p);
    names_.insert(in.name());
    PH_RETURN_IF_ERROR(bind(in.name(), t, false));
  }
  if (inputs == 0) return Status(ErrorCode::kInvalidModel, "the graph has no runtime input");
  return Status::ok();
}

Result<int> GraphConverter::output_tensor(const std::string& name) {
  PH_ASSIGN_OR_RETURN(const Value* v, value(name));
  if (v->is_constant)
    return Status(ErrorCode::kUnsupported,
                  "output '" + name + "' is a constant: nothing computes it at run time");
  return as_plain(name);
}

// ---- fusion planning --------------------------------------------------------------------------

int GraphConverter::consumers(const std::string& v) const {
  auto it = uses_.find(v);
  return it == uses_.end() ? 0 : it->second;
}

const onnx::NodeProto* GraphConverter::sole_consumer(const std::string& v) const {
  if (consumers(v) != 1) return nullptr;
  auto it = consumer_.find(v);
  return it == consumer_.end() ? nullptr : it->second;
}

const onnx::NodeProto* GraphConverter::silu_multiply(const onnx::NodeProto& sigmoid) const {
  if (sigmoid.input_size() != 1 || sigmoid.output_size() != 1) return nullptr;
  const std::string& x = sigmoid.input(0);
  const std::string& s = sigmoid.output(0);
  const onnx::NodeProto* mul = sole_consumer(s);
  if (!mul || mul->op_type() != "Mul" || mul->input_size() != 2 || mul->output_size() != 1)
    return nullptr;
  const bool pair =
      (mul->input(0) == x && mul->input(1) == s) || (mul->input(0) == s && mul->input(1) == x);
  return pair ? mul : nullptr;
}

bool GraphConverter::per_channel(const ConstTensor& t, int64_t channels, size_t rank,
                                 std::vector<float>* values) const {
  const std::vector<int64_t>& d = t.dims;
  if (d.size() > rank || !t.is_float || rank < 2) return false;
  int64_t along = 1;
  size_t non_one = 0;
  for (size_t k = 0; k < d.size(); ++k)
    if (d[k] != 1) {
      ++non_one;
      along = d[k];
      // Aligned from the right, dimension 1 of a rank-`rank` tensor is rank - 1 from the end.
      if (d.size() - k != rank - 1) return false;
    }
  if (non_one > 1 || (non_one == 1 && along != channels)) return false;
  values->assign(static_cast<size_t>(channels), 0.f);
  for (int64_t c = 0; c < channels; ++c)
    (*values)[static_cast<size_t>(c)] = t.f[non_one ? static_cast<size_t>(c) : 0];
  return true;
}

Status GraphConverter::plan_epilogue(const std::string& output, int64_t channels, size_t rank,
                                     bool allow_affine, Epilogue* e) {
  e->output = output;
  e->scale.assign(static_cast<size_t>(channels), 1.f);
  e->shift.assign(static_cast<size_t>(channels), 0.f);
  for (;;) {
    const onnx::NodeProto* next = sole_consumer(e->output);
    if (!next || next->input_size() == 0 || next->output_size() < 1) break;
    const std::string& op = next->op_type();
    if (!allow_affine) goto activation;
    if (op == "BatchNormalization" && next->input(0) == e->output && next->output_size() == 1) {
      NodeAttributes a(*next);
      PH_RETURN_IF_ERROR(a.only({"epsilon", "momentum", "training_mode", "spatial"}));
      PH_ASSIGN_OR_RETURN(float eps, a.get_float("epsilon", 1e-5f));
      std::vector<float> p[4];
      bool ok = next->input_size() == 5;
      for (int k = 0; ok && k < 4; ++k) {
        const ConstTensor* t = constant(next->input(k + 1));
        ok = t && t->is_float && t->size() == static_cast<size_t>(channels);
        if (ok) p[k] = t->f;
      }
      if (!ok) break;
      for (size_t c = 0; c < static_cast<size_t>(channels); ++c) {
        const double s = p[0][c] / std::sqrt(static_cast<double>(p[3][c]) + eps);
        e->scale[c] = static_cast<float>(e->scale[c] * s);
        e->shift[c] = static_cast<float>((e->shift[c] - p[2][c]) * s + p[1][c]);
      }
      ++folded_["BatchNormalization"];
    } else if ((op == "Mul" || op == "Add" || op == "Sub" || op == "Div") &&
               next->input_size() == 2) {
      const bool first = next->input(0) == e->output;
      const ConstTensor* k = constant(next->input(first ? 1 : 0));
      std::vector<float> v;
      // x - c and x / c need x first; per_channel() rejects shapes that would grow the output.
      if (!k || !per_channel(*k, channels, rank, &v) || ((op == "Sub" || op == "Div") && !first))
        break;
      for (size_t c = 0; c < v.size(); ++c) {
        if (op == "Mul") {
          e->scale[c] *= v[c];
          e->shift[c] *= v[c];
        } else if (op == "Div") {
          e->scale[c] /= v[c];
          e->shift[c] /= v[c];
        } else {
          e->shift[c] += op == "Add" ? v[c] : -v[c];
        }
      }
      ++folded_[op + " by a constant"];
    } else {
      goto activation;
    }
    e->affine = true;
    consumed_.insert(next);
    e->output = next->output(0);
    e->last_node = node_name(*next);
    // values of the folded nodes are never bound: only the chain's end is.
    continue;
  activation:
    if (op == "Relu" || op == "Clip") {
      float lo = 0.f, hi = std::numeric_limits<float>::infinity();
      if (op == "Clip") {
        NodeAttributes a(*next);
        if (!next->attribute().empty()) break;  // opset < 11 form: converted on its own
        lo = -std::numeric_limits<float>::infinity();
        if (next->input_size() > 1 && !next->input(1).empty()) {
          const ConstTensor* t = constant(next->input(1));
          if (!t || t->size() != 1) break;
          lo = static_cast<float>(t->at(0));
        }
        if (next->input_size() > 2 && !next->input(2).empty()) {
          const ConstTensor* t = constant(next->input(2));
          if (!t || t->size() != 1) break;
          hi = static_cast<float>(t->at(0));
        }
        if (!(lo < hi)) break;
      }
      e->activation = {lo, hi};
      consumed_.insert(next);
      e->output = next->output(0);
      e->last_node = node_name(*next);
      ++folded_[op + " into the previous node"];
    }
    break;
  }
  return Status::ok();
}

// ---- the node loop ----------------------------------------------------------------------------

Status GraphConverter::convert_nodes() {
  // Constant nodes first: fusion planning looks ahead at Clip bounds and Mul/Add operands that
  // exporters often define right before their use.
  for (const auto& node : graph_.node())
    if (node.op_type() == "Constant" && node.input_size() == 0 &&
        (node.domain().empty() || node.domain() == "ai.onnx")) {
      Status s = convert(node);
      if (!s.is_ok())
        return Status(s.code(), "node '" + node_name(node) + "' (Constant): " + s.message());
      consumed_.insert(&node);
    }
  for (const auto& node : graph_.node()) {
    if (consumed_.count(&node)) continue;
    Status s = convert(node);
    if (!s.is_ok()) {
      const std::string where = "node '" + node_name(node) + "' (" + node.op_type() + ")";
      if (s.message().rfind("node '", 0) == 0) return s;
      return Status(s.code(), where + ": " + s.message());
    }
  }
  return Status::ok();
}

Status GraphConverter::convert(const onnx::NodeProto& node) {
  const std::string& op = node.op_type();
  NodeAttributes a(node);
  if (node.output_size() < 1) return Status(ErrorCode::kInvalidModel, "node has no output");
  if (op != "Constant" && (node.input_size() < 1 || node.input(0).empty()))
    return Status(ErrorCode::kInvalidModel, "the first input is missing");
  for (int k = 1; k < node.output_size(); ++k)
    if (!node.output(k).empty() && consumers(node.output(k)) > 0 &&
        !(op == "Dropout" || op == "BatchNormalization" || op == "Split"))
      return Status(ErrorCode::kUnsupported, "output " + std::to_string(k) + " ('" +
                                                 node.output(k) +
                                                 "') is used, which is not "
                                                 "supported");
  if (op == "Constant") {
    const char* kinds[] = {"value", "value_float", "value_floats", "value_int", "value_ints"};
    for (const char* k : kinds)
      if (a.has(k)) {
        PH_ASSIGN_OR_RETURN(ConstTensor t, a.get_tensor(k));
        bind_constant(node.output(0), std::move(t));
        ++folded_["Constant"];
        return Status::ok();
      }
    return Status(ErrorCode::kUnsupported, "only tensor and numeric Constant values are supported");
  }
  // Every input known?
  std::vector<const ConstTensor*> consts;
  bool all_constant = true;
  for (const auto& in : node.input()) {
    if (in.empty() || pad_sources_.count(in)) {
      consts.push_back(nullptr);
      continue;
    }
    PH_ASSIGN_OR_RETURN(const Value* v, value(in));
    consts.push_back(v->is_constant ? &v->constant : nullptr);
    all_constant = all_constant && v->is_constant;
  }
  if (op == "Shape") {
    PH_RETURN_IF_ERROR(a.only({"start", "end"}));
    PH_ASSIGN_OR_RETURN(std::vector<int64_t> dims, shape_of(node.input(0)));
    const auto rank = static_cast<int64_t>(dims.size());
    PH_ASSIGN_OR_RETURN(int64_t start, a.get_int("start", 0));
    PH_ASSIGN_OR_RETURN(int64_t end, a.get_int("end", rank));
    if (start < 0) start += rank;
    if (end < 0) end += rank;
    start = std::clamp<int64_t>(start, 0, rank);
    end = std::clamp<int64_t>(end, start, rank);
    bind_constant(
        node.output(0),
        int_tensor({end - start}, std::vector<int64_t>(dims.begin() + start, dims.begin() + end)));
    ++folded_["shape computations"];
    return Status::ok();
  }
  if (all_constant && is_foldable(op)) {
    PH_ASSIGN_OR_RETURN(std::vector<ConstTensor> outs,
                        fold(op, a, consts, opset_, node.output_size()));
    for (size_t k = 0; k < outs.size() && static_cast<int>(k) < node.output_size(); ++k)
      bind_constant(node.output(static_cast<int>(k)), std::move(outs[k]));
    ++folded_[op == "Transpose" || op == "Cast" ? "constant " + op : "shape computations"];
    return Status::ok();
  }
  if (op == "Identity" || op == "Dropout") {
    if (op == "Dropout") PH_RETURN_IF_ERROR(a.only({"seed", "ratio", "is_test"}));
    values_[node.output(0)] = values_[node.input(0)];
    ++folded_[op];
    return Status::ok();
  }
  if (op == "Conv") return convert_conv(node, a);
  if (op == "ConvTranspose") return convert_conv_transpose(node, a);
  if (op == "Gemm" || op == "MatMul") return convert_gemm(node, a);
  if (op == "MaxPool" || op == "AveragePool") return convert_pool(node, a);
  if (op == "GlobalAveragePool" || op == "ReduceMean") return convert_mean(node, a);
  if (op == "Resize" || op == "Upsample") return convert_resize(node, a);
  if (op == "Add" || op == "Sub" || op == "Mul" || op == "Div") return convert_binary(node, a);
  if (op == "BatchNormalization") return convert_batch_norm(node, a);
  if (op == "Pad") return convert_pad(node, a);
  if (op == "Concat") return convert_concat(node, a);
  if (op == "Softmax") return convert_softmax(node, a);
  if (op == "Reshape" || op == "Flatten" || op == "Squeeze" || op == "Unsqueeze")
    return convert_reshape(node, a);
  if (op == "Transpose") return convert_transpose(node, a);
  if (op == "Slice") return convert_slice(node, a);
  if (op == "Split") return convert_split(node, a);
  if (op == "Gather") return convert_gather(node, a);
  if (op == "Relu" || op == "Clip" || op == "LeakyRelu" || op == "PRelu" || op == "Sigmoid" ||
      op == "Tanh" || op == "HardSigmoid" || op == "HardSwish" || op == "Abs")
    return convert_unary(node, a);
  return Status(ErrorCode::kUnsupported,
                is_foldable(op) ? "is only supported on constant inputs (shape computations)"
                                : "is not supported");
}

}  // namespace polyhead::onnx_import
