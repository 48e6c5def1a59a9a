// `--max-drop`: how far each task's results may drop (the drop of sensitivity.h) for `--auto`.
// One number for every judged task, one per task, or both (the number is then the budget of the
// tasks not named): "0.02", "landmarks=0.008,mask=0.03", "0.05,landmarks=0.008". A pose model's
// landmarks and its mask deserve different budgets, which one worst-task number cannot say.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "offline/quantize/sensitivity.h"
#include "polyhead/model.h"
#include "polyhead/result.h"

namespace polyhead::quantize {

struct DropBudget {
  std::optional<double> others;  // the budget of every judged task not named below
  std::vector<std::pair<std::string, double>> per_task;  // in the order given

  static DropBudget uniform(double max_drop);
  // Errors name the item and the value: "--max-drop: invalid value 'x' for task 'mask' ...".
  static Result<DropBudget> parse(const std::string& text);

  bool empty() const { return !others && per_task.empty(); }
  std::optional<double> limit(const std::string& task) const;
  // Tasks named here must be tasks of `model` and, when `judged` (--tasks) is not empty, among
  // them; every value in [0, 1].
  Status check(const Model& model, const std::vector<std::string>& judged) const;
  // The tasks whose drop counts: `judged` (--tasks) when given; else the named tasks when no
  // number covers the others; else empty (every task).
  std::vector<std::string> judged_tasks(const std::vector<std::string>& judged) const;
  // Whether every judged task of `e` is within its budget.
  bool met(const Evaluation& e) const;
  // How much of its budget the most constrained task uses (<= 1 within the budget): ranks nodes
  // for --auto, so a node that costs a tight budget most is moved back to float first.
  double usage(const Evaluation& e) const;
  // "0.02" or "0.05, landmarks 0.008": for reports.
  std::string text() const;
};

}  // namespace polyhead::quantize
