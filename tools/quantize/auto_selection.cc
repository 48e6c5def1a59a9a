#include "quantize/auto_selection.h"

namespace polyhead::quantize {

Result<AutoResult> auto_select(
    const std::vector<std::string>& ordered, double max_drop,
    const std::function<Result<Evaluation>(const std::set<std::string>& float_nodes)>& evaluate) {
  AutoResult r;
  std::set<std::string> kept;
  size_t moved = 0;
  for (;;) {
    PH_ASSIGN_OR_RETURN(r.final, evaluate(kept));
    r.steps.push_back({moved, r.final.worst_drop});
    if (r.final.worst_drop <= max_drop) {
      r.within_budget = true;
      break;
    }
    if (moved == ordered.size()) break;  // all float already: nothing more to give back
    const size_t batch = 1 + moved / 2;
    for (size_t k = 0; k < batch && moved < ordered.size(); ++k, ++moved) {
      kept.insert(ordered[moved]);
      r.kept_float.push_back(ordered[moved]);
    }
  }
  return r;
}

}  // namespace polyhead::quantize
