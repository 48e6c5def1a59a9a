// `--max-drop X`: the most MACs saved while the model's drop (its worst task's, as `polyhead
// quantize --auto` measures it: quantize/sensitivity.h) stays within X.
//
// 1. Sensitivity: each layer alone is factorized at a ladder of ranks (those keeping 99, 98, 95,
//    90, 80, 70, 60 and 50% of the energy, and the largest rank that saves MACs; only ranks that
//    save MACs), gentlest first, and evaluated; a layer's ladder stops at the first rank whose
//    drop alone exceeds X, since lower ranks only lose more.
// 2. Search: start with every layer at its lowest rank within budget alone. A chain of back-off
//    steps leads from there to the original model: each step moves the layer whose current rank
//    did worst alone (drop, then the finer score) one rung gentler, or off the ladder (kept
//    whole). Along the chain MACs saved only fall, so the search walks it in growing batches
//    until the drop is within X, then bisects back to the earliest configuration within X.
//
// The drops of several layers do not simply add up, which is why the chain is measured, not
// predicted.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "offline/quantize/sensitivity.h"
#include "polyhead/result.h"

namespace polyhead::lowrank {

// The energies of the ladder, gentlest first.
const std::vector<double>& ladder_energies();

struct RankTrial {
  int rank = 0;
  double energy = 0;        // kept by the rank
  uint64_t macs_saved = 0;  // by factorizing this layer at this rank
  quantize::Evaluation alone;
};

struct LayerSensitivity {
  std::string layer;
  std::vector<RankTrial> trials;  // gentlest first; the last may be over budget
  size_t within_budget = 0;       // how many of the first trials are within it
};

struct BudgetStep {
  size_t backed_off = 0;  // steps of the chain taken back
  uint64_t macs_saved = 0;
  double worst_drop = 0;
};

struct BudgetResult {
  std::vector<int> ranks;  // per layer; 0: kept whole
  uint64_t macs_saved = 0;
  quantize::Evaluation final;
  std::vector<BudgetStep> steps;
};

// One layer's ladder: `candidates` are its ranks to try, gentlest (largest) first, with the
// energy each keeps and the MACs it saves. `evaluate(rank)` measures the model with only this
// layer factorized at `rank`.
Result<LayerSensitivity> measure_layer_sensitivity(
    const std::string& layer, const std::vector<RankTrial>& candidates, double max_drop,
    const std::function<Result<quantize::Evaluation>(int rank)>& evaluate);

// The search of step 2 over `layers` (from measure_layer_sensitivity). `evaluate(ranks)` measures
// the model with those ranks (0: kept whole). Fails when no layer is within budget even alone,
// naming the best drop reached and where.
Result<BudgetResult> search_within_budget(
    const std::vector<LayerSensitivity>& layers, double max_drop,
    const std::function<Result<quantize::Evaluation>(const std::vector<int>& ranks)>& evaluate);

}  // namespace polyhead::lowrank
