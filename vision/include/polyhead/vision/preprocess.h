// Turning a photo into a model input as the model declares it (size, fit, colour order, layout,
// normalisation), and the transform that maps model coordinates back to the photo.
//
//   auto image = polyhead::vision::load_image("photo.jpg");            // BGR, 8 bits
//   const polyhead::InputInfo& in = model.inputs()[0];
//   auto dst = plan.input_buffer(in.name);
//   auto transform = polyhead::vision::preprocess(*image, in, *dst);   // writes the input
//   cv::Point2f p = transform->to_image(64.f, 64.f);                   // model px -> photo px
//
// Part of the optional `polyhead_vision` library (needs OpenCV); the core engine does not use it.
#pragma once

#include <string>

#include <opencv2/core.hpp>

#include "polyhead/model.h"
#include "polyhead/result.h"

namespace polyhead::vision {

// model = image * scale + offset, per axis, in pixels (pixel centres at +0.5 on both sides).
// STRETCH: offsets 0, scales differ per axis. LETTERBOX: positive offsets (the padding).
// CROP: negative offsets (the part cut away).
struct ImageTransform {
  int image_width = 0, image_height = 0;  // the photo
  int model_width = 0, model_height = 0;  // the model input
  float scale_x = 1.f, scale_y = 1.f;
  float offset_x = 0.f, offset_y = 0.f;

  cv::Point2f to_image(float model_x, float model_y) const {
    return {(model_x - offset_x) / scale_x, (model_y - offset_y) / scale_y};
  }
  cv::Point2f to_model(float image_x, float image_y) const {
    return {image_x * scale_x + offset_x, image_y * scale_y + offset_y};
  }
};

// Reads a photo as 8-bit BGR. Errors name the path: missing file (kNotFound), a directory or a
// file OpenCV cannot decode as an image (kInvalidArgument).
Result<cv::Mat> load_image(const std::string& path);

// The transform `preprocess` applies for an image of `width`×`height` to `input` (no pixels).
Result<ImageTransform> plan_transform(int width, int height, const InputInfo& input);

// Writes `input`'s tensor (f32, element count of input.shape) into `dst` from `image` (8-bit BGR,
// or 1/4 channels which are converted): resized per `fit` (area interpolation when shrinking,
// bilinear when enlarging), letterbox padding is black, colour order and layout as declared,
// value = (p / 255 * pixel_scale - mean[c]) / std[c]. The input size is preprocess width/height,
// or the tensor's dimensions when those are 0.
Result<ImageTransform> preprocess(const cv::Mat& image, const InputInfo& input, float* dst);

}  // namespace polyhead::vision
