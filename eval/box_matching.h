// Pairs the student's detections with the teacher's: greedy, highest IoU first, each box used at
// most once, only boxes of the same label, and only pairs overlapping by at least `min_iou`.
#pragma once

#include <cstddef>
#include <vector>

#include "polyhead/vision/detection.h"

namespace polyhead::compare {

struct BoxMatch {
  size_t teacher = 0;  // index into the teacher's detections
  size_t student = 0;  // index into the student's detections
  double iou = 0;
};

std::vector<BoxMatch> match_boxes(const std::vector<vision::Detection>& teacher,
                                  const std::vector<vision::Detection>& student, double min_iou);

}  // namespace polyhead::compare
