#include "offline/quantize/quantizer.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <set>

#include "offline/graph/number_text.h"
#include "offline/graph/source_graph.h"
#include "offline/quantize/calibration.h"
#include "offline/quantize/int8_support.h"

namespace polyhead::quantize {
namespace {

// A model input image of at most 4 channels.
bool is_image_input(const merge::SourceGraph& g, int t) {
  if (t < 0 || g.input_position[static_cast<size_t>(t)] < 0) return false;
  const auto* shape = g.tensor(t).shape();
  return shape->size() == 4 && shape->Get(3) <= 4;
}

// The stem's nodes, or none: a convolution reading a model image of at most 4 channels, directly
// or through a PAD of it (pose landmarks pads explicitly), with that PAD, which otherwise would
// quantize the photo only to hand it back to a float stem.
std::vector<int> stem_nodes(const merge::SourceGraph& g, int n) {
  const schema::Node& node = g.node(n);
  if (node.op() != schema::OpKind::CONV_2D || node.inputs()->size() == 0) return {};
  const int in = node.inputs()->Get(0);
  if (is_image_input(g, in)) return {n};
  const int pad = in >= 0 ? g.producer[static_cast<size_t>(in)] : -1;
  if (pad < 0 || g.node(pad).op() != schema::OpKind::PAD || g.node(pad).inputs()->size() == 0)
    return {};
  if (!is_image_input(g, g.node(pad).inputs()->Get(0))) return {};
  return {pad, n};
}

}  // namespace

namespace {

std::string format_number(double v) {
  return graph::number_text(v);
}

struct Quantizer {
  const Model& model;
  const QuantizeOptions& o;
  merge::SourceGraph g;
  std::vector<Range> ranges;
  std::vector<bool> candidate;  // per node: can run int8 and not kept float by the user

  Result<Model> build(const std::vector<bool>& int8_node, RewriteStats* stats,
                      std::vector<uint8_t>* bytes_out, size_t calibration_images) const {
    PH_ASSIGN_OR_RETURN(
        EditModel m,
        rewrite_int8(g, int8_node, ranges,
                     RewriteOptions{o.per_tensor_weights, o.half_weight_scales}, stats));
    // Previous quantization notes are replaced.
    std::vector<std::pair<std::string, std::string>> md;
    for (auto& kv : m.metadata)
      if (kv.first.rfind("quantization.", 0) != 0) md.push_back(kv);
    md.emplace_back("quantization.tool", "polyhead quantize");
    md.emplace_back("quantization.method", range_method_name(o.method));
    if (o.method == RangeMethod::kPercentile)
      md.emplace_back("quantization.percentile", format_number(o.percentile));
    md.emplace_back("quantization.weights", o.per_tensor_weights ? "per-tensor" : "per-channel");
    if (!o.per_tensor_weights)
      md.emplace_back("quantization.weight_scales", o.half_weight_scales ? "half" : "float");
    md.emplace_back("quantization.calibration_images", std::to_string(calibration_images));
    size_t int8 = 0;
    for (bool b : int8_node) int8 += b ? 1 : 0;
    md.emplace_back("quantization.int8_nodes", std::to_string(int8));
    md.emplace_back("quantization.float_nodes", std::to_string(int8_node.size() - int8));
    m.metadata = std::move(md);
    PH_ASSIGN_OR_RETURN(std::vector<uint8_t> bytes, write_model(m));
    auto loaded = Model::from_bytes(bytes);
    if (!loaded.is_ok())
      return Status(ErrorCode::kInternal,
                    "the quantized model does not load: " + loaded.status().message());
    if (bytes_out) *bytes_out = std::move(bytes);
    return *loaded;
  }

  std::vector<bool> only(const std::string& name) const {
    std::vector<bool> v(candidate.size(), false);
    for (size_t n = 0; n < candidate.size(); ++n)
      v[n] = candidate[n] && g.node_name(static_cast<int>(n)) == name;
    return v;
  }

