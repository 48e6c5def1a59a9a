#include "offline/quantize/quantized_writer.h"

#include <cmath>
#include <cstring>
#include <map>
#include <set>
#include <tuple>

#include "offline/quantize/int8_support.h"
#include "offline/quantize/weight_quantizer.h"

namespace polyhead::quantize {

namespace {

using schema::ElementType;
using schema::OpKind;

constexpr float kSaturated = 8.f;  // sigmoid and tanh are flat beyond +-8

// The clamp a node applies to its output: fused activation or CLAMP bounds; none: infinite.
std::pair<float, float> output_clamp(const schema::Node& n) {
  const float inf = INFINITY;
  const schema::Activation* a = nullptr;
  switch (n.options_type()) {
    case schema::OpOptions::Conv2DOptions:
      a = n.options_as_Conv2DOptions()->activation();
      break;
    case schema::OpOptions::FullyConnectedOptions:
      a = n.options_as_FullyConnectedOptions()->activation();
      break;
    case schema::OpOptions::BinaryOptions:
      a = n.options_as_BinaryOptions()->activation();
      break;
    case schema::OpOptions::Pool2DOptions:
      a = n.options_as_Pool2DOptions()->activation();
      break;
    case schema::OpOptions::ConcatenationOptions:
      a = n.options_as_ConcatenationOptions()->activation();
      break;
    case schema::OpOptions::ClampOptions:
      return {n.options_as_ClampOptions()->min(), n.options_as_ClampOptions()->max()};
    default:
      break;
  }
  if (n.op() == OpKind::CLAMP && !n.options()) return {-inf, inf};
  if (!a) return {-inf, inf};
  return {a->min(), a->max()};
}

std::vector<uint8_t> bytes_of(const void* data, size_t size) {
  std::vector<uint8_t> b(size);
  if (size) std::memcpy(b.data(), data, size);
  return b;
}

// Tensors whose values only ever pass through a sigmoid or tanh: read by SIGMOID or TANH nodes,
// by value-moving operators (RESHAPE, TRANSPOSE, DEPTH_TO_SPACE, CONCATENATION) whose outputs are
// themselves squashed, or detection scores, which post-processing reads through a sigmoid. Both
// functions are flat beyond +-8 (to within 3.4e-4, less than one int8 step of [0, 1]), so such a
// tensor needs no wider range: logits of +-900 before a mask's sigmoid would otherwise leave a
// handful of steps where it is not saturated.
std::vector<bool> squashed_tensors(const merge::SourceGraph& g) {
  const size_t tensors = g.root->tensors()->size();
  std::vector<std::vector<int>> readers(tensors);
  for (int n : g.order)
    for (int t : *g.node(n).inputs())
      if (t >= 0) readers[static_cast<size_t>(t)].push_back(n);
  // Task outputs: -1 read raw by callers, 1 read through a sigmoid. Only detection scores count:
  // they are thresholded one by one after the sigmoid, while masks are resized (interpolated)
  // before theirs, where values beyond +-8 still move the boundary.
  std::vector<int> task_read(tensors, 0);
  for (const schema::Task* task : *g.root->tasks()) {
    const bool sigmoid = task->postprocess() &&
                         task->postprocess()->activation() == schema::OutputActivation::SIGMOID &&
                         task->kind() == schema::TaskKind::DETECTION;
    for (const schema::TaskOutput* o : *task->outputs()) {
      const bool through = sigmoid && o->name()->str() == "scores";
      int& r = task_read[static_cast<size_t>(o->tensor())];
      r = (r == -1 || !through) ? -1 : 1;
    }
  }
  std::vector<bool> squashed(tensors, false);
  auto decide = [&](size_t t) {
    if (task_read[t] < 0 || (readers[t].empty() && task_read[t] == 0)) return;
    for (int r : readers[t]) {
      const schema::Node& node = g.node(r);
      switch (node.op()) {
        case OpKind::SIGMOID:
        case OpKind::TANH:
          continue;
        case OpKind::RESHAPE:
        case OpKind::TRANSPOSE:
        case OpKind::DEPTH_TO_SPACE:
        case OpKind::CONCATENATION:
          if (squashed[static_cast<size_t>(node.outputs()->Get(0))]) continue;
          return;
        default:
          return;
      }
    }
    squashed[t] = true;
  };
  for (auto it = g.order.rbegin(); it != g.order.rend(); ++it)  // readers before producers
    decide(static_cast<size_t>(g.node(*it).outputs()->Get(0)));
  for (const schema::Input* in : *g.root->inputs()) decide(static_cast<size_t>(in->tensor()));
  return squashed;
}

struct Rewriter {
  Rewriter(const merge::SourceGraph& graph, const std::vector<bool>& int8,
           const std::vector<Range>& r, const RewriteOptions& o)
      : g(graph), int8_node(int8), ranges(r), options(o) {}

