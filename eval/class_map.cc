#include "eval/class_map.h"

#include <opencv2/imgproc.hpp>

namespace polyhead::compare {

Result<cv::Mat> class_map_to_image(const TensorView& mask, const vision::ImageTransform& t) {
  const Shape& s = mask.shape;
  if (mask.type != ElementType::kF32 || !mask.f32())
    return Status(ErrorCode::kUnsupported, "class map: the mask output must be f32");
  if (s.rank() != 4 || s[0] != 1 || s[1] <= 0 || s[2] <= 0 || s[3] <= 0)
    return Status(ErrorCode::kInvalidArgument,
                  "class map: mask shape " + s.to_string() + " is not [1,H,W,C]");
  if (t.image_width <= 0 || t.image_height <= 0 || t.model_width <= 0 || t.model_height <= 0)
    return Status(ErrorCode::kInvalidArgument, "class map: empty image transform");
  const int h = static_cast<int>(s[1]), w = static_cast<int>(s[2]);
  const int64_t c = s[3];
  cv::Mat labels(h, w, CV_32S);
  const float* src = mask.f32();
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      const float* px = src + (static_cast<int64_t>(y) * w + x) * c;
      int64_t best = 0;
      for (int64_t k = 1; k < c; ++k)
        if (px[k] > px[best]) best = k;
      labels.at<int32_t>(y, x) = static_cast<int32_t>(best);
    }
  // Photo pixel centre -> model -> mask pixel, as vision::mask_to_image maps probabilities.
  const double kx = static_cast<double>(w) / t.model_width;
  const double ky = static_cast<double>(h) / t.model_height;
  const cv::Matx23d m(t.scale_x * kx, 0, (0.5 * t.scale_x + t.offset_x) * kx - 0.5, 0,
                      t.scale_y * ky, (0.5 * t.scale_y + t.offset_y) * ky - 0.5);
  cv::Mat out;
  cv::warpAffine(labels, out, m, cv::Size(t.image_width, t.image_height),
                 cv::INTER_NEAREST | cv::WARP_INVERSE_MAP, cv::BORDER_REPLICATE);
  return out;
}

}  // namespace polyhead::compare
