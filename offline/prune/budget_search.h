// `--max-drop X`: the highest sparsity whose measured drop (the worst task's, quantize::evaluate)
// stays within X. The sparsities tried are a grid (0.05, 0.10, ..., 0.95 by default); the search
// bisects it on the assumption that the drop grows with the sparsity, so a grid of 19 costs five
// evaluations. The drop of a few photos is not perfectly monotonic: the answer is a sparsity that
// was measured within budget, not a proof that no higher one is.
#pragma once

#include <functional>
#include <vector>

#include "offline/quantize/sensitivity.h"
#include "polyhead/result.h"

namespace polyhead::prune {

struct BudgetStep {
  double sparsity = 0;
  quantize::Evaluation evaluation;
};

struct BudgetResult {
  bool within_budget = false;       // some grid sparsity met the budget
  double sparsity = 0;              // the highest one found (within_budget)
  quantize::Evaluation evaluation;  // its evaluation
  std::vector<BudgetStep> steps;    // every evaluation, in the order made
  // The smallest worst drop seen (what the error names when nothing met the budget).
  const BudgetStep* best() const;
};

// 0.05, 0.10, ..., 0.95.
std::vector<double> default_sparsity_grid();

// `grid` increasing; `evaluate(s)` builds the model pruned to sparsity s and measures it.
Result<BudgetResult> search_budget(
    const std::vector<double>& grid, double max_drop,
    const std::function<Result<quantize::Evaluation>(double)>& evaluate);

}  // namespace polyhead::prune