  const merge::SourceGraph& g;
  const std::vector<bool>& int8_node;
  const std::vector<Range>& ranges;
  const RewriteOptions& options;
  RewriteStats stats;
  EditModel m;
  std::set<std::string> node_names;

  std::vector<AffineParams> params;       // per source tensor with an I8 version
  std::vector<bool> needs_i8, needs_f32;  // per source tensor
  std::vector<int> i8_of;                 // per source tensor: its I8 tensor
  std::map<int, int> constant_i8;         // F32 constant -> I8 per-tensor copy
  std::map<std::tuple<int, int, float>, std::pair<int, int>> weights_i8;  // (w, b, in scale)

  std::string unique_node_name(const std::string& base) {
    std::string name = base;
    for (int k = 2; node_names.count(name); ++k) name = base + "_" + std::to_string(k);
    node_names.insert(name);
    return name;
  }

  bool is_constant(int t) const { return t >= 0 && g.is_constant(t); }

  void plan_tensors() {
    const size_t tensors = g.root->tensors()->size();
    needs_i8.assign(tensors, false);
    needs_f32.assign(tensors, false);
    params.assign(tensors, AffineParams{});
    for (int n : g.order) {
      const schema::Node& node = g.node(n);
      const bool q = int8_node[static_cast<size_t>(n)];
      for (int t : *node.inputs())
        if (t >= 0 && !is_constant(t)) (q ? needs_i8 : needs_f32)[static_cast<size_t>(t)] = true;
      for (int t : *node.outputs()) (q ? needs_i8 : needs_f32)[static_cast<size_t>(t)] = true;
    }
    for (const schema::Task* task : *g.root->tasks())
      for (const schema::TaskOutput* o : *task->outputs())
        needs_f32[static_cast<size_t>(o->tensor())] = true;
    for (const schema::Input* in : *g.root->inputs())
      needs_f32[static_cast<size_t>(in->tensor())] = true;
    const std::vector<bool> squashed = squashed_tensors(g);
    auto range_of = [&](size_t t) {
      Range r = ranges[t];
      if (squashed[t]) {
        r.min = std::max(r.min, -kSaturated);
        r.max = std::min(r.max, kSaturated);
      }
      return r;
    };
    // Parameters in producer order, so a shared-quantization op finds its input's.
    for (const schema::Input* in : *g.root->inputs()) {
      const auto t = static_cast<size_t>(in->tensor());
      params[t] = affine_params(range_of(t));
    }
    for (int n : g.order) {
      const schema::Node& node = g.node(n);
      const auto out = static_cast<size_t>(node.outputs()->Get(0));
      const int in0 = node.inputs()->size() ? node.inputs()->Get(0) : -1;
      if (int8_node[static_cast<size_t>(n)] && shares_input_quantization(node.op()) && in0 >= 0 &&
          !is_constant(in0))
        params[out] = params[static_cast<size_t>(in0)];
      else
        params[out] = affine_params(output_range(g, static_cast<int>(out), range_of(out)));
    }
    fold_clamps_into_producers();
  }

  // A CLAMP (ReLU, ReLU6) that is its int8 producer's only reader gives the producer its own
  // output parameters: the producer's int8 output then saturates at the clamp's bounds, the
  // clamp keeps the parameters it reads and runs as a plain int8 clamp instead of a requantizing
  // table, and no code is spent on the negative values the clamp discards (TFLite fuses the
  // activation into the convolution for the same reason).
  void fold_clamps_into_producers() {
    std::vector<int> readers(g.root->tensors()->size(), 0);
    for (int n : g.order)
      for (int t : *g.node(n).inputs())
        if (t >= 0) ++readers[static_cast<size_t>(t)];
    for (int n : g.order) {
      const schema::Node& node = g.node(n);
      if (node.op() != OpKind::CLAMP || !int8_node[static_cast<size_t>(n)]) continue;
      const int in = node.inputs()->Get(0);
      if (in < 0 || is_constant(in)) continue;
      const auto t = static_cast<size_t>(in);
      const int producer = g.producer[t];
      if (producer < 0 || !int8_node[static_cast<size_t>(producer)] || readers[t] != 1 ||
          needs_f32[t] || shares_input_quantization(g.node(producer).op()))
        continue;
      params[t] = params[static_cast<size_t>(node.outputs()->Get(0))];
    }
  }

