// A MobileNetV2-shaped multi-task model written with the ModelBuilder, with seeded weights: the
// inverted-residual backbone and three heads branching at different depths,
//   classify: global mean + fully connected, from the last block (stride 32);
//   segment:  LR-ASPP-like head from the stride-16 block, upsampled bilinearly;
//   detect:   SSD-style box and class predictors on the stride-16 and stride-32 features.
// It is the default model of the quick start, of the end-to-end tests and of the benchmarks.
#pragma once

#include <cstdint>
#include <vector>

#include "polyhead/result.h"

namespace polyhead::zoo {

struct MobileNetMultitaskOptions {
  int input_size = 224;  // square input, a multiple of 32
  float width = 1.0f;    // MobileNetV2 width multiplier (channels rounded to multiples of 8)
  int classes = 1000;    // classification logits
  int seg_classes = 21;  // segmentation channels
  int det_classes = 91;  // detection classes per anchor (background included)
  int anchors_per_cell = 3;
  uint32_t seed = 1;
};

// Task names and their outputs:
//   "classify": "logits" [1, classes]
//   "segment":  "mask"   [1, input_size/4, input_size/4, seg_classes]
//   "detect":   "boxes"  [1, A, 4] and "scores" [1, A, det_classes], A = anchors over both levels
// The input is "image" [1, input_size, input_size, 3], NHWC, RGB, ImageNet mean/std.
Result<std::vector<uint8_t>> build_mobilenet_multitask(
    const MobileNetMultitaskOptions& options = {});

}  // namespace polyhead::zoo
