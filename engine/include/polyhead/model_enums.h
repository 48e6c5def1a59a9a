// The closed sets of values a model declares for its inputs and tasks (docs/format.md): image
// layout, colour order and fit, task kind and output activation. to_string() gives the name the
// tools print and the C API returns; parse_*() reads that name back (command-line options,
// metadata) and says which names it knows when it fails.
#pragma once

#include <string_view>

#include "polyhead/result.h"

namespace polyhead {

// How an image input is laid out in memory.
enum class Layout { kNhwc, kNchw };
// The channel order of an image input; kNone: the input is not an image.
enum class ColorOrder { kRgb, kBgr, kGray, kNone };
// How a photo of another size becomes the input's width x height: kStretch resizes both axes,
// kLetterbox keeps the aspect ratio and pads the short side, kCrop keeps it and crops the long
// side (centred).
enum class ImageFit { kStretch, kLetterbox, kCrop };
// What a task computes; tells the tools how to present and post-process its outputs.
enum class TaskKind {
  kClassification,
  kDetection,
  kSegmentation,
  kLandmarks,
  kRegression,
  kEmbedding,
  kOther
};
// What post-processing applies to a task's raw scores (not part of the graph).
enum class OutputActivation { kNone, kSigmoid, kSoftmax };

// "NHWC", "NCHW".
const char* to_string(Layout layout);
// "RGB", "BGR", "GRAY", "NONE".
const char* to_string(ColorOrder color);
// "STRETCH", "LETTERBOX", "CROP".
const char* to_string(ImageFit fit);
// "classification", "detection", "segmentation", "landmarks", "regression", "embedding",
// "other".
const char* to_string(TaskKind kind);
// "none", "sigmoid", "softmax".
const char* to_string(OutputActivation activation);

// The inverse of to_string (exact, case-sensitive names).
Result<Layout> parse_layout(std::string_view name);
Result<ColorOrder> parse_color_order(std::string_view name);
Result<ImageFit> parse_image_fit(std::string_view name);
Result<TaskKind> parse_task_kind(std::string_view name);
Result<OutputActivation> parse_output_activation(std::string_view name);

}  // namespace polyhead
