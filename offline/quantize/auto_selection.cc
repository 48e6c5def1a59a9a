#include "offline/quantize/auto_selection.h"

#include <algorithm>

namespace polyhead::quantize {

Result<AutoResult> auto_select(
    const std::vector<std::string>& ordered, const DropBudget& budget,
    const std::function<Result<Evaluation>(const std::set<std::string>& float_nodes)>& evaluate) {
  AutoResult r;
  // The model with the `count` most sensitive candidates in float.
  auto measure = [&](size_t count) -> Result<Evaluation> {
    const std::set<std::string> kept(ordered.begin(),
                                     ordered.begin() + static_cast<std::ptrdiff_t>(count));
    PH_ASSIGN_OR_RETURN(Evaluation e, evaluate(kept));
    r.steps.push_back({count, e.worst_drop, budget.usage(e)});
    return e;
  };
  // Grow the float set in batches until within budget...
  size_t failed = 0, moved = 0;  // `failed`: the largest count seen over budget
  bool any_failed = false;
  for (;;) {
    PH_ASSIGN_OR_RETURN(r.final, measure(moved));
    if (budget.met(r.final)) {
      r.within_budget = true;
      break;
    }
    failed = moved;
    any_failed = true;
    if (moved == ordered.size()) break;  // all float already: nothing more to give back
    moved = std::min(ordered.size(), moved + 1 + moved / 2);
  }
  // ...then bisect between the last count over budget and the first within it, since a batch
  // can overshoot: the fewest float nodes found within budget win.
  while (r.within_budget && any_failed && moved - failed > 1) {
    const size_t mid = failed + (moved - failed) / 2;
    PH_ASSIGN_OR_RETURN(Evaluation e, measure(mid));
    if (budget.met(e)) {
      moved = mid;
      r.final = std::move(e);
    } else {
      failed = mid;
    }
  }
  r.kept_float.assign(ordered.begin(), ordered.begin() + static_cast<std::ptrdiff_t>(moved));
  return r;
}

}  // namespace polyhead::quantize
