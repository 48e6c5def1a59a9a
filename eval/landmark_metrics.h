// Distance between a teacher's and a student's landmarks on the same photo, as a fraction of the
// teacher's model input: photo offsets are scaled into the teacher's input pixels (its transform)
// and divided by the input width and height, so 0.01 is 1 % of the input side whichever photo
// size, fit or student input size was used.
#pragma once

#include <cstddef>
#include <vector>

#include "polyhead/result.h"
#include "polyhead/vision/landmarks.h"
#include "polyhead/vision/preprocess.h"

namespace polyhead::compare {

struct LandmarkErrors {
  size_t points = 0;
  double error_sum = 0, error_max = 0;  // per point: sqrt(dx² + dy²) in input fractions
  double visibility_error_sum = 0;      // per point: |visibility_teacher - visibility_student|
};

// Every point counts, visible or not. Fails when the point counts differ.
Result<LandmarkErrors> landmark_errors(const std::vector<vision::Landmark>& teacher,
                                       const std::vector<vision::Landmark>& student,
                                       const vision::ImageTransform& teacher_transform);

}  // namespace polyhead::compare