  void set_i8(EditTensor& t, const AffineParams& p) {
    t.type = ElementType::I8;
    t.scales = {p.scale};
    t.zero_points = {p.zero_point};
    t.axis = -1;
    t.sparse_block_rows = t.sparse_block_cols = 0;  // only float constants are stored sparse
  }

  // The I8 tensor standing for source tensor t (made on first use).
  int i8_version(int t) {
    const auto st = static_cast<size_t>(t);
    if (i8_of[st] >= 0) return i8_of[st];
    if (!needs_f32[st]) {  // only int8 readers and writer: the tensor itself becomes I8
      set_i8(m.tensors[st], params[st]);
      i8_of[st] = t;
      return t;
    }
    EditTensor copy = m.tensors[st];
    copy.name += "/int8";
    set_i8(copy, params[st]);
    i8_of[st] = m.add_tensor(std::move(copy));
    return i8_of[st];
  }

  // `base` is made unique among the node names unless `keep_name` (a source node's own name).
  void emit(OpKind op, const std::string& base, const schema::Node* options, std::vector<int> in,
            int out, bool keep_name = false) {
    EditNode n;
    n.name = keep_name ? base : unique_node_name(base);
    n.op = op;
    n.options_from = options;
    n.inputs = std::move(in);
    n.outputs = {out};
    m.nodes.push_back(std::move(n));
  }

  void quantize_after(int t) {  // F32 t (input or float output) feeding int8 readers
    if (!needs_i8[static_cast<size_t>(t)]) return;
    const int q = i8_version(t);
    emit(OpKind::QUANTIZE, g.tensor_name(t) + "/quantize", nullptr, {t}, q);
    ++stats.quantize_nodes;
  }

  int constant_i8_version(int t) {
    auto it = constant_i8.find(t);
    if (it != constant_i8.end()) return it->second;
    const auto count = static_cast<size_t>(g.constant_size(t) / sizeof(float));
    std::vector<float> values(count);
    std::memcpy(values.data(), g.constant_data(t), count * sizeof(float));
    QuantizedConstant qc = quantize_constant(values.data(), count);
    EditTensor et = m.tensors[static_cast<size_t>(t)];
    set_i8(et, qc.params);
    et.size = qc.values.size();
    et.data = m.store(bytes_of(qc.values.data(), qc.values.size()));
    const int id = m.add_tensor(std::move(et));
    constant_i8.emplace(t, id);
    return id;
  }

  std::pair<int, int> weights_i8_version(int w, int b, float input_scale) {
    const auto key = std::make_tuple(w, b, input_scale);
    auto it = weights_i8.find(key);
    if (it != weights_i8.end()) return it->second;
    const schema::Tensor& wt = g.tensor(w);
    const auto channels = static_cast<size_t>(wt.shape()->Get(0));
    const size_t elements = g.constant_size(w) / sizeof(float);
    std::vector<float> wv(elements), bv;
    std::memcpy(wv.data(), g.constant_data(w), elements * sizeof(float));
    if (b >= 0) {
      bv.resize(channels);
      std::memcpy(bv.data(), g.constant_data(b), channels * sizeof(float));
    }
    QuantizedWeights q =
        quantize_weights(wv.data(), channels, elements / channels, b >= 0 ? bv.data() : nullptr,
                         input_scale, options.per_tensor_weights, options.half_weight_scales);
    stats.saturated_bias += q.saturated_bias;
    EditTensor et = m.tensors[static_cast<size_t>(w)];
    et.type = ElementType::I8;
    et.scales = q.scales;
    et.zero_points.assign(q.scales.size(), 0);
    et.axis = options.per_tensor_weights ? -1 : 0;
    et.sparse_block_rows = et.sparse_block_cols = 0;  // int8 weights are stored dense
    et.size = q.values.size();
    et.data = m.store(bytes_of(q.values.data(), q.values.size()));
    std::pair<int, int> ids{m.add_tensor(std::move(et)), -1};
    if (b >= 0) {
      EditTensor bt = m.tensors[static_cast<size_t>(b)];
      bt.type = ElementType::I32;
      bt.scales = q.bias_scales;
      bt.zero_points.assign(q.bias_scales.size(), 0);
      bt.axis = 0;
      bt.sparse_block_rows = bt.sparse_block_cols = 0;
      bt.size = q.bias.size() * sizeof(int32_t);
      bt.data = m.store(bytes_of(q.bias.data(), bt.size));
      ids.second = m.add_tensor(std::move(bt));
    }
    weights_i8.emplace(key, ids);
    return ids;
  }