  std::vector<bool> all_but(const std::set<std::string>& kept) const {
    std::vector<bool> v(candidate.size(), false);
    for (size_t n = 0; n < candidate.size(); ++n)
      v[n] = candidate[n] && !kept.count(g.node_name(static_cast<int>(n)));
    return v;
  }
};

Status check_float_model(const merge::SourceGraph& g) {
  for (flatbuffers::uoffset_t t = 0; t < g.root->tensors()->size(); ++t) {
    const schema::Tensor& tensor = *g.root->tensors()->Get(t);
    if (tensor.type() != schema::ElementType::F32)
      return Status(ErrorCode::kInvalidArgument,
                    "tensor '" + tensor.name()->str() + "' is " +
                        schema::EnumNameElementType(tensor.type()) +
                        ": the model is already quantized (quantize takes a float32 model)");
  }
  return Status::ok();
}

}  // namespace

Result<QuantizeResult> quantize_model(const Model& model, const std::vector<std::string>& images,
                                      const QuantizeOptions& o) {
  if (o.method == RangeMethod::kPercentile && !(o.percentile > 0 && o.percentile <= 100))
    return Status(ErrorCode::kInvalidArgument,
                  "percentile must be in (0, 100], got " + format_number(o.percentile));
  Quantizer q{model, o, {}, {}, {}};
  PH_ASSIGN_OR_RETURN(q.g, merge::read_source_graph(model, "model"));
  const merge::SourceGraph& g = q.g;
  PH_RETURN_IF_ERROR(check_float_model(g));

  // --keep-float names must exist.
  std::set<std::string> keep(o.keep_float.begin(), o.keep_float.end());
  {
    std::set<std::string> names;
    for (size_t n = 0; n < g.root->nodes()->size(); ++n)
      names.insert(g.node_name(static_cast<int>(n)));
    std::vector<std::string> unknown;
    for (const std::string& k : o.keep_float)
      if (!names.count(k)) unknown.push_back(k);
    if (!unknown.empty()) {
      std::string list;
      for (const std::string& u : unknown) list += (list.empty() ? "'" : ", '") + u + "'";
      return Status(ErrorCode::kInvalidArgument,
                    "--keep-float: the model has no node named " + list +
                        " (see 'polyhead inspect' for the node names)");
    }
  }

  PH_RETURN_IF_ERROR(check_evaluation_tasks(model, o.tasks));
  if (o.auto_select) PH_RETURN_IF_ERROR(o.max_drop.check(model, o.tasks));

  CalibrationOptions co;
  co.threads = o.threads;
  if (o.progress) co.progress = [&](size_t d, size_t t) { o.progress("calibrating", d, t); };
  PH_ASSIGN_OR_RETURN(std::vector<RangeObserver> observers, calibrate(model, g, images, co));
  // Task outputs are the results themselves: clipping them (a box offset, a logit) would change
  // what callers read, so they keep their observed [min, max] whatever the method.
  std::vector<bool> task_output(observers.size(), false);
  for (const schema::Task* task : *g.root->tasks())
    for (const schema::TaskOutput* out : *task->outputs())
      task_output[static_cast<size_t>(out->tensor())] = true;
  q.ranges.resize(observers.size());
  for (size_t t = 0; t < observers.size(); ++t)
    q.ranges[t] =
        choose_range(observers[t], task_output[t] ? RangeMethod::kMinMax : o.method, o.percentile);

  QuantizeResult result;
  QuantizeReport& r = result.report;
  r.method = range_method_name(o.method);
  r.percentile = o.method == RangeMethod::kPercentile ? o.percentile : 0;
  r.per_tensor_weights = o.per_tensor_weights;
  r.half_weight_scales = o.half_weight_scales && !o.per_tensor_weights;
  r.calibration_images = images.size();
  r.input_bytes = model.file_bytes();

  const size_t nodes = g.root->nodes()->size();
  q.candidate.assign(nodes, false);
  std::vector<std::pair<std::string, std::string>> candidates;  // name, op; in execution order
  std::set<int> stems;
  if (!o.int8_stem)
    for (int n : g.order)
      for (int s : stem_nodes(g, n)) stems.insert(s);
  for (int n : g.order) {
    const std::string name = g.node_name(n);
    const bool capable = can_run_int8(g, n);
    q.candidate[static_cast<size_t>(n)] = capable && !keep.count(name) && !stems.count(n);
    if (q.candidate[static_cast<size_t>(n)]) candidates.emplace_back(name, op_name(g.node(n).op()));
  }

  std::vector<std::string> eval_images = images;
  if (o.limit > 0 && eval_images.size() > o.limit) eval_images.resize(o.limit);
  std::set<std::string> auto_float;
  EvaluationOptions eval_options;
  eval_options.threads = o.threads;
  eval_options.tasks = o.auto_select ? o.max_drop.judged_tasks(o.tasks) : o.tasks;
  if (o.sensitivity || o.auto_select) {
    r.evaluation_images = eval_images.size();
    auto progress = [&](size_t d, size_t t) {
      if (o.progress) o.progress("sensitivity", d, t);
    };
    PH_ASSIGN_OR_RETURN(r.sensitivity, measure_sensitivity(
                                           model, candidates,
                                           [&](const std::string& node) {
                                             return q.build(q.only(node), nullptr, nullptr, 0);
                                           },
                                           eval_images, eval_options, progress));
  }
  if (o.auto_select) {
    // Most of its budget used first: with one budget for every task that is the sensitivity
    // order itself; with one per task, a node that costs a tight budget ranks higher.
    std::vector<const NodeSensitivity*> ranked;
    for (const NodeSensitivity& s : r.sensitivity) ranked.push_back(&s);
    std::stable_sort(ranked.begin(), ranked.end(),
                     [&](const NodeSensitivity* a, const NodeSensitivity* b) {
                       return o.max_drop.usage(a->evaluation) > o.max_drop.usage(b->evaluation);
                     });
    std::vector<std::string> ordered;
    for (const NodeSensitivity* s : ranked) ordered.push_back(s->node);
    size_t step = 0;
    PH_ASSIGN_OR_RETURN(
        r.auto_result,
        auto_select(
            ordered, o.max_drop, [&](const std::set<std::string>& kept) -> Result<Evaluation> {
              if (o.progress) o.progress("auto", ++step, 0);
              PH_ASSIGN_OR_RETURN(const Model m, q.build(q.all_but(kept), nullptr, nullptr, 0));
              return evaluate(model, m, eval_images, eval_options);
            }));
    r.has_auto = true;
    r.max_drop = o.max_drop;
    auto_float.insert(r.auto_result.kept_float.begin(), r.auto_result.kept_float.end());
  }

  const std::vector<bool> final_int8 = q.all_but(auto_float);
  PH_ASSIGN_OR_RETURN(const Model written,
                      q.build(final_int8, &r.stats, &result.bytes, images.size()));
  (void)written;
  r.output_bytes = result.bytes.size();
  for (int n : g.order) {
    NodeChoice c;
    c.node = g.node_name(n);
    c.op = op_name(g.node(n).op());
    c.int8 = final_int8[static_cast<size_t>(n)];
    if (!c.int8) {
      if (!can_run_int8(g, n))
        c.reason = has_int8_kernel(g.node(n).op()) ? "not quantizable here" : "float-only operator";
      else if (keep.count(c.node))
        c.reason = "--keep-float";
      else if (stems.count(n))
        c.reason = "stem (--int8-stem quantizes it)";
      else
        c.reason = "--auto";
    }
    r.nodes.push_back(std::move(c));
  }
  return result;
}

}  // namespace polyhead::quantize
