// Landmark post-processing: packed per-point values in model input pixels to photo pixels.
//
// Metadata of a landmarks task `T`: "T.format" (letters per point: x, y, z, v = visibility,
// p = presence; e.g. "xyzvp"), "T.count" (points), "T.scale"="sx,sy" (the raw unit: raw / s is
// normalised to the model input; default the input size, i.e. raw values are input pixels),
// "T.visibility" = sigmoid|none (default sigmoid: v and p are logits, as in MediaPipe).
#pragma once

#include <string>
#include <utility>
#include <vector>

#include <opencv2/core.hpp>

#include "polyhead/model.h"
#include "polyhead/result.h"
#include "polyhead/tensor.h"
#include "polyhead/vision/preprocess.h"

namespace polyhead::vision {

struct Landmark {
  cv::Point2f point;       // photo pixels
  float z = 0.f;           // depth in photo pixels (x scale), when the format has z
  float visibility = 1.f;  // in [0, 1]; 1 when the format has no v
  float presence = 1.f;    // in [0, 1]; 1 when the format has no p
};

struct LandmarkOptions {
  std::string format = "xy";
  int count = 0;                       // 0 = as many as the output holds
  float scale_x = 0.f, scale_y = 0.f;  // 0 = model input width / height
  bool sigmoid_visibility = true;
};

// Fails (naming the task and key) when "T.format" is absent or has letters other than xyzvp.
Result<LandmarkOptions> landmark_options(const Model& model, const TaskInfo& task);

Result<std::vector<Landmark>> decode_landmarks(const TensorView& landmarks,
                                               const LandmarkOptions& options,
                                               const ImageTransform& transform);

// The BlazePose skeleton (33 points; MediaPipe Pose topology).
const std::vector<std::pair<int, int>>& pose_connections();

}  // namespace polyhead::vision
