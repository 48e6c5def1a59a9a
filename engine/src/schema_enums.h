// Conversions between the public enums of polyhead/model_enums.h and the schema's (generated)
// ones, which stay out of the public API. Both number their values alike, checked here, so a
// conversion is a cast; the loader checks a file's values are in range before converting.
#pragma once

#include "polyhead/model_enums.h"
#include "polyhead/schema/phm_generated.h"

namespace polyhead::detail {

#define PH_SAME_VALUE(ours, theirs) \
  static_assert(static_cast<int>(ours) == static_cast<int>(theirs), #ours " != " #theirs)
PH_SAME_VALUE(Layout::kNhwc, schema::Layout::NHWC);
PH_SAME_VALUE(Layout::kNchw, schema::Layout::NCHW);
PH_SAME_VALUE(ColorOrder::kRgb, schema::ColorOrder::RGB);
PH_SAME_VALUE(ColorOrder::kBgr, schema::ColorOrder::BGR);
PH_SAME_VALUE(ColorOrder::kGray, schema::ColorOrder::GRAY);
PH_SAME_VALUE(ColorOrder::kNone, schema::ColorOrder::NONE);
PH_SAME_VALUE(ImageFit::kStretch, schema::ImageFit::STRETCH);
PH_SAME_VALUE(ImageFit::kLetterbox, schema::ImageFit::LETTERBOX);
PH_SAME_VALUE(ImageFit::kCrop, schema::ImageFit::CROP);
PH_SAME_VALUE(TaskKind::kClassification, schema::TaskKind::CLASSIFICATION);
PH_SAME_VALUE(TaskKind::kDetection, schema::TaskKind::DETECTION);
PH_SAME_VALUE(TaskKind::kSegmentation, schema::TaskKind::SEGMENTATION);
PH_SAME_VALUE(TaskKind::kLandmarks, schema::TaskKind::LANDMARKS);
PH_SAME_VALUE(TaskKind::kRegression, schema::TaskKind::REGRESSION);
PH_SAME_VALUE(TaskKind::kEmbedding, schema::TaskKind::EMBEDDING);
PH_SAME_VALUE(TaskKind::kOther, schema::TaskKind::OTHER);
PH_SAME_VALUE(OutputActivation::kNone, schema::OutputActivation::NONE);
PH_SAME_VALUE(OutputActivation::kSigmoid, schema::OutputActivation::SIGMOID);
PH_SAME_VALUE(OutputActivation::kSoftmax, schema::OutputActivation::SOFTMAX);
static_assert(schema::Layout::MAX == schema::Layout::NCHW &&
                  schema::ColorOrder::MAX == schema::ColorOrder::NONE &&
                  schema::ImageFit::MAX == schema::ImageFit::CROP &&
                  schema::TaskKind::MAX == schema::TaskKind::OTHER &&
                  schema::OutputActivation::MAX == schema::OutputActivation::SOFTMAX,
              "the schema gained a value: add it to polyhead/model_enums.h");
#undef PH_SAME_VALUE

inline schema::Layout to_schema(Layout v) {
  return static_cast<schema::Layout>(v);
}
inline schema::ColorOrder to_schema(ColorOrder v) {
  return static_cast<schema::ColorOrder>(v);
}
inline schema::ImageFit to_schema(ImageFit v) {
  return static_cast<schema::ImageFit>(v);
}
inline schema::TaskKind to_schema(TaskKind v) {
  return static_cast<schema::TaskKind>(v);
}
inline schema::OutputActivation to_schema(OutputActivation v) {
  return static_cast<schema::OutputActivation>(v);
}

// `v` must be in the schema's range (the loader checks).
inline Layout from_schema(schema::Layout v) {
  return static_cast<Layout>(v);
}
inline ColorOrder from_schema(schema::ColorOrder v) {
  return static_cast<ColorOrder>(v);
}
inline ImageFit from_schema(schema::ImageFit v) {
  return static_cast<ImageFit>(v);
}
inline TaskKind from_schema(schema::TaskKind v) {
  return static_cast<TaskKind>(v);
}
inline OutputActivation from_schema(schema::OutputActivation v) {
  return static_cast<OutputActivation>(v);
}

}  // namespace polyhead::detail
