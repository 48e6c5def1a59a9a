// `polyhead lowrank` as a library: low-rank factorization of the fully connected and 1x1
// convolution layers of a float .phm model (docs/lowrank.md). No fine-tuning: the factorized
// layers approximate the originals, and the accuracy lost is what it is.
//
//   auto r = lowrank::lowrank_model(model, photos, options);
//   write r->bytes to OUT.phm; r->report has the per-layer choices and the --max-drop search.
//
// Steps: find the layers (factorizable_layer.h), take the SVD of each weight matrix (svd.h),
// choose a rank per layer (rank_choice.h, or budget_search.h for --max-drop), rewrite the model
// (factorized_writer.h) and check that the result loads.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "offline/lowrank/budget_search.h"
#include "offline/quantize/sensitivity.h"
#include "polyhead/model.h"
#include "polyhead/result.h"

namespace polyhead::lowrank {

enum class RankMode {
  kEnergy,     // smallest rank keeping a fraction of the energy, per layer
  kRankRatio,  // ceil(ratio * min(O, I)) for every layer
  kMaxDrop,    // most MACs saved within an accuracy budget, measured on photos
};

const char* rank_mode_name(RankMode mode);  // "energy", "rank-ratio", "max-drop"

struct LowrankOptions {
  RankMode mode = RankMode::kEnergy;
  double energy = 0.99;     // kEnergy: in (0, 1]; the default keeps the drop small
  double rank_ratio = 0.5;  // kRankRatio: in (0, 1)
  double max_drop = 0.01;   // kMaxDrop: in [0, 1]
  size_t limit = 0;         // kMaxDrop: photos evaluated (0: all)
  // The tasks whose drop counts for kMaxDrop (empty: every task). Unknown names are an error in
  // every mode.
  std::vector<std::string> tasks;
  size_t threads = 1;  // SVDs in parallel, and per engine when evaluating; 0: one per processor
  // Progress of a stage ("svd", "sensitivity", "search"): done of total (0: unknown); may be
  // empty.
  std::function<void(const char* stage, size_t done, size_t total)> progress;
};

struct LayerChoice {
  std::string node;
  std::string kind;  // "FULLY_CONNECTED" or "CONV_2D 1x1"
  int out_channels = 0, in_channels = 0;
  int rank = 0;  // 0: kept whole
  // The rank the mode asked for (kept layers: the one that did not pay; 0 under --max-drop
  // when no rank was within budget) and the largest that saves MACs (0: none).
  int wanted_rank = 0, largest_saving_rank = 0;
  double energy_kept = 1;  // by `rank` (1 when kept whole)
  uint64_t macs_before = 0, macs_after = 0;
  std::string note;  // why a layer is kept whole
};

struct LowrankReport {
  RankMode mode = RankMode::kEnergy;
  double value = 0;                 // E, R or X
  std::vector<LayerChoice> layers;  // every factorizable layer, in execution order
  size_t factorized = 0;            // layers written as two
  uint64_t layer_macs_before = 0;   // of the factorizable layers
  uint64_t layer_macs_after = 0;
  size_t input_bytes = 0, output_bytes = 0;
  // kMaxDrop only.
  size_t evaluation_images = 0;
  std::vector<LayerSensitivity> sensitivity;  // in execution order
  std::vector<BudgetStep> steps;
  quantize::Evaluation final;
};

struct LowrankResult {
  std::vector<uint8_t> bytes;  // the factorized .phm file
  LowrankReport report;
};

// Fails with a clear message, writing nothing, for: an option out of range, an unknown task, a
// model without a factorizable layer, a model where no layer's factorization saves MACs at the
// chosen setting (naming the closest), a --max-drop budget nothing meets (naming the best drop
// reached), and (kMaxDrop) no or unreadable photos.
Result<LowrankResult> lowrank_model(const Model& model, const std::vector<std::string>& images,
                                    const LowrankOptions& options);

}  // namespace polyhead::lowrank
