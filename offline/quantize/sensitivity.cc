#include "offline/quantize/sensitivity.h"

#include <algorithm>
#include <cmath>

#include "eval/comparer.h"

namespace polyhead::quantize {

namespace {

// NaN (no value) counts as the worst: a metric that could not be measured is not a good one.
double or_worst(double v, double worst) {
  return std::isnan(v) ? worst : v;
}

}  // namespace

TaskDrop task_drop(const compare::TaskComparison& c) {
  TaskDrop d;
  d.task = c.task;
  d.kind = c.kind;
  switch (c.method) {
    case compare::Method::kClassification:
      d.metric = "1 - top-1 agreement";
      d.drop = 1 - or_worst(c.classification.top1(), 0);
      d.score = or_worst(c.classification.kl_mean(), 1e9);
      break;
    case compare::Method::kMask:
      d.metric = "1 - mask IoU";
      d.drop = 1 - or_worst(c.mask.iou_mean(), 0);
      d.score = or_worst(c.mask.probability_error_mean(), 1);
      break;
    case compare::Method::kClassMap:
      d.metric = "1 - class IoU";
      d.drop = 1 - or_worst(c.class_map.miou_mean(), 0);
      d.score = 1 - or_worst(c.class_map.pixel_agreement_mean(), 0);
      break;
    case compare::Method::kDetection: {
      d.metric = "1 - matched IoU / boxes";
      const compare::DetectionSummary& s = c.detection;
      const size_t most = std::max(s.teacher_boxes, s.student_boxes);
      d.drop = most ? 1 - s.iou_sum / static_cast<double>(most) : 0;
      d.score = d.drop;
      break;
    }
    case compare::Method::kLandmarks:
      d.metric = "point error / input size";
      d.drop = or_worst(c.landmarks.error_mean(), 1);
      d.score = d.drop;
      break;
    case compare::Method::kRaw:
      d.metric = "1 - cosine";
      d.drop = 1 - or_worst(c.raw.cosine_mean(), -1);
      d.score = d.drop;
      break;
  }
  return d;
}

Status check_evaluation_tasks(const Model& model, const std::vector<std::string>& tasks,
                              const std::string& option) {
  for (const std::string& t : tasks) {
    bool found = false;
    std::string names;
    for (const TaskInfo& info : model.tasks()) {
      found = found || info.name == t;
      names += (names.empty() ? "" : ", ") + info.name;
    }
    if (!found)
      return Status(ErrorCode::kInvalidArgument,
                    option + ": the model has no task '" + t + "' (it has " + names + ")");
  }
  return Status::ok();
}

Result<Evaluation> evaluate(const Model& reference, const Model& quantized,
                            const std::vector<std::string>& images,
                            const EvaluationOptions& options) {
  compare::CompareOptions o;
  o.threads = options.threads;
  o.tasks = options.tasks;
  o.latency.rounds = 1;
  o.latency.runs = 1;
  PH_ASSIGN_OR_RETURN(const compare::CompareReport report,
                      compare::compare_models(reference, quantized, images, o));
  Evaluation e;
  for (const compare::TaskComparison& c : report.tasks) {
    e.tasks.push_back(task_drop(c));
    e.worst_drop = std::max(e.worst_drop, e.tasks.back().drop);
    e.worst_score = std::max(e.worst_score, e.tasks.back().score);
  }
  return e;
}

void sort_by_sensitivity(std::vector<NodeSensitivity>& nodes) {
  std::stable_sort(nodes.begin(), nodes.end(),
                   [](const NodeSensitivity& a, const NodeSensitivity& b) {
                     if (a.evaluation.worst_drop != b.evaluation.worst_drop)
                       return a.evaluation.worst_drop > b.evaluation.worst_drop;
                     if (a.evaluation.worst_score != b.evaluation.worst_score)
                       return a.evaluation.worst_score > b.evaluation.worst_score;
                     return a.node < b.node;
                   });
}

Result<std::vector<NodeSensitivity>> measure_sensitivity(
    const Model& reference, const std::vector<std::pair<std::string, std::string>>& nodes,
    const std::function<Result<Model>(const std::string& node)>& build,
    const std::vector<std::string>& images, const EvaluationOptions& options,
    const std::function<void(size_t, size_t)>& progress) {
  std::vector<NodeSensitivity> out;
  for (size_t i = 0; i < nodes.size(); ++i) {
    PH_ASSIGN_OR_RETURN(const Model one, build(nodes[i].first));
    auto e = evaluate(reference, one, images, options);
    if (!e.is_ok())
      return Status(e.status().code(),
                    "sensitivity of node '" + nodes[i].first + "': " + e.status().message());
    out.push_back({nodes[i].first, nodes[i].second, std::move(*e)});
    if (progress) progress(i + 1, nodes.size());
  }
  sort_by_sensitivity(out);
  return out;
}

}  // namespace polyhead::quantize
