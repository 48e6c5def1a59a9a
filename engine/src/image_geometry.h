// An image input's checked geometry and normalisation, shared by image_transform_for and the
// pixel converter (internal).
#pragma once

#include "polyhead/image_transform.h"

namespace polyhead::detail {

// Larger sides are refused: they would overflow the int pixel arithmetic long before any real
// camera or model needs them.
constexpr int kMaxImageSide = 1 << 15;

struct ImageGeometry {
  int width = 0, height = 0, channels = 0;  // the model input
  bool nchw = false;
  float mul[3] = {1.f, 1.f, 1.f};  // value = pixel * mul[c] + add[c]
  float add[3] = {0.f, 0.f, 0.f};
};

Result<ImageGeometry> image_geometry(const InputInfo& input);
Result<ImageTransform> image_transform(int width, int height, const InputInfo& input,
                                       const ImageGeometry& geometry);

}  // namespace polyhead::detail
