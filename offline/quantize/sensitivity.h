// How much a quantized model's results drop against the float model's, per task, with the metrics
// of `polyhead compare` (tools/compare), and the per-node sensitivity: the drop when only that one
// node runs in int8.
//
// The drop of a task (docs/quantize.md), a number where 0 means "same results":
//   classification  1 - top-1 agreement
//   segmentation    1 - mean mask IoU (class maps: 1 - mean class IoU)
//   detection       1 - (sum of matched-box IoUs) / max(float boxes, int8 boxes); 0 when neither
//                   finds a box (a miss, an extra box and a loose box all count)
//   landmarks       mean point error as a fraction of the input size
//   other           1 - mean cosine similarity of the raw outputs
// A model's drop is its worst task's. Rankings break ties with a finer number per task (the score:
// classification KL divergence, mask probability error, class-map pixel disagreement, and the
// drop itself for the others), since a few images rarely flip a top-1 class.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include "eval/compare_report.h"
#include "polyhead/model.h"
#include "polyhead/result.h"

namespace polyhead::quantize {

struct TaskDrop {
  std::string task;
  TaskKind kind = TaskKind::kOther;
  std::string metric;  // "1 - top-1 agreement", ...
  double drop = 0;
  double score = 0;  // the finer tie-breaker
};

TaskDrop task_drop(const compare::TaskComparison& c);

struct Evaluation {
  std::vector<TaskDrop> tasks;
  double worst_drop = 0;
  double worst_score = 0;
};

struct EvaluationOptions {
  size_t threads = 1;              // per engine
  std::vector<std::string> tasks;  // the tasks whose drop counts; empty = every task
};

// Fails (kInvalidArgument, "--tasks: the model has no task 'x' (it has a, b)") on a name in
// `tasks` that is not a task of `model`; `option` names the option in the message.
Status check_evaluation_tasks(const Model& model, const std::vector<std::string>& tasks,
                              const std::string& option = "--tasks");

// Compares `quantized` with `reference` on `images` (compare::compare_models, one latency run).
Result<Evaluation> evaluate(const Model& reference, const Model& quantized,
                            const std::vector<std::string>& images, const EvaluationOptions& o);

struct NodeSensitivity {
  std::string node, op;
  Evaluation evaluation;  // only this node in int8
};

// Sorted: most sensitive first (worst drop, then worst score, then node name).
void sort_by_sensitivity(std::vector<NodeSensitivity>& nodes);

// For each name in `nodes`, `build(name)` makes the model with only that node in int8, which is
// evaluated against `reference`. `progress(done, total)` after each node (may be empty).
Result<std::vector<NodeSensitivity>> measure_sensitivity(
    const Model& reference, const std::vector<std::pair<std::string, std::string>>& nodes,
    const std::function<Result<Model>(const std::string& node)>& build,
    const std::vector<std::string>& images, const EvaluationOptions& options,
    const std::function<void(size_t, size_t)>& progress);

}  // namespace polyhead::quantize
