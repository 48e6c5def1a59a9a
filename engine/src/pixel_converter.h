// PixelConverter: 8-bit frames into one image input of a model (resize, colour, normalisation,
// layout), with its scratch rows allocated once so that converting a frame allocates nothing.
// Internal: Plan::set_input_pixels and write_pixels use it.
#pragma once

#include <vector>

#include "image_geometry.h"
#include "polyhead/pixel_image.h"

namespace polyhead::detail {

// The source pixels one resized pixel reads along an axis: `first` with weight w_first, every
// pixel strictly between with weight 1 and `last` (when > first) with w_last, all times `scale`.
// Area averaging covers [f1, f2) so only its ends are partial; bilinear is first/last only.
struct Span {
  int first = 0, last = 0;
  float w_first = 1.f, w_last = 0.f, scale = 1.f;
};

class PixelConverter {
 public:
  // `input` must outlive the converter (it names the input in messages and gives the fit).
  static Result<PixelConverter> create(const InputInfo& input);

  // Writes the input's tensor into `dst` (the element count of the input's shape). No heap
  // allocation on success.
  Result<ImageTransform> convert(const PixelImage& image, float* dst);

 private:
  PixelConverter(const InputInfo& input, const ImageGeometry& geometry);

  const InputInfo* input_;
  ImageGeometry geometry_;
  // Two horizontally resampled source rows (a cache: vertical taps of neighbouring output rows
  // share source rows) and the accumulator of one output row; model width * 3 floats each.
  std::vector<float> rows_;
  std::vector<Span> columns_;  // how each canvas column samples the source row
};

}  // namespace polyhead::detail
