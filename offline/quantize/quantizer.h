// `polyhead quantize` as a library: post-training int8 quantization of a float .phm model with a
// calibration set (docs/quantize.md).
//
//   auto r = quantize::quantize_model(model, {"a.jpg", "b.png"}, {});
//   write r->bytes to OUT.phm; r->report has the summary, sensitivity and --auto results.
//
// Steps: calibrate every float activation (calibration.h), pick its range (activation_ranges.h),
// choose the nodes that run in int8 (int8_support.h, --keep-float, optionally --auto), rewrite the
// model (quantized_writer.h) and check that the result loads.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "offline/quantize/activation_ranges.h"
#include "offline/quantize/auto_selection.h"
#include "offline/quantize/drop_budget.h"
#include "offline/quantize/quantized_writer.h"
#include "offline/quantize/sensitivity.h"
#include "polyhead/model.h"
#include "polyhead/result.h"

namespace polyhead::quantize {

struct QuantizeOptions {
  RangeMethod method = RangeMethod::kMinMax;
  double percentile = 99.99;  // kPercentile: in (0, 100]
  bool per_tensor_weights = false;
  // Per-channel weight scales rounded to the nearest half float: 2 bytes per channel in the file
  // instead of 4, each scale moved by at most 2^-11 of itself (--weight-scales half|float).
  bool half_weight_scales = true;
  // A convolution reading a model input of at most 4 channels (the stem) stays float: XNNPACK's
  // float stem kernels beat int8 on 3 channels and the photo keeps its full precision.
  bool int8_stem = false;
  std::vector<std::string> keep_float;  // node names that stay float
  bool sensitivity = false;             // measure every candidate node alone
  bool auto_select = false;             // keep sensitive nodes float until within max_drop
  DropBudget max_drop = DropBudget::uniform(0.01);
  size_t limit = 0;  // images for sensitivity and --auto (0: all calibration images)
  // The tasks whose drop --sensitivity and --auto measure (empty: every task); the others are
  // still quantized, only not judged. Unknown names are an error.
  std::vector<std::string> tasks;
  size_t threads = 1;  // per engine
  // Progress of a stage ("calibrating", "sensitivity", "auto"): done of total; may be empty.
  std::function<void(const char* stage, size_t done, size_t total)> progress;
};

struct NodeChoice {
  std::string node, op;
  bool int8 = false;
  std::string reason;  // why a node stays float: "float-only operator", "--keep-float", "--auto"
};

struct QuantizeReport {
  std::string method;
  double percentile = 0;
  bool per_tensor_weights = false;
  bool half_weight_scales = false;
  size_t calibration_images = 0;
  size_t evaluation_images = 0;  // sensitivity / --auto
  size_t input_bytes = 0, output_bytes = 0;
  RewriteStats stats;
  std::vector<NodeChoice> nodes;             // every node of the float model, in execution order
  std::vector<NodeSensitivity> sensitivity;  // sorted, most sensitive first; empty unless asked
  bool has_auto = false;
  DropBudget max_drop;  // --auto's budget
  AutoResult auto_result;

  double size_ratio() const {
    return input_bytes ? static_cast<double>(output_bytes) / static_cast<double>(input_bytes) : 0;
  }
};

struct QuantizeResult {
  std::vector<uint8_t> bytes;  // the int8 .phm file
  QuantizeReport report;
};

// Fails with a clear message for: a model that already has non-float tensors, unknown
// --keep-float names (listed), no or unreadable calibration images (named), images the model's
// input cannot take, and (for sensitivity or --auto) a build whose kernels cannot run int8.
Result<QuantizeResult> quantize_model(const Model& model, const std::vector<std::string>& images,
                                      const QuantizeOptions& options);

}  // namespace polyhead::quantize
