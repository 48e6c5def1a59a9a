#include "converters/tflite/ssd_anchors.h"

#include <cmath>

namespace polyhead::tflite {
namespace {

float scale_of_layer(float min_scale, float max_scale, int layer, int layers) {
  if (layers == 1) return (min_scale + max_scale) * 0.5f;
  return min_scale +
         (max_scale - min_scale) * static_cast<float>(layer) / static_cast<float>(layers - 1);
}

}  // namespace

std::vector<float> generate_ssd_anchors(const SsdAnchorOptions& o) {
  std::vector<float> anchors;
  if (o.num_layers <= 0 || static_cast<int>(o.strides.size()) != o.num_layers ||
      o.input_height <= 0 || o.input_width <= 0)
    return anchors;
  int layer = 0;
  while (layer < o.num_layers) {
    std::vector<float> heights, widths, ratios, scales;
    // Consecutive layers with the same stride share one feature map.
    int last = layer;
    while (last < o.num_layers &&
           o.strides[static_cast<size_t>(last)] == o.strides[static_cast<size_t>(layer)]) {
      const float scale = scale_of_layer(o.min_scale, o.max_scale, last, o.num_layers);
      if (last == 0 && o.reduce_boxes_in_lowest_layer) {
        ratios.insert(ratios.end(), {1.f, 2.f, 0.5f});
        scales.insert(scales.end(), {0.1f, scale, scale});
      } else {
        for (float r : o.aspect_ratios) {
          ratios.push_back(r);
          scales.push_back(scale);
        }
        if (o.interpolated_scale_aspect_ratio > 0.f) {
          const float next = last == o.num_layers - 1
                                 ? 1.f
                                 : scale_of_layer(o.min_scale, o.max_scale, last + 1, o.num_layers);
          scales.push_back(std::sqrt(scale * next));
          ratios.push_back(o.interpolated_scale_aspect_ratio);
        }
      }
      ++last;
    }
    for (size_t i = 0; i < ratios.size(); ++i) {
      const float r = std::sqrt(ratios[i]);
      heights.push_back(scales[i] / r);
      widths.push_back(scales[i] * r);
    }
    const int stride = o.strides[static_cast<size_t>(layer)];
    if (stride <= 0) return {};
    const int rows = (o.input_height + stride - 1) / stride;
    const int cols = (o.input_width + stride - 1) / stride;
    for (int y = 0; y < rows; ++y) {
      for (int x = 0; x < cols; ++x) {
        for (size_t a = 0; a < heights.size(); ++a) {
          anchors.push_back((static_cast<float>(y) + o.anchor_offset_y) / static_cast<float>(rows));
          anchors.push_back((static_cast<float>(x) + o.anchor_offset_x) / static_cast<float>(cols));
          anchors.push_back(o.fixed_anchor_size ? 1.f : heights[a]);
          anchors.push_back(o.fixed_anchor_size ? 1.f : widths[a]);
        }
      }
    }
    layer = last;
  }
  return anchors;
}

}  // namespace polyhead::tflite
