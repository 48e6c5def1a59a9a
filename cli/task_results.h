// What a model's tasks produced on one image, decoded by task kind (detections, a mask, landmarks)
// in image pixels, and how the tools draw it. Shared by `run --image` and `stream`, so that a
// stream's annotated video looks exactly like `run --image` on each of its frames.
// Needs the vision component (OpenCV): include only where POLYHEAD_HAVE_VISION is defined.
#pragma once

#include <string>
#include <vector>

#include <opencv2/core.hpp>

#include "polyhead/engine.h"
#include "polyhead/model.h"
#include "polyhead/result.h"
#include "polyhead/vision/detection.h"
#include "polyhead/vision/landmarks.h"
#include "polyhead/vision/preprocess.h"
#include "polyhead/vision/segmentation.h"

namespace polyhead::cli {

// What one task produced, in image coordinates.
struct TaskResult {
  const TaskInfo* task = nullptr;
  std::string decoded;  // "detections", "mask", "landmarks" or "" (raw outputs only)
  std::string note;     // why the outputs were not decoded
  std::vector<vision::Detection> detections;
  vision::Mask mask;
  std::vector<vision::Landmark> landmarks;
};

// Decodes the outputs of `r.task` from the plan's last run by the task's kind and metadata;
// `t` maps model pixels back to the image. Kinds without a decoder, and detection or landmark
// tasks without the metadata to decode them, leave `decoded` empty (with a `note` for the latter).
Status decode_task(const Model& model, const Plan& plan, const vision::ImageTransform& t,
                   TaskResult& r);

// Draws every decoded result on `image` (8-bit BGR): masks first (magenta, orange, blue in turn),
// then boxes and landmarks (pose connections for 33 to 39 landmarks) over them.
void draw_task_results(cv::Mat& image, const std::vector<TaskResult>& results);

}  // namespace polyhead::cli
