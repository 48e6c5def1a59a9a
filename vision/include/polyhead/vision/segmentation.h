// Segmentation post-processing: a model-resolution mask back to the photo (undoing the resize,
// letterbox padding or crop of the pre-processing) and thresholded.
#pragma once

#include <opencv2/core.hpp>

#include "polyhead/model.h"
#include "polyhead/result.h"
#include "polyhead/tensor.h"
#include "polyhead/vision/preprocess.h"

namespace polyhead::vision {

struct MaskOptions {
  // kSigmoid applies per value, kSoftmax over the channels.
  OutputActivation activation = OutputActivation::kNone;
  float threshold = 0.5f;
};

// From the task's PostProcessInfo activation and metadata "T.threshold" (default 0.5).
Result<MaskOptions> mask_options(const Model& model, const TaskInfo& task);

struct Mask {
  cv::Mat probability;  // CV_32F, photo size: foreground probability
  cv::Mat binary;       // CV_8U, photo size: 255 where probability >= threshold
  double coverage = 0;  // share of photo pixels in `binary`, in [0, 1]
  cv::Rect bbox;        // bounding box of `binary` (empty when nothing is set)
};

// `mask` is [1,H,W,C], [1,H,W] or [H,W] (NHWC). One channel: that value (after the activation)
// is the foreground probability; C > 1: 1 - channel 0 (channel 0 = background). The mask covers
// the whole model input, so it is mapped with `transform` (bilinear, edges replicated).
Result<Mask> mask_to_image(const TensorView& mask, const MaskOptions& options,
                           const ImageTransform& transform);

}  // namespace polyhead::vision
