// A multi-class mask (one score per class and pixel) as one class index per photo pixel, so two
// models with different input sizes or fits can be compared pixel by pixel on the photo.
#pragma once

#include <opencv2/core.hpp>

#include "polyhead/result.h"
#include "polyhead/tensor.h"
#include "polyhead/vision/preprocess.h"

namespace polyhead::compare {

// `mask` is [1,H,W,C] f32 covering the whole model input (as vision::mask_to_image expects). The
// per-pixel argmax (the same before and after a softmax or sigmoid) is mapped to the photo with
// `transform`, nearest neighbour, edges replicated. Returns CV_32S of the photo's size.
Result<cv::Mat> class_map_to_image(const TensorView& mask, const vision::ImageTransform& transform);

}  // namespace polyhead::compare
