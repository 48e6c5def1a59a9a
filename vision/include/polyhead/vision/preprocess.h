// Turning a photo into a model input as the model declares it (size, fit, colour order, layout,
// normalisation), and the transform that maps model coordinates back to the photo.
//
//   auto image = polyhead::vision::load_image("photo.jpg");            // BGR, 8 bits
//   const polyhead::InputInfo& in = model.inputs()[0];
//   auto dst = plan.input_buffer(in.name);
//   auto transform = polyhead::vision::preprocess(*image, in, *dst);   // writes the input
//   polyhead::PointF p = transform->to_image(64.f, 64.f);              // model px -> photo px
//
// Part of the optional `polyhead_vision` library (needs OpenCV); the core engine does not use it.
#pragma once

#include <string>

#include <opencv2/core.hpp>

#include "polyhead/image_transform.h"
#include "polyhead/model.h"
#include "polyhead/result.h"

namespace polyhead::vision {

// The map between model and photo pixels (polyhead/image_transform.h).
using ImageTransform = polyhead::ImageTransform;

// An OpenCV point from the core's.
inline cv::Point2f to_cv(PointF p) {
  return {p.x, p.y};
}

// Reads a photo as 8-bit BGR. Errors name the path: missing file (kNotFound), a directory or a
// file OpenCV cannot decode as an image (kInvalidArgument).
Result<cv::Mat> load_image(const std::string& path);

// The transform `preprocess` applies for an image of `width`×`height` to `input` (no pixels).
Result<ImageTransform> plan_transform(int width, int height, const InputInfo& input);

// Writes `input`'s tensor (f32, element count of input.shape) into `dst` from `image` (8 or 16
// bits; BGR, grey or BGRA) through the core's polyhead::write_pixels (polyhead/pixel_image.h):
// resized per `fit` (area averaging when shrinking, bilinear when enlarging), letterbox padding
// black, colour order and layout as declared, value = (p / 255 * pixel_scale - mean[c]) / std[c].
Result<ImageTransform> preprocess(const cv::Mat& image, const InputInfo& input, float* dst);

}  // namespace polyhead::vision
