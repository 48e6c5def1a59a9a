#include "polyhead/vision/segmentation.h"

#include <algorithm>
#include <cmath>

#include <opencv2/imgproc.hpp>

#include "metadata.h"

namespace polyhead::vision {

Result<MaskOptions> mask_options(const Model& model, const TaskInfo& task) {
  MaskOptions o;
  o.activation = task.postprocess.activation;
  PH_ASSIGN_OR_RETURN(o.threshold, detail::metadata_float(model, task, "threshold", 0.5f, 0, 1));
  return o;
}

Result<Mask> mask_to_image(const TensorView& v, const MaskOptions& o, const ImageTransform& t) {
  if (v.type != ElementType::kF32 || !v.f32())
    return Status(ErrorCode::kUnsupported, "mask output must be f32");
  const Shape& s = v.shape;
  int64_t h = 0, w = 0, c = 1;
  if (s.rank() == 4 && s[0] == 1) {
    h = s[1], w = s[2], c = s[3];
  } else if (s.rank() == 3 && s[0] == 1) {
    h = s[1], w = s[2];
  } else if (s.rank() == 2) {
    h = s[0], w = s[1];
  } else {
    return Status(ErrorCode::kInvalidArgument,
                  "mask shape " + s.to_string() + " is not [1,H,W,C], [1,H,W] or [H,W]");
  }
  if (t.image_width <= 0 || t.image_height <= 0 || t.model_width <= 0 || t.model_height <= 0)
    return Status(ErrorCode::kInvalidArgument, "mask: empty image transform");

  // Foreground probability at mask resolution.
  cv::Mat prob(static_cast<int>(h), static_cast<int>(w), CV_32F);
  const float* src = v.f32();
  for (int64_t i = 0; i < h * w; ++i) {
    const float* px = src + i * c;
    float p;
    if (c == 1) {
      p = o.activation == OutputActivation::kSigmoid ? detail::sigmoid(px[0]) : px[0];
    } else if (o.activation == OutputActivation::kSoftmax) {
      const float m = *std::max_element(px, px + c);
      float sum = 0;
      for (int64_t k = 0; k < c; ++k) sum += std::exp(px[k] - m);
      p = 1.f - std::exp(px[0] - m) / sum;
    } else {
      p = 1.f - (o.activation == OutputActivation::kSigmoid ? detail::sigmoid(px[0]) : px[0]);
    }
    prob.at<float>(static_cast<int>(i / w), static_cast<int>(i % w)) = p;
  }

  // Photo pixel centre (ix + 0.5) -> model (.. * scale + offset) -> mask (.. * w / model_w).
  const double kx = static_cast<double>(w) / t.model_width;
  const double ky = static_cast<double>(h) / t.model_height;
  const double ax = t.scale_x * kx, ay = t.scale_y * ky;
  const double bx = (0.5 * t.scale_x + t.offset_x) * kx - 0.5;
  const double by = (0.5 * t.scale_y + t.offset_y) * ky - 0.5;
  const cv::Matx23d m(ax, 0, bx, 0, ay, by);
  Mask out;
  cv::warpAffine(prob, out.probability, m, cv::Size(t.image_width, t.image_height),
                 cv::INTER_LINEAR | cv::WARP_INVERSE_MAP, cv::BORDER_REPLICATE);
  out.binary = out.probability >= o.threshold;
  const int set = cv::countNonZero(out.binary);
  out.coverage = static_cast<double>(set) / (static_cast<double>(t.image_width) * t.image_height);
  if (set > 0) out.bbox = cv::boundingRect(out.binary);
  return out;
}

}  // namespace polyhead::vision
