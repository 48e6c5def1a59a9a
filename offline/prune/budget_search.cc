#include "offline/prune/budget_search.h"

namespace polyhead::prune {

const BudgetStep* BudgetResult::best() const {
  const BudgetStep* best = nullptr;
  for (const BudgetStep& s : steps)
    if (!best || s.evaluation.worst_drop < best->evaluation.worst_drop) best = &s;
  return best;
}

std::vector<double> default_sparsity_grid() {
  std::vector<double> grid;
  for (int i = 1; i <= 19; ++i) grid.push_back(0.05 * i);
  return grid;
}

Result<BudgetResult> search_budget(
    const std::vector<double>& grid, double max_drop,
    const std::function<Result<quantize::Evaluation>(double)>& evaluate) {
  BudgetResult r;
  // Invariant: every index <= lo passed (lo = -1: none known), every index >= hi failed.
  long lo = -1, hi = static_cast<long>(grid.size());
  while (hi - lo > 1) {
    const long mid = lo + (hi - lo) / 2;
    const double s = grid[static_cast<size_t>(mid)];
    PH_ASSIGN_OR_RETURN(quantize::Evaluation e, evaluate(s));
    r.steps.push_back({s, e});
    if (e.worst_drop <= max_drop) {
      lo = mid;
      r.within_budget = true;
      r.sparsity = s;
      r.evaluation = std::move(e);
    } else {
      hi = mid;
    }
  }
  return r;
}

}  // namespace polyhead::prune
