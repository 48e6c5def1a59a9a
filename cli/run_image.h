// `polyhead run MODEL --image PHOTO`: pre-processes a photo as the model declares, runs the chosen
// tasks in one pass and post-processes each by its kind (detection, segmentation, landmarks) with
// the optional polyhead_vision library (OpenCV).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "polyhead/model.h"
#include "polyhead/result.h"
#include "polyhead/sparse_weights.h"

namespace polyhead::cli {

struct ImageRunOptions {
  std::string model_path;
  std::string image_path;
  std::vector<std::string> tasks;  // empty = every task
  size_t threads = 1;
  SparseWeights sparse_weights = SparseWeights::kAuto;
  int repeat = 1;
  std::string out_path;  // annotated PNG; empty = none
  bool json = false;     // JSON on stdout instead of the text summary
};

// False when this build has no OpenCV (then run_image() fails with kUnsupported).
bool image_runs_supported();

Status run_image(const Model& model, const ImageRunOptions& options);

}  // namespace polyhead::cli
