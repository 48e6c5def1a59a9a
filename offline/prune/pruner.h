// `polyhead prune` as a library: magnitude pruning of a float .phm model without fine-tuning
// (docs/prune.md).
//
//   auto r = prune::prune_model(model, {"a.jpg", "b.png"}, options);
//   write r->bytes to OUT.phm; r->report has the per-layer choices and sensitivities.
//
// Unstructured (the default, block_layers.h): blocks of 1x1 convolutions and fully connected
// layers are zeroed by L2 norm and stored block-sparse. Structured (channel_ties.h,
// channel_removal.h): whole output channels leave the model with their filters and every input
// column that read them. Either way the amount per layer follows the measured sensitivity: each
// layer is pruned alone at a probe sparsity and evaluated against the original on the
// calibration photos (quantize::evaluate), and the less sensitive layers give up more
// (layer_fractions.h) so that the model meets --sparsity S, or the highest sparsity within
// --max-drop X is searched for (budget_search.h). With photos, the biases absorb the mean of what
// was removed (bias_correction.h).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "offline/prune/block_layers.h"
#include "offline/prune/budget_search.h"
#include "offline/quantize/sensitivity.h"
#include "polyhead/model.h"
#include "polyhead/result.h"

namespace polyhead::prune {

struct PruneOptions {
  bool structured = false;  // remove output channels instead of zeroing weight blocks
  // One of the two: the fraction of prunable weights (structured: channels) to remove, in (0, 1),
  // or (max_drop >= 0) the worst task's drop allowed, in [0, 1], to search the sparsity for.
  double sparsity = 0;
  double max_drop = -1;
  // Only these layers (node names; structured: a producer of the unit); empty: every layer.
  // Naming a layer that cannot be pruned is an error, where otherwise it is skipped.
  std::vector<std::string> layers;
  std::vector<std::string> tasks;  // the tasks whose drop counts (empty: all)
  size_t limit = 0;                // images for sensitivity and the search (0: all)
  size_t threads = 1;              // per engine
  // With images, what the pruning removes can go into the biases at the activations' means
  // (bias_correction.h): kOn always, kOff never, kAuto (the default) in the sensitivity, while
  // each --max-drop step and the written model take whichever of with and without measures
  // better on the photos (the mean is the best constant in the least-squares sense, but after a
  // few nonlinear layers a shifted detection score can lose boxes the uncorrected model keeps).
  enum class BiasCorrection { kAuto, kOn, kOff };
  BiasCorrection bias_correction = BiasCorrection::kAuto;
  // Each layer's sensitivity is its drop when pruned alone at this fraction; 0: the larger of
  // --sparsity and 0.5 (0.5 with --max-drop).
  double probe = 0;
  // Progress of a stage ("sensitivity", "search"): done of total (0: unknown); may be empty.
  std::function<void(const char* stage, size_t done, size_t total)> progress;
};

struct LayerReport {
  std::string name, op;
  std::string shape;              // of the (first producer's) weight
  std::vector<std::string> tied;  // structured: the other producers pruned with it
  size_t size = 0;                // prunable weights (structured: removable channels)
  size_t channels = 0;            // structured: output channels before pruning
  int block_rows = 0;             // unstructured: the block of block_rows x 1
  double fraction = 0;            // the fraction chosen for it
  size_t removed = 0;             // weights (structured: channels) removed
  bool has_sensitivity = false;
  quantize::Evaluation sensitivity;  // pruned alone at the probe fraction
};

struct PruneReport {
  bool structured = false;
  double sparsity = 0;  // the target: --sparsity, or what --max-drop found
  bool has_budget = false;
  double max_drop = 0;
  BudgetResult budget;
  double probe = 0;
  size_t evaluation_images = 0;       // sensitivity and search (0: no calibration photos)
  size_t bias_correction_images = 0;  // photos the channel means were taken on (0: none)
  bool bias_corrected = false;        // the written model's biases are corrected
  // kAuto with photos: the final model measured both ways.
  bool compared_correction = false;
  quantize::Evaluation corrected, uncorrected;
  size_t prunable = 0, removed = 0;  // weights (structured: channels), over the layers pruned
  std::vector<LayerReport> layers;   // in execution order
  std::vector<LayerSkip> skipped;
  size_t input_bytes = 0, output_bytes = 0;

  double achieved() const {
    return prunable ? static_cast<double>(removed) / static_cast<double>(prunable) : 0;
  }
};

struct PruneResult {
  std::vector<uint8_t> bytes;  // the pruned .phm file
  PruneReport report;
};

// Fails with a clear message, and nothing to write, for: a sparsity outside (0, 1), both or
// neither of sparsity and max_drop, --max-drop without images or a budget no sparsity meets
// (naming the smallest drop reached), a model with nothing prunable (naming why), unknown tasks
// or layers, and a named layer that cannot be pruned.
Result<PruneResult> prune_model(const Model& model, const std::vector<std::string>& images,
                                const PruneOptions& options);

}  // namespace polyhead::prune
