// `--auto --max-drop X`: start from every candidate node in int8; while a task's drop (see
// sensitivity.h) exceeds its budget (drop_budget.h), move the most sensitive int8 nodes back to
// float, one at first and then growing batches (1 + half of those already moved), until the drop is
// within X; then bisect between the last count over budget and the first within it, so a batch that
// overshot gives back what it did not need. It always ends: with every candidate in float the
// model is the float model (drop 0).
#pragma once

#include <functional>
#include <set>
#include <string>
#include <vector>

#include "offline/quantize/drop_budget.h"
#include "offline/quantize/sensitivity.h"
#include "polyhead/result.h"

namespace polyhead::quantize {

struct AutoStep {
  size_t float_nodes = 0;  // candidates kept in float at this step (growing, then bisecting)
  double worst_drop = 0;
  double budget_use = 0;  // DropBudget::usage: at most 1 within the budget
};

struct AutoResult {
  std::vector<std::string> kept_float;  // the most sensitive candidates, most sensitive first
  Evaluation final;
  std::vector<AutoStep> steps;
  bool within_budget = false;
};

// `ordered`: the candidate nodes, most sensitive first. `evaluate(float_nodes)` measures the model
// with those candidates in float and the others in int8.
Result<AutoResult> auto_select(
    const std::vector<std::string>& ordered, const DropBudget& budget,
    const std::function<Result<Evaluation>(const std::set<std::string>& float_nodes)>& evaluate);

}  // namespace polyhead::quantize
