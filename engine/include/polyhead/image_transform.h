// Where a photo lands in a model's image input: the resize, padding (letterbox) or cut (crop) that
// the input's declared fit implies, and the inverse map from model pixels back to photo pixels,
// which post-processing needs to report boxes, masks and landmarks on the photo.
//
//   auto t = polyhead::image_transform_for(1280, 720, model.inputs()[0]);
//   polyhead::PointF p = t->to_image(64.f, 64.f);   // model pixel -> photo pixel
#pragma once

#include "polyhead/model.h"
#include "polyhead/result.h"

namespace polyhead {

struct PointF {
  float x = 0.f;
  float y = 0.f;
};

// model = image * scale + offset, per axis, in pixels (pixel centres at +0.5 on both sides).
// STRETCH: offsets 0, scales differ per axis. LETTERBOX: offsets >= 0 (the padding). CROP:
// offsets <= 0 (the part cut away). Offsets are whole pixels: the resized photo sits on the
// model's pixel grid.
struct ImageTransform {
  int image_width = 0, image_height = 0;  // the photo
  int model_width = 0, model_height = 0;  // the model input
  float scale_x = 1.f, scale_y = 1.f;
  float offset_x = 0.f, offset_y = 0.f;

  PointF to_image(float model_x, float model_y) const {
    return {(model_x - offset_x) / scale_x, (model_y - offset_y) / scale_y};
  }
  PointF to_model(float image_x, float image_y) const {
    return {image_x * scale_x + offset_x, image_y * scale_y + offset_y};
  }
  // The size of the photo once resized, before padding or cutting.
  int resized_width() const;
  int resized_height() const;
};

// The transform for a `width`×`height` photo into `input`. Fails when the input is not an image
// this pre-processing can fill (colour order NONE, not f32, not [1,H,W,C]/[1,C,H,W], a channel
// count that does not match the colour order, a declared size that does not match the shape,
// mean/std of the wrong length or a std of 0) or the photo is empty; messages name the input.
Result<ImageTransform> image_transform_for(int width, int height, const InputInfo& input);

}  // namespace polyhead