  void int8_node_to_model(const schema::Node& node) {
    std::vector<int> in;
    const auto* src_in = node.inputs();
    const bool weights = has_channel_weights(node.op());
    for (flatbuffers::uoffset_t k = 0; k < src_in->size(); ++k) {
      const int t = src_in->Get(k);
      if (t < 0) {
        in.push_back(t);
      } else if (!is_constant(t)) {
        in.push_back(i8_version(t));
      } else if (weights && k == 1) {
        const int x = src_in->Get(0);
        const int b = src_in->size() > 2 ? src_in->Get(2) : -1;
        const std::pair<int, int> ids =
            weights_i8_version(t, b, params[static_cast<size_t>(x)].scale);
        in.push_back(ids.first);
        if (b >= 0) in.push_back(ids.second);
        if (b >= 0) ++k;  // the bias is done
      } else {
        in.push_back(constant_i8_version(t));
      }
    }
    const int out = node.outputs()->Get(0);
    const int q_out = i8_version(out);
    emit(node.op(), node.name()->str(), &node, std::move(in), q_out, true);
    if (needs_f32[static_cast<size_t>(out)]) {
      emit(OpKind::DEQUANTIZE, g.tensor_name(out) + "/dequantize", nullptr, {q_out}, out);
      ++stats.dequantize_nodes;
    }
  }

  Result<EditModel> run() {
    for (size_t n = 0; n < g.root->nodes()->size(); ++n)
      if (int8_node[n] && !can_run_int8(g, static_cast<int>(n)))
        return Status(ErrorCode::kInvalidArgument,
                      "node '" + g.node_name(static_cast<int>(n)) + "' (" +
                          op_name(g.node(static_cast<int>(n)).op()) + ") cannot run in int8");
    m = edit_copy(g);
    m.nodes.clear();
    for (size_t n = 0; n < g.root->nodes()->size(); ++n)
      node_names.insert(g.node_name(static_cast<int>(n)));
    plan_tensors();
    i8_of.assign(m.tensors.size(), -1);
    for (const schema::Input* in : *g.root->inputs()) quantize_after(in->tensor());
    for (int n : g.order) {
      const schema::Node& node = g.node(n);
      if (int8_node[static_cast<size_t>(n)]) {
        ++stats.int8_nodes;
        int8_node_to_model(node);
        continue;
      }
      ++stats.float_nodes;
      EditNode en;
      en.name = node.name()->str();
      en.op = node.op();
      en.options_from = &node;
      en.inputs.assign(node.inputs()->begin(), node.inputs()->end());
      en.outputs.assign(node.outputs()->begin(), node.outputs()->end());
      m.nodes.push_back(std::move(en));
      quantize_after(node.outputs()->Get(0));
    }
    drop_unused_constants(m);
    return std::move(m);
  }
};

}  // namespace

Range output_range(const merge::SourceGraph& g, int tensor, const Range& observed) {
  Range r = observed;
  const int producer = g.producer[static_cast<size_t>(tensor)];
  if (producer < 0) return r;
  const auto [lo, hi] = output_clamp(g.node(producer));
  const float min = std::max(r.min, lo), max = std::min(r.max, hi);
  if (min <= max) r = {min, max};
  return r;
}

Result<EditModel> rewrite_int8(const merge::SourceGraph& g, const std::vector<bool>& int8_node,
                               const std::vector<Range>& ranges, const RewriteOptions& options,
                               RewriteStats* stats) {
  if (int8_node.size() != g.root->nodes()->size() || ranges.size() != g.root->tensors()->size())
    return Status(ErrorCode::kInternal, "rewrite_int8: node or tensor count mismatch");
  Rewriter r(g, int8_node, ranges, options);
  PH_ASSIGN_OR_RETURN(EditModel m, r.run());
  if (stats) *stats = r.stats;
  return m;
}

}  // namespace polyhead::quantize
