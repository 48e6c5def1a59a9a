#include "offline/lowrank/budget_search.h"

#include <algorithm>
#include <cstdio>

#include "offline/graph/number_text.h"

namespace polyhead::lowrank {
namespace {

std::string number(double v) {
  return graph::number_text(v, 4);
}

// a did worse alone than b: higher drop, then higher score.
bool worse(const quantize::Evaluation& a, const quantize::Evaluation& b) {
  if (a.worst_drop != b.worst_drop) return a.worst_drop > b.worst_drop;
  return a.worst_score > b.worst_score;
}

}  // namespace

const std::vector<double>& ladder_energies() {
  static const std::vector<double> energies = {0.99, 0.98, 0.95, 0.9, 0.8, 0.7, 0.6, 0.5};
  return energies;
}

Result<LayerSensitivity> measure_layer_sensitivity(
    const std::string& layer, const std::vector<RankTrial>& candidates, double max_drop,
    const std::function<Result<quantize::Evaluation>(int rank)>& evaluate) {
  LayerSensitivity s;
  s.layer = layer;
  for (const RankTrial& c : candidates) {
    auto e = evaluate(c.rank);
    if (!e.is_ok())
      return Status(e.status().code(), "sensitivity of layer '" + layer + "' at rank " +
                                           std::to_string(c.rank) + ": " + e.status().message());
    RankTrial t = c;
    t.alone = std::move(*e);
    const bool within = t.alone.worst_drop <= max_drop;
    s.trials.push_back(std::move(t));
    if (!within) break;  // lower ranks only lose more
    ++s.within_budget;
  }
  return s;
}

Result<BudgetResult> search_within_budget(
    const std::vector<LayerSensitivity>& layers, double max_drop,
    const std::function<Result<quantize::Evaluation>(const std::vector<int>& ranks)>& evaluate) {
  // Each layer starts at its lowest rank within budget alone (-1: none is).
  std::vector<int> at(layers.size(), -1);
  for (size_t l = 0; l < layers.size(); ++l) at[l] = static_cast<int>(layers[l].within_budget) - 1;

  // The chain: configs[0] is the most aggressive, configs.back() the original model.
  std::vector<std::vector<int>> configs;
  std::vector<uint64_t> saved;
  for (;;) {
    std::vector<int> ranks(layers.size(), 0);
    uint64_t macs = 0;
    int back = -1;  // the layer to back off next
    for (size_t l = 0; l < layers.size(); ++l) {
      if (at[l] < 0) continue;
      const RankTrial& t = layers[l].trials[static_cast<size_t>(at[l])];
      ranks[l] = t.rank;
      macs += t.macs_saved;
      if (back < 0) {
        back = static_cast<int>(l);
        continue;
      }
      const RankTrial& b = layers[static_cast<size_t>(back)].trials[static_cast<size_t>(at[back])];
      // Equal results alone: give back the layer that saves less first.
      if (worse(t.alone, b.alone) || (!worse(b.alone, t.alone) && t.macs_saved < b.macs_saved))
        back = static_cast<int>(l);
    }
    configs.push_back(std::move(ranks));
    saved.push_back(macs);
    if (back < 0) break;
    --at[static_cast<size_t>(back)];
  }
  const size_t original = configs.size() - 1;

  // The best any factorization did, for the error when none is within budget.
  auto none_within = [&]() {
    const RankTrial* best = nullptr;
    const std::string* where = nullptr;
    for (const LayerSensitivity& s : layers)
      for (const RankTrial& t : s.trials)
        if (!best || worse(best->alone, t.alone)) {
          best = &t;
          where = &s.layer;
        }
    std::string msg = "no factorization meets --max-drop " + number(max_drop);
    if (best)
      msg += ": the best drop reached is " + number(best->alone.worst_drop) + " (layer '" + *where +
             "' alone at rank " + std::to_string(best->rank) + ", energy " + number(best->energy) +
             ")";
    return Status(ErrorCode::kInvalidArgument, msg);
  };
  if (original == 0) return none_within();

  BudgetResult r;
  auto measure = [&](size_t i) -> Result<quantize::Evaluation> {
    if (i == original) return quantize::Evaluation{};  // the model itself: no drop
    PH_ASSIGN_OR_RETURN(quantize::Evaluation e, evaluate(configs[i]));
    r.steps.push_back({i, saved[i], e.worst_drop});
    return e;
  };
  // Walk the chain in growing batches until within budget...
  size_t failed = 0, moved = 0;
  bool any_failed = false;
  for (;;) {
    PH_ASSIGN_OR_RETURN(r.final, measure(moved));
    if (r.final.worst_drop <= max_drop) break;
    failed = moved;
    any_failed = true;
    moved = std::min(original, moved + 1 + moved / 2);
  }
  // ...then bisect back to the earliest configuration within it.
  while (any_failed && moved - failed > 1) {
    const size_t mid = failed + (moved - failed) / 2;
    PH_ASSIGN_OR_RETURN(quantize::Evaluation e, measure(mid));
    if (e.worst_drop <= max_drop) {
      moved = mid;
      r.final = std::move(e);
    } else {
      failed = mid;
    }
  }
  if (moved == original) return none_within();
  r.ranks = configs[moved];
  r.macs_saved = saved[moved];
  return r;
}

}  // namespace polyhead::lowrank
