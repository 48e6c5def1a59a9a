// Drawing results on a photo (8-bit BGR, modified in place).
#pragma once

#include <string>
#include <utility>
#include <vector>

#include <opencv2/core.hpp>

#include "polyhead/vision/detection.h"
#include "polyhead/vision/landmarks.h"
#include "polyhead/vision/segmentation.h"

namespace polyhead::vision {

// Boxes with "label score" captions (labels indexed by Detection::label; the index when absent)
// and keypoints as filled dots. Line widths follow the photo size.
void draw_detections(cv::Mat& image, const std::vector<Detection>& detections,
                     const std::vector<std::string>& labels = {},
                     const cv::Scalar& colour = {0, 255, 0});

// Blends `colour` over the pixels of `mask.binary` with opacity `alpha` and outlines its contour.
void draw_mask(cv::Mat& image, const Mask& mask, const cv::Scalar& colour = {255, 0, 255},
               double alpha = 0.45);

// Points with visibility >= `min_visibility` as dots, and the `connections` between two such
// points as lines.
void draw_landmarks(cv::Mat& image, const std::vector<Landmark>& landmarks,
                    const std::vector<std::pair<int, int>>& connections = {},
                    float min_visibility = 0.5f, const cv::Scalar& colour = {0, 200, 255});

}  // namespace polyhead::vision
