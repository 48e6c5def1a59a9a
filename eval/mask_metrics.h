// Agreement of two segmentations of the same photo: IoU of binary masks, and mean IoU and pixel
// agreement of class maps (one class index per pixel).
#pragma once

#include <opencv2/core.hpp>

#include "polyhead/result.h"

namespace polyhead::compare {

// |a ∩ b| / |a ∪ b| of two CV_8U masks of one size (non-zero = set); 1 when both are empty (they
// agree that there is nothing). Fails when the sizes or types differ.
Result<double> mask_iou(const cv::Mat& a, const cv::Mat& b);

// Mean |a - b| of two CV_32F probability maps of one size.
Result<double> mean_abs_difference(const cv::Mat& a, const cv::Mat& b);

struct ClassMapAgreement {
  double mean_iou = 1;         // over the classes present in either map
  double pixel_agreement = 1;  // share of pixels with the same class
};

// Two CV_32S class maps of one size with values in [0, classes).
Result<ClassMapAgreement> class_map_agreement(const cv::Mat& a, const cv::Mat& b, int classes);

}  // namespace polyhead::compare
