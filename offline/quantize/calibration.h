// Calibration: the float model runs on photos (through its own declared pre-processing, as
// `polyhead compare` feeds it) and every float activation and input is observed. The model runs
// as an in-memory *calibration copy* that adds one task, `__calibration`, whose outputs are every
// non-constant F32 tensor a node writes, so one run exposes all of them.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include "offline/graph/source_graph.h"
#include "offline/quantize/activation_ranges.h"
#include "polyhead/model.h"
#include "polyhead/result.h"

namespace polyhead::quantize {

constexpr char kCalibrationTask[] = "__calibration";

struct CalibrationModel {
  std::vector<uint8_t> bytes;
  std::vector<int> observed;  // output k of the calibration task reads tensor observed[k]
};

// The calibration copy of `g`'s model; output k is named "t<observed[k]>".
Result<CalibrationModel> build_calibration_model(const merge::SourceGraph& g);

struct CalibrationOptions {
  size_t threads = 1;
  // Called after each image (done of total); may be empty.
  std::function<void(size_t done, size_t total)> progress;
};

// Runs every image through the calibration copy of `g`'s model (which must be `model`) and returns
// one observer per tensor of the model (constants and unobserved tensors stay empty). Errors name
// the image: unreadable files, and photos the model's declared input cannot take (such as a
// colour image for an input whose tensor has another channel count).
Result<std::vector<RangeObserver>> calibrate(const Model& model, const merge::SourceGraph& g,
                                             const std::vector<std::string>& images,
                                             const CalibrationOptions& options);

}  // namespace polyhead::quantize
