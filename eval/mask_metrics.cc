#include "eval/mask_metrics.h"

#include <cmath>
#include <string>
#include <vector>

namespace polyhead::compare {
namespace {

Status same_geometry(const cv::Mat& a, const cv::Mat& b, int type, const char* what) {
  if (a.size() != b.size() || a.type() != type || b.type() != type)
    return Status(ErrorCode::kInvalidArgument,
                  std::string(what) + " of different sizes or types: " + std::to_string(a.cols) +
                      "x" + std::to_string(a.rows) + " and " + std::to_string(b.cols) + "x" +
                      std::to_string(b.rows));
  return Status::ok();
}

}  // namespace

Result<double> mask_iou(const cv::Mat& a, const cv::Mat& b) {
  PH_RETURN_IF_ERROR(same_geometry(a, b, CV_8U, "masks"));
  size_t both = 0, either = 0;
  for (int y = 0; y < a.rows; ++y) {
    const uint8_t* pa = a.ptr<uint8_t>(y);
    const uint8_t* pb = b.ptr<uint8_t>(y);
    for (int x = 0; x < a.cols; ++x) {
      const bool sa = pa[x] != 0, sb = pb[x] != 0;
      both += sa && sb ? 1 : 0;
      either += sa || sb ? 1 : 0;
    }
  }
  return either == 0 ? 1.0 : static_cast<double>(both) / static_cast<double>(either);
}

Result<double> mean_abs_difference(const cv::Mat& a, const cv::Mat& b) {
  PH_RETURN_IF_ERROR(same_geometry(a, b, CV_32F, "probability maps"));
  if (a.empty()) return 0.0;
  double sum = 0;
  for (int y = 0; y < a.rows; ++y) {
    const float* pa = a.ptr<float>(y);
    const float* pb = b.ptr<float>(y);
    for (int x = 0; x < a.cols; ++x) sum += std::abs(static_cast<double>(pa[x]) - pb[x]);
  }
  return sum / (static_cast<double>(a.rows) * a.cols);
}

Result<ClassMapAgreement> class_map_agreement(const cv::Mat& a, const cv::Mat& b, int classes) {
  PH_RETURN_IF_ERROR(same_geometry(a, b, CV_32S, "class maps"));
  if (classes <= 0)
    return Status(ErrorCode::kInvalidArgument,
                  "class maps need at least one class, got " + std::to_string(classes));
  std::vector<size_t> both(static_cast<size_t>(classes)), in_a(both.size()), in_b(both.size());
  size_t same = 0;
  for (int y = 0; y < a.rows; ++y) {
    const int32_t* pa = a.ptr<int32_t>(y);
    const int32_t* pb = b.ptr<int32_t>(y);
    for (int x = 0; x < a.cols; ++x) {
      if (pa[x] < 0 || pa[x] >= classes || pb[x] < 0 || pb[x] >= classes)
        return Status(ErrorCode::kInvalidArgument,
                      "class map value out of [0, " + std::to_string(classes) + ")");
      ++in_a[static_cast<size_t>(pa[x])];
      ++in_b[static_cast<size_t>(pb[x])];
      if (pa[x] == pb[x]) {
        ++both[static_cast<size_t>(pa[x])];
        ++same;
      }
    }
  }
  ClassMapAgreement r;
  const size_t pixels = static_cast<size_t>(a.rows) * static_cast<size_t>(a.cols);
  if (pixels == 0) return r;
  r.pixel_agreement = static_cast<double>(same) / static_cast<double>(pixels);
  double sum = 0;
  size_t present = 0;
  for (size_t c = 0; c < both.size(); ++c) {
    const size_t either = in_a[c] + in_b[c] - both[c];
    if (either == 0) continue;
    sum += static_cast<double>(both[c]) / static_cast<double>(either);
    ++present;
  }
  r.mean_iou = present ? sum / static_cast<double>(present) : 1.0;
  return r;
}

}  // namespace polyhead::compare
