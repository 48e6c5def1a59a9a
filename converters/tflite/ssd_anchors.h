// SSD anchor generation as MediaPipe's SsdAnchorsCalculator does it (public options of
// mediapipe/calculators/tflite/ssd_anchors_calculator.proto), for detection presets.
#pragma once

#include <vector>

namespace polyhead::tflite {

struct SsdAnchorOptions {
  int input_height = 0, input_width = 0;
  int num_layers = 0;
  float min_scale = 0.f, max_scale = 1.f;
  float anchor_offset_x = 0.5f, anchor_offset_y = 0.5f;
  std::vector<int> strides;  // one per layer
  std::vector<float> aspect_ratios;
  float interpolated_scale_aspect_ratio = 1.f;  // <= 0: none
  bool reduce_boxes_in_lowest_layer = false;
  bool fixed_anchor_size = false;  // width = height = 1
};

// Anchors as 4 floats each: centre y, centre x, height, width (normalised), in the order
// layer (grouped by equal stride), row, column, anchor. Empty when the options are inconsistent.
std::vector<float> generate_ssd_anchors(const SsdAnchorOptions& o);

}  // namespace polyhead::tflite
